//! The inference pallet's data types: stored results, and what its runtime API answers.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::weights::Weight;
use pallet_models::{Model, ModelCost, ModelId};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::DispatchError;
use verinfer_primitives::{
	analysis::Analysis, engine::Usage, inference::InferenceError, tensor::Tensor,
};

/// Numbers inference requests in the order they were executed, from 0.
pub type RequestId = u64;

/// An inference's output, kept for [`crate::Config::ResultRetention`] blocks.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct InferenceResult<AccountId, Balance, BlockNumber> {
	pub model: ModelId,
	pub caller: AccountId,
	/// The block it was executed in.
	pub at: BlockNumber,
	/// What the caller paid the model's owner and hosts.
	pub fee: Balance,
	/// What the caller holds while the result is in state ([`crate::HoldReason::ResultStorage`]),
	/// released when it is pruned.
	pub deposit: Balance,
	/// SHA-256 of the SCALE-encoded `outputs`: what `verinfer model run` prints for the same model
	/// and inputs.
	pub output_hash: H256,
	pub outputs: Vec<Tensor>,
}

/// A model as the runtime API describes it: the registry's record, the engine's analysis, and
/// what one call weighs.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct ModelInfo<AccountId, Balance, BlockNumber> {
	pub id: ModelId,
	pub model: Model<AccountId, Balance, BlockNumber>,
	/// Present once the model is accepted (Active or Deprecated).
	pub analysis: Option<Analysis>,
	/// What the engine measured at registration and what a call may use; present with the
	/// analysis.
	pub cost: Option<ModelCost>,
	/// The weight `infer` is charged up front for this model: running it and loading it.
	pub call_weight: Option<Weight>,
}

/// What a dry run found: the outputs a call would store, and what the call would cost.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct DryRun<Balance> {
	pub outputs: Vec<Tensor>,
	pub output_hash: H256,
	/// The weight `infer` is charged up front.
	pub weight: Weight,
	/// What the engine used on these inputs.
	pub usage: Usage,
	/// The weight `infer` would be left charged after its refund (loading aside).
	pub used: Weight,
	/// The model's per-call fee, paid besides the transaction fee.
	pub fee: Balance,
	/// What the result would hold from the caller until it is pruned.
	pub deposit: Balance,
}

/// What one call of a model weighs and whether the chain admits it, as `finalize` decides.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct CallInfo {
	/// `Err(reason)` when the chain would refuse the model although the engine accepts it.
	pub admitted: Result<(), Vec<u8>>,
	/// Running the loaded model at the most a call may use, storing the result, paying the fee.
	pub run: Weight,
	/// Loading the model, charged to its first call in a block.
	pub load: Weight,
	/// What a call that uses what the costliest probe used weighs after its refund.
	pub used: Weight,
	/// Calls of the model on inputs like the probes' that fit in one block.
	pub calls_per_block: u64,
}

/// Why a dry run produced no output.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum DryRunError {
	/// `infer` would be refused before running anything (unknown or inactive model, inputs that
	/// do not match its specs): the pallet's error.
	Refused(DispatchError),
	/// The engine ran and failed: its full error, which `infer` reports only as
	/// `InferenceFailed` or `EngineMemoryExceeded`.
	Failed(InferenceError),
}
