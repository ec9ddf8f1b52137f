//! The hosting pallet's data types.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::ConstU32, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_models::ModelId;
use scale_info::TypeInfo;
use sp_runtime::traits::{Saturating, Zero};

use crate::{BalanceOf, Config};

/// Longest endpoint: 256 bytes. An endpoint is a URL clients reach the host at
/// (`https://host.example:9944`); real ones are far shorter, and the bound is paid in the
/// `MaxEncodedLen` of every host record, so in the proof of every block that reads one.
pub type MaxEndpointLen = ConstU32<256>;
/// Longest host name: 64 bytes, a display name, as long as a model's name may be.
pub type MaxHostNameLen = ConstU32<64>;
/// Longest slash reason: 256 bytes, enough for a sentence or a reference to the evidence (a
/// referendum, a hash); the evidence itself belongs elsewhere.
pub type MaxSlashReasonLen = ConstU32<256>;

/// Why a host was slashed, in UTF-8 (not checked: it is governance's text).
pub type SlashReason = BoundedVec<u8, MaxSlashReasonLen>;

/// What a host says about itself.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct HostMetadata {
	/// Where clients reach the host; UTF-8.
	pub endpoint: BoundedVec<u8, MaxEndpointLen>,
	/// A display name; UTF-8.
	pub name: BoundedVec<u8, MaxHostNameLen>,
}

/// Stake on its way out of the bond: still held, and still slashable, until block `at`.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct UnlockChunk<Balance, BlockNumber> {
	pub amount: Balance,
	/// The first block at which `withdraw_unbonded` releases it.
	pub at: BlockNumber,
}

/// A host as stored. Everything in `active` and `unlocking` is held from the host's account
/// under [`crate::HoldReason::Bonded`], and nothing else is.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Host<T: Config> {
	/// The stake that backs serving and earns rewards.
	pub active: BalanceOf<T>,
	/// Unbonded stake waiting out the unbonding period, in the order it was unbonded.
	pub unlocking: BoundedVec<UnlockChunk<BalanceOf<T>, BlockNumberFor<T>>, T::MaxUnlockingChunks>,
	pub metadata: HostMetadata,
	/// The models the host serves, in the order it started serving them.
	pub models: BoundedVec<ModelId, T::MaxModelsPerHost>,
}

impl<T: Config> Host<T> {
	/// A host that has just bonded `active`.
	pub fn new(active: BalanceOf<T>) -> Self {
		Self {
			active,
			unlocking: Default::default(),
			metadata: Default::default(),
			models: Default::default(),
		}
	}

	/// The sum of the unlocking chunks.
	pub fn unlocking_total(&self) -> BalanceOf<T> {
		self.unlocking
			.iter()
			.fold(Zero::zero(), |total: BalanceOf<T>, chunk| total.saturating_add(chunk.amount))
	}

	/// Everything held for the host: active and unlocking.
	pub fn total(&self) -> BalanceOf<T> {
		self.active.saturating_add(self.unlocking_total())
	}
}

/// A host as the runtime API shows it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct HostInfo<AccountId, Balance> {
	pub account: AccountId,
	/// The stake that backs serving and earns rewards.
	pub active: Balance,
	/// The sum of the stake still held while it unbonds.
	pub unlocking: Balance,
	pub metadata: HostMetadata,
	/// The models the host serves, in the order it started serving them.
	pub models: Vec<ModelId>,
}
