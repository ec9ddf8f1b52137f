//! The hosting runtime API: what the node's RPC asks the runtime about hosts, at any block.

use alloc::vec::Vec;
use codec::Codec;
use pallet_models::ModelId;

use crate::types::HostInfo;

sp_api::decl_runtime_apis! {
	/// The hosts of a model, and a host's stake, metadata and models.
	pub trait HostingApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// The hosts serving `model`, ordered by account id; empty when none does.
		fn hosts(model: ModelId) -> Vec<HostInfo<AccountId, Balance>>;
		/// One host, while it has anything bonded or unlocking.
		fn host(account: AccountId) -> Option<HostInfo<AccountId, Balance>>;
		/// Every host, ordered by account id.
		fn all() -> Vec<HostInfo<AccountId, Balance>>;
	}
}
