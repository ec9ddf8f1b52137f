//! Runs the engine blob in wasmtime, configured so that every machine computes the same bytes.
//!
//! - **NaN canonicalisation** on: Wasm float arithmetic is IEEE-exact except for the bit pattern of
//!   NaN results, which differs between CPUs; canonicalised, it does not.
//! - **Relaxed SIMD off** (its results may differ by CPU), **threads off**.
//! - **Bounded memory** ([`ENGINE_MEMORY_LIMIT`]): growing past it fails inside the engine, which
//!   then traps: the same trap on every machine, because the limit is a constant, not a property
//!   of the host.
//!
//! Failures of the model or its inputs are [`EngineError`]s (deterministic: they may go on chain).
//! Failures of this host ([`HostError`]: the blob does not compile, lacks an export) say nothing
//! about the model and must abort the block import rather than become a result.

use std::{string::String, vec::Vec};

use codec::{Decode, Encode};
use wasmtime::{
	Config, Engine as WasmEngine, Instance, Memory, Module, OptLevel, Store, StoreLimits,
	StoreLimitsBuilder, Strategy, Trap, TypedFunc,
};

use crate::{engine::EngineError, tensor::Tensor};

/// The most linear memory one engine call may use: 1 GiB. It bounds what a hostile model can make
/// a validator allocate, leaves room for ResNet-50-class models (100 MB of weights, a few hundred
/// MB of activations), and is far inside the 4 GiB a 32-bit Wasm instance can address.
pub const ENGINE_MEMORY_LIMIT: usize = 1 << 30;

/// A failure of the host running the engine, not of the model: never a chain result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl core::fmt::Display for HostError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "engine host error: {}", self.0)
	}
}

impl std::error::Error for HostError {}

fn host_err(context: &str) -> impl Fn(wasmtime::Error) -> HostError + '_ {
	move |error| HostError(format!("{context}: {error:#}"))
}

/// The wasmtime settings every validator uses for the engine.
pub fn deterministic_config() -> Config {
	let mut config = Config::new();
	config
		.strategy(Strategy::Cranelift)
		.cranelift_opt_level(OptLevel::Speed)
		.cranelift_nan_canonicalization(true)
		.wasm_simd(true)
		.wasm_relaxed_simd(false)
		// Should relaxed SIMD ever be enabled, this makes it deterministic; it is not enabled.
		.relaxed_simd_deterministic(true)
		.wasm_threads(false);
	config
}

/// The engine blob, compiled once, ready to run models.
pub struct Engine {
	engine: WasmEngine,
	module: Module,
}

/// Per-call state of an engine instance.
struct CallState {
	limits: StoreLimits,
}

impl Engine {
	/// Compiles the engine blob `blob` with [`deterministic_config`].
	pub fn new(blob: &[u8]) -> Result<Engine, HostError> {
		let engine =
			WasmEngine::new(&deterministic_config()).map_err(host_err("configure wasmtime"))?;
		let module = Module::new(&engine, blob).map_err(host_err("compile the engine blob"))?;
		if let Some(import) = module.imports().next() {
			return Err(HostError(format!(
				"the engine blob imports `{}::{}`; it must be self-contained",
				import.module(),
				import.name()
			)));
		}
		Ok(Engine { engine, module })
	}

	/// Runs the ONNX `model` on `inputs` in a fresh engine instance.
	pub fn run(
		&self,
		model: &[u8],
		inputs: &[Tensor],
	) -> Result<Result<Vec<Tensor>, EngineError>, HostError> {
		let limits =
			StoreLimitsBuilder::new().memory_size(ENGINE_MEMORY_LIMIT).instances(1).build();
		let mut store = Store::new(&self.engine, CallState { limits });
		store.limiter(|state| &mut state.limits);
		let instance = Instance::new(&mut store, &self.module, &[])
			.map_err(host_err("instantiate the engine"))?;
		// Kernels register themselves from constructors (tract uses `inventory`); run them once.
		if let Ok(ctors) = instance.get_typed_func::<(), ()>(&mut store, "__wasm_call_ctors") {
			if let Err(error) = ctors.call(&mut store, ()) {
				return trapped(error);
			}
		}
		let memory = instance
			.get_memory(&mut store, "memory")
			.ok_or_else(|| HostError("the engine blob exports no memory".into()))?;
		let alloc: TypedFunc<u32, u32> = instance
			.get_typed_func(&mut store, "verinfer_alloc")
			.map_err(host_err("find verinfer_alloc"))?;
		let run: TypedFunc<(u32, u32, u32, u32), u64> = instance
			.get_typed_func(&mut store, "verinfer_run")
			.map_err(host_err("find verinfer_run"))?;

		let inputs = inputs.to_vec().encode();
		let place =
			|store: &mut Store<CallState>, bytes: &[u8]| -> Result<(u32, u32), wasmtime::Error> {
				let len = u32::try_from(bytes.len())
					.map_err(|_| wasmtime::Error::msg("buffer above 4 GiB"))?;
				let ptr = alloc.call(&mut *store, len)?;
				memory.write(&mut *store, ptr as usize, bytes)?;
				Ok((ptr, len))
			};
		let placed = place(&mut store, model).and_then(|m| Ok((m, place(&mut store, &inputs)?)));
		let ((model_ptr, model_len), (inputs_ptr, inputs_len)) = match placed {
			Ok(placed) => placed,
			Err(error) => return trapped(error),
		};
		let packed = match run.call(&mut store, (model_ptr, model_len, inputs_ptr, inputs_len)) {
			Ok(packed) => packed,
			Err(error) => return trapped(error),
		};
		let output = read(&memory, &store, packed)?;
		<Result<Vec<Tensor>, EngineError>>::decode(&mut &output[..])
			.map_err(|_| HostError("the engine returned an undecodable result".into()))
	}
}

/// The result bytes at `(ptr << 32) | len` in the engine's memory.
fn read(memory: &Memory, store: &Store<CallState>, packed: u64) -> Result<Vec<u8>, HostError> {
	let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
	memory
		.data(store)
		.get(ptr..ptr.saturating_add(len))
		.map(<[u8]>::to_vec)
		.ok_or_else(|| HostError("the engine returned a result outside its memory".into()))
}

/// A trap inside the engine is the model's doing (a panic in tract, memory exhausted): a
/// deterministic [`EngineError::Trapped`] carrying only the trap code, which is the same on every
/// machine. Any other error is the host's.
fn trapped<T>(error: wasmtime::Error) -> Result<Result<T, EngineError>, HostError> {
	match error.downcast_ref::<Trap>() {
		Some(trap) => Ok(Err(EngineError::Trapped(trap.to_string().into_bytes()))),
		None => Err(HostError(format!("engine call failed: {error:#}"))),
	}
}
