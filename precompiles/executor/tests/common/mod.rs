//! The fixtures and the engine, shared by the engine tests.

#![allow(dead_code)] // Each test binary uses a different part.

use std::sync::Arc;

use verinfer_executor::engine::Engine;
use verinfer_primitives::tensor::{DType, Tensor};

/// The engine blob, compiled once per test binary (compiling it takes seconds).
pub fn engine() -> Arc<Engine> {
	Engine::built_in().expect("the engine blob is built (not SKIP_WASM_BUILD) and compiles")
}

/// The elements of a float tensor as f64.
pub fn floats(tensor: &Tensor) -> Vec<f64> {
	match tensor.dtype {
		DType::F32 => tensor
			.data
			.chunks_exact(4)
			.map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
			.collect(),
		DType::F64 => {
			tensor.data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
		},
		other => panic!("not a float tensor: {other:?}"),
	}
}

/// Where `got` differs from `want` beyond `abs + rel·|want|`. NaN must meet NaN and infinities
/// their own sign; the sign of zero is not compared.
pub fn differences(got: &Tensor, want: &Tensor, abs: f64, rel: f64) -> Vec<(usize, String)> {
	if (got.dtype, &got.shape) != (want.dtype, &want.shape) {
		return vec![(
			0,
			format!("got {:?} {:?}, want {:?} {:?}", got.dtype, got.shape, want.dtype, want.shape),
		)];
	}
	floats(got)
		.iter()
		.zip(floats(want))
		.enumerate()
		.filter(|(_, (&g, w))| {
			if w.is_nan() || g.is_nan() {
				w.is_nan() != g.is_nan()
			} else if w.is_infinite() || g.is_infinite() {
				g != *w
			} else {
				(g - w).abs() > abs + rel * w.abs()
			}
		})
		.map(|(i, (g, w))| (i, format!("element {i}: got {g:e}, want {w:e}")))
		.collect()
}
