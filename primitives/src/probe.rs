//! The inputs a model is probed with when it is registered (part of the protocol: every validator
//! probes with the same bytes), and the deterministic generator they and the synthetic benchmark
//! models draw from.

use alloc::vec::Vec;

use crate::{
	analysis::TensorSpec,
	tensor::{DType, Tensor},
};

/// Deterministic pseudo-random numbers (Knuth's MMIX LCG): weights that are not trivial (no
/// zeros or ones a kernel could skip) without any entropy.
pub struct Lcg(u64);

impl Lcg {
	pub fn new(salt: u64) -> Lcg {
		Lcg(salt ^ 0x9e37_79b9_7f4a_7c15)
	}

	pub fn next(&mut self) -> u64 {
		self.0 =
			self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
		self.0
	}

	/// In [-1, 1), a multiple of 2^-23: exact in f32.
	pub fn next_f32(&mut self) -> f32 {
		(self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
	}

	/// `count` f32 values, little-endian.
	pub fn f32_bytes(&mut self, count: u64) -> Vec<u8> {
		(0..count).flat_map(|_| self.next_f32().to_le_bytes()).collect()
	}
}

/// Seed of the probe pattern.
const PROBE_SALT: u64 = 0x7072_6f62_65;

/// The inputs a model is run on when it is registered, to measure what a call uses: all zeros,
/// then a pattern (floats in [-1, 1) drawn from a fixed seed, integers and booleans 1).
///
/// Part of the protocol: every validator must probe with the same inputs, so a change here is a
/// new version of the `measure` host function.
pub fn probe_inputs(specs: &[TensorSpec]) -> [Vec<Tensor>; 2] {
	let zeros = specs
		.iter()
		.map(|spec| Tensor {
			dtype: spec.dtype,
			shape: spec.shape.clone(),
			data: alloc::vec![0; spec.byte_len() as usize],
		})
		.collect();
	let mut lcg = Lcg::new(PROBE_SALT);
	let pattern = specs
		.iter()
		.map(|spec| {
			let count = (spec.byte_len() / spec.dtype.size() as u64) as usize;
			let data = match spec.dtype {
				DType::F32 => lcg.f32_bytes(count as u64),
				DType::F64 => {
					(0..count).flat_map(|_| f64::from(lcg.next_f32()).to_le_bytes()).collect()
				},
				// 1.0 in binary16.
				DType::F16 => [0x00, 0x3c].repeat(count),
				// 1, little-endian.
				_ => {
					let mut one = alloc::vec![0u8; spec.dtype.size()];
					one[0] = 1;
					one.repeat(count)
				},
			};
			Tensor { dtype: spec.dtype, shape: spec.shape.clone(), data }
		})
		.collect();
	[zeros, pattern]
}
