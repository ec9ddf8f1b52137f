//! SHA-256, as the node and the tools compute it: model ids, engine ids, output hashes, and the
//! check of bytes read from state. (The runtime computes the same with its `sha2_256` host
//! function, through the same [`verinfer_primitives`] definitions.)

use std::string::String;

use sha2::{Digest, Sha256};
use verinfer_primitives::{tensor::Tensor, ModelId};

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
	Sha256::digest(bytes).into()
}

/// The id of the model `bytes` ([`verinfer_primitives::model_id`]).
pub fn model_id(bytes: &[u8]) -> ModelId {
	verinfer_primitives::model_id(bytes, sha256)
}

/// What the chain stores as the hash of a call's `outputs` ([`verinfer_primitives::output_hash`]).
pub fn outputs_hash(outputs: &[Tensor]) -> [u8; 32] {
	verinfer_primitives::output_hash(outputs, sha256)
}

/// `0x` and lower-case hex, as the chain's RPC prints hashes.
pub fn hex(bytes: &[u8]) -> String {
	let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
	format!("0x{digits}")
}
