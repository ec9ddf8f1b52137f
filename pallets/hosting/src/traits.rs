//! What the hosting pallet offers other pallets, and asks of a runtime's benchmarks.

use sp_runtime::{DispatchError, Perbill};

#[cfg(feature = "runtime-benchmarks")]
use pallet_models::ModelId;

use crate::SlashReason;

/// Slashes hosts: for pallets that detect misbehaviour (a wrong result, an unreachable
/// endpoint) and for governance, through the pallet's `slash` call.
pub trait SlashHosts<AccountId> {
	/// The currency's balance.
	type Balance;

	/// Takes `fraction` of `host`'s active stake and of each of its unlocking chunks and returns
	/// the amount taken. A host left with less than the minimum bond stops serving every model.
	/// Fails, changing nothing, when `host` is not bonded.
	fn slash(
		host: &AccountId,
		fraction: Perbill,
		reason: SlashReason,
	) -> Result<Self::Balance, DispatchError>;
}

/// Sets up what the benchmarks need from the rest of the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Makes `id` a model that [`pallet_models::ModelRegistry::is_active`] calls Active.
	fn activate_model(id: ModelId);
}
