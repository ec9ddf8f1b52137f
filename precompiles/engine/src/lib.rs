//! # Verinfer engine
//!
//! tract-onnx compiled to a Wasm blob that the node runs in wasmtime with deterministic settings
//! (see `verinfer-precompile`). Wasm arithmetic is IEEE-exact (NaN bits aside, which the host
//! canonicalises) and the blob carries its own libm, so a model's output bytes are the same on
//! every CPU.
//!
//! ## ABI
//!
//! All values cross the boundary as bytes in the blob's exported `memory`:
//!
//! - `verinfer_alloc(len: u32) -> u32`: a buffer of `len` bytes for the host to write into.
//! - `verinfer_free(ptr: u32, len: u32)`: releases a buffer from `verinfer_alloc` or a result.
//! - `verinfer_run(model_ptr, model_len, inputs_ptr, inputs_len: u32) -> u64`: runs the ONNX model
//!   on the SCALE-encoded `Vec<Tensor>` inputs. Returns `(ptr << 32) | len` of a SCALE-encoded
//!   `Result<Vec<Tensor>, EngineError>` that the host reads and then frees.
//!
//! A panic aborts, which is a trap for the host: a deterministic failure of that call.

use std::vec::Vec;

use codec::{Decode, Encode};
// The glob brings tract's extension traits (Framework, InferenceModelExt, IntoRunnable …); the
// explicit imports below take precedence over its `Tensor`.
use tract_onnx::prelude::{Tensor as TractTensor, *};
use verinfer_precompile::{engine::EngineError, DType, Tensor};

/// A buffer of `len` bytes in this instance's memory, for the host to fill.
#[no_mangle]
pub extern "C" fn verinfer_alloc(len: u32) -> u32 {
	let mut buffer = Vec::<u8>::with_capacity(len as usize);
	let ptr = buffer.as_mut_ptr();
	core::mem::forget(buffer);
	ptr as u32
}

/// Releases a buffer of `len` bytes at `ptr` from [`verinfer_alloc`] or a result.
///
/// # Safety
/// `ptr` and `len` must be exactly those of a buffer this module handed out and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn verinfer_free(ptr: u32, len: u32) {
	// SAFETY: the caller guarantees (ptr, len) came from a Vec of capacity `len` we leaked.
	drop(unsafe { Vec::from_raw_parts(ptr as *mut u8, 0, len as usize) });
}

/// Hands `bytes` to the host as `(ptr << 32) | len`.
fn hand_over(bytes: Vec<u8>) -> u64 {
	let bytes = bytes.into_boxed_slice();
	let len = bytes.len() as u64;
	let ptr = Box::into_raw(bytes) as *mut u8 as u32 as u64;
	(ptr << 32) | len
}

/// Runs a model; see the crate documentation for the ABI.
///
/// # Safety
/// The two (ptr, len) pairs must describe initialised buffers in this instance's memory.
#[no_mangle]
pub unsafe extern "C" fn verinfer_run(
	model_ptr: u32,
	model_len: u32,
	inputs_ptr: u32,
	inputs_len: u32,
) -> u64 {
	// SAFETY: the caller guarantees both buffers are valid and initialised.
	let (model, inputs) = unsafe {
		(
			core::slice::from_raw_parts(model_ptr as *const u8, model_len as usize),
			core::slice::from_raw_parts(inputs_ptr as *const u8, inputs_len as usize),
		)
	};
	hand_over(run(model, inputs).encode())
}

fn tract_dtype(dtype: DType) -> DatumType {
	match dtype {
		DType::F32 => DatumType::F32,
		DType::F64 => DatumType::F64,
		DType::F16 => DatumType::F16,
		DType::I8 => DatumType::I8,
		DType::I16 => DatumType::I16,
		DType::I32 => DatumType::I32,
		DType::I64 => DatumType::I64,
		DType::U8 => DatumType::U8,
		DType::U16 => DatumType::U16,
		DType::U32 => DatumType::U32,
		DType::U64 => DatumType::U64,
		DType::Bool => DatumType::Bool,
	}
}

fn our_dtype(dtype: DatumType) -> Option<DType> {
	Some(match dtype {
		DatumType::F32 => DType::F32,
		DatumType::F64 => DType::F64,
		DatumType::F16 => DType::F16,
		DatumType::I8 => DType::I8,
		DatumType::I16 => DType::I16,
		DatumType::I32 => DType::I32,
		DatumType::I64 => DType::I64,
		DatumType::U8 => DType::U8,
		DatumType::U16 => DType::U16,
		DatumType::U32 => DType::U32,
		DatumType::U64 => DType::U64,
		DatumType::Bool => DType::Bool,
		_ => return None,
	})
}

fn run(model: &[u8], inputs: &[u8]) -> Result<Vec<Tensor>, EngineError> {
	let inputs =
		Vec::<Tensor>::decode(&mut &inputs[..]).map_err(|_| EngineError::MalformedInputs)?;
	for (index, tensor) in inputs.iter().enumerate() {
		tensor
			.validate()
			.map_err(|error| EngineError::InvalidInput { index: index as u32, error })?;
	}
	let mut model = tract_onnx::onnx()
		.model_for_read(&mut &model[..])
		.map_err(|e| EngineError::MalformedModel(format!("{e:#}").into_bytes()))?;
	let shape = |tensor: &Tensor| tensor.shape.iter().map(|&d| d as usize).collect::<TVec<_>>();
	for (index, tensor) in inputs.iter().enumerate() {
		model
			.set_input_fact(
				index,
				InferenceFact::dt_shape(tract_dtype(tensor.dtype), shape(tensor)),
			)
			.map_err(|e| EngineError::Rejected(format!("{e:#}").into_bytes()))?;
	}
	let plan = model
		.into_optimized()
		.and_then(|model| model.into_runnable())
		.map_err(|e| EngineError::Rejected(format!("{e:#}").into_bytes()))?;
	let mut values: TVec<TValue> = tvec![];
	for tensor in &inputs {
		// SAFETY: `validate` checked that `data` holds exactly shape × dtype size bytes; tract
		// copies them into an aligned buffer.
		let value = unsafe {
			TractTensor::from_raw_dt(tract_dtype(tensor.dtype), &shape(tensor), &tensor.data)
		}
		.map_err(|e| EngineError::Rejected(format!("{e:#}").into_bytes()))?;
		values.push(value.into_tvalue());
	}
	let outputs =
		plan.run(values).map_err(|e| EngineError::Failed(format!("{e:#}").into_bytes()))?;
	outputs
		.iter()
		.map(|output| {
			let dtype = our_dtype(output.datum_type()).ok_or_else(|| {
				EngineError::UnsupportedOutputType(
					format!("{:?}", output.datum_type()).into_bytes(),
				)
			})?;
			let shape = output
				.shape()
				.iter()
				.map(|&d| u32::try_from(d))
				.collect::<Result<Vec<u32>, _>>()
				.map_err(|_| EngineError::Failed(b"output dimension above 2^32".to_vec()))?;
			Ok(Tensor { dtype, shape, data: output.as_bytes().to_vec() })
		})
		.collect()
}
