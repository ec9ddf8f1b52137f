//! Fixtures and the engine, shared by the engine tests.

#![allow(dead_code)] // Each test binary uses a different part.

use std::{
	path::PathBuf,
	sync::{Arc, OnceLock},
};

use serde_json::Value;
use verinfer_precompile::{host::Engine, tensor_io::from_npy, Tensor, ENGINE_BLOB};

/// `scripts/fixtures/<dir>/<name>`.
pub fn fixture_path(dir: &str, name: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures").join(dir).join(name)
}

pub fn read(dir: &str, name: &str) -> Vec<u8> {
	let path = fixture_path(dir, name);
	std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn npy(dir: &str, name: &str) -> Tensor {
	from_npy(&read(dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The engine blob compiled once per test binary (compiling it takes seconds).
pub fn engine() -> Arc<Engine> {
	static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
	ENGINE
		.get_or_init(|| {
			let blob = ENGINE_BLOB.expect("the engine blob is built (not SKIP_WASM_BUILD)");
			Arc::new(Engine::new(blob).expect("the engine blob compiles in wasmtime"))
		})
		.clone()
}

/// One model of the corpus manifest (`scripts/fixtures/models/corpus.json`).
pub struct CorpusModel {
	pub name: String,
	pub model: Vec<u8>,
	pub inputs: Vec<Tensor>,
	pub expected: Vec<Tensor>,
	pub operators: Vec<String>,
	pub abs: f64,
	pub rel: f64,
}

pub fn corpus() -> Vec<CorpusModel> {
	let manifest: Value = serde_json::from_slice(&read("models", "corpus.json")).unwrap();
	let strings = |v: &Value| -> Vec<String> {
		v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
	};
	manifest["models"]
		.as_array()
		.unwrap()
		.iter()
		.map(|m| CorpusModel {
			name: m["name"].as_str().unwrap().to_string(),
			model: read("models", m["model"].as_str().unwrap()),
			inputs: strings(&m["inputs"]).iter().map(|f| npy("models", f)).collect(),
			expected: strings(&m["expected"]).iter().map(|f| npy("models", f)).collect(),
			operators: strings(&m["operators"]),
			abs: m["tolerance"]["abs"].as_f64().unwrap(),
			rel: m["tolerance"]["rel"].as_f64().unwrap(),
		})
		.collect()
}

/// The elements of a float tensor as f64.
pub fn floats(tensor: &Tensor) -> Vec<f64> {
	use verinfer_precompile::DType;
	match tensor.dtype {
		DType::F32 => tensor
			.data
			.chunks_exact(4)
			.map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
			.collect(),
		DType::F64 => {
			tensor.data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
		},
		other => panic!("not a float tensor: {other:?}"),
	}
}

/// Where `got` differs from `want` beyond `abs + rel·|want|`. NaN must meet NaN and infinities
/// their own sign; the sign of zero is not compared.
pub fn differences(got: &Tensor, want: &Tensor, abs: f64, rel: f64) -> Vec<(usize, String)> {
	if (got.dtype, &got.shape) != (want.dtype, &want.shape) {
		return vec![(
			0,
			format!("got {:?} {:?}, want {:?} {:?}", got.dtype, got.shape, want.dtype, want.shape),
		)];
	}
	floats(got)
		.iter()
		.zip(floats(want))
		.enumerate()
		.filter(|(_, (&g, w))| {
			if w.is_nan() || g.is_nan() {
				w.is_nan() != g.is_nan()
			} else if w.is_infinite() || g.is_infinite() {
				g != *w
			} else {
				(g - w).abs() > abs + rel * w.abs()
			}
		})
		.map(|(i, (g, w))| (i, format!("element {i}: got {g:e}, want {w:e}")))
		.collect()
}
