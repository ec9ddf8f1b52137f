//! The inference runtime API: what the node's RPC asks the runtime about models, dry runs and
//! results, at any block.

use alloc::vec::Vec;
use codec::Codec;
use pallet_models::{ModelCost, ModelId};
use sp_runtime::traits::Block as BlockT;
use verinfer_primitives::{
	analysis::Analysis,
	inference::{RunRequest, StoredBytes},
	tensor::Tensor,
};

use crate::types::{CallInfo, DryRun, DryRunError, InferenceResult, ModelInfo, RequestId};

sp_api::decl_runtime_apis! {
	/// Models, dry-run inference and stored results.
	pub trait InferenceApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// One model, in any state.
		fn model(id: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>>;
		/// Every model, in any state, ordered by id.
		fn models() -> Vec<ModelInfo<AccountId, Balance, BlockNumber>>;
		/// Runs `model` on `inputs` as `infer` would, without changing state or charging anything.
		fn dry_run(model: ModelId, inputs: Vec<Tensor>) -> Result<DryRun<Balance>, DryRunError>;
		/// A stored result, while it is retained.
		fn result(request_id: RequestId) -> Option<InferenceResult<AccountId, Balance, BlockNumber>>;
		/// What one call of a model with this analysis, cost and size (bytes) would weigh, and
		/// whether the chain would admit it: for checking a model before registering it.
		fn call_info(analysis: Analysis, cost: ModelCost, size: u32) -> CallInfo;
		/// The engine blob in state, as the host functions read it.
		fn engine() -> Option<StoredBytes>;
		/// The host-function calls these extrinsics would make if applied in this state, in order,
		/// each with the account that signed it: signed `infer` calls that pass `infer`'s checks.
		/// The node makes them ahead of executing a block, or of including pooled transactions
		/// (a bounded number per signer).
		fn pre_execution(
			extrinsics: Vec<<Block as BlockT>::Extrinsic>,
		) -> Vec<(AccountId, RunRequest)>;
	}
}
