//! # Verinfer engine
//!
//! tract-onnx compiled to a Wasm blob that the node runs in wasmtime with deterministic settings
//! (see `verinfer-precompile`). Wasm arithmetic is IEEE-exact (NaN bits aside, which the host
//! canonicalises) and the blob carries its own libm, so a model's analysis and output bytes are
//! the same on every CPU.
//!
//! ## ABI
//!
//! Values cross the boundary as bytes in the blob's exported `memory`, SCALE-encoded. Results are
//! returned as `(ptr << 32) | len`; the host reads them and frees them with `verinfer_free`.
//!
//! - `verinfer_alloc(len) -> ptr`: a buffer for the host to write into. The calls below take
//!   ownership of the buffers they are given and free them.
//! - `verinfer_analyse(model_ptr, model_len, declared_ptr, declared_len) -> result`: analyses an
//!   ONNX model for the declared input shapes (`Vec<Option<Vec<u32>>>`: one per input, `None`
//!   keeps the model's own; an empty list keeps all). Returns `Result<Analysis, EngineError>`.
//! - `verinfer_load(…)`: the same arguments and result; when the model is accepted it is also
//!   optimised and kept in this instance for `verinfer_run`. A refused model is
//!   `Err(EngineError::Refused(reasons))`.
//! - `verinfer_run(inputs_ptr, inputs_len) -> result`: runs the loaded model on the inputs
//!   (`Vec<Tensor>`, which must match the analysed input specs exactly). Returns
//!   `Result<Vec<Tensor>, EngineError>`. The loaded model stays for further runs.
//! - `verinfer_panic_message() -> result`: after a trap, the message of the panic that caused it
//!   (UTF-8, empty if the trap was not a panic).
//!
//! A panic aborts, which is a trap for the host; the panic hook keeps the message first.
//! Running out of the host's memory limit also traps (the allocator cannot grow memory).

mod analyse;
mod dtype;
mod ops;
mod support;

use std::{cell::RefCell, sync::Arc, vec::Vec};

use codec::{Decode, Encode};
use tract_onnx::prelude::*;
use verinfer_primitives::{
	analysis::{Analysis, Refusal, TensorSpec},
	engine::EngineError,
	DeclaredShapes, Tensor,
};

use crate::analyse::{analyse, message};

/// A model loaded for running: its plan and the specs its inputs must match.
struct Loaded {
	plan: Arc<TypedRunnableModel>,
	inputs: Vec<TensorSpec>,
}

thread_local! {
	// Wasm has one thread: these are the instance's globals.
	static LOADED: RefCell<Option<Loaded>> = const { RefCell::new(None) };
	static PANIC_MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

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
	drop(unsafe { take(ptr, len) });
}

/// The buffer at (ptr, len), owned again.
///
/// # Safety
/// As for [`verinfer_free`], and the host has written all `len` bytes.
unsafe fn take(ptr: u32, len: u32) -> Vec<u8> {
	// SAFETY: (ptr, len) is a leaked Vec of capacity `len` from `verinfer_alloc` or
	// `hand_over`, fully initialised by the host or by us.
	unsafe { Vec::from_raw_parts(ptr as *mut u8, len as usize, len as usize) }
}

/// Hands `value`'s encoding to the host as `(ptr << 32) | len`.
fn hand_over(value: impl Encode) -> u64 {
	let mut bytes = value.encode();
	bytes.shrink_to_fit();
	let len = bytes.len() as u64;
	let ptr = bytes.as_mut_ptr() as u32 as u64;
	core::mem::forget(bytes);
	(ptr << 32) | len
}

/// Keeps every panic's message for [`verinfer_panic_message`]: with `panic = "abort"` the hook runs
/// before the trap.
fn keep_panic_messages() {
	static ONCE: std::sync::Once = std::sync::Once::new();
	ONCE.call_once(|| {
		std::panic::set_hook(Box::new(|info| {
			let message = info.to_string();
			PANIC_MESSAGE.with_borrow_mut(|kept| *kept = message);
		}))
	});
}

/// Analyses a model; see the crate documentation.
///
/// # Safety
/// Both (ptr, len) pairs must be buffers from [`verinfer_alloc`], filled by the host.
#[no_mangle]
pub unsafe extern "C" fn verinfer_analyse(
	model_ptr: u32,
	model_len: u32,
	declared_ptr: u32,
	declared_len: u32,
) -> u64 {
	// SAFETY: as this function's contract.
	unsafe {
		with_model(model_ptr, model_len, declared_ptr, declared_len, |model, declared| {
			analyse(&model, declared).map(|(analysis, _)| analysis)
		})
	}
}

/// Analyses, optimises and keeps a model for [`verinfer_run`]; see the crate documentation.
///
/// # Safety
/// Both (ptr, len) pairs must be buffers from [`verinfer_alloc`], filled by the host.
#[no_mangle]
pub unsafe extern "C" fn verinfer_load(
	model_ptr: u32,
	model_len: u32,
	declared_ptr: u32,
	declared_len: u32,
) -> u64 {
	LOADED.with_borrow_mut(|loaded| *loaded = None);
	// SAFETY: as this function's contract.
	unsafe { with_model(model_ptr, model_len, declared_ptr, declared_len, load) }
}

/// Takes the model and declared-shapes buffers, applies `work` and hands its result over.
///
/// # Safety
/// Both (ptr, len) pairs must be buffers from [`verinfer_alloc`], filled by the host.
unsafe fn with_model(
	model_ptr: u32,
	model_len: u32,
	declared_ptr: u32,
	declared_len: u32,
	work: impl FnOnce(Vec<u8>, &DeclaredShapes) -> Result<Analysis, EngineError>,
) -> u64 {
	keep_panic_messages();
	// SAFETY: the caller hands over two buffers it filled.
	let (model, declared) =
		unsafe { (take(model_ptr, model_len), take(declared_ptr, declared_len)) };
	hand_over(decode_declared(&declared).and_then(|declared| work(model, &declared)))
}

/// Runs the loaded model; see the crate documentation.
///
/// # Safety
/// (ptr, len) must be a buffer from [`verinfer_alloc`], filled by the host.
#[no_mangle]
pub unsafe extern "C" fn verinfer_run(inputs_ptr: u32, inputs_len: u32) -> u64 {
	keep_panic_messages();
	// SAFETY: the caller hands over a buffer it filled.
	let inputs = unsafe { take(inputs_ptr, inputs_len) };
	hand_over(run(&inputs))
}

/// The last panic's message; see the crate documentation.
#[no_mangle]
pub extern "C" fn verinfer_panic_message() -> u64 {
	hand_over(PANIC_MESSAGE.with_borrow(|message| message.clone().into_bytes()))
}

fn decode_declared(bytes: &[u8]) -> Result<DeclaredShapes, EngineError> {
	DeclaredShapes::decode(&mut &bytes[..]).map_err(|_| EngineError::MalformedDeclaredShapes)
}

fn load(model: Vec<u8>, declared: &DeclaredShapes) -> Result<Analysis, EngineError> {
	let (analysis, typed) = analyse(&model, declared)?;
	// The bytes are parsed: give their memory back before optimising.
	drop(model);
	let Some(typed) = typed else { return Err(EngineError::Refused(analysis.refusals)) };
	let plan = typed
		.into_optimized()
		.and_then(|optimized| optimized.into_runnable())
		.map_err(|error| EngineError::Refused(vec![Refusal::Unanalysable(message(&error))]))?;
	LOADED.with_borrow_mut(|loaded| {
		*loaded = Some(Loaded { plan, inputs: analysis.inputs.clone() });
	});
	Ok(analysis)
}

fn run(inputs: &[u8]) -> Result<Vec<Tensor>, EngineError> {
	let inputs =
		Vec::<Tensor>::decode(&mut &inputs[..]).map_err(|_| EngineError::MalformedInputs)?;
	LOADED.with_borrow(|loaded| {
		let loaded = loaded.as_ref().ok_or(EngineError::NoModelLoaded)?;
		check_inputs(&inputs, &loaded.inputs)?;
		let values = inputs
			.iter()
			.map(|tensor| {
				let shape: TVec<usize> = tensor.shape.iter().map(|&d| d as usize).collect();
				// SAFETY: `check_inputs` validated that `data` holds exactly shape × dtype size
				// bytes; tract copies them into an aligned buffer.
				unsafe { Tensor_::from_raw_dt(dtype::tract(tensor.dtype), &shape, &tensor.data) }
					.map(IntoTValue::into_tvalue)
					.map_err(|error| EngineError::Failed(message(&error)))
			})
			.collect::<Result<TVec<_>, _>>()?;
		let outputs =
			loaded.plan.run(values).map_err(|error| EngineError::Failed(message(&error)))?;
		outputs.iter().map(|output| to_tensor(output)).collect()
	})
}

/// tract's tensor type, named apart from the chain's [`Tensor`].
type Tensor_ = tract_onnx::prelude::Tensor;

fn check_inputs(inputs: &[Tensor], specs: &[TensorSpec]) -> Result<(), EngineError> {
	if inputs.len() != specs.len() {
		return Err(EngineError::InputCountMismatch {
			expected: specs.len() as u32,
			got: inputs.len() as u32,
		});
	}
	for (index, (tensor, spec)) in inputs.iter().zip(specs).enumerate() {
		let index = index as u32;
		if tensor.dtype != spec.dtype || tensor.shape != spec.shape {
			return Err(EngineError::InputMismatch {
				index,
				expected: spec.clone(),
				got_dtype: tensor.dtype,
				got_shape: tensor.shape.clone(),
			});
		}
		tensor.validate().map_err(|error| EngineError::InvalidInput { index, error })?;
	}
	Ok(())
}

fn to_tensor(output: &Tensor_) -> Result<Tensor, EngineError> {
	let dtype = dtype::our_dtype(output.datum_type()).ok_or_else(|| {
		EngineError::UnsupportedOutputType(format!("{:?}", output.datum_type()).into_bytes())
	})?;
	let shape = output
		.shape()
		.iter()
		.map(|&d| u32::try_from(d))
		.collect::<Result<Vec<u32>, _>>()
		.map_err(|_| EngineError::Failed(b"output dimension above 2^32".to_vec()))?;
	let data = if output.datum_type() == DatumType::TDim {
		let cast = output.cast_to::<i64>().map_err(|error| EngineError::Failed(message(&error)))?;
		cast.as_bytes().to_vec()
	} else {
		output.as_bytes().to_vec()
	};
	Ok(Tensor { dtype, shape, data })
}
