//! The post transforms of the ML operators (`post_transform`), as onnxruntime computes them
//! (`ml_common.h`): in f32, with the blob's own `exp`, `ln` and `sqrt`.

use tract_onnx::tract_hir::internal::*;

/// What is applied to a row's scores before they are output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostTransform {
	None,
	Softmax,
	Logistic,
	SoftmaxZero,
	Probit,
}

impl PostTransform {
	/// From the string attribute of ml opsets 1–3. onnxruntime reads any other string as PROBIT;
	/// here it is an error.
	pub fn from_name(name: &str) -> TractResult<PostTransform> {
		Ok(match name {
			"NONE" => PostTransform::None,
			"SOFTMAX" => PostTransform::Softmax,
			"LOGISTIC" => PostTransform::Logistic,
			"SOFTMAX_ZERO" => PostTransform::SoftmaxZero,
			"PROBIT" => PostTransform::Probit,
			other => bail!(
				"post_transform {other:?} is none of NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT"
			),
		})
	}

	/// From the integer attribute of `TreeEnsemble` (ml opset 5).
	pub fn from_code(code: i64) -> TractResult<PostTransform> {
		Ok(match code {
			0 => PostTransform::None,
			1 => PostTransform::Softmax,
			2 => PostTransform::Logistic,
			3 => PostTransform::SoftmaxZero,
			4 => PostTransform::Probit,
			other => bail!("post_transform {other} is not 0 to 4"),
		})
	}

	/// Applies the transform to one row of a regression's scores, in place: over one target
	/// only PROBIT applies (onnxruntime's `FinalizeScores1`), over several as [`Self::apply`].
	pub fn apply_regression(self, row: &mut [f32]) {
		match (row.len(), self) {
			(1, PostTransform::Probit) => row[0] = probit(row[0]),
			(1, _) => {},
			_ => self.apply(row),
		}
	}

	/// Applies the transform to one row of several scores, in place (onnxruntime's
	/// `write_scores` for two or more values).
	pub fn apply(self, scores: &mut [f32]) {
		match self {
			PostTransform::None => {},
			PostTransform::Logistic => scores.iter_mut().for_each(|s| *s = logistic(*s)),
			PostTransform::Probit => scores.iter_mut().for_each(|s| *s = probit(*s)),
			PostTransform::Softmax => softmax(scores),
			PostTransform::SoftmaxZero => softmax_zero(scores),
		}
	}
}

/// onnxruntime's `ComputeLogistic`: `1 / (1 + e^-|v|)`, mirrored for negative `v`.
pub fn logistic(v: f32) -> f32 {
	let u = 1.0 / (1.0 + (-v.abs()).exp());
	if v < 0.0 {
		1.0 - u
	} else {
		u
	}
}

/// onnxruntime's `ComputeProbit`: `√2 · erfinv(2v − 1)`, with its approximation of erfinv.
pub fn probit(v: f32) -> f32 {
	core::f32::consts::SQRT_2 * erf_inv(2.0 * v - 1.0)
}

/// onnxruntime's `ErfInv`: Winitzki's approximation with a = 0.147.
fn erf_inv(x: f32) -> f32 {
	let sign = if x < 0.0 { -1.0f32 } else { 1.0 };
	let x = (1.0 - x) * (1.0 + x);
	let ln = x.ln();
	let v = 2.0 / (core::f32::consts::PI * 0.147) + 0.5 * ln;
	let v2 = 1.0 / 0.147 * ln;
	let v3 = -v + (v * v - v2).sqrt();
	sign * v3.sqrt()
}

/// The row's maximum, from the lowest finite float (onnxruntime's start).
fn max(scores: &[f32]) -> f32 {
	scores.iter().fold(f32::MIN, |max, &s| if s > max { s } else { max })
}

fn softmax(scores: &mut [f32]) {
	let max = max(scores);
	let mut sum = 0.0f32;
	for s in scores.iter_mut() {
		*s = (*s - max).exp();
		sum += *s;
	}
	scores.iter_mut().for_each(|s| *s /= sum);
}

/// Softmax over the scores that are not zero (|v| > 1e-7); the others stay about zero.
fn softmax_zero(scores: &mut [f32]) {
	let max = max(scores);
	let k = (-max).exp();
	let mut sum = 0.0f32;
	for s in scores.iter_mut() {
		if *s > 1e-7 || *s < -1e-7 {
			*s = (*s - max).exp();
			sum += *s;
		} else {
			*s *= k;
		}
	}
	scores.iter_mut().for_each(|s| *s /= sum);
}
