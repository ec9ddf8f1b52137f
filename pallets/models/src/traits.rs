//! What the registry offers the pallets built on it, and asks of them, without depending on them:
//! the hosting pallet asks whether a model is callable and pays its hosts; the inference pallet
//! reads the models it runs ([`ModelSource`]) and says whether a model's single call fits the
//! chain before the model is accepted. The other pallets name these traits in their `Config`,
//! never the registry's `Config` or storage.

use alloc::vec::Vec;
use frame_support::weights::Weight;
use sp_runtime::{traits::Zero, DispatchError};
use verinfer_primitives::{analysis::Analysis, inference::StoredBytes, DeclaredShapes};

use crate::{Model, ModelCost, ModelId};

/// Which models exist and may be called.
pub trait ModelRegistry {
	/// Whether `model` is Active: registered, accepted by the engine and not deprecated.
	fn is_active(model: &ModelId) -> bool;
}

/// What a pallet that runs models reads of them: a model's record, its analysis and measured
/// cost, and where a model's bytes are in state, as the inference host functions name them. The
/// engine it runs them with is [`pallet_engine::EngineSource`].
pub trait ModelSource<AccountId, Balance, BlockNumber>: ModelRegistry {
	/// The record of `model`, if registered.
	fn model(model: &ModelId) -> Option<Model<AccountId, Balance, BlockNumber>>;
	/// The engine's analysis of `model`, once the engine accepted it.
	fn analysis(model: &ModelId) -> Option<Analysis>;
	/// What registering `model` measured, once the engine accepted it.
	fn cost(model: &ModelId) -> Option<ModelCost>;
	/// Every registered model's id, in no particular order.
	fn ids() -> Vec<ModelId>;
	/// The bytes of `model` (whose record is `record`) and its declared input shapes: what a run
	/// loads.
	fn stored(
		model: &ModelId,
		record: &Model<AccountId, Balance, BlockNumber>,
	) -> (StoredBytes, DeclaredShapes);
}

/// Pays the hosts that serve a model their share of its calls' fees.
pub trait HostRewards<AccountId, Balance> {
	/// The most [`HostRewards::reward`] may weigh: paying the most hosts a model may have.
	fn reward_weight() -> Weight;

	/// Moves up to `amount` from `payer` to the hosts serving `model`, each its stake-weighted
	/// share, and returns what was moved: zero when no host serves the model, and the caller
	/// decides where the rest goes. Fails, moving nothing, when `payer` cannot pay.
	fn reward(
		model: &ModelId,
		payer: &AccountId,
		amount: Balance,
	) -> Result<Balance, DispatchError>;
}

/// No hosting: nothing is paid to hosts.
impl<AccountId, Balance: Zero> HostRewards<AccountId, Balance> for () {
	fn reward_weight() -> Weight {
		Weight::zero()
	}

	fn reward(_: &ModelId, _: &AccountId, _: Balance) -> Result<Balance, DispatchError> {
		Ok(Zero::zero())
	}
}

/// Decides, at `finalize`, whether the chain can serve calls of a model the engine accepted.
pub trait CallAdmission {
	/// `Err(reason)` when one call of the model described by `analysis` and `cost` (`size`
	/// bytes) cannot be executed within what one extrinsic may use, or stores more than a result
	/// may hold; the model is then refused like any model the engine refuses.
	fn admit(analysis: &Analysis, cost: &ModelCost, size: u32) -> Result<(), Vec<u8>>;
}

/// Admits every model the engine accepts.
impl CallAdmission for () {
	fn admit(_: &Analysis, _: &ModelCost, _: u32) -> Result<(), Vec<u8>> {
		Ok(())
	}
}
