//! Runs the engine blob in wasmtime, configured so that every machine computes the same bytes and
//! does the same, bounded, amount of work.
//!
//! - **NaN canonicalisation** on: Wasm float arithmetic is IEEE-exact except for the bit pattern of
//!   NaN results, which differs between CPUs; canonicalised, it does not.
//! - **Relaxed SIMD off** (its results may differ by CPU), **threads off**.
//! - **Fuel**: every call runs under a [`Limits::fuel`], counted by wasmtime per Wasm operator,
//!   the same count on every CPU. Running out stops the call at the same operator everywhere:
//!   [`EngineError::OutOfFuel`]. **Bulk memory is off** (`memory.copy` and `memory.fill` would
//!   move gigabytes for one unit of fuel): the blob is built without it and a blob that uses it is
//!   not a valid engine.
//! - **Bounded memory**: a call may grow the instance's linear memory up to its
//!   [`Limits::memory`] (at most
//!   [`ENGINE_MEMORY_LIMIT`](verinfer_primitives::analysis::ENGINE_MEMORY_LIMIT)); a grow past it
//!   is refused, the engine's allocator fails and the engine traps, which becomes
//!   [`EngineError::MemoryLimitExceeded`].
//! - **Every call starts from the same state.** Analysing or loading starts from a fresh
//!   instance. A loaded model is kept as an *image*: the instance's linear memory right after
//!   the load returned. Each run starts from an instance in exactly that state (made from the
//!   image, or put back into it after a run: see [`LoadedModel`]), so its fuel, its memory and
//!   its failures are a function of the engine, the model and the inputs alone, never of the
//!   calls an instance made before (an allocator's history, a lazily built cache, a grown
//!   memory). The blob may hold one mutable global, the shadow stack pointer, which is back at
//!   its initial value whenever an export has returned; so the memory is the whole state (the
//!   depth counter below is back at zero then too).
//! - **A deterministic depth limit** ([`crate::stack`]): the node compiles the blob with a count
//!   of the Wasm slots its live frames hold, and a call deeper than
//!   [`STACK_SLOTS`] traps at the same call on every machine (`stack overflow`). wasmtime's
//!   native limit, [`ENGINE_WASM_STACK`], which depends on the machine's frame sizes, is twice
//!   as far away as the deepest the count allows; should it ever be hit, the node fails (a
//!   [`HostError`]) instead of recording a result another machine would not.
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
	sync::{Arc, Mutex, OnceLock},
	vec::Vec,
};

use codec::{Decode, Encode};
use wasmtime::{
	Config, Engine as WasmEngine, Instance, Memory, Module, OptLevel, ResourceLimiter, Store,
	Strategy, Trap, TypedFunc,
};

use verinfer_primitives::{
	analysis::Analysis,
	engine::{EngineError, Limits, Measurement, Usage},
	probe::probe_inputs,
	tensor::Tensor,
	DeclaredShape, DeclaredShapes,
};

use crate::{
	digest::{hex, sha256},
	stack::{limit_depth, DEPTH_EXPORT, LEAF_SLOTS, NATIVE_BYTES_PER_SLOT, STACK_SLOTS},
	sync::lock,
};

/// Native stack wasmtime lets the engine's code use: 4.25 MiB, twice the most the deterministic
/// depth limit lets the engine reach (([`STACK_SLOTS`] + [`LEAF_SLOTS`]) ×
/// [`NATIVE_BYTES_PER_SLOT`]), so that the limit every machine hits at the same call is always
/// the first one.
pub const ENGINE_WASM_STACK: usize =
	2 * (STACK_SLOTS + LEAF_SLOTS) as usize * NATIVE_BYTES_PER_SLOT;

/// Stack of the thread that runs engine calls: the Wasm stack plus room for wasmtime and the host.
pub const ENGINE_THREAD_STACK: usize = ENGINE_WASM_STACK + (4 << 20);

/// Fuel given to fetch a panic's message after a trap: 16 M, far more than copying a message
/// takes. It is the host's work, not the call's, and the message is the same everywhere.
const PANIC_MESSAGE_FUEL: u64 = 1 << 24;

/// Size of a Wasm page: linear memory grows in these.
const WASM_PAGE: u64 = 1 << 16;

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

/// An engine blob known to be one, with the deterministic call-depth limit of [`STACK_SLOTS`]
/// instrumented (see [`crate::stack`]): what [`Engine::compile`] compiles.
pub struct EngineBlob {
	limited: Vec<u8>,
}

impl EngineBlob {
	/// Checks that `blob` can be an engine, with the same verdict on every machine: a Wasm module
	/// the engine's configuration accepts (so no bulk memory), importing nothing, exporting
	/// [`ENGINE_EXPORTS`], with at most one mutable global (see the module documentation), that
	/// the depth limit can instrument. A blob that passes can still fail to compile on a machine
	/// short of memory; that is a [`HostError`].
	pub fn check(blob: &[u8]) -> Result<EngineBlob, &'static str> {
		let engine = WasmEngine::new(&deterministic_config())
			.map_err(|_| "the engine configuration is not supported")?;
		Module::validate(&engine, blob).map_err(|_| {
			"not a Wasm module the engine configuration accepts (bulk memory, threads and \
			 relaxed SIMD are not)"
		})?;
		ModuleInterface::read(blob).ok_or("not a Wasm module")?.check()?;
		Ok(EngineBlob { limited: limit_depth(blob, STACK_SLOTS)? })
	}
}

/// What [`EngineBlob::check`] checks beyond validity, read from a module's sections.
#[derive(Debug, Default)]
struct ModuleInterface {
	imports: u32,
	exports: Vec<String>,
	mutable_globals: u32,
}

impl ModuleInterface {
	fn read(blob: &[u8]) -> Option<ModuleInterface> {
		use wasmparser::{Parser, Payload};
		let mut interface = ModuleInterface::default();
		for payload in Parser::new(0).parse_all(blob) {
			match payload.ok()? {
				Payload::ImportSection(imports) => interface.imports += imports.count(),
				Payload::ExportSection(exports) => {
					for export in exports {
						interface.exports.push(export.ok()?.name.to_string());
					}
				},
				Payload::GlobalSection(globals) => {
					for global in globals {
						interface.mutable_globals += u32::from(global.ok()?.ty.mutable);
					}
				},
				_ => {},
			}
		}
		Some(interface)
	}

	fn check(&self) -> Result<(), &'static str> {
		if self.imports > 0 {
			return Err("the engine blob imports functions; it must be self-contained");
		}
		if ENGINE_EXPORTS.iter().any(|name| !self.exports.iter().any(|export| export == name)) {
			return Err("the engine blob lacks an export of the engine ABI");
		}
		if self.mutable_globals > 1 {
			return Err("the engine blob has mutable globals besides its stack pointer; a loaded \
			            model's image would not be its whole state");
		}
		Ok(())
	}
}

/// The wasmtime settings every validator uses for the engine.
pub fn deterministic_config() -> Config {
	let mut config = Config::new();
	config
		.strategy(Strategy::Cranelift)
		.cranelift_opt_level(OptLevel::Speed)
		.cranelift_nan_canonicalization(true)
		.consume_fuel(true)
		// See the module documentation; reference types need bulk memory in wasmtime.
		.wasm_bulk_memory(false)
		.wasm_reference_types(false)
		.wasm_simd(true)
		.wasm_relaxed_simd(false)
		// Should relaxed SIMD ever be enabled, this makes it deterministic; it is not enabled.
		.relaxed_simd_deterministic(true)
		.wasm_threads(false)
		.max_wasm_stack(ENGINE_WASM_STACK);
	config
}

/// [`EngineBlob::check`], refusing as a [`HostError`] (for callers that hold a blob they trust).
pub fn checked(blob: &[u8]) -> Result<EngineBlob, HostError> {
	EngineBlob::check(blob).map_err(|reason| HostError(reason.into()))
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

/// The outcome of one engine call and what it used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metered<T> {
	pub result: Result<T, EngineError>,
	pub usage: Usage,
}

impl<T> Metered<T> {
	/// The outcome, without what it used.
	pub fn into_result(self) -> Result<T, EngineError> {
		self.result
	}
}

/// The engine blob, compiled once, ready to analyse and run models.
pub struct Engine {
	engine: WasmEngine,
	module: Module,
}

/// What a call into an engine instance may observe about its memory.
struct CallState {
	/// The most linear memory the call may reach.
	memory_limit: u64,
	/// A grow past `memory_limit` was refused.
	limit_hit: bool,
	/// The host could not provide memory within the limit.
	host_failure: Option<String>,
}

impl CallState {
	/// The state of a call within `limits`, before it starts.
	fn within(limits: Limits) -> CallState {
		CallState { memory_limit: limits.memory_cap(), limit_hit: false, host_failure: None }
	}
}

impl ResourceLimiter for CallState {
	fn memory_growing(
		&mut self,
		_current: usize,
		desired: usize,
		_maximum: Option<usize>,
	) -> wasmtime::Result<bool> {
		let allowed = desired as u64 <= self.memory_limit;
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
	/// Checks and compiles the engine blob `blob` with [`deterministic_config`].
	pub fn new(blob: &[u8]) -> Result<Engine, HostError> {
		Engine::compile(&checked(blob)?, None)
	}

	/// [`ENGINE_BLOB`](crate::ENGINE_BLOB), the blob this crate's build script built, compiled once
	/// per process (compiling takes seconds): what the local tools and the tests run.
	pub fn built_in() -> Result<Arc<Engine>, HostError> {
		static BUILT_IN: OnceLock<Result<Arc<Engine>, HostError>> = OnceLock::new();
		BUILT_IN
			.get_or_init(|| {
				let blob = crate::ENGINE_BLOB.ok_or_else(|| {
					HostError("built without the engine blob (SKIP_WASM_BUILD): pass one".into())
				})?;
				Engine::new(blob).map(Arc::new)
			})
			.clone()
	}

	/// Checks `blob` and compiles it with another configuration: to show that code generation
	/// does not change results (other CPU features, other optimisation levels). The node uses
	/// [`Engine::compile`] with [`deterministic_config`].
	pub fn with_config(config: &Config, blob: &[u8]) -> Result<Engine, HostError> {
		let engine = WasmEngine::new(config).map_err(host_err("configure wasmtime"))?;
		let module = Module::new(&engine, &checked(blob)?.limited)
			.map_err(host_err("compile the engine blob"))?;
		Ok(Engine { engine, module })
	}

	/// The compiled machine code, serialised: differs between configurations that generate
	/// different code.
	pub fn compiled_code(&self) -> Result<Vec<u8>, HostError> {
		self.module.serialize().map_err(host_err("serialise the compiled engine"))
	}

	/// Compiles `blob` with [`deterministic_config`], keeping the compiled code in `disk`, if
	/// given, so that the next process loads it in milliseconds instead of compiling for seconds.
	///
	/// The file is named by the SHA-256 of the blob as instrumented and wasmtime's compatibility
	/// hash (version, settings, CPU features), and wasmtime refuses a file compiled for anything
	/// else; a file that cannot be used is replaced. A cache that cannot be written is no error:
	/// the engine is simply compiled again next time.
	pub fn compile(blob: &EngineBlob, disk: Option<&Path>) -> Result<Engine, HostError> {
		let engine =
			WasmEngine::new(&deterministic_config()).map_err(host_err("configure wasmtime"))?;
		let file = disk.map(|dir| {
			let mut compatibility = DefaultHasher::new();
			engine.precompile_compatibility_hash().hash(&mut compatibility);
			let digest = hex(&sha256(&blob.limited));
			let name = format!("{}-{:016x}.cwasm", &digest[2..], compatibility.finish());
			(dir, dir.join(name))
		});
		if let Some(bytes) = file.as_ref().and_then(|(_, file)| std::fs::read(file).ok()) {
			// SAFETY: the file is one `Module::serialize` wrote into this node's own cache
			// directory (as trusted as the binary itself), and wasmtime checks that it was
			// compiled by this version, with these settings, for this CPU.
			if let Ok(module) = unsafe { Module::deserialize(&engine, &bytes) } {
				return Ok(Engine { engine, module });
			}
		}
		let module =
			Module::new(&engine, &blob.limited).map_err(host_err("compile the engine blob"))?;
		if let (Some((dir, file)), Ok(bytes)) = (file, module.serialize()) {
			// Written aside and renamed, so that a concurrent reader never sees half a file.
			let partial = file.with_extension(format!("partial-{}", std::process::id()));
			let written = std::fs::create_dir_all(dir)
				.and_then(|()| std::fs::write(&partial, bytes))
				.and_then(|()| std::fs::rename(&partial, &file));
			if written.is_err() {
				let _ = std::fs::remove_file(&partial);
			}
		}
		Ok(Engine { engine, module })
	}

	/// Analyses `model` for the `declared` input shapes (one per input, `None` keeps the model's;
	/// empty keeps all) in a fresh engine instance, within `limits`.
	pub fn analyse(
		&self,
		model: &[u8],
		declared: &[DeclaredShape],
		limits: Limits,
	) -> Result<Metered<Analysis>, HostError> {
		on_engine_thread(|| {
			let mut instance = EngineInstance::fresh(self, limits)?;
			let result = instance.call_decoded("verinfer_analyse", &[model, &declared.encode()])?;
			Ok(instance.metered(result))
		})
	}

	/// Loads `model` for the `declared` input shapes in a fresh engine instance, within `limits`,
	/// and keeps the instance's memory as the model's image for [`LoadedModel::run`]. A refused
	/// model is `Err(EngineError::Refused(_))`.
	pub fn load(
		&self,
		model: &[u8],
		declared: &[DeclaredShape],
		limits: Limits,
	) -> Result<Metered<LoadedModel>, HostError> {
		on_engine_thread(|| {
			let mut instance = EngineInstance::fresh(self, limits)?;
			let analysis = instance.call_decoded("verinfer_load", &[model, &declared.encode()])?;
			let loaded = analysis.map(|analysis| LoadedModel {
				engine: self.engine.clone(),
				module: self.module.clone(),
				image: instance.memory.data(&instance.store).into(),
				analysis,
				idle: Default::default(),
			});
			Ok(instance.metered(loaded))
		})
	}

	/// Loads `model` (within `Limits::LOAD`) with the inputs' shapes as the declared ones and runs
	/// it once on `inputs` within `limits`: what a client tool does with a file. The chain loads
	/// with the shapes registered for the model instead. The usage is the run's, or the load's
	/// when the model could not be loaded.
	pub fn run(
		&self,
		model: &[u8],
		inputs: &[Tensor],
		limits: Limits,
	) -> Result<Metered<Vec<Tensor>>, HostError> {
		let loaded = self.load(model, &declared_as(inputs), Limits::LOAD)?;
		match loaded.result {
			Ok(loaded) => loaded.run(inputs, limits),
			Err(error) => Ok(Metered { result: Err(error), usage: loaded.usage }),
		}
	}
}

/// A model measured and loaded: what [`Engine::measure`] gives on success.
pub struct Measured {
	pub measurement: Measurement,
	pub loaded: LoadedModel,
}

impl Engine {
	/// Loads `model` for the `declared` input shapes and runs it on its probe inputs (see
	/// [`LoadedModel::probe`]), all within `limits`: what registering a model does. The usage is
	/// the whole work, load and probes, for the chain to charge whether the model is accepted or
	/// not.
	pub fn measure(
		&self,
		model: &[u8],
		declared: &[DeclaredShape],
		limits: Limits,
	) -> Result<Metered<Measured>, HostError> {
		let load = self.load(model, declared, limits)?;
		let loaded = match load.result {
			Ok(loaded) => loaded,
			Err(error) => return Ok(Metered { result: Err(error), usage: load.usage }),
		};
		let probe = loaded.probe(limits.less(load.usage))?;
		let result = probe.result.map(|probe| Measured {
			measurement: Measurement { analysis: loaded.analysis.clone(), load: load.usage, probe },
			loaded,
		});
		Ok(Metered { result, usage: load.usage.then(probe.usage) })
	}
}

/// Declared shapes that are exactly those of `inputs`: what a client tool declares when it runs a
/// file on the inputs it was given.
pub fn declared_as(inputs: &[Tensor]) -> DeclaredShapes {
	inputs.iter().map(|tensor| Some(tensor.shape.clone())).collect()
}

/// A model loaded by the engine: the memory image of the instance that loaded it, from which
/// every run starts. Cheap to clone and shared between threads.
///
/// Making a fresh instance from the image costs a page fault per page written, about a
/// millisecond for the smallest models on a virtual machine. So an instance whose run returned
/// (no trap) without growing its memory is put back into the image's state instead, by copying
/// back the pages that differ from it, and kept for the next run: byte for byte the state a fresh
/// instance would have (same memory, same size, the stack pointer back at its start), so what
/// the next run computes and uses does not change.
#[derive(Clone)]
pub struct LoadedModel {
	engine: WasmEngine,
	module: Module,
	image: Arc<[u8]>,
	analysis: Analysis,
	/// Instances in the image's state, ready to run.
	idle: Arc<Mutex<Vec<EngineInstance>>>,
}

/// Instances in the image's state a loaded model keeps at most: 4, as many as the workers that
/// run calls at once on a machine of a few cores. Each holds a copy of the image.
const MAX_IDLE_INSTANCES: usize = 4;

/// The unit of the comparison that puts an instance back into the image's state: a page.
const RESTORE_PAGE: usize = 4 << 10;

impl LoadedModel {
	/// The analysis the engine made while loading.
	pub fn analysis(&self) -> &Analysis {
		&self.analysis
	}

	/// Bytes of the image: what every run starts with.
	pub fn image_bytes(&self) -> usize {
		self.image.len()
	}

	/// Bytes keeping the model holds: the image and the idle instances' memories.
	pub fn memory_bytes(&self) -> usize {
		self.image.len() * (1 + lock(&self.idle).len())
	}

	/// Drops the idle instances: the next runs make theirs from the image.
	pub fn drop_idle(&self) {
		lock(&self.idle).clear();
	}

	/// Runs the model on each of its probe inputs ([`probe_inputs`]) in turn, within `limits`
	/// together, and gives the most one successful run used (fuel and memory each): what the
	/// chain prices its calls from. A probe that fails for want of fuel or memory fails the
	/// measurement; one that fails otherwise (an integer division by a zero input, say) is left
	/// out, and the measurement fails only when every probe does. The usage is every probe's.
	pub fn probe(&self, limits: Limits) -> Result<Metered<Usage>, HostError> {
		let mut total = Usage::default();
		let mut most: Option<Usage> = None;
		let mut failure = None;
		for inputs in probe_inputs(&self.analysis.inputs) {
			let run = self.run(&inputs, limits.less(total))?;
			total = total.then(run.usage);
			match run.result {
				Ok(_) => {
					let most = most.get_or_insert(run.usage);
					*most = Usage {
						fuel: most.fuel.max(run.usage.fuel),
						memory: most.memory.max(run.usage.memory),
					};
				},
				Err(
					error @ (EngineError::OutOfFuel { .. }
					| EngineError::MemoryLimitExceeded { .. }),
				) => return Ok(Metered { result: Err(error), usage: total }),
				Err(error) => failure = Some(error),
			}
		}
		let result = most.ok_or_else(|| failure.unwrap_or(EngineError::NoModelLoaded));
		Ok(Metered { result, usage: total })
	}

	/// Runs the loaded model on `inputs`, which must match its input specs, within `limits`, in
	/// an instance in the image's state.
	pub fn run(
		&self,
		inputs: &[Tensor],
		limits: Limits,
	) -> Result<Metered<Vec<Tensor>>, HostError> {
		if (self.image.len() as u64) > limits.memory_cap() {
			// Refused before anything runs, whatever instance would have run it.
			let error = EngineError::MemoryLimitExceeded { limit: limits.memory_cap() };
			return Ok(Metered { result: Err(error), usage: Usage::default() });
		}
		let inputs = inputs.encode();
		let idle = lock(&self.idle).pop();
		on_engine_thread(move || {
			let mut instance = match idle {
				Some(instance) => instance,
				None => EngineInstance::from_image(self)?,
			};
			instance.begin(limits)?;
			let result = instance.call_decoded("verinfer_run", &[&inputs])?;
			let metered = instance.metered(result);
			if instance.restore(&self.image) {
				let mut idle = lock(&self.idle);
				if idle.len() < MAX_IDLE_INSTANCES {
					idle.push(instance);
				}
			}
			Ok(metered)
		})
	}
}

/// Gives the store `fuel`. A store of an engine configured without fuel (a benchmark's, to measure
/// what metering costs: [`Engine::with_config`]; [`deterministic_config`] always meters) runs
/// unmetered, and its calls report all their fuel used.
fn refuel(store: &mut Store<CallState>, fuel: u64) -> Result<(), HostError> {
	if store.get_fuel().is_err() {
		return Ok(());
	}
	store.set_fuel(fuel).map_err(host_err("set the engine's fuel"))
}

/// One instance of the engine blob, used for one call.
struct EngineInstance {
	store: Store<CallState>,
	instance: Instance,
	memory: Memory,
	alloc: TypedFunc<u32, u32>,
	limits: Limits,
	/// Set once the call ran out of fuel: the fuel left no longer says what the call used.
	out_of_fuel: bool,
	/// Set once a call trapped: the instance's state is no longer one a call may start from.
	trapped: bool,
}

impl EngineInstance {
	/// An instance of `module` whose memory is the blob's initial one, its constructors run,
	/// with `limits` for whatever it does from now on.
	fn fresh(engine: &Engine, limits: Limits) -> Result<EngineInstance, HostError> {
		let mut instance = EngineInstance::instantiate(&engine.engine, &engine.module, limits)?;
		// Kernels register themselves from constructors (tract uses `inventory`); run them once.
		// They are part of the call's work, as the blob decides what they do.
		if let Ok(ctors) =
			instance.instance.get_typed_func::<(), ()>(&mut instance.store, "__wasm_call_ctors")
		{
			ctors
				.call(&mut instance.store, ())
				.map_err(host_err("run the engine's constructors"))?;
		}
		Ok(instance)
	}

	/// An instance whose memory is `loaded`'s image.
	fn from_image(loaded: &LoadedModel) -> Result<EngineInstance, HostError> {
		let mut instance =
			EngineInstance::instantiate(&loaded.engine, &loaded.module, Limits::LOAD)?;
		let image = &loaded.image[..];
		let current = instance.memory.data_size(&instance.store) as u64;
		let pages = (image.len() as u64).saturating_sub(current).div_ceil(WASM_PAGE);
		if pages > 0 {
			instance
				.memory
				.grow(&mut instance.store, pages)
				.map_err(host_err("grow a fresh instance to the model's image"))?;
		}
		// The image is the whole state the blob keeps (see the module documentation): written
		// over everything the fresh instance's data segments put there.
		instance.memory.data_mut(&mut instance.store)[..image.len()].copy_from_slice(image);
		Ok(instance)
	}

	/// Prepares the instance for a call within `limits`.
	fn begin(&mut self, limits: Limits) -> Result<(), HostError> {
		*self.store.data_mut() = CallState::within(limits);
		refuel(&mut self.store, limits.fuel)?;
		self.limits = limits;
		self.out_of_fuel = false;
		Ok(())
	}

	/// Puts the instance back into `image`'s state after a call; false when it cannot be (it
	/// trapped, or grew its memory) and must be dropped.
	fn restore(&mut self, image: &[u8]) -> bool {
		if self.trapped || self.memory.data_size(&self.store) != image.len() {
			return false;
		}
		let memory = self.memory.data_mut(&mut self.store);
		for (page, original) in memory.chunks_mut(RESTORE_PAGE).zip(image.chunks(RESTORE_PAGE)) {
			if page != original {
				page.copy_from_slice(original);
			}
		}
		true
	}

	fn instantiate(
		engine: &WasmEngine,
		module: &Module,
		limits: Limits,
	) -> Result<EngineInstance, HostError> {
		let mut store = Store::new(engine, CallState::within(limits));
		store.limiter(|state| state);
		refuel(&mut store, limits.fuel)?;
		let instance =
			Instance::new(&mut store, module, &[]).map_err(host_err("instantiate the engine"))?;
		let memory = instance
			.get_memory(&mut store, "memory")
			.ok_or_else(|| HostError("the engine blob exports no memory".into()))?;
		let alloc = instance
			.get_typed_func(&mut store, "verinfer_alloc")
			.map_err(host_err("find verinfer_alloc"))?;
		Ok(EngineInstance {
			store,
			instance,
			memory,
			alloc,
			limits,
			out_of_fuel: false,
			trapped: false,
		})
	}

	/// `result` with what this instance used so far.
	fn metered<T>(&self, result: Result<T, EngineError>) -> Metered<T> {
		let left = if self.out_of_fuel { 0 } else { self.store.get_fuel().unwrap_or(0) };
		let usage = Usage {
			fuel: self.limits.fuel.saturating_sub(left),
			memory: self.memory.data_size(&self.store) as u64,
		};
		Metered { result, usage }
	}

	/// Calls export `name` with `args` written into the instance (the export takes ownership of
	/// them) and decodes its result as `Result<T, EngineError>`.
	fn call_decoded<T: Decode>(
		&mut self,
		name: &str,
		args: &[&[u8]],
	) -> Result<Result<T, EngineError>, HostError> {
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
		let bytes = self.read_result(packed)?;
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

	/// Copies out the result at `(ptr << 32) | len`. It is never freed: the instance is not
	/// used again.
	fn read_result(&mut self, packed: u64) -> Result<Vec<u8>, HostError> {
		let (ptr, len) = ((packed >> 32) as usize, packed as u32 as usize);
		self.memory
			.data(&self.store)
			.get(ptr..ptr + len)
			.map(<[u8]>::to_vec)
			.ok_or_else(|| HostError("the engine returned a result outside its memory".into()))
	}

	/// Turns a failed call into its deterministic [`EngineError`], or a [`HostError`] when the
	/// failure is the host's.
	fn trapped<T>(&mut self, error: wasmtime::Error) -> Result<Result<T, EngineError>, HostError> {
		self.trapped = true;
		if let Some(failure) = self.store.data_mut().host_failure.take() {
			return Err(HostError(format!("the host could not provide engine memory: {failure}")));
		}
		let Some(trap) = error.downcast_ref::<Trap>() else {
			return Err(HostError(format!("engine call failed: {error:#}")));
		};
		if *trap == Trap::OutOfFuel {
			self.out_of_fuel = true;
			return Ok(Err(EngineError::OutOfFuel { limit: self.limits.fuel }));
		}
		if *trap == Trap::StackOverflow {
			// Never a result: how much native stack a call takes differs between machines.
			return Err(HostError(format!(
				"the engine exhausted this node's native stack ({ENGINE_WASM_STACK} bytes) before \
				 its deterministic depth limit: {trap}"
			)));
		}
		// What the call used is recorded before fetching the message, which is the host's work.
		let used = self.limits.fuel.saturating_sub(self.store.get_fuel().unwrap_or(0));
		let slots = self.take_stack_slots()?;
		if slots > STACK_SLOTS {
			self.keep_used(used);
			return Ok(Err(EngineError::Trapped(STACK_OVERFLOW.as_bytes().to_vec())));
		}
		let code = trap_code(trap);
		if self.store.data().limit_hit {
			self.keep_used(used);
			return Ok(Err(EngineError::MemoryLimitExceeded {
				limit: self.store.data().memory_limit,
			}));
		}
		let panic_message = self.panic_message();
		self.keep_used(used);
		Ok(Err(match panic_message {
			Some(message) => EngineError::Panicked(message),
			None => EngineError::Trapped(code.as_bytes().to_vec()),
		}))
	}

	/// The slots the frames live at the trap held (see [`crate::stack`]), setting the count back
	/// to none: the frames are gone, and fetching the panic message makes calls of its own.
	fn take_stack_slots(&mut self) -> Result<u32, HostError> {
		let global = self
			.instance
			.get_global(&mut self.store, DEPTH_EXPORT)
			.ok_or_else(|| HostError("the engine was compiled without its depth limit".into()))?;
		let slots = global.get(&mut self.store).i32().unwrap_or(0) as u32;
		global
			.set(&mut self.store, wasmtime::Val::I32(0))
			.map_err(host_err("reset the engine's depth count"))?;
		Ok(slots)
	}

	/// Sets the fuel left so that [`EngineInstance::metered`] reports `used`.
	fn keep_used(&mut self, used: u64) {
		let _ = self.store.set_fuel(self.limits.fuel.saturating_sub(used));
	}

	/// The message of the panic that made the engine trap, if it was one.
	fn panic_message(&mut self) -> Option<Vec<u8>> {
		self.store.set_fuel(PANIC_MESSAGE_FUEL).ok()?;
		let packed = self
			.instance
			.get_typed_func::<(), u64>(&mut self.store, "verinfer_panic_message")
			.and_then(|f| f.call(&mut self.store, ()))
			.ok()?;
		let bytes = self.read_result(packed).ok()?;
		Vec::<u8>::decode(&mut &bytes[..]).ok().filter(|message| !message.is_empty())
	}
}

/// The trap of a call deeper than the depth limit, as wasmtime's own stack overflow was recorded.
const STACK_OVERFLOW: &str = "stack overflow";

/// A trap's name as the chain records it: fixed here, not wasmtime's wording, which may change
/// between versions while the chain's results may not.
fn trap_code(trap: &Trap) -> &'static str {
	match trap {
		Trap::StackOverflow => STACK_OVERFLOW,
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
