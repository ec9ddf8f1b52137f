//! Runs the engine blob in wasmtime, configured so that every machine computes the same bytes.
//!
//! - **NaN canonicalisation** on: Wasm float arithmetic is IEEE-exact except for the bit pattern of
//!   NaN results, which differs between CPUs; canonicalised, it does not.
//! - **Relaxed SIMD off** (its results may differ by CPU), **threads off**.
//! - **Bounded memory** ([`ENGINE_MEMORY_LIMIT`]): a grow past it is refused, the engine's
//!   allocator fails and the engine traps, which becomes [`EngineError::MemoryLimitExceeded`]: the
//!   same on every machine, because the limit is a constant and the allocation sequence is the
//!   blob's own.
//!
//! Failures of the model or its inputs are [`EngineError`]s (deterministic: they may go on chain).
//! Failures of this host ([`HostError`]: the blob does not compile, lacks an export, the machine
//! has no memory left) say nothing about the model and must abort the block import rather than
//! become a result.
//!
//! Every call into the engine runs on a thread of its own with [`ENGINE_THREAD_STACK`] of stack,
//! so the native stack wasmtime checks against ([`ENGINE_WASM_STACK`]) is always there, whichever
//! thread asked.

use std::{
	hash::{DefaultHasher, Hash, Hasher},
	path::Path,
	string::String,
	vec::Vec,
};

use codec::{Decode, Encode};
use wasmtime::{
	Config, Engine as WasmEngine, Instance, Memory, Module, OptLevel, ResourceLimiter, Store,
	Strategy, Trap, TypedFunc,
};

use crate::{
	analysis::{Analysis, ENGINE_MEMORY_LIMIT},
	cache::sha256,
	engine::EngineError,
	tensor::Tensor,
};

/// Native stack wasmtime lets the engine's code use: 4 MiB, eight times wasmtime's default.
/// tract's graph passes recurse over the graph; the node limit keeps them far from this.
pub const ENGINE_WASM_STACK: usize = 4 << 20;

/// Stack of the thread that runs engine calls: the Wasm stack plus room for wasmtime and the host.
pub const ENGINE_THREAD_STACK: usize = ENGINE_WASM_STACK + (4 << 20);

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

/// What an engine blob exports: the ABI of `verinfer-engine` (see its `lib.rs`).
pub const ENGINE_EXPORTS: [&str; 7] = [
	"memory",
	"verinfer_alloc",
	"verinfer_free",
	"verinfer_analyse",
	"verinfer_load",
	"verinfer_run",
	"verinfer_panic_message",
];

/// Checks that `blob` can be an engine, with the same verdict on every machine: a Wasm module
/// the engine's configuration accepts, importing nothing and exporting [`ENGINE_EXPORTS`]. A blob
/// that passes can still fail to compile on a machine short of memory; that is a [`HostError`].
pub fn validate_blob(blob: &[u8]) -> Result<(), &'static str> {
	let engine = WasmEngine::new(&deterministic_config())
		.map_err(|_| "the engine configuration is not supported")?;
	Module::validate(&engine, blob)
		.map_err(|_| "not a Wasm module the engine configuration accepts")?;
	let (imports, exports) = module_interface(blob).ok_or("not a Wasm module")?;
	if imports > 0 {
		return Err("the engine blob imports functions; it must be self-contained");
	}
	if ENGINE_EXPORTS.iter().any(|name| !exports.iter().any(|export| export == name.as_bytes())) {
		return Err("the engine blob lacks an export of the engine ABI");
	}
	Ok(())
}

/// The number of imports and the export names of a valid Wasm module, read from its sections.
fn module_interface(blob: &[u8]) -> Option<(u32, Vec<Vec<u8>>)> {
	fn leb(bytes: &[u8], at: &mut usize) -> Option<u32> {
		let mut value = 0u32;
		for shift in (0..35).step_by(7) {
			let byte = *bytes.get(*at)?;
			*at += 1;
			value |= u32::from(byte & 0x7f).checked_shl(shift)?;
			if byte & 0x80 == 0 {
				return Some(value);
			}
		}
		None
	}
	let (mut imports, mut exports) = (0, Vec::new());
	// Magic and version.
	let mut at = 8;
	while at < blob.len() {
		let id = blob[at];
		at += 1;
		let size = leb(blob, &mut at)? as usize;
		let section = blob.get(at..at.checked_add(size)?)?;
		at += size;
		let mut inner = 0;
		match id {
			2 => imports = leb(section, &mut inner)?,
			7 => {
				for _ in 0..leb(section, &mut inner)? {
					let len = leb(section, &mut inner)? as usize;
					exports.push(section.get(inner..inner.checked_add(len)?)?.to_vec());
					// The name, then the export's kind byte and index.
					inner += len + 1;
					leb(section, &mut inner)?;
				}
			},
			_ => {},
		}
	}
	Some((imports, exports))
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
		.wasm_threads(false)
		.max_wasm_stack(ENGINE_WASM_STACK);
	config
}

/// Runs `work` on a thread with [`ENGINE_THREAD_STACK`] of stack and waits for it.
fn on_engine_thread<R: Send>(
	work: impl FnOnce() -> Result<R, HostError> + Send,
) -> Result<R, HostError> {
	std::thread::scope(|scope| {
		std::thread::Builder::new()
			.name("verinfer-engine".into())
			.stack_size(ENGINE_THREAD_STACK)
			.spawn_scoped(scope, work)
			.map_err(|e| HostError(format!("spawn the engine thread: {e}")))?
			.join()
			.map_err(|_| HostError("the engine thread panicked".into()))?
	})
}

/// The engine blob, compiled once, ready to analyse and run models.
pub struct Engine {
	engine: WasmEngine,
	module: Module,
}

/// What a call into an engine instance may observe about its memory.
#[derive(Default)]
struct CallState {
	/// A grow past [`ENGINE_MEMORY_LIMIT`] was refused.
	limit_hit: bool,
	/// The host could not provide memory within the limit.
	host_failure: Option<String>,
}

impl ResourceLimiter for CallState {
	fn memory_growing(
		&mut self,
		_current: usize,
		desired: usize,
		_maximum: Option<usize>,
	) -> wasmtime::Result<bool> {
		let allowed = desired as u64 <= ENGINE_MEMORY_LIMIT;
		self.limit_hit |= !allowed;
		Ok(allowed)
	}

	fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
		self.host_failure = Some(format!("{error:#}"));
		Ok(())
	}

	fn table_growing(
		&mut self,
		_current: usize,
		desired: usize,
		_maximum: Option<usize>,
	) -> wasmtime::Result<bool> {
		// The blob's function table is static; it never needs to grow.
		Ok(desired <= 1 << 16)
	}
}

impl Engine {
	/// Compiles the engine blob `blob` with [`deterministic_config`].
	pub fn new(blob: &[u8]) -> Result<Engine, HostError> {
		Engine::with_config(&deterministic_config(), blob)
	}

	/// Compiles `blob` with another configuration: to show that code generation does not change
	/// results (other CPU features, other optimisation levels). The chain uses [`Engine::new`].
	pub fn with_config(config: &Config, blob: &[u8]) -> Result<Engine, HostError> {
		let engine = WasmEngine::new(config).map_err(host_err("configure wasmtime"))?;
		let module = Module::new(&engine, blob).map_err(host_err("compile the engine blob"))?;
		Engine::checked(engine, module)
	}

	/// The compiled machine code, serialised: differs between configurations that generate
	/// different code.
	pub fn compiled_code(&self) -> Result<Vec<u8>, HostError> {
		self.module.serialize().map_err(host_err("serialise the compiled engine"))
	}

	/// [`Engine::new`], keeping the compiled code in `dir` so that the next process loads it in
	/// milliseconds instead of compiling for seconds.
	///
	/// The file is named by the blob's SHA-256 and wasmtime's compatibility hash (version,
	/// settings, CPU features), and wasmtime refuses a file compiled for anything else; a file
	/// that cannot be used is replaced. A cache that cannot be written is no error: the engine is
	/// simply compiled again next time.
	pub fn with_disk_cache(blob: &[u8], dir: &Path) -> Result<Engine, HostError> {
		let engine =
			WasmEngine::new(&deterministic_config()).map_err(host_err("configure wasmtime"))?;
		let mut compatibility = DefaultHasher::new();
		engine.precompile_compatibility_hash().hash(&mut compatibility);
		let digest: String = sha256(blob).iter().map(|b| format!("{b:02x}")).collect();
		let file = dir.join(format!("{digest}-{:016x}.cwasm", compatibility.finish()));
		if let Ok(bytes) = std::fs::read(&file) {
			// SAFETY: the file is one `Module::serialize` wrote into this node's own cache
			// directory (as trusted as the binary itself), and wasmtime checks that it was
			// compiled by this version, with these settings, for this CPU.
			if let Ok(module) = unsafe { Module::deserialize(&engine, &bytes) } {
				return Engine::checked(engine, module);
			}
		}
		let module = Module::new(&engine, blob).map_err(host_err("compile the engine blob"))?;
		if let Ok(bytes) = module.serialize() {
			// Written aside and renamed, so that a concurrent reader never sees half a file.
			let partial = file.with_extension(format!("partial-{}", std::process::id()));
			let written = std::fs::create_dir_all(dir)
				.and_then(|()| std::fs::write(&partial, bytes))
				.and_then(|()| std::fs::rename(&partial, &file));
			if written.is_err() {
				let _ = std::fs::remove_file(&partial);
			}
		}
		Engine::checked(engine, module)
	}

	/// The engine, once `module` is known to be a self-contained engine blob.
	fn checked(engine: WasmEngine, module: Module) -> Result<Engine, HostError> {
		if let Some(import) = module.imports().next() {
			return Err(HostError(format!(
				"the engine blob imports `{}::{}`; it must be self-contained",
				import.module(),
				import.name()
			)));
		}
		for export in ENGINE_EXPORTS {
			if module.get_export(export).is_none() {
				return Err(HostError(format!("the engine blob does not export `{export}`")));
			}
		}
		Ok(Engine { engine, module })
	}

	/// Analyses `model` for the `declared` input shapes (one per input, `None` keeps the model's;
	/// empty keeps all) in a fresh engine instance.
	pub fn analyse(
		&self,
		model: &[u8],
		declared: &[Option<Vec<u32>>],
	) -> Result<Result<Analysis, EngineError>, HostError> {
		on_engine_thread(|| {
			let mut instance = EngineInstance::new(self)?;
			instance.call_decoded("verinfer_analyse", &[model, &declared.encode()])
		})
	}

	/// Loads `model` for the `declared` input shapes into a fresh engine instance that keeps it
	/// for [`LoadedModel::run`]. A refused model is `Err(EngineError::Refused(_))`.
	pub fn load(
		&self,
		model: &[u8],
		declared: &[Option<Vec<u32>>],
	) -> Result<Result<LoadedModel, EngineError>, HostError> {
		on_engine_thread(|| {
			let mut instance = EngineInstance::new(self)?;
			let analysis = instance.call_decoded("verinfer_load", &[model, &declared.encode()])?;
			Ok(analysis.map(|analysis| LoadedModel { instance, analysis }))
		})
	}

	/// Runs `model` once on `inputs`, with the inputs' shapes as the declared ones: what a client
	/// tool does with a file. The chain loads with the shapes registered for the model instead.
	pub fn run(
		&self,
		model: &[u8],
		inputs: &[Tensor],
	) -> Result<Result<Vec<Tensor>, EngineError>, HostError> {
		match self.load(model, &declared_as(inputs))? {
			Ok(mut loaded) => loaded.run(inputs),
			Err(error) => Ok(Err(error)),
		}
	}
}

/// Declared shapes that are exactly those of `inputs`: what a client tool declares when it runs a
/// file on the inputs it was given.
pub fn declared_as(inputs: &[Tensor]) -> Vec<Option<Vec<u32>>> {
	inputs.iter().map(|tensor| Some(tensor.shape.clone())).collect()
}

/// A model loaded into an engine instance of its own, ready to run again and again.
pub struct LoadedModel {
	instance: EngineInstance,
	analysis: Analysis,
}

impl LoadedModel {
	/// The analysis the engine made while loading.
	pub fn analysis(&self) -> &Analysis {
		&self.analysis
	}

	/// Bytes of linear memory the instance holds.
	pub fn memory_bytes(&self) -> usize {
		self.instance.memory.data_size(&self.instance.store)
	}

	/// Whether a call trapped in this instance. Its Rust state may then be inconsistent (a trap
	/// does not unwind): it must not be used again.
	pub fn is_poisoned(&self) -> bool {
		self.instance.poisoned
	}

	/// Runs the loaded model on `inputs`, which must match its input specs.
	pub fn run(
		&mut self,
		inputs: &[Tensor],
	) -> Result<Result<Vec<Tensor>, EngineError>, HostError> {
		let inputs = inputs.encode();
		let instance = &mut self.instance;
		on_engine_thread(move || instance.call_decoded("verinfer_run", &[&inputs]))
	}
}

/// One instance of the engine blob and its exports.
struct EngineInstance {
	store: Store<CallState>,
	instance: Instance,
	memory: Memory,
	alloc: TypedFunc<u32, u32>,
	free: TypedFunc<(u32, u32), ()>,
	poisoned: bool,
}

impl EngineInstance {
	fn new(engine: &Engine) -> Result<EngineInstance, HostError> {
		let mut store = Store::new(&engine.engine, CallState::default());
		store.limiter(|state| state);
		let instance = Instance::new(&mut store, &engine.module, &[])
			.map_err(host_err("instantiate the engine"))?;
		// Kernels register themselves from constructors (tract uses `inventory`); run them once.
		if let Ok(ctors) = instance.get_typed_func::<(), ()>(&mut store, "__wasm_call_ctors") {
			ctors.call(&mut store, ()).map_err(host_err("run the engine's constructors"))?;
		}
		let memory = instance
			.get_memory(&mut store, "memory")
			.ok_or_else(|| HostError("the engine blob exports no memory".into()))?;
		let alloc = instance
			.get_typed_func(&mut store, "verinfer_alloc")
			.map_err(host_err("find verinfer_alloc"))?;
		let free = instance
			.get_typed_func(&mut store, "verinfer_free")
			.map_err(host_err("find verinfer_free"))?;
		Ok(EngineInstance { store, instance, memory, alloc, free, poisoned: false })
	}

	/// Calls export `name` with `args` written into the instance (the export takes ownership of
	/// them) and decodes its result as `Result<T, EngineError>`.
	fn call_decoded<T: Decode>(
		&mut self,
		name: &str,
		args: &[&[u8]],
	) -> Result<Result<T, EngineError>, HostError> {
		if self.poisoned {
			return Err(HostError("the engine instance trapped before".into()));
		}
		let mut raw = Vec::with_capacity(args.len() * 2);
		for arg in args {
			match self.place(arg) {
				Ok((ptr, len)) => raw.extend([ptr, len]),
				Err(error) => return self.trapped(error),
			}
		}
		let called = match raw[..] {
			[a, b] => self
				.instance
				.get_typed_func::<(u32, u32), u64>(&mut self.store, name)
				.and_then(|f| f.call(&mut self.store, (a, b))),
			[a, b, c, d] => self
				.instance
				.get_typed_func::<(u32, u32, u32, u32), u64>(&mut self.store, name)
				.and_then(|f| f.call(&mut self.store, (a, b, c, d))),
			_ => return Err(HostError(format!("no engine export takes {} buffers", args.len()))),
		};
		let packed = match called {
			Ok(packed) => packed,
			Err(error) => return self.trapped(error),
		};
		let bytes = self.take_result(packed)?;
		<Result<T, EngineError>>::decode(&mut &bytes[..])
			.map_err(|_| HostError(format!("{name} returned an undecodable result")))
	}

	/// Writes `bytes` into a buffer the engine allocates.
	fn place(&mut self, bytes: &[u8]) -> Result<(u32, u32), wasmtime::Error> {
		let len =
			u32::try_from(bytes.len()).map_err(|_| wasmtime::Error::msg("buffer above 4 GiB"))?;
		let ptr = self.alloc.call(&mut self.store, len)?;
		self.memory.write(&mut self.store, ptr as usize, bytes)?;
		Ok((ptr, len))
	}

	/// Copies out and frees the result at `(ptr << 32) | len`.
	fn take_result(&mut self, packed: u64) -> Result<Vec<u8>, HostError> {
		let (ptr, len) = ((packed >> 32) as u32, packed as u32);
		let bytes = self
			.memory
			.data(&self.store)
			.get(ptr as usize..ptr as usize + len as usize)
			.map(<[u8]>::to_vec)
			.ok_or_else(|| HostError("the engine returned a result outside its memory".into()))?;
		self.free.call(&mut self.store, (ptr, len)).map_err(host_err("free a result"))?;
		Ok(bytes)
	}

	/// Turns a failed call into its deterministic [`EngineError`], or a [`HostError`] when the
	/// failure is the host's. The instance is poisoned either way.
	fn trapped<T>(&mut self, error: wasmtime::Error) -> Result<Result<T, EngineError>, HostError> {
		self.poisoned = true;
		if let Some(failure) = self.store.data_mut().host_failure.take() {
			return Err(HostError(format!("the host could not provide engine memory: {failure}")));
		}
		let Some(trap) = error.downcast_ref::<Trap>() else {
			return Err(HostError(format!("engine call failed: {error:#}")));
		};
		if self.store.data().limit_hit {
			return Ok(Err(EngineError::MemoryLimitExceeded { limit: ENGINE_MEMORY_LIMIT }));
		}
		let panic_message = self
			.instance
			.get_typed_func::<(), u64>(&mut self.store, "verinfer_panic_message")
			.and_then(|f| f.call(&mut self.store, ()))
			.ok()
			.and_then(|packed| self.take_result(packed).ok())
			.and_then(|bytes| Vec::<u8>::decode(&mut &bytes[..]).ok())
			.filter(|message| !message.is_empty());
		Ok(Err(match panic_message {
			Some(message) => EngineError::Panicked(message),
			None => EngineError::Trapped(trap_code(trap).as_bytes().to_vec()),
		}))
	}
}

/// A trap's name as the chain records it: fixed here, not wasmtime's wording, which may change
/// between versions while the chain's results may not.
fn trap_code(trap: &Trap) -> &'static str {
	match trap {
		Trap::StackOverflow => "stack overflow",
		Trap::MemoryOutOfBounds => "memory out of bounds",
		Trap::HeapMisaligned => "misaligned access",
		Trap::TableOutOfBounds => "table out of bounds",
		Trap::IndirectCallToNull => "indirect call to null",
		Trap::BadSignature => "bad signature",
		Trap::IntegerOverflow => "integer overflow",
		Trap::IntegerDivisionByZero => "integer division by zero",
		Trap::BadConversionToInteger => "bad conversion to integer",
		Trap::UnreachableCodeReached => "unreachable",
		_ => "other trap",
	}
}
