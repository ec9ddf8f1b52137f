//! `LinearClassifier` and `LinearRegressor`: `scores = X · Wᵀ + b`, as onnxruntime computes them
//! (`linearclassifier.cc`, `linearregressor.cc`): labels from the raw scores, and its rules for one
//! score column.
//!
//! Each score is the row's dot product with the coefficients, accumulated in f32 feature by
//! feature, plus the intercept. onnxruntime's GEMM sums in another order (and its LOGISTIC is an
//! approximation), so the scores agree within tolerance, and the labels, taken before any
//! transform, agree exactly but for near ties.

use tract_onnx::{model::ParsingContext, pb::NodeProto, tract_hir::internal::*};

use super::{
	classifier_facts, f32_rows, int_labels, matrix, numeric_rows, op,
	transform::{probit, PostTransform},
	Attributes, Kernel,
};

/// Coefficients `[targets, features]` and one intercept per target (or none).
#[derive(Clone, Debug, PartialEq)]
struct Linear {
	coefficients: Vec<f32>,
	intercepts: Vec<f32>,
	targets: usize,
	features: usize,
}

impl Linear {
	fn new(coefficients: Vec<f32>, intercepts: Vec<f32>, targets: usize) -> TractResult<Linear> {
		if targets == 0 || coefficients.is_empty() || coefficients.len() % targets != 0 {
			bail!(
				"{} coefficients are not a whole number of rows for {targets} targets",
				coefficients.len()
			);
		}
		let features = coefficients.len() / targets;
		Ok(Linear { coefficients, intercepts, targets, features })
	}

	/// The raw scores of every row of `x`: `n × targets`.
	fn scores(&self, x: &[f32], n: usize, width: usize) -> TractResult<Vec<f32>> {
		if width != self.features {
			bail!("X has {width} features, the coefficients {}", self.features);
		}
		let mut scores = Vec::with_capacity(n * self.targets);
		for row in x.chunks(width) {
			for (target, weights) in self.coefficients.chunks(width).enumerate() {
				let dot = row.iter().zip(weights).fold(0.0f32, |sum, (x, w)| sum + x * w);
				scores.push(dot + self.intercepts.get(target).copied().unwrap_or(0.0));
			}
		}
		Ok(scores)
	}
}

/// `LinearClassifier`: `Y` int64 `[N]` and `Z` f32 `[N, targets]` (`[N, 2]` for one target and
/// two labels).
#[derive(Clone, Debug, PartialEq)]
struct Classifier {
	linear: Linear,
	labels: Vec<i64>,
	transform: PostTransform,
}

pub fn classifier(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let labels = int_labels(&attributes, "LinearClassifier")?;
	let intercepts = attributes.floats("intercepts");
	let linear =
		Linear::new(attributes.floats("coefficients"), intercepts.clone(), intercepts.len())?;
	let transform = PostTransform::from_name(&attributes.string("post_transform", "NONE"))?;
	if linear.targets == 1 && labels.len() == 2 && transform == PostTransform::Probit {
		bail!("PROBIT over one score and two labels has no second column (onnxruntime leaves it unwritten)");
	}
	if linear.targets > 1 && labels.len() != linear.targets {
		bail!("{} labels for {} score columns", labels.len(), linear.targets);
	}
	op(Classifier { linear, labels, transform })
}

impl Classifier {
	/// Two columns from one score: onnxruntime's layout for one target and two labels.
	fn paired(&self) -> bool {
		self.linear.targets == 1 && self.labels.len() == 2
	}

	fn columns(&self) -> usize {
		if self.paired() {
			2
		} else {
			self.linear.targets
		}
	}
}

impl Kernel for Classifier {
	fn name(&self) -> &'static str {
		"LinearClassifier"
	}

	fn outputs(&self) -> usize {
		2
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (n, _) = numeric_rows(inputs)?;
		Ok(classifier_facts(n, self.columns()))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let (n, width, x) = f32_rows(inputs[0])?;
		let scores = self.linear.scores(&x, n, width)?;
		let targets = self.linear.targets;
		let mut labels = Vec::with_capacity(n);
		let mut z = Vec::with_capacity(n * self.columns());
		for row in scores.chunks(targets) {
			if targets == 1 {
				let s = row[0];
				labels.push(match self.labels[..] {
					[negative, positive] => {
						if s > 0.0 {
							positive
						} else {
							negative
						}
					},
					_ => i64::from(s > 0.0),
				});
				match (self.paired(), self.transform) {
					(true, _) => z.extend([1.0 - s, s]),
					(false, PostTransform::Probit) => z.push(probit(s)),
					(false, _) => z.push(s),
				}
				continue;
			}
			// The first largest raw score.
			let best =
				row.iter().enumerate().fold(None, |best: Option<(usize, f32)>, (class, &s)| {
					match best {
						Some((_, max)) if !(s > max) => best,
						_ => Some((class, s)),
					}
				});
			labels.push(self.labels[best.map_or(0, |(class, _)| class)]);
			let start = z.len();
			z.extend_from_slice(row);
			self.transform.apply(&mut z[start..]);
		}
		Ok(tvec!(Tensor::from_shape(&[n], &labels)?, matrix(n, self.columns(), z)?))
	}
}

/// `LinearRegressor`: `Y` f32 `[N, targets]`.
#[derive(Clone, Debug, PartialEq)]
struct Regressor {
	linear: Linear,
	transform: PostTransform,
}

pub fn regressor(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let targets = attributes.count("targets", 1)?;
	let mut intercepts = attributes.floats("intercepts");
	// onnxruntime uses the intercepts only when there is one per target.
	if intercepts.len() != targets {
		intercepts.clear();
	}
	let linear = Linear::new(attributes.floats("coefficients"), intercepts, targets)?;
	let transform = PostTransform::from_name(&attributes.string("post_transform", "NONE"))?;
	op(Regressor { linear, transform })
}

impl Kernel for Regressor {
	fn name(&self) -> &'static str {
		"LinearRegressor"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (n, _) = numeric_rows(inputs)?;
		Ok(tvec!(f32::fact([n, self.linear.targets.into()])))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let (n, width, x) = f32_rows(inputs[0])?;
		let mut y = self.linear.scores(&x, n, width)?;
		let targets = self.linear.targets;
		for row in y.chunks_mut(targets) {
			self.transform.apply_regression(row);
		}
		Ok(tvec!(matrix(n, targets, y)?))
	}
}
