//! What the `models_*`, `inference_*` and `hosts_*` methods share: the node's client and engine
//! cache, the block they read at, and their errors. The methods and their JSON are
//! `verinfer_client::api`'s traits, served in `models.rs`, `inference.rs` and `hosts.rs`.

use std::{
	marker::PhantomData,
	sync::{atomic::AtomicUsize, Arc},
};

use jsonrpsee::types::ErrorObjectOwned;
use sp_blockchain::HeaderBackend;
use sp_core::H256;
use verinfer_executor::cache::InferenceCache;
use verinfer_runtime::opaque::Block;

/// The methods' implementation, over the client `C` with backend `B`.
pub struct Verinfer<C, B> {
	pub(super) client: Arc<C>,
	pub(super) cache: Arc<InferenceCache>,
	/// Dry runs being made for public callers.
	pub(super) public_dry_runs: Arc<AtomicUsize>,
	_backend: PhantomData<fn() -> B>,
}

impl<C, B> Clone for Verinfer<C, B> {
	fn clone(&self) -> Self {
		Verinfer {
			client: self.client.clone(),
			cache: self.cache.clone(),
			public_dry_runs: self.public_dry_runs.clone(),
			_backend: PhantomData,
		}
	}
}

impl<C, B> Verinfer<C, B> {
	pub fn new(client: Arc<C>, cache: Arc<InferenceCache>) -> Self {
		Verinfer { client, cache, public_dry_runs: Default::default(), _backend: PhantomData }
	}
}

impl<C: HeaderBackend<Block>, B> Verinfer<C, B> {
	/// The block `at` names, or the best block.
	pub(super) fn at(&self, at: Option<H256>) -> H256 {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}
}

/// An error with the code `code` (`verinfer_client::api::code`).
pub(super) fn error(code: i32, message: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.to_string(), None::<()>)
}

/// The runtime could not be called.
pub(super) fn runtime_error(failure: impl std::fmt::Display) -> ErrorObjectOwned {
	error(verinfer_client::api::code::RUNTIME, format!("runtime call failed: {failure}"))
}
