//! The registry's data types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use scale_info::TypeInfo;
pub use verinfer_primitives::{
	engine::{ModelCost, DEFAULT_HEADROOM_PERCENT, MAX_HEADROOM_PERCENT},
	ModelId,
};

/// Longest model name: 64 bytes.
pub type MaxNameLen = ConstU32<64>;
/// Longest version string: 32 bytes (`MAJOR.MINOR.PATCH-pre+build`).
pub type MaxVersionLen = ConstU32<32>;
/// Longest description: 1 KiB.
pub type MaxDescriptionLen = ConstU32<1024>;
/// Most inputs whose shape a registration may declare: 16.
pub type MaxDeclaredInputs = ConstU32<16>;
/// Most dimensions of a declared shape: the engine's limit on rank.
pub type MaxDeclaredRank = ConstU32<{ verinfer_primitives::analysis::MAX_RANK }>;

/// The shape declared for one input, as the registry stores it: `None` keeps the model's own
/// (which must then be concrete).
pub type StoredShape = Option<BoundedVec<u32, MaxDeclaredRank>>;
/// The shapes declared for a model's inputs, in order, as the registry stores them (bounded); empty
/// keeps all of the model's own. The engine takes them as [`verinfer_primitives::DeclaredShapes`]
/// ([`crate::Pallet::declared_shapes`]).
pub type StoredShapes = BoundedVec<StoredShape, MaxDeclaredInputs>;

/// What the owner says about a model.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ModelMetadata {
	/// UTF-8.
	pub name: BoundedVec<u8, MaxNameLen>,
	/// A semantic version (`1.0.0`, `2.1.0-rc.1`).
	pub version: BoundedVec<u8, MaxVersionLen>,
	/// UTF-8.
	pub description: BoundedVec<u8, MaxDescriptionLen>,
}

/// Where a model is in its life.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum ModelStatus<BlockNumber> {
	/// Chunks are arriving; abandoned uploads are removed at `expires_at` and their deposit
	/// returned.
	Uploading { received: u32, expires_at: BlockNumber },
	/// Analysed and accepted: callable.
	Active,
	/// No new calls; existing results stay. The owner may remove it.
	Deprecated,
}

/// A model in the registry.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Model<AccountId, Balance, BlockNumber> {
	pub owner: AccountId,
	pub metadata: ModelMetadata,
	/// What each inference call pays the owner and the hosts.
	pub fee: Balance,
	/// Size of the ONNX file in bytes.
	pub size: u32,
	/// Chunks it is stored in.
	pub chunks: u32,
	/// Input shapes declared at registration; the engine loads the model with them.
	pub declared: StoredShapes,
	/// The fuel and memory growth a call may use, in per cent of what the model's costliest
	/// probe used at registration (see [`ModelCost`]).
	pub headroom_percent: u32,
	pub status: ModelStatus<BlockNumber>,
	/// Held from the owner while the model's bytes are in state.
	pub deposit: Balance,
	pub created_at: BlockNumber,
}

/// Whether `version` is a semantic version: `MAJOR.MINOR.PATCH`, numbers without leading zeros,
/// optionally `-prerelease` and `+build` of dot-separated `[0-9A-Za-z-]` identifiers.
pub fn is_semver(version: &[u8]) -> bool {
	let (version, build) = split_once(version, b'+');
	let (core, pre) = split_once(version, b'-');
	let identifiers_ok = |part: Option<&[u8]>| {
		part.is_none_or(|part| {
			part.split(|&b| b == b'.').all(|id| {
				!id.is_empty() && id.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
			})
		})
	};
	let numbers: alloc::vec::Vec<&[u8]> = core.split(|&b| b == b'.').collect();
	numbers.len() == 3
		&& numbers.iter().all(|n| {
			!n.is_empty() && n.iter().all(u8::is_ascii_digit) && (n.len() == 1 || n[0] != b'0')
		}) && identifiers_ok(pre)
		&& identifiers_ok(build)
}

fn split_once(bytes: &[u8], at: u8) -> (&[u8], Option<&[u8]>) {
	match bytes.iter().position(|&b| b == at) {
		Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
		None => (bytes, None),
	}
}

#[cfg(test)]
mod tests {
	use super::is_semver;

	#[test]
	fn semantic_versions_are_recognised() {
		for ok in ["1.0.0", "0.1.2", "10.20.30", "1.0.0-rc.1", "1.0.0-alpha-1+build.5", "2.0.0+x"] {
			assert!(is_semver(ok.as_bytes()), "{ok}");
		}
		for bad in ["1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0+", "v1.0.0", "1..0", "1.0.0-a..b"]
		{
			assert!(!is_semver(bad.as_bytes()), "{bad}");
		}
	}
}
