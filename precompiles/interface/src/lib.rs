//! # Verinfer interface
//!
//! The inference host functions: how the runtime asks the node to analyse or run a model.
//!
//! The runtime names the engine blob and the model by where their bytes are in state and by their
//! SHA-256 ([`StoredBytes`]); the node reads them itself, so a model never travels through the
//! runtime's heap, and a cached model is not read at all. Inputs and outputs are
//! [`Tensor`]s. Everything the runtime gets back is deterministic: a result, or an
//! [`InferenceError`] that is the same on every validator. A failure of the node itself (its
//! machine cannot compile the engine or provide memory) is not a result: the host function
//! panics, which fails the block's execution on this node only, as any host failure does.
//!
//! The node side (`std`) runs the engine with `verinfer-executor`. The node shares its
//! `InferenceCache` with every execution through the [`InferenceCacheExt`] extension; an execution
//! without it uses the process-wide cache.
//!
//! Every call into the engine is metered (see `verinfer_executor::engine`). The runtime gives each
//! call its [`Limits`] and gets back what the engine used ([`Charged`]), to charge it whatever the
//! outcome: `measure` (registration: load and probe runs) and `run` versions 2 and 3 (which also
//! says what the node must keep loaded for the block: [`Keep`]). Version 1 of `run`
//! and `analyse`, which older blocks call, use the protocol's most:
//! [`Limits::CALL`] and [`Limits::LOAD`]. A call that exceeds its limits fails with `OutOfFuel` or
//! `MemoryLimitExceeded` on every validator alike.
//!
//! Once a runtime uses a version of these functions, nodes keep it forever (old blocks must still
//! import): a change of interface is a new version, a change of numerics is a new engine blob.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
#[cfg(feature = "std")]
use sp_externalities::ExternalitiesExt;
use sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode},
	runtime_interface,
};

use verinfer_primitives::{
	analysis::Analysis,
	engine::{Limits, Measurement},
	inference::{Charged, InferenceError, Keep, RunRequest, StoredBytes},
	tensor::Tensor,
	DeclaredShapes,
};

#[cfg(feature = "std")]
sp_externalities::decl_extension! {
	/// The node's inference cache, handed to every block execution.
	pub struct InferenceCacheExt(std::sync::Arc<verinfer_executor::cache::InferenceCache>);
}

/// Runs `call` with the execution's cache and a reader of its state; a host failure panics (see
/// the module documentation).
#[cfg(feature = "std")]
fn with_cache<T>(
	mut ext: &mut dyn sp_externalities::Externalities,
	call: impl FnOnce(
		&verinfer_executor::cache::InferenceCache,
		&mut verinfer_executor::cache::ReadStorage,
	) -> Result<T, verinfer_executor::engine::HostError>,
) -> T {
	let cache = ext
		.extension::<InferenceCacheExt>()
		.map(|cache| cache.0.clone())
		.unwrap_or_else(verinfer_executor::cache::InferenceCache::global);
	let mut read = |key: &[u8]| ext.storage(key);
	match call(&cache, &mut read) {
		Ok(result) => result,
		Err(host_failure) => panic!("{host_failure}"),
	}
}

/// The inference host functions.
#[runtime_interface]
pub trait Inference {
	/// Analyses the model `model` with the engine `engine` for the `declared` input shapes (one
	/// per input, `None` keeping the model's; empty keeps all): specs, operators, cost, and the
	/// reasons the chain would refuse it.
	fn analyse(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<DeclaredShapes>,
	) -> AllocateAndReturnByCodec<Result<Analysis, InferenceError>> {
		with_cache(*self, |cache, read| {
			cache.analyse(&engine, &model, &declared, Limits::LOAD, read)
		})
	}

	/// Measures the model `model` with the engine `engine` for the `declared` input shapes:
	/// loads it and runs it on its probe inputs (see `verinfer_executor::engine::Engine::measure`),
	/// all within `limits`. What registering a model does.
	fn measure(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<DeclaredShapes>,
		limits: PassFatPointerAndDecode<Limits>,
	) -> AllocateAndReturnByCodec<Charged<Measurement>> {
		with_cache(*self, |cache, read| cache.measure(&engine, &model, &declared, limits, read))
	}

	/// Runs the model `model` with the engine `engine`, loaded for the `declared` input shapes,
	/// on `inputs`, within [`Limits::CALL`].
	fn run(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<DeclaredShapes>,
		inputs: PassFatPointerAndDecode<Vec<Tensor>>,
	) -> AllocateAndReturnByCodec<Result<Vec<Tensor>, InferenceError>> {
		with_cache(*self, |cache, read| {
			let request = RunRequest { engine, model, declared, inputs, limits: Limits::CALL };
			cache.run(&request, Keep::Maybe, read).map(|charged| charged.result)
		})
	}

	/// Runs the model `model` with the engine `engine`, loaded for the `declared` input shapes,
	/// on `inputs`, within `limits`; gives the outputs and what the run used. Loading the model,
	/// when this node has not kept it loaded, is not part of the usage: the chain prices loads
	/// from the model's measurement.
	#[version(2)]
	fn run(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<DeclaredShapes>,
		inputs: PassFatPointerAndDecode<Vec<Tensor>>,
		limits: PassFatPointerAndDecode<Limits>,
	) -> AllocateAndReturnByCodec<Charged<Vec<Tensor>>> {
		with_cache(*self, |cache, read| {
			cache.run(&RunRequest { engine, model, declared, inputs, limits }, Keep::Maybe, read)
		})
	}

	/// Version 2, and what the node must keep loaded after the call: the model, for the rest of
	/// the block, when the chain refunds its load to the block's later calls ([`Keep`]).
	#[version(3)]
	fn run(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<DeclaredShapes>,
		inputs: PassFatPointerAndDecode<Vec<Tensor>>,
		limits: PassFatPointerAndDecode<Limits>,
		keep: PassFatPointerAndDecode<Keep>,
	) -> AllocateAndReturnByCodec<Charged<Vec<Tensor>>> {
		with_cache(*self, |cache, read| {
			cache.run(&RunRequest { engine, model, declared, inputs, limits }, keep, read)
		})
	}
}
