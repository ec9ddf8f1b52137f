//! SHA-256, as the node and the tools compute it: model ids, engine ids, and the check of bytes
//! read from state. (The runtime computes the same with its `sha2_256` host function.)

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
	Sha256::digest(bytes).into()
}
