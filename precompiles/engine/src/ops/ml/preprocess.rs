//! The preprocessing operators of `ai.onnx.ml`: Normalizer, Scaler, Binarizer, Imputer,
//! ArrayFeatureExtractor, OneHotEncoder and LabelEncoder, computed as onnxruntime's CPU kernels
//! compute them (`normalizer.cc`, `scaler.cc`, … in `onnxruntime/core/providers/cpu/ml/`): the
//! same types for each intermediate value, the same order of operations, the same errors where
//! onnxruntime refuses an input.
//!
//! Numbers only: the chain's tensors carry no strings, so a model whose categories, keys or values
//! are strings is refused when it is loaded, with a message that says so. Everything else an
//! attribute could make impossible (lists of the wrong length, no categories) is refused there
//! too, so that evaluation only meets the errors that depend on the input.

use std::collections::BTreeMap;

use tract_onnx::{model::ParsingContext, pb::NodeProto, tract_hir::internal::*};

use super::{ml_opset, numeric, op, rows, values, Attributes, Kernel};

/// The `i`-th input (the framework checks the arity; this keeps a miscount an error, not a
/// panic).
fn input<T>(inputs: &[T], i: usize) -> TractResult<&T> {
	inputs.get(i).with_context(|| format!("input {i} is missing"))
}

/// The width onnxruntime's element-wise kernels cycle their per-feature lists over: `dims[1]`, or
/// `dims[0]` for a vector (whatever the rank beyond 2, as onnxruntime does). A scalar has none.
fn feature_count<D: Clone>(shape: &[D]) -> TractResult<D> {
	match shape {
		[] => bail!("the input is a scalar; it needs at least one dimension"),
		[features] | [_, features, ..] => Ok(features.clone()),
	}
}

/// `X`'s fact as this operator's one output: same shape, type `dt`.
fn same_shape(dt: DatumType, shape: &[TDim]) -> TVec<TypedFact> {
	tvec![TypedFact::dt_shape(dt, shape.iter().cloned())]
}

// ---------------------------------------------------------------------------------------------
// Normalizer

/// Builds a `Normalizer`: each row of `X` divided by its maximum, L1 or L2 norm.
pub fn normalizer(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let norm = match attributes.string("norm", "MAX").as_str() {
		"MAX" => Norm::Max,
		"L1" => Norm::L1,
		"L2" => Norm::L2,
		other => bail!("Normalizer norm {other:?} is none of MAX, L1, L2"),
	};
	op(Normalizer { norm })
}

/// What a row is divided by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Norm {
	/// The row's largest element, signed (onnxruntime's `NormalizeMax`; not the largest
	/// magnitude, which is what sklearn's `Normalizer('max')` and tract divide by).
	Max,
	/// The sum of the magnitudes.
	L1,
	/// The square root of the sum of squares, applied as `±√(x² / Σx²)`.
	L2,
}

/// Normalizer: rows of `X` (`[N, F]`, or `[F]` as one row; onnxruntime refuses other ranks),
/// float output of the same shape.
#[derive(Clone, Debug, PartialEq)]
struct Normalizer {
	norm: Norm,
}

/// One element of `X` as the normaliser's formulas take it: each part computed in `X`'s own type
/// and only then made a float, as onnxruntime's templates do (a double's square is rounded once,
/// from the double product; an integer's square wraps as the C++ product does in practice).
struct Element {
	value: f32,
	magnitude: f32,
	square: f32,
	negative: bool,
}

impl Element {
	/// `X`'s elements, row-major.
	fn all(x: &Tensor) -> TractResult<Vec<Element>> {
		Ok(match x.datum_type() {
			DatumType::F32 => values::<f32>(x)?
				.into_iter()
				.map(|v| Element { value: v, magnitude: v.abs(), square: v * v, negative: v < 0.0 })
				.collect(),
			DatumType::F64 => values::<f64>(x)?
				.into_iter()
				.map(|v| Element {
					value: v as f32,
					magnitude: v.abs() as f32,
					square: (v * v) as f32,
					negative: v < 0.0,
				})
				.collect(),
			DatumType::I32 => values::<i32>(x)?
				.into_iter()
				.map(|v| Element {
					value: v as f32,
					magnitude: v.wrapping_abs() as f32,
					square: v.wrapping_mul(v) as f32,
					negative: v < 0,
				})
				.collect(),
			DatumType::I64 => values::<i64>(x)?
				.into_iter()
				.map(|v| Element {
					value: v as f32,
					magnitude: v.wrapping_abs() as f32,
					square: v.wrapping_mul(v) as f32,
					negative: v < 0,
				})
				.collect(),
			other => bail!("Normalizer does not take {other:?} input"),
		})
	}
}

impl Norm {
	/// Appends one normalised row to `out`. A row whose norm is zero is copied unchanged.
	fn normalize(self, row: &[Element], out: &mut Vec<f32>) {
		match self {
			Norm::Max => {
				// `std::max(max, v)` keeps `max` unless `max < v`: a NaN is passed over.
				let max =
					row.iter().fold(f32::MIN, |max, e| if max < e.value { e.value } else { max });
				divide(row, max, out);
			},
			Norm::L1 => divide(row, row.iter().fold(0.0f32, |sum, e| sum + e.magnitude), out),
			Norm::L2 => {
				let sum = row.iter().fold(0.0f32, |sum, e| sum + e.square);
				if sum != 0.0 {
					out.extend(row.iter().map(|e| {
						let root = (e.square / sum).sqrt();
						if e.negative {
							-root
						} else {
							root
						}
					}));
				} else {
					out.extend(row.iter().map(|e| e.value));
				}
			},
		}
	}
}

/// Appends `row / by` to `out`, or `row` itself when `by` is zero.
fn divide(row: &[Element], by: f32, out: &mut Vec<f32>) {
	if by != 0.0 {
		out.extend(row.iter().map(|e| e.value / by));
	} else {
		out.extend(row.iter().map(|e| e.value));
	}
}

impl Kernel for Normalizer {
	fn name(&self) -> &'static str {
		"Normalizer"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (dt, shape) = input(inputs, 0)?;
		numeric(*dt)?;
		rows(shape)?;
		Ok(same_shape(DatumType::F32, shape))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = *input(inputs, 0)?;
		let width = match x.shape() {
			[features] | [_, features] => *features,
			shape => bail!("Normalizer input must be [N, F] or [F], got {shape:?}"),
		};
		let elements = Element::all(x)?;
		let mut out = Vec::with_capacity(elements.len());
		// `max(1)`: with no features there is no element, and `chunks` takes no 0.
		for row in elements.chunks(width.max(1)) {
			self.norm.normalize(row, &mut out);
		}
		Ok(tvec![Tensor::from_shape(x.shape(), &out)?])
	}
}

// ---------------------------------------------------------------------------------------------
// Scaler

/// Builds a `Scaler`: `(x - offset) * scale`, one value for all features or one per feature.
pub fn scaler(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let scale = attributes.floats("scale");
	let offset = attributes.floats("offset");
	if scale.is_empty() {
		bail!("Scaler has no scale");
	}
	if scale.len() != offset.len() {
		bail!("Scaler has {} scales but {} offsets; they go in pairs", scale.len(), offset.len());
	}
	op(Scaler { offset, scale })
}

/// Scaler: `y = (x - offset) * scale`, in f32 for float and integer inputs (an integer is made a
/// float first, as C++ mixes `int64 - float`), in f64 for double inputs (the attributes widened),
/// float output of `X`'s shape. The lists hold one value, or one per feature (`dims[1]`), cycled
/// over the flat elements as onnxruntime does.
#[derive(Clone, Debug, PartialEq)]
struct Scaler {
	offset: Vec<f32>,
	scale: Vec<f32>,
}

impl Scaler {
	/// Whether the lists fit `features`: onnxruntime takes one per feature, or one for all.
	fn fits(&self, features: usize) -> bool {
		self.offset.len() == features || self.offset.len() == 1
	}
}

impl Kernel for Scaler {
	fn name(&self) -> &'static str {
		"Scaler"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (dt, shape) = input(inputs, 0)?;
		numeric(*dt)?;
		let features = feature_count(shape)?;
		if let Ok(features) = features.to_usize() {
			if !self.fits(features) {
				bail!(
					"Scaler has {} scales and offsets for {features} features; it needs 1 or \
					 {features}",
					self.offset.len()
				);
			}
		}
		Ok(same_shape(DatumType::F32, shape))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = *input(inputs, 0)?;
		let features = feature_count(x.shape())?;
		if !self.fits(features) {
			bail!(
				"Scaler has {} scales and offsets for {features} features; it needs 1 or \
				 {features}",
				self.offset.len()
			);
		}
		// Both lists have one value, or one per feature: cycling them gives element `i` the
		// value `i % len`, onnxruntime's index in both cases.
		let pairs = self.offset.iter().zip(&self.scale).cycle();
		let out: Vec<f32> = match x.datum_type() {
			DatumType::F64 => values::<f64>(x)?
				.into_iter()
				.zip(pairs)
				.map(|(v, (&offset, &scale))| ((v - offset as f64) * scale as f64) as f32)
				.collect(),
			dt => {
				numeric(dt)?;
				values::<f32>(x)?
					.into_iter()
					.zip(pairs)
					.map(|(v, (&offset, &scale))| (v - offset) * scale)
					.collect()
			},
		};
		Ok(tvec![Tensor::from_shape(x.shape(), &out)?])
	}
}

// ---------------------------------------------------------------------------------------------
// Binarizer

/// Builds a `Binarizer`: 1 where `x > threshold`, else 0.
pub fn binarizer(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	// 0 is the schema's default, which onnxruntime fills in before its kernel's own (1) is read.
	let threshold = Attributes::of(ctx, node).float("threshold", 0.0);
	op(Binarizer { threshold })
}

/// Binarizer, on float tensors only (onnxruntime has no kernel for the other types the
/// specification lists); a NaN element is an error, as in onnxruntime.
#[derive(Clone, Debug, PartialEq)]
struct Binarizer {
	threshold: f32,
}

impl Kernel for Binarizer {
	fn name(&self) -> &'static str {
		"Binarizer"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (dt, shape) = input(inputs, 0)?;
		if *dt != DatumType::F32 {
			bail!("Binarizer takes float input only (onnxruntime has no kernel for {dt:?})");
		}
		Ok(same_shape(DatumType::F32, shape))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = *input(inputs, 0)?;
		let mut out = Vec::with_capacity(x.len());
		for (i, v) in values::<f32>(x)?.into_iter().enumerate() {
			if v.is_nan() {
				bail!("Binarizer input element {i} is NaN");
			}
			out.push(if v > self.threshold { 1.0f32 } else { 0.0 });
		}
		Ok(tvec![Tensor::from_shape(x.shape(), &out)?])
	}
}

// ---------------------------------------------------------------------------------------------
// Imputer

/// Builds an `Imputer`: elements equal to the replaced value become the imputed value.
pub fn imputer(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let floats = attributes.floats("imputed_value_floats");
	let ints = attributes.ints("imputed_value_int64s");
	// The replaced values' defaults (0) are the schema's, filled in by onnxruntime.
	let imputer = match (floats.is_empty(), ints.is_empty()) {
		(false, true) => Imputer::Floats {
			imputed: floats,
			replaced: attributes.float("replaced_value_float", 0.0),
		},
		(true, false) => {
			Imputer::Ints { imputed: ints, replaced: attributes.int("replaced_value_int64", 0) }
		},
		_ => bail!("Imputer needs exactly one of imputed_value_floats and imputed_value_int64s"),
	};
	op(imputer)
}

/// Imputer, on float tensors (with float values) or int64 tensors (with integer values), the two
/// onnxruntime has kernels for. The imputed list is one value per feature when it has exactly
/// `dims[1]` values (cycled over the flat elements), and otherwise only its first value is used,
/// whatever its length, as onnxruntime does.
#[derive(Clone, Debug, PartialEq)]
enum Imputer {
	/// Elements equal to `replaced`, or every NaN when `replaced` is NaN.
	Floats { imputed: Vec<f32>, replaced: f32 },
	/// Elements equal to `replaced`.
	Ints { imputed: Vec<i64>, replaced: i64 },
}

impl Imputer {
	/// The input type its values are for.
	fn datum_type(&self) -> DatumType {
		match self {
			Imputer::Floats { .. } => DatumType::F32,
			Imputer::Ints { .. } => DatumType::I64,
		}
	}
}

/// `x` with each element for which `replace` holds changed to its imputed value.
fn impute<T: Datum + Copy>(
	x: &Tensor,
	imputed: &[T],
	replace: impl Fn(T) -> bool,
) -> TractResult<Tensor> {
	let features = feature_count(x.shape())?;
	let imputed = if imputed.len() == features {
		imputed
	} else {
		imputed.get(..1).context("Imputer has no imputed value")?
	};
	let out: Vec<T> = values::<T>(x)?
		.into_iter()
		.zip(imputed.iter().cycle())
		.map(|(v, &new)| if replace(v) { new } else { v })
		.collect();
	Tensor::from_shape(x.shape(), &out)
}

impl Kernel for Imputer {
	fn name(&self) -> &'static str {
		"Imputer"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (dt, shape) = input(inputs, 0)?;
		if *dt != self.datum_type() {
			bail!(
				"Imputer with {} values takes {:?} input, not {dt:?}",
				match self {
					Imputer::Floats { .. } => "float",
					Imputer::Ints { .. } => "int64",
				},
				self.datum_type()
			);
		}
		feature_count(shape)?;
		Ok(same_shape(*dt, shape))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = *input(inputs, 0)?;
		let y = match self {
			Imputer::Floats { imputed, replaced } => {
				let replaced = *replaced;
				impute(x, imputed, |v: f32| (v.is_nan() && replaced.is_nan()) || v == replaced)?
			},
			Imputer::Ints { imputed, replaced } => {
				let replaced = *replaced;
				impute(x, imputed, |v: i64| v == replaced)?
			},
		};
		Ok(tvec![y])
	}
}

// ---------------------------------------------------------------------------------------------
// ArrayFeatureExtractor

/// Builds an `ArrayFeatureExtractor`: the last axis of `X` at the indices `Y`.
pub fn array_feature_extractor(
	_ctx: &ParsingContext,
	_node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	op(ArrayFeatureExtractor)
}

/// ArrayFeatureExtractor: `z[..., j] = x[..., y[j]]` for the int64 indices `Y` (any shape, read
/// flat; at least one). The output is `X`'s shape with the last axis as long as `Y`, except that
/// a vector `X` gives `[1, len(Y)]` (onnxruntime's compatibility rule). An index out of
/// `[0, F)` is an error (onnxruntime checks the upper bound and reads out of bounds below).
#[derive(Clone, Debug, PartialEq)]
struct ArrayFeatureExtractor;

/// `X`'s rows (all axes but the last) at `indices`, each checked to be in its row.
fn extract<T: Datum + Copy>(x: &Tensor, width: usize, indices: &[usize]) -> TractResult<Vec<T>> {
	let data = values::<T>(x)?;
	let mut out = Vec::with_capacity(data.len() / width.max(1) * indices.len());
	// `max(1)`: a last axis of 0 has no valid index, refused before this is called.
	for row in data.chunks(width.max(1)) {
		for &index in indices {
			out.push(*row.get(index).context("ArrayFeatureExtractor index out of range")?);
		}
	}
	Ok(out)
}

impl Kernel for ArrayFeatureExtractor {
	fn name(&self) -> &'static str {
		"ArrayFeatureExtractor"
	}

	fn inputs(&self) -> usize {
		2
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (x_dt, x_shape) = input(inputs, 0)?;
		let (y_dt, y_shape) = input(inputs, 1)?;
		match x_dt {
			DatumType::F32 | DatumType::F64 | DatumType::I32 | DatumType::I64 => {},
			other => bail!("ArrayFeatureExtractor does not take {other:?} input"),
		}
		if *y_dt != DatumType::I64 {
			bail!("ArrayFeatureExtractor indices must be int64, got {y_dt:?}");
		}
		let count: TDim = y_shape.iter().product();
		if count.to_usize().ok() == Some(0) {
			bail!("ArrayFeatureExtractor has no indices");
		}
		let shape: TVec<TDim> = match x_shape.as_slice() {
			[] => bail!("ArrayFeatureExtractor input is a scalar; it needs at least one dimension"),
			[_] => tvec![TDim::Val(1), count],
			[outer @ .., _] => outer.iter().cloned().chain(std::iter::once(count)).collect(),
		};
		Ok(tvec![TypedFact::dt_shape(*x_dt, shape)])
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = *input(inputs, 0)?;
		let y = *input(inputs, 1)?;
		if y.datum_type() != DatumType::I64 {
			bail!("ArrayFeatureExtractor indices must be int64, got {:?}", y.datum_type());
		}
		let (width, shape): (usize, Vec<usize>) = match x.shape() {
			[] => bail!("ArrayFeatureExtractor input is a scalar; it needs at least one dimension"),
			[width] => (*width, vec![1, y.len()]),
			[outer @ .., width] => (*width, outer.iter().copied().chain([y.len()]).collect()),
		};
		if y.len() == 0 {
			bail!("ArrayFeatureExtractor has no indices");
		}
		let mut indices = Vec::with_capacity(y.len());
		for (i, index) in values::<i64>(y)?.into_iter().enumerate() {
			match usize::try_from(index) {
				Ok(index) if index < width => indices.push(index),
				_ => bail!(
					"ArrayFeatureExtractor index Y[{i}] = {index} is out of range [0, {width})"
				),
			}
		}
		let z = match x.datum_type() {
			DatumType::F32 => Tensor::from_shape(&shape, &extract::<f32>(x, width, &indices)?)?,
			DatumType::F64 => Tensor::from_shape(&shape, &extract::<f64>(x, width, &indices)?)?,
			DatumType::I32 => Tensor::from_shape(&shape, &extract::<i32>(x, width, &indices)?)?,
			DatumType::I64 => Tensor::from_shape(&shape, &extract::<i64>(x, width, &indices)?)?,
			other => bail!("ArrayFeatureExtractor does not take {other:?} input"),
		};
		Ok(tvec![z])
	}
}

// ---------------------------------------------------------------------------------------------
// OneHotEncoder

/// Builds a `OneHotEncoder` on integer categories (`cats_int64s`).
pub fn one_hot_encoder(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	if !attributes.strings("cats_strings").is_empty() {
		bail!(
			"OneHotEncoder with string categories (cats_strings): the chain's tensors carry no \
			 strings; encode the categories as integers (cats_int64s)"
		);
	}
	let categories = attributes.ints("cats_int64s");
	if categories.is_empty() {
		bail!("OneHotEncoder has no categories (cats_int64s)");
	}
	let mut index = BTreeMap::new();
	for (position, &category) in categories.iter().enumerate() {
		// onnxruntime assigns `map[category] = position` in order: the last duplicate wins.
		index.insert(category, position);
	}
	op(OneHotEncoder { index, width: categories.len(), zeros: attributes.int("zeros", 1) != 0 })
}

/// OneHotEncoder: each element of `X` (int64, float or double; onnxruntime has no int32 kernel),
/// truncated to an integer, becomes a float row of `width` zeros with a one at its category's
/// position: output shape `X`'s + `[width]`. An element that is no category gives a row of zeros
/// when `zeros`, and is an error otherwise.
#[derive(Clone, Debug, PartialEq)]
struct OneHotEncoder {
	/// Each category's position.
	index: BTreeMap<i64, usize>,
	/// How many categories the attribute lists, duplicates included (onnxruntime's width).
	width: usize,
	zeros: bool,
}

/// `static_cast<int64_t>(x)` as onnxruntime's x86-64 build computes it (`cvttsd2si`):
/// truncation toward zero, and for NaN and values out of the int64 range, which C++ leaves
/// undefined, the instruction's "integer indefinite" `i64::MIN` (Rust's `as` would saturate
/// instead, and make NaN 0).
fn truncate(x: f64) -> i64 {
	// 2^63, the first double above the int64 range; -2^63 itself is in it.
	if x.is_nan() || x >= 9_223_372_036_854_775_808.0 || x < -9_223_372_036_854_775_808.0 {
		i64::MIN
	} else {
		x as i64
	}
}

impl Kernel for OneHotEncoder {
	fn name(&self) -> &'static str {
		"OneHotEncoder"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (dt, shape) = input(inputs, 0)?;
		match dt {
			DatumType::I64 | DatumType::F32 | DatumType::F64 => {},
			other => bail!(
				"OneHotEncoder does not take {other:?} input (onnxruntime takes int64, float, \
				 double)"
			),
		}
		let shape: TVec<TDim> =
			shape.iter().cloned().chain(std::iter::once(TDim::from(self.width as i64))).collect();
		Ok(tvec![TypedFact::dt_shape(DatumType::F32, shape)])
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = *input(inputs, 0)?;
		let categories: Vec<i64> = match x.datum_type() {
			DatumType::I64 => values::<i64>(x)?,
			DatumType::F32 => values::<f32>(x)?.into_iter().map(|v| truncate(v as f64)).collect(),
			DatumType::F64 => values::<f64>(x)?.into_iter().map(truncate).collect(),
			other => bail!("OneHotEncoder does not take {other:?} input"),
		};
		let mut out = vec![0.0f32; categories.len() * self.width];
		for (row, category) in out.chunks_mut(self.width.max(1)).zip(&categories) {
			match self.index.get(category) {
				Some(&position) => {
					if let Some(one) = row.get_mut(position) {
						*one = 1.0;
					}
				},
				None if self.zeros => {},
				None => bail!("OneHotEncoder: {category} is no category, and zeros is 0"),
			}
		}
		let shape: Vec<usize> = x.shape().iter().copied().chain([self.width]).collect();
		Ok(tvec![Tensor::from_shape(&shape, &out)?])
	}
}

// ---------------------------------------------------------------------------------------------
// LabelEncoder

/// Builds a `LabelEncoder` between numbers: int64 and float keys and values (ml opsets 2–3),
/// and from ml opset 4 also the `*_tensor` forms and double, in the pairs onnxruntime has
/// kernels for.
pub fn label_encoder(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let opset = ml_opset(ctx);
	if opset <= 1 {
		bail!(
			"LabelEncoder of ml opset 1 maps strings (classes_strings): the chain's tensors carry \
			 no strings"
		);
	}
	// ml opset 4 adds the tensor attributes, and with them double.
	let kinds: &[&str] = if opset >= 4 {
		&["tensor", "strings", "int64s", "floats"]
	} else {
		&["strings", "int64s", "floats"]
	};
	let keys = Numbers::attribute(&attributes, "keys", kinds)?;
	let values = Numbers::attribute(&attributes, "values", kinds)?;
	if keys.len() != values.len() {
		bail!("LabelEncoder has {} keys but {} values", keys.len(), values.len());
	}
	let (key_type, value_type) = (keys.datum_type(), values.datum_type());
	use DatumType::{F32, F64, I64};
	match (key_type, value_type) {
		(I64, I64) | (I64, F32) | (F32, I64) | (F32, F32) => {},
		(F64, F64) | (F64, I64) | (I64, F64) if opset >= 4 => {},
		(key, value) => {
			bail!("LabelEncoder from {key:?} to {value:?}: onnxruntime has no such kernel")
		},
	}
	let default = default_value(&attributes, value_type, opset)?;
	// ml opset 4 compares floats so that a NaN key matches every NaN; before, a NaN key equals
	// nothing, not even a NaN.
	let nan_matches = opset >= 4;
	let mut map = BTreeMap::new();
	for (key, value) in keys.keys().into_iter().zip(values.bits()) {
		if key == Key::NaN && !nan_matches {
			continue;
		}
		// onnxruntime fills its map with `emplace`: the first duplicate wins.
		map.entry(key).or_insert(value);
	}
	op(LabelEncoder { key_type, value_type, map, default })
}

/// The value for elements no key matches: `default_tensor` (ml opset 4) when given, else
/// `default_int64` (-1) for int64 values, `default_float` (-0.0) for float values, and -0.0 for
/// double values (onnxruntime reads no `default_float` for them; checked with its 1.32 build).
fn default_value(attributes: &Attributes, value_type: DatumType, opset: i64) -> TractResult<u64> {
	if opset >= 4 {
		if let Some(tensor) = attributes.tensor("default_tensor")? {
			if tensor.datum_type() != value_type || tensor.len() != 1 {
				bail!(
					"LabelEncoder default_tensor must be one {value_type:?}, got {:?} of shape \
					 {:?}",
					tensor.datum_type(),
					tensor.shape()
				);
			}
			return Numbers::of(&tensor)?.bits().first().copied().context("empty default_tensor");
		}
	}
	Ok(match value_type {
		DatumType::I64 => attributes.int("default_int64", -1) as u64,
		DatumType::F32 => attributes.float("default_float", -0.0).to_bits() as u64,
		_ => (-0.0f64).to_bits(),
	})
}

/// The numbers of a keys or values attribute.
#[derive(Clone, Debug, PartialEq)]
enum Numbers {
	I64(Vec<i64>),
	F32(Vec<f32>),
	F64(Vec<f64>),
}

impl Numbers {
	/// The node's `{side}_*` attribute (`side` is `keys` or `values`): exactly one of the `kinds`
	/// must be given, as the ONNX schema requires; strings are refused.
	fn attribute(attributes: &Attributes, side: &str, kinds: &[&str]) -> TractResult<Numbers> {
		let given: Vec<&str> = kinds
			.iter()
			.copied()
			.filter(|kind| attributes.has(&format!("{side}_{kind}")))
			.collect();
		match given.as_slice() {
			["int64s"] => Ok(Numbers::I64(attributes.ints(&format!("{side}_int64s")))),
			["floats"] => Ok(Numbers::F32(attributes.floats(&format!("{side}_floats")))),
			["strings"] => bail!(
				"LabelEncoder with string {side} ({side}_strings): the chain's tensors carry no \
				 strings"
			),
			["tensor"] => {
				let name = format!("{side}_tensor");
				let tensor =
					attributes.tensor(&name)?.with_context(|| format!("{name} is empty"))?;
				if tensor.rank() != 1 {
					bail!("LabelEncoder {name} must be a vector, got shape {:?}", tensor.shape());
				}
				Numbers::of(&tensor)
			},
			[] => bail!("LabelEncoder has no {side}: none of {side}_{}", kinds.join(", {side}_")),
			_ => bail!("LabelEncoder has several {side}: {side}_{}", given.join(", {side}_")),
		}
	}

	/// A tensor's numbers, row-major.
	fn of(tensor: &Tensor) -> TractResult<Numbers> {
		Ok(match tensor.datum_type() {
			DatumType::I64 => Numbers::I64(values(tensor)?),
			DatumType::F32 => Numbers::F32(values(tensor)?),
			DatumType::F64 => Numbers::F64(values(tensor)?),
			DatumType::String => {
				bail!(
					"LabelEncoder with string keys or values: the chain's tensors carry no strings"
				)
			},
			other => bail!(
				"LabelEncoder keys and values of type {other:?}: onnxruntime has no such kernel"
			),
		})
	}

	fn datum_type(&self) -> DatumType {
		match self {
			Numbers::I64(_) => DatumType::I64,
			Numbers::F32(_) => DatumType::F32,
			Numbers::F64(_) => DatumType::F64,
		}
	}

	fn len(&self) -> usize {
		match self {
			Numbers::I64(v) => v.len(),
			Numbers::F32(v) => v.len(),
			Numbers::F64(v) => v.len(),
		}
	}

	/// Each number as a key.
	fn keys(&self) -> Vec<Key> {
		match self {
			Numbers::I64(v) => v.iter().map(|&v| Key::int(v)).collect(),
			Numbers::F32(v) => v.iter().map(|&v| Key::float(v as f64)).collect(),
			Numbers::F64(v) => v.iter().map(|&v| Key::float(v)).collect(),
		}
	}

	/// Each number's bits, as the output stores them ([`from_bits`]).
	fn bits(&self) -> Vec<u64> {
		match self {
			Numbers::I64(v) => v.iter().map(|&v| v as u64).collect(),
			Numbers::F32(v) => v.iter().map(|&v| v.to_bits() as u64).collect(),
			Numbers::F64(v) => v.iter().map(|&v| v.to_bits()).collect(),
		}
	}
}

/// A number as onnxruntime's hash maps compare it: integers by value, floats with `==`, so the
/// two zeros are one key; NaN is a key of its own, found only where NaN matches NaN (ml opset 4).
/// Keys and input have one type per node, so the bit patterns of different types never meet; a
/// float is widened to a double first, which keeps `==` as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
	Bits(u64),
	NaN,
}

impl Key {
	fn int(v: i64) -> Key {
		Key::Bits(v as u64)
	}

	fn float(v: f64) -> Key {
		if v.is_nan() {
			Key::NaN
		} else if v == 0.0 {
			Key::Bits(0)
		} else {
			Key::Bits(v.to_bits())
		}
	}
}

/// A tensor of type `dt` and this shape from the bits of its elements ([`Numbers::bits`]); bits
/// keep a NaN's payload and the sign of a zero.
fn from_bits(dt: DatumType, shape: &[usize], bits: &[u64]) -> TractResult<Tensor> {
	match dt {
		DatumType::I64 => {
			Tensor::from_shape(shape, &bits.iter().map(|&b| b as i64).collect::<Vec<_>>())
		},
		DatumType::F32 => Tensor::from_shape(
			shape,
			&bits.iter().map(|&b| f32::from_bits(b as u32)).collect::<Vec<_>>(),
		),
		DatumType::F64 => {
			Tensor::from_shape(shape, &bits.iter().map(|&b| f64::from_bits(b)).collect::<Vec<_>>())
		},
		other => bail!("LabelEncoder cannot output {other:?}"),
	}
}

/// LabelEncoder: each element of `X` (of the keys' type) becomes the value of its key, or the
/// default; output of the values' type and `X`'s shape.
#[derive(Clone, Debug, PartialEq)]
struct LabelEncoder {
	key_type: DatumType,
	value_type: DatumType,
	/// Each key and the bits of its value.
	map: BTreeMap<Key, u64>,
	/// The bits of the value of elements no key matches.
	default: u64,
}

impl Kernel for LabelEncoder {
	fn name(&self) -> &'static str {
		"LabelEncoder"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (dt, shape) = input(inputs, 0)?;
		if *dt != self.key_type {
			bail!("LabelEncoder keys are {:?} but its input is {dt:?}", self.key_type);
		}
		Ok(same_shape(self.value_type, shape))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = *input(inputs, 0)?;
		if x.datum_type() != self.key_type {
			bail!(
				"LabelEncoder keys are {:?} but its input is {:?}",
				self.key_type,
				x.datum_type()
			);
		}
		let keys = match self.key_type {
			DatumType::I64 => Numbers::I64(values(x)?),
			DatumType::F32 => Numbers::F32(values(x)?),
			DatumType::F64 => Numbers::F64(values(x)?),
			other => bail!("LabelEncoder does not take {other:?} input"),
		}
		.keys();
		let bits: Vec<u64> =
			keys.iter().map(|key| self.map.get(key).copied().unwrap_or(self.default)).collect();
		Ok(tvec![from_bits(self.value_type, x.shape(), &bits)?])
	}
}
