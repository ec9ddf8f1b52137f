//! Whether a tensor is another within a tolerance, as numpy's `assert_allclose` decides: how
//! `verinfer model test` checks outputs against the references onnxruntime or ONNX's test data
//! give.

use std::{format, string::String, vec::Vec};

use verinfer_primitives::tensor::{DType, Tensor};

/// How far a float output may be from the expected one, as numpy's `assert_allclose`.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
	pub rtol: f64,
	pub atol: f64,
}

/// Whether `got` is `want` within `tolerance`: same dtype and shape; floats within the tolerance
/// (NaN where NaN is expected, infinities exact), everything else exact.
pub fn compare(got: &Tensor, want: &Tensor, tolerance: Tolerance) -> Result<(), String> {
	if got.dtype != want.dtype || got.shape != want.shape {
		return Err(format!(
			"got {} {:?}, expected {} {:?}",
			got.dtype.name(),
			got.shape,
			want.dtype.name(),
			want.shape
		));
	}
	let (Some(got_values), Some(want_values)) = (floats(got), floats(want)) else {
		return exactly(got, want);
	};
	let mut worst: Option<(usize, f64, f64)> = None;
	let mut differing = 0usize;
	for (index, (&g, &w)) in got_values.iter().zip(&want_values).enumerate() {
		let close = if w.is_nan() || g.is_nan() {
			w.is_nan() && g.is_nan()
		} else if w.is_infinite() || g.is_infinite() {
			g == w
		} else {
			(g - w).abs() <= tolerance.atol + tolerance.rtol * w.abs()
		};
		if !close {
			differing += 1;
			let excess = (g - w).abs();
			if worst.is_none_or(|(_, g0, w0)| !(excess <= (g0 - w0).abs())) {
				worst = Some((index, g, w));
			}
		}
	}
	match worst {
		None => Ok(()),
		Some((index, g, w)) => Err(format!(
			"{differing} of {} elements beyond tolerance; worst at {index}: got {g}, expected {w}",
			want_values.len()
		)),
	}
}

/// Whether two tensors of the same dtype and shape hold the same bytes; if not, how many elements
/// differ and by how much at most (integers and booleans).
fn exactly(got: &Tensor, want: &Tensor) -> Result<(), String> {
	if got.data == want.data {
		return Ok(());
	}
	let size = got.dtype.size();
	let mut differing = 0usize;
	let mut worst: Option<(usize, i128, i128)> = None;
	for (index, (g, w)) in got.data.chunks_exact(size).zip(want.data.chunks_exact(size)).enumerate()
	{
		if g == w {
			continue;
		}
		differing += 1;
		let (g, w) = (integer(got.dtype, g), integer(want.dtype, w));
		if worst.is_none_or(|(_, g0, w0)| (g - w).abs() > (g0 - w0).abs()) {
			worst = Some((index, g, w));
		}
	}
	let (index, g, w) = worst.unwrap_or_default();
	Err(format!(
		"{differing} of {} {} elements differ; most at {index}: got {g}, expected {w}",
		want.data.len() / size,
		want.dtype.name()
	))
}

/// An integer or boolean element's value from its little-endian bytes.
fn integer(dtype: DType, bytes: &[u8]) -> i128 {
	let mut buffer = [0u8; 16];
	buffer[..bytes.len()].copy_from_slice(bytes);
	let unsigned = u128::from_le_bytes(buffer);
	let bits = 8 * bytes.len() as u32;
	match dtype {
		DType::I8 | DType::I16 | DType::I32 | DType::I64 => {
			// Sign-extend from the element's width.
			((unsigned << (128 - bits)) as i128) >> (128 - bits)
		},
		_ => unsigned as i128,
	}
}

/// A float tensor's elements as f64; `None` for other dtypes.
fn floats(tensor: &Tensor) -> Option<Vec<f64>> {
	let data = &tensor.data;
	Some(match tensor.dtype {
		DType::F32 => data
			.chunks_exact(4)
			.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
			.collect(),
		DType::F64 => data
			.chunks_exact(8)
			.map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
			.collect(),
		DType::F16 => {
			data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f64()).collect()
		},
		_ => return None,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn f32s(shape: &[u32], values: &[f32]) -> Tensor {
		Tensor {
			dtype: DType::F32,
			shape: shape.to_vec(),
			data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
		}
	}

	const TOLERANCE: Tolerance = Tolerance { rtol: 1e-3, atol: 1e-7 };

	#[test]
	fn floats_compare_within_tolerance_nan_with_nan_and_infinities_exactly() {
		let want = f32s(&[4], &[1.0, f32::NAN, f32::INFINITY, -2.0]);
		assert_eq!(
			compare(&f32s(&[4], &[1.0005, f32::NAN, f32::INFINITY, -2.001]), &want, TOLERANCE),
			Ok(())
		);
		let far = compare(&f32s(&[4], &[1.01, f32::NAN, f32::INFINITY, -2.0]), &want, TOLERANCE);
		assert!(far.unwrap_err().contains("1 of 4 elements beyond tolerance; worst at 0"));
		assert!(compare(&f32s(&[4], &[1.0, 0.0, f32::INFINITY, -2.0]), &want, TOLERANCE).is_err());
		assert!(compare(&f32s(&[4], &[1.0, f32::NAN, f32::MAX, -2.0]), &want, TOLERANCE).is_err());
	}

	#[test]
	fn dtype_and_shape_must_match_and_integers_are_exact() {
		let want = f32s(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
		assert!(compare(&f32s(&[4], &[1.0, 2.0, 3.0, 4.0]), &want, TOLERANCE).is_err());
		let ints = |values: &[i64]| Tensor {
			dtype: DType::I64,
			shape: vec![values.len() as u32],
			data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
		};
		assert_eq!(compare(&ints(&[1, 2]), &ints(&[1, 2]), TOLERANCE), Ok(()));
		let error = compare(&ints(&[-4, 3, 9]), &ints(&[1, 2, 9]), TOLERANCE).unwrap_err();
		assert_eq!(error, "2 of 3 i64 elements differ; most at 0: got -4, expected 1");
	}
}
