//! # Verinfer primitives
//!
//! The types every layer of Verinfer shares, `no_std`: the engine blob (inside Wasm), the runtime
//! and its pallets, the node's host functions and the client tools all speak them, so each is
//! defined once, here, and depends on nothing of Verinfer.
//!
//! - [`tensor`]: the SCALE [`Tensor`] every input and output travels as: a dtype, a shape and
//!   little-endian row-major bytes.
//! - [`analysis`]: what the engine says about a model before running it, and the limits.
//! - [`engine`]: the engine's deterministic errors, the limits of a metered call and what it used,
//!   and the measured cost of a model.
//! - [`inference`]: what the inference host functions take and give back.
//! - [`probe`]: the inputs registration probes a model with.
//! - [`ModelId`], [`model_id`] and [`output_hash`]: how the chain names a model and commits to a
//!   call's outputs.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod analysis;
pub mod engine;
pub mod inference;
pub mod probe;
pub mod tensor;

use codec::Encode;

pub use inference::{DeclaredShape, DeclaredShapes};
pub use tensor::{DType, Tensor, TensorError};

/// A model's id: the SHA-256 of its ONNX bytes.
pub type ModelId = primitive_types::H256;

/// The id of the model `bytes`: their SHA-256, computed by `sha256` (as for [`output_hash`]).
/// Consensus: the registry keys models by it, and every validator's cache finds them by it.
pub fn model_id(bytes: &[u8], sha256: impl FnOnce(&[u8]) -> [u8; 32]) -> ModelId {
	ModelId::from(sha256(bytes))
}

/// The hash that commits to a call's outputs, stored with its result and compared by every
/// validator (consensus): the SHA-256 of the outputs' SCALE encoding, computed by `sha256` (the
/// runtime passes its host function, tools a SHA-256 crate) so that what is hashed is defined
/// here once.
pub fn output_hash(outputs: &[Tensor], sha256: impl FnOnce(&[u8]) -> [u8; 32]) -> [u8; 32] {
	sha256(&outputs.encode())
}

#[cfg(test)]
mod tests {
	use alloc::{vec, vec::Vec};

	use super::*;

	#[test]
	fn the_output_hash_is_over_the_outputs_encoded_as_a_scale_list() {
		let outputs = vec![
			Tensor::new(DType::U8, vec![2], vec![1, 2]).expect("valid"),
			Tensor::new(DType::I32, vec![], vec![7, 0, 0, 0]).expect("valid"),
		];
		let mut hashed = Vec::new();
		let hash = output_hash(&outputs, |bytes| {
			hashed = bytes.to_vec();
			[9; 32]
		});
		assert_eq!(hash, [9; 32]);
		// A compact length of 2, then each tensor: what a stored `Vec<Tensor>` encodes to.
		assert_eq!(hashed, [&[8u8][..], &outputs[0].encode(), &outputs[1].encode()].concat());
	}
}
