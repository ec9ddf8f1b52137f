//! tract natively, with its default kernels for this CPU (AVX2/FMA/AVX-512 on x86-64, NEON on
//! aarch64): the reference `scripts/bench-engine.sh` compares the Wasm engine with.
//!
//! `native-bench RUNS MODEL INPUT.npy…` prints one JSON line: load time, median run time and the
//! SHA-256 of the outputs encoded exactly as the engine encodes them (so the script can show
//! whether native bits equal the chain's). Inputs are f32 `.npy` files (version 1, C order), which
//! is what the corpus and the ResNet-50 benchmark use.

use std::time::Instant;

use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;
use verinfer_primitives::{DType, Tensor as ChainTensor};

fn main() -> TractResult<()> {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let runs: usize = args[0].parse()?;
	let (model_path, input_paths) = (&args[1], &args[2..]);

	let start = Instant::now();
	let inputs: Vec<(Vec<usize>, Vec<f32>)> =
		input_paths.iter().map(|p| read_f32_npy(&std::fs::read(p).unwrap())).collect();
	let mut model = tract_onnx::onnx().model_for_path(model_path)?;
	for (index, (shape, _)) in inputs.iter().enumerate() {
		model.set_input_fact(index, InferenceFact::dt_shape(f32::datum_type(), shape.clone()))?;
	}
	let plan = model.into_optimized()?.into_runnable()?;
	let load_ms = start.elapsed().as_secs_f64() * 1e3;

	let values = || -> TractResult<TVec<TValue>> {
		inputs
			.iter()
			.map(|(shape, data)| {
				Ok(tract_ndarray::ArrayD::from_shape_vec(shape.clone(), data.clone())?
					.into_tvalue())
			})
			.collect()
	};
	let mut times = Vec::new();
	let mut outputs = plan.run(values()?)?;
	for _ in 0..runs {
		let input = values()?;
		let start = Instant::now();
		outputs = plan.run(input)?;
		times.push(start.elapsed().as_secs_f64() * 1e3);
	}
	times.sort_by(f64::total_cmp);
	let encoded: Vec<ChainTensor> = outputs
		.iter()
		.map(|t| ChainTensor {
			dtype: DType::F32,
			shape: t.shape().iter().map(|&d| d as u32).collect(),
			data: t.as_bytes().to_vec(),
		})
		.collect();
	let hash: String =
		verinfer_primitives::output_hash(&encoded, |bytes| Sha256::digest(bytes).into())
			.iter()
			.map(|b| format!("{b:02x}"))
			.collect();
	println!(
		"{{\"load_ms\": {load_ms:.3}, \"run_ms\": {:.4}, \"runs\": {runs}, \"outputs_sha256\": \"0x{hash}\"}}",
		times[times.len() / 2]
	);
	Ok(())
}

/// An f32, C-order `.npy` file (format 1.x/2.x): shape and values.
fn read_f32_npy(bytes: &[u8]) -> (Vec<usize>, Vec<f32>) {
	assert_eq!(&bytes[..6], b"\x93NUMPY", "not an .npy file");
	let (header_len, start) = if bytes[6] == 1 {
		(u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
	} else {
		(u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize, 12)
	};
	let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
	assert!(header.contains("'<f4'") && header.contains("'fortran_order': False"), "{header}");
	let shape_text = header.split("'shape': (").nth(1).unwrap().split(')').next().unwrap();
	let shape: Vec<usize> = shape_text
		.split(',')
		.filter(|d| !d.trim().is_empty())
		.map(|d| d.trim().parse().unwrap())
		.collect();
	let data = bytes[start + header_len..]
		.chunks_exact(4)
		.map(|b| f32::from_le_bytes(b.try_into().unwrap()))
		.collect();
	(shape, data)
}
