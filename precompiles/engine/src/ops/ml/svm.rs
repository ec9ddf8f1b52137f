//! `SVMClassifier` and `SVMRegressor`, as onnxruntime computes them (`svmclassifier.{h,cc}`,
//! `svmregressor.cc`, `ml_common.h`).
//!
//! A model is either libsvm's (support vectors, a kernel, one-vs-one decision functions) or
//! liblinear's (one row of coefficients per class, no support vectors). Everything is in f32 but
//! the classifier's pairwise decision sums, which onnxruntime accumulates in f64.
//!
//! onnxruntime computes the LINEAR, POLY and SIGMOID kernels, the liblinear scores and the
//! regressor's sum with MLAS's SGEMM, so [`gemm`] repeats the order of operations of MLAS's x86-64
//! kernels (FMA3, one thread), its special case for a single row included; the RBF kernel is
//! onnxruntime's plain loop. glibc's `expf`, which onnxruntime calls, is rounded correctly in
//! practically every case, so [`exp`] rounds an f64 exponential once. With these, the decision
//! values, votes, labels, Platt probabilities and their coupling, the two-class layouts and the
//! regressor's output are onnxruntime's bit for bit (checked against onnxruntime 1.32 on x86-64).
//! MLAS's tanh (SIGMOID), Eigen's `pow` (POLY of a degree other than 2 or 3) and the post
//! transforms over several scores ([`PostTransform`]; MLAS's LOGISTIC, and SOFTMAX over five or
//! more) agree within tolerance.

use tract_onnx::{model::ParsingContext, pb::NodeProto, tract_hir::internal::*};

use super::{
	classifier_facts, f32_rows, int_labels, matrix, numeric_rows, op,
	transform::{probit, PostTransform},
	Attributes, Kernel,
};

/// The kernel between a row `x` and a support vector `v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KernelType {
	/// `⟨x, v⟩`.
	Linear,
	/// `(γ⟨x, v⟩ + c₀)^degree`.
	Poly,
	/// `e^(−γ‖x − v‖²)`.
	Rbf,
	/// `tanh(γ⟨x, v⟩ + c₀)`.
	Sigmoid,
}

impl KernelType {
	/// The `kernel_type` attribute. onnxruntime reads any unknown name as SIGMOID; here it is an
	/// error.
	fn from_name(name: &str) -> TractResult<KernelType> {
		Ok(match name {
			"LINEAR" => KernelType::Linear,
			"POLY" => KernelType::Poly,
			"RBF" => KernelType::Rbf,
			"SIGMOID" => KernelType::Sigmoid,
			other => bail!("kernel_type {other:?} is none of LINEAR, POLY, RBF, SIGMOID"),
		})
	}
}

/// Support vectors and the kernel that compares them with the rows.
#[derive(Clone, Debug, PartialEq)]
struct Support {
	kernel: KernelType,
	gamma: f32,
	coef0: f32,
	degree: f32,
	/// `[count, features]`, row-major.
	vectors: Vec<f32>,
	count: usize,
	features: usize,
}

impl Support {
	/// `count` vectors from `support_vectors` and the kernel attributes; the vectors must have at
	/// least one feature each and fill whole rows.
	fn new(attributes: &Attributes, operator: &str, count: usize) -> TractResult<Support> {
		let kernel = KernelType::from_name(&attributes.string("kernel_type", "LINEAR"))?;
		let (gamma, coef0, degree) = kernel_params(attributes, operator)?;
		let vectors = attributes.floats("support_vectors");
		if count == 0 || vectors.is_empty() || vectors.len() % count != 0 {
			bail!(
				"{operator}: {} support_vectors values are not {count} vectors of one feature or \
				 more",
				vectors.len()
			);
		}
		let features = vectors.len() / count;
		Ok(Support { kernel, gamma, coef0, degree, vectors, count, features })
	}

	/// `k(x_r, v_s)` for every row `r` of `x` (`n × features`) and vector `s`: `n × count`,
	/// row-major.
	fn kernels(&self, x: &[f32], n: usize) -> Vec<f32> {
		let (features, count) = (self.features, self.count);
		match self.kernel {
			KernelType::Rbf => {
				// onnxruntime's own loop: the squared distance summed feature by feature.
				let mut out = Vec::with_capacity(n * count);
				for row in x.chunks(features) {
					for vector in self.vectors.chunks(features) {
						let mut sum = 0.0f32;
						for (x, v) in row.iter().zip(vector) {
							let d = x - v;
							sum += d * d;
						}
						out.push(exp(-self.gamma * sum));
					}
				}
				out
			},
			KernelType::Linear => gemm(x, n, &self.vectors, count, features, 1.0, None),
			KernelType::Poly | KernelType::Sigmoid => {
				// onnxruntime passes no bias (so no addition) when coef0 is zero.
				let bias = (self.coef0 != 0.0).then_some(self.coef0);
				let mut out = gemm(x, n, &self.vectors, count, features, self.gamma, bias);
				for value in &mut out {
					*value = match self.kernel {
						KernelType::Sigmoid => value.tanh(),
						_ if self.degree == 2.0 => *value * *value,
						_ if self.degree == 3.0 => *value * *value * *value,
						_ => f64::from(*value).powf(f64::from(self.degree)) as f32,
					};
				}
				out
			},
		}
	}
}

/// `kernel_params` (γ, c₀, degree): onnxruntime requires the attribute, reads zeros from an
/// empty one, and the first three values of a longer one.
fn kernel_params(attributes: &Attributes, operator: &str) -> TractResult<(f32, f32, f32)> {
	if !attributes.has("kernel_params") {
		bail!("{operator} has no kernel_params");
	}
	match attributes.floats("kernel_params")[..] {
		[] => Ok((0.0, 0.0, 0.0)),
		[gamma, coef0, degree, ..] => Ok((gamma, coef0, degree)),
		ref other => bail!(
			"{operator}: kernel_params has {} values, not the 3 (gamma, coef0, degree)",
			other.len()
		),
	}
}

/// `e^v`, rounded once to f32. onnxruntime calls glibc's `expf`, which is rounded correctly in
/// practically every case. The blob's f32 `exp` (FreeBSD's) differs from it by an ulp for about
/// one value in ten; this, for about 3 in 10⁴ (measured on 20 000 kernel values).
fn exp(v: f32) -> f32 {
	f64::from(v).exp() as f32
}

/// onnxruntime's `ComputeLogistic` (`1 / (1 + e^−|v|)`, mirrored for negative `v`), with
/// [`exp`].
fn logistic(v: f32) -> f32 {
	let u = 1.0 / (1.0 + exp(-v.abs()));
	if v < 0.0 {
		1.0 - u
	} else {
		u
	}
}

/// `alpha · A·Bᵀ (+ bias)` for `A` `[m, k]` and `B` `[n, k]`, row-major: `[m, n]`, as
/// onnxruntime's MLAS SGEMM computes it on x86-64 with FMA3 in one thread.
///
/// A single row with `alpha = 1` takes MLAS's `M = 1` kernel: eight lanes (`k mod 8`) summed
/// with separate multiplies and adds, reduced in the order of the group of 4, 2 or 1 columns
/// the column falls in, then the bias added. Otherwise each output is a chain of fused
/// multiply-adds over each block of `k` (MLAS's K stride), scaled by `alpha` and added to what
/// the previous block (or the bias) left, fused too. No bias is MLAS's zero mode: the first
/// block is only scaled.
fn gemm(
	a: &[f32],
	m: usize,
	b: &[f32],
	n: usize,
	k: usize,
	alpha: f32,
	bias: Option<f32>,
) -> Vec<f32> {
	if m == 1 && alpha == 1.0 {
		return gemm_one_row(a, b, n, k, bias);
	}
	let stride = stride_k(n, k);
	let mut out = Vec::with_capacity(m * n);
	for row in a.chunks(k.max(1)).take(m) {
		for column in b.chunks(k.max(1)).take(n) {
			let mut c = bias;
			for (row, column) in row.chunks(stride).zip(column.chunks(stride)) {
				let acc = row.iter().zip(column).fold(0.0f32, |acc, (a, b)| a.mul_add(*b, acc));
				c = Some(match c {
					Some(c) => acc.mul_add(alpha, c),
					None => acc * alpha,
				});
			}
			out.push(c.unwrap_or(0.0));
		}
	}
	out
}

/// MLAS's K stride for `n` columns and a depth of `k` (`MlasSgemmOperation`): from 128, halved
/// while it is at least twice `k` when `n ≥ k`, else doubled (up to 1024) while the N stride can
/// be halved above `n`.
fn stride_k(n: usize, k: usize) -> usize {
	let mut stride_k = 128usize;
	if n >= k {
		while stride_k / 2 >= k.max(1) {
			stride_k /= 2;
		}
	} else {
		let mut stride_n = 128usize;
		while stride_n > 16 && stride_n / 2 >= n {
			stride_k *= 2;
			stride_n /= 2;
		}
	}
	stride_k
}

/// MLAS's `M = 1` kernel with B transposed (`MlasSgemmKernelM1TransposeBAvx`): `a · b_jᵀ + bias`
/// for each of the `n` rows `b_j` of `b`.
fn gemm_one_row(a: &[f32], b: &[f32], n: usize, k: usize, bias: Option<f32>) -> Vec<f32> {
	let tail = k % 8;
	let lanes = |column: &[f32]| {
		let mut lanes = [0.0f32; 8];
		for (i, (a, b)) in a.iter().zip(column).enumerate() {
			lanes[i % 8] += a * b;
		}
		if tail != 0 {
			// The masked last load adds 0 · 0 to the lanes past the tail.
			lanes.iter_mut().skip(tail).for_each(|lane| *lane += 0.0);
		}
		lanes
	};
	// No bias is a masked-out C: 0 is added.
	let bias = bias.unwrap_or(0.0);
	let mut out = Vec::with_capacity(n);
	let mut columns = b.chunks(k.max(1)).take(n);
	let mut left = n;
	while left > 0 {
		let group = if left >= 4 {
			4
		} else if left >= 2 {
			2
		} else {
			1
		};
		for column in columns.by_ref().take(group) {
			let r = lanes(column);
			let sum = match group {
				4 => (((r[0] + r[1]) + r[2]) + r[3]) + (((r[4] + r[5]) + r[6]) + r[7]),
				2 => ((r[0] + r[2]) + (r[4] + r[6])) + ((r[1] + r[3]) + (r[5] + r[7])),
				_ => ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])),
			};
			out.push(sum + bias);
		}
		left -= group;
	}
	out
}

/// The first index of the largest value (`std::max_element`: a later value replaces the best
/// only when the best is less than it, so a NaN never wins unless it comes first).
fn first_max<T: PartialOrd>(values: &[T]) -> usize {
	let mut best = 0;
	for (i, value) in values.iter().enumerate() {
		if values.get(best).is_some_and(|best| best < value) {
			best = i;
		}
	}
	best
}

/// LIBSVM's pairwise coupling (Wu, Lin and Weng's second method) as onnxruntime writes it
/// (`multiclass_probability`, f32, at most 100 iterations): the class probabilities from the
/// pairwise ones, `r[i·k + j]` = P(i | i or j).
fn multiclass_probability(k: usize, r: &[f32]) -> Vec<f32> {
	let mut q = vec![0.0f32; k * k];
	let mut qp = vec![0.0f32; k];
	let mut p = vec![1.0 / k as f32; k];
	let eps = 0.005 / k as f32;
	for i in 0..k {
		for j in 0..i {
			q[i * k + i] += r[j * k + i] * r[j * k + i];
			q[i * k + j] = q[j * k + i];
		}
		for j in i + 1..k {
			q[i * k + i] += r[j * k + i] * r[j * k + i];
			q[i * k + j] = -r[j * k + i] * r[i * k + j];
		}
	}
	for _ in 0..100 {
		// Qp and pQp recomputed for accuracy, as LIBSVM does.
		let mut pqp = 0.0f32;
		for i in 0..k {
			qp[i] = 0.0;
			for j in 0..k {
				qp[i] += q[i * k + j] * p[j];
			}
			pqp += p[i] * qp[i];
		}
		let mut max_error = 0.0f32;
		for value in &qp {
			let error = (value - pqp).abs();
			if error > max_error {
				max_error = error;
			}
		}
		if max_error < eps {
			break;
		}
		for i in 0..k {
			let diff = (-qp[i] + pqp) / q[i * k + i];
			p[i] += diff;
			pqp = (pqp + diff * (diff * q[i * k + i] + 2.0 * qp[i])) / (1.0 + diff) / (1.0 + diff);
			for j in 0..k {
				qp[j] = (qp[j] + diff * q[i * k + j]) / (1.0 + diff);
				p[j] /= 1.0 + diff;
			}
		}
	}
	p
}

/// What a classifier computes from the rows.
#[derive(Clone, Debug, PartialEq)]
enum Model {
	/// Support vectors given (`vectors_per_class` sums to more than 0).
	Svc(Svc),
	/// No support vectors: onnxruntime's "liblinear mode".
	Linear(Liblinear),
}

/// A libsvm classifier: a decision function per pair of classes `i < j`, in the order (0, 1),
/// (0, 2), …, (1, 2), …, each voting for one of the two.
#[derive(Clone, Debug, PartialEq)]
struct Svc {
	support: Support,
	/// Each class's support vectors: (first, count).
	classes: Vec<(usize, usize)>,
	/// `[classes − 1, vectors]`: libsvm's dual coefficients, row `j − 1` for class `i`'s vectors
	/// and row `i` for class `j`'s in pair (i, j).
	coefficients: Vec<f32>,
	/// One per pair, added to its decision value.
	rho: Vec<f32>,
	/// Platt's (A, B) per pair, when the scores are probabilities.
	platt: Option<Vec<(f32, f32)>>,
}

/// A liblinear classifier: `scores = X · Wᵀ + rho[0]`, `W` `[classes, features]`.
#[derive(Clone, Debug, PartialEq)]
struct Liblinear {
	coefficients: Vec<f32>,
	rho: f32,
	/// Every coefficient is at least 0 (a rule of the two-class label).
	all_positive: bool,
	/// `prob_a` is given, which changes the two-class label rule.
	has_proba: bool,
}

/// `SVMClassifier`: `Y` int64 `[N]` (the labels) and `Z` f32 `[N, width]` (see
/// [`Classifier::width`]).
#[derive(Clone, Debug, PartialEq)]
struct Classifier {
	labels: Vec<i64>,
	model: Model,
	transform: PostTransform,
	features: usize,
}

/// Builds `SVMClassifier` from the node's attributes. Every length evaluation relies on is
/// checked here, so that evaluation cannot index out of bounds.
pub fn classifier(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let labels = int_labels(&attributes, "SVMClassifier")?;
	let k = labels.len();
	if k == 0 {
		bail!("SVMClassifier has no classlabels_ints");
	}
	// onnxruntime's limit.
	if k >= 65536 {
		bail!("SVMClassifier with {k} classes; onnxruntime takes at most 65535");
	}
	let transform = PostTransform::from_name(&attributes.string("post_transform", "NONE"))?;
	if !attributes.has("rho") {
		bail!("SVMClassifier has no rho");
	}
	let rho = attributes.floats("rho");
	let coefficients = attributes.floats("coefficients");
	if coefficients.is_empty() {
		bail!("SVMClassifier has no coefficients");
	}
	let prob_a = attributes.floats("prob_a");
	let prob_b = attributes.floats("prob_b");
	if prob_a.len() != prob_b.len() {
		bail!("SVMClassifier has {} prob_a and {} prob_b", prob_a.len(), prob_b.len());
	}
	let mut classes = Vec::new();
	let mut vectors = 0usize;
	for &count in &attributes.ints("vectors_per_class") {
		let count = usize::try_from(count)
			.map_err(|_| format_err!("SVMClassifier: vectors_per_class has {count}"))?;
		classes.push((vectors, count));
		vectors = vectors
			.checked_add(count)
			.ok_or_else(|| format_err!("SVMClassifier: vectors_per_class overflows"))?;
	}
	let (model, features) = if vectors > 0 {
		if classes.len() != k {
			bail!("SVMClassifier: vectors_per_class has {} classes, the labels {k}", classes.len());
		}
		if k < 2 {
			bail!("SVMClassifier: a support vector classifier needs two classes or more");
		}
		let support = Support::new(&attributes, "SVMClassifier", vectors)?;
		let pairs = k * (k - 1) / 2;
		let needed = (k - 1)
			.checked_mul(vectors)
			.ok_or_else(|| format_err!("SVMClassifier: too many support vectors"))?;
		if coefficients.len() < needed {
			bail!(
				"SVMClassifier: {} coefficients, fewer than (classes − 1) × vectors = {needed}",
				coefficients.len()
			);
		}
		if rho.len() < pairs {
			bail!("SVMClassifier: {} rho, fewer than the {pairs} pairs of classes", rho.len());
		}
		let platt = if prob_a.is_empty() {
			None
		} else if prob_a.len() < pairs {
			bail!(
				"SVMClassifier: {} prob_a, fewer than the {pairs} pairs of classes",
				prob_a.len()
			);
		} else {
			Some(prob_a.iter().copied().zip(prob_b.iter().copied()).take(pairs).collect())
		};
		let features = support.features;
		(Model::Svc(Svc { support, classes, coefficients, rho, platt }), features)
	} else {
		// liblinear: the kernel is LINEAR whatever the attributes say, but onnxruntime still
		// requires kernel_params.
		kernel_params(&attributes, "SVMClassifier")?;
		if coefficients.len() % k != 0 {
			bail!(
				"SVMClassifier: {} coefficients are not a whole number of rows for {k} classes",
				coefficients.len()
			);
		}
		let Some(&rho) = rho.first() else {
			bail!("SVMClassifier has an empty rho");
		};
		let all_positive = coefficients.iter().all(|&c| c >= 0.0);
		let features = coefficients.len() / k;
		let has_proba = !prob_a.is_empty();
		(Model::Linear(Liblinear { coefficients, rho, all_positive, has_proba }), features)
	};
	op(Classifier { labels, model, transform, features })
}

impl Classifier {
	/// Scores per row: one per class for probabilities and liblinear models, else one per pair
	/// of classes, and for two classes the pair's value in onnxruntime's two columns.
	fn width(&self) -> usize {
		let k = self.labels.len();
		match &self.model {
			Model::Svc(Svc { platt: None, .. }) if k > 2 => k * (k - 1) / 2,
			Model::Svc(Svc { platt: None, .. }) => 2,
			Model::Svc(_) | Model::Linear(_) => k,
		}
	}

	/// Two classes without probabilities: the decision value `s` in two columns, as this
	/// onnxruntime writes them (measured on 1.32: LOGISTIC is applied, SOFTMAX and
	/// SOFTMAX_ZERO are not, PROBIT fills only the first column and the second stays 0).
	fn binary_scores(&self, s: f32) -> [f32; 2] {
		match self.transform {
			PostTransform::None => [-s, s],
			PostTransform::Logistic => [logistic(-s), logistic(s)],
			PostTransform::Probit => [probit(s), 0.0],
			PostTransform::Softmax | PostTransform::SoftmaxZero => [1.0 - s, s],
		}
	}

	/// The post transform over one row's scores: onnxruntime applies only PROBIT to a single
	/// score.
	fn post_transform(&self, scores: &mut [f32]) {
		if scores.len() > 1 {
			self.transform.apply(scores);
		} else if self.transform == PostTransform::Probit {
			scores.iter_mut().for_each(|s| *s = probit(*s));
		}
	}

	/// Labels and scores of a libsvm model.
	fn svc(&self, svc: &Svc, x: &[f32], n: usize) -> (Vec<i64>, Vec<f32>) {
		let Svc { support, classes, coefficients, rho, platt } = svc;
		let k = self.labels.len();
		let vectors = support.count;
		let kernels = support.kernels(x, n);
		let mut labels = Vec::with_capacity(n);
		let mut scores = Vec::with_capacity(n * self.width());
		for kernels in kernels.chunks(vectors) {
			let mut votes = vec![0u64; k];
			let mut decisions = Vec::with_capacity(k * (k - 1) / 2);
			for i in 0..k {
				for j in i + 1..k {
					let (first_i, count_i) = classes[i];
					let (first_j, count_j) = classes[j];
					// Products in f32, summed in f64, as onnxruntime does.
					let mut sum = 0.0f64;
					let row_i = &coefficients[(j - 1) * vectors + first_i..][..count_i];
					for (c, kernel) in row_i.iter().zip(&kernels[first_i..first_i + count_i]) {
						sum += f64::from(c * kernel);
					}
					let row_j = &coefficients[i * vectors + first_j..][..count_j];
					for (c, kernel) in row_j.iter().zip(&kernels[first_j..first_j + count_j]) {
						sum += f64::from(c * kernel);
					}
					sum += f64::from(rho[decisions.len()]);
					decisions.push(sum as f32);
					votes[if sum > 0.0 { i } else { j }] += 1;
				}
			}
			labels.push(self.labels[first_max(&votes)]);
			match platt {
				Some(platt) => {
					let mut r = vec![0.0f32; k * k];
					let mut pair = 0;
					for i in 0..k {
						for j in i + 1..k {
							let (a, b) = platt[pair];
							// `sigmoid_probability`, clamped as std::max/min do (a NaN stays).
							let mut p = 1.0 - logistic(decisions[pair] * a + b);
							if p < 1.0e-7 {
								p = 1.0e-7;
							}
							if 1.0 - 1.0e-7 < p {
								p = 1.0 - 1.0e-7;
							}
							r[i * k + j] = p;
							r[j * k + i] = 1.0 - p;
							pair += 1;
						}
					}
					let mut probabilities = multiclass_probability(k, &r);
					self.post_transform(&mut probabilities);
					scores.extend(probabilities);
				},
				None if k > 2 => {
					self.post_transform(&mut decisions);
					scores.extend(decisions);
				},
				None => scores.extend(self.binary_scores(decisions[0])),
			}
		}
		(labels, scores)
	}

	/// Labels and scores of a liblinear model.
	fn linear(&self, linear: &Liblinear, x: &[f32], n: usize) -> (Vec<i64>, Vec<f32>) {
		let Liblinear { ref coefficients, rho, all_positive, has_proba } = *linear;
		let k = self.labels.len();
		let bias = (rho != 0.0).then_some(rho);
		let mut scores = gemm(x, n, coefficients, k, self.features, 1.0, bias);
		let mut labels = Vec::with_capacity(n);
		for row in scores.chunks_mut(k) {
			let best = first_max(row);
			let max = row[best];
			// onnxruntime's `ChooseClass` for two classes without probabilities.
			let positive = k == 2
				&& !has_proba
				&& ((all_positive && max >= 0.5) || (max > 0.0 && !all_positive));
			labels.push(if positive { self.labels[1] } else { self.labels[best] });
			self.post_transform(row);
		}
		(labels, scores)
	}
}

impl Kernel for Classifier {
	fn name(&self) -> &'static str {
		"SVMClassifier"
	}

	fn outputs(&self) -> usize {
		2
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (n, features) = numeric_rows(inputs)?;
		check_features(&features, self.features, "SVMClassifier")?;
		Ok(classifier_facts(n, self.width()))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let (n, width, x) = f32_rows(inputs[0])?;
		if width != self.features {
			bail!("SVMClassifier: X has {width} features, the model {}", self.features);
		}
		let (labels, scores) = match &self.model {
			Model::Svc(svc) => self.svc(svc, &x, n),
			Model::Linear(linear) => self.linear(linear, &x, n),
		};
		Ok(tvec!(tensor1(&labels), matrix(n, self.width(), scores)?))
	}
}

/// Refuses `X` whose width is known and is not the model's.
fn check_features(features: &TDim, expected: usize, operator: &str) -> TractResult<()> {
	match features.to_i64() {
		Ok(width) if width != expected as i64 => {
			bail!("{operator}: X has {width} features, the model {expected}")
		},
		_ => Ok(()),
	}
}

/// What a regressor computes from the rows.
#[derive(Clone, Debug, PartialEq)]
enum RegressorModel {
	/// `y = Σ_s coefficients[s] · k(x, v_s) + rho[0]`.
	Svr { support: Support, coefficients: Vec<f32> },
	/// `y = ⟨x, coefficients⟩ + rho[0]`.
	Linear { coefficients: Vec<f32> },
}

/// `SVMRegressor`: `Y` f32 `[N, 1]`. onnxruntime ignores `post_transform`, and so does this. It
/// takes only float inputs; here the other numeric types are converted as for the classifier.
#[derive(Clone, Debug, PartialEq)]
struct Regressor {
	model: RegressorModel,
	rho: f32,
	/// One-class SVM: the sign of `y`, as 1 or −1.
	one_class: bool,
	features: usize,
}

/// Builds `SVMRegressor` from the node's attributes, checked as [`classifier`]'s are.
pub fn regressor(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	if !attributes.has("n_supports") {
		bail!("SVMRegressor has no n_supports");
	}
	let count = attributes.int("n_supports", 0);
	let count =
		usize::try_from(count).map_err(|_| format_err!("SVMRegressor: n_supports is {count}"))?;
	let Some(&rho) = attributes.floats("rho").first() else {
		bail!("SVMRegressor has no rho");
	};
	let coefficients = attributes.floats("coefficients");
	if coefficients.is_empty() {
		bail!("SVMRegressor has no coefficients");
	}
	let one_class = attributes.int("one_class", 0) != 0;
	let (model, features) = if count > 0 {
		let support = Support::new(&attributes, "SVMRegressor", count)?;
		if coefficients.len() < count {
			bail!("SVMRegressor: {} coefficients for {count} support vectors", coefficients.len());
		}
		// onnxruntime reads the first n_supports coefficients.
		let coefficients = coefficients[..count].to_vec();
		let features = support.features;
		(RegressorModel::Svr { support, coefficients }, features)
	} else {
		kernel_params(&attributes, "SVMRegressor")?;
		let features = coefficients.len();
		(RegressorModel::Linear { coefficients }, features)
	};
	op(Regressor { model, rho, one_class, features })
}

impl Kernel for Regressor {
	fn name(&self) -> &'static str {
		"SVMRegressor"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (n, features) = numeric_rows(inputs)?;
		check_features(&features, self.features, "SVMRegressor")?;
		Ok(tvec!(f32::fact([n, 1.into()])))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let (n, width, x) = f32_rows(inputs[0])?;
		if width != self.features {
			bail!("SVMRegressor: X has {width} features, the model {}", self.features);
		}
		let mut y = match &self.model {
			RegressorModel::Svr { support, coefficients } => {
				// onnxruntime always passes rho as the GEMM's bias here.
				let kernels = support.kernels(&x, n);
				gemm(&kernels, n, coefficients, 1, support.count, 1.0, Some(self.rho))
			},
			RegressorModel::Linear { coefficients } => {
				let bias = (self.rho != 0.0).then_some(self.rho);
				gemm(&x, n, coefficients, 1, self.features, 1.0, bias)
			},
		};
		if self.one_class {
			y.iter_mut().for_each(|y| *y = if *y > 0.0 { 1.0 } else { -1.0 });
		}
		Ok(tvec!(matrix(n, 1, y)?))
	}
}
