//! `inference_dryRun` and `inference_result`.

use std::sync::atomic::{AtomicUsize, Ordering};

use jsonrpsee::{core::RpcResult, Extensions};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::H256;
use verinfer_client::api::{code, tensors, DryRun, InferenceApiServer, JsonTensor, StoredResult};
use verinfer_runtime::{opaque::Block, AccountId, Balance, BlockNumber};

use pallet_inference::runtime_api::InferenceApi as InferenceRuntimeApi;

use super::verinfer::{error, runtime_error, Verinfer};

/// Dry runs a public (safe-methods-only) RPC makes at once. Each is metered within its model's
/// call limits, at most an extrinsic's share of a block; this bounds what public callers, who pay
/// nothing, can take of the node at any moment: one core. A node's own (unsafe) RPC is unbounded.
pub const PUBLIC_DRY_RUNS: usize = 1;

/// A public dry run's place among [`PUBLIC_DRY_RUNS`], given back when dropped.
struct DryRunSlot<'a>(&'a AtomicUsize);

impl<'a> DryRunSlot<'a> {
	fn take(running: &'a AtomicUsize) -> Option<Self> {
		running
			.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
				(n < PUBLIC_DRY_RUNS).then_some(n + 1)
			})
			.ok()
			.map(|_| DryRunSlot(running))
	}
}

impl Drop for DryRunSlot<'_> {
	fn drop(&mut self) {
		self.0.fetch_sub(1, Ordering::AcqRel);
	}
}

impl<C, B> InferenceApiServer for Verinfer<C, B>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: InferenceRuntimeApi<Block, AccountId, Balance, BlockNumber>,
	B: Send + Sync + 'static,
{
	fn dry_run(
		&self,
		ext: &Extensions,
		model: H256,
		inputs: Vec<JsonTensor>,
		at: Option<H256>,
	) -> RpcResult<DryRun> {
		// A public caller waits for no one: a busy node says so at once.
		let _slot = match sc_rpc_api::check_if_safe(ext) {
			Ok(()) => None,
			Err(_) => Some(DryRunSlot::take(&self.public_dry_runs).ok_or_else(|| {
				error(
					code::BUSY,
					format!(
						"the node is making {PUBLIC_DRY_RUNS} dry run(s) for public callers, the \
						 most it makes at once; try again"
					),
				)
			})?),
		};
		let outcome = self
			.client
			.runtime_api()
			.dry_run(self.at(at), model, tensors(inputs))
			.map_err(runtime_error)?;
		match outcome {
			Ok(dry) => Ok(dry.into()),
			Err(pallet_inference::DryRunError::Refused(dispatch)) => Err(error(
				code::REFUSED,
				format!("refused: {}", verinfer_runtime::describe_error(dispatch)),
			)),
			Err(pallet_inference::DryRunError::Failed(failure)) => {
				Err(error(code::FAILED, format!("inference failed: {failure}")))
			},
		}
	}

	fn result(&self, request_id: u64, at: Option<H256>) -> RpcResult<Option<StoredResult>> {
		let result =
			self.client.runtime_api().result(self.at(at), request_id).map_err(runtime_error)?;
		Ok(result.map(|result| StoredResult::new(request_id, result)))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn public_dry_runs_are_bounded_and_a_finished_one_frees_its_place() {
		let running = AtomicUsize::new(0);
		let slots: Vec<_> = (0..PUBLIC_DRY_RUNS).map(|_| DryRunSlot::take(&running)).collect();
		assert!(slots.iter().all(Option::is_some));
		assert!(DryRunSlot::take(&running).is_none(), "one more than the bound");
		drop(slots);
		assert_eq!(running.load(Ordering::Acquire), 0);
		assert!(DryRunSlot::take(&running).is_some());
	}
}
