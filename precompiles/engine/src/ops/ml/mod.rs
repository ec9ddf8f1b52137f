//! The `ai.onnx.ml` operators, written to the ONNX-ML specification and to what onnxruntime's CPU
//! kernels compute (the reference the conformance harness compares with): tract 0.23.9 has five of
//! them and gets each wrong somewhere (binary tree labels, `BRANCH_GTE`, the linear models' label
//! and single-target rules, the normaliser's `MAX`), so all are ours.
//!
//! Each operator is a [`Kernel`]: one input `X`, read as rows (`[N, F]`, or `[F]` as one row),
//! evaluated in plain Rust, one row after another, in a fixed order of operations. Inside the Wasm
//! engine every float operation and the blob's own libm are exact and the same everywhere, so the
//! bits are the same on every machine. [`Ml`] makes a kernel a tract operator: its inference rules
//! and typed operator come from the kernel's [`Kernel::output_facts`].

pub mod linear;
pub mod preprocess;
pub mod svm;
pub mod transform;
pub mod tree;

use tract_onnx::{
	model::{Onnx, ParsingContext},
	pb::{AttributeProto, NodeProto},
	tract_hir::internal::*,
};

/// Registers every operator of this module into `onnx`'s parser.
pub fn register(onnx: &mut Onnx) {
	let register = &mut onnx.op_register;
	register.insert("TreeEnsembleClassifier", tree::classifier);
	register.insert("TreeEnsembleRegressor", tree::regressor);
	register.insert("TreeEnsemble", tree::ensemble);
	register.insert("LinearClassifier", linear::classifier);
	register.insert("LinearRegressor", linear::regressor);
	register.insert("SVMClassifier", svm::classifier);
	register.insert("SVMRegressor", svm::regressor);
	register.insert("Normalizer", preprocess::normalizer);
	register.insert("Scaler", preprocess::scaler);
	register.insert("Binarizer", preprocess::binarizer);
	register.insert("Imputer", preprocess::imputer);
	register.insert("ArrayFeatureExtractor", preprocess::array_feature_extractor);
	register.insert("OneHotEncoder", preprocess::one_hot_encoder);
	register.insert("LabelEncoder", preprocess::label_encoder);
}

/// What an ML operator computes from its input, and the types and shapes of its outputs.
pub trait Kernel: std::fmt::Debug + Clone + PartialEq + Send + Sync + 'static {
	/// The operator's name in tract's graph.
	fn name(&self) -> &'static str;

	/// How many inputs it takes: the first is `X`; ArrayFeatureExtractor takes its indices too.
	fn inputs(&self) -> usize {
		1
	}

	/// How many outputs it has.
	fn outputs(&self) -> usize {
		1
	}

	/// The outputs' types and shapes for inputs of these types and shapes (symbolic dimensions
	/// allowed); `Err` when the inputs are not what the operator takes.
	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>>;

	/// The outputs for these inputs.
	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>>;
}

/// A [`Kernel`] as a tract operator: its inference rules (at parse time) and its typed
/// operator (what the graph runs).
#[derive(Debug, Clone, PartialEq)]
pub struct Ml<K: Kernel>(pub K);

/// Operators compare by their attributes; a NaN among them only makes two equal operators look
/// different, which merges less and computes the same.
impl<K: Kernel> Eq for Ml<K> {}

/// A boxed parse-time operator for `kernel`.
pub fn op<K: Kernel>(kernel: K) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	Ok((expand(Ml(kernel)), vec![]))
}

impl<K: Kernel> Expansion for Ml<K> {
	fn name(&self) -> StaticName {
		self.0.name().into()
	}

	fn nboutputs(&self) -> TractResult<usize> {
		Ok(self.0.outputs())
	}

	fn rules<'r, 'p: 'r, 's: 'r>(
		&'s self,
		s: &mut Solver<'r>,
		inputs: &'p [TensorProxy],
		outputs: &'p [TensorProxy],
	) -> InferenceResult {
		check_input_arity(inputs, self.0.inputs())?;
		check_output_arity(outputs, self.0.outputs())?;
		let kernel = &self.0;
		let facts = move |s: &mut Solver<'r>, given: Vec<(DatumType, TVec<TDim>)>| {
			let given: Vec<_> = given.into_iter().map(|(dt, shape)| (integer(dt), shape)).collect();
			for (output, fact) in outputs.iter().zip(kernel.output_facts(&given)?) {
				s.equals(&output.datum_type, fact.datum_type)?;
				s.equals(&output.shape, fact.shape.to_tvec())?;
			}
			Ok(())
		};
		match kernel.inputs() {
			1 => s.given_2(&inputs[0].datum_type, &inputs[0].shape, move |s, dt, shape| {
				facts(s, vec![(dt, shape)])
			}),
			_ => s.given_4(
				&inputs[0].datum_type,
				&inputs[0].shape,
				&inputs[1].datum_type,
				&inputs[1].shape,
				move |s, dt0, shape0, dt1, shape1| facts(s, vec![(dt0, shape0), (dt1, shape1)]),
			),
		}
	}

	fn wire(
		&self,
		prefix: &str,
		model: &mut TypedModel,
		inputs: &[OutletId],
	) -> TractResult<TVec<OutletId>> {
		model.wire_node(prefix, self.clone(), inputs)
	}
}

impl<K: Kernel> Op for Ml<K> {
	fn name(&self) -> StaticName {
		self.0.name().into()
	}

	op_as_typed_op!();
}

impl<K: Kernel> EvalOp for Ml<K> {
	op_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let owned: Vec<Tensor> = inputs
			.iter()
			.filter(|value| value.datum_type() == DatumType::TDim)
			.map(|value| value.cast_to::<i64>().map(|cast| cast.into_owned()))
			.collect::<TractResult<_>>()?;
		let mut cast = owned.iter();
		let tensors: Vec<&Tensor> = inputs
			.iter()
			.map(|value| match value.datum_type() {
				DatumType::TDim => cast.next().context("a cast input is missing"),
				_ => Ok(&**value),
			})
			.collect::<TractResult<_>>()?;
		Ok(self.0.eval(&tensors)?.into_iter().map(IntoTValue::into_tvalue).collect())
	}
}

impl<K: Kernel> TypedOp for Ml<K> {
	fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		let given: Vec<(DatumType, TVec<TDim>)> =
			inputs.iter().map(|fact| (integer(fact.datum_type), fact.shape.to_tvec())).collect();
		self.0.output_facts(&given)
	}

	as_op!();
}

/// The type a kernel sees: tract's symbolic integers (the values of `Shape` and what it feeds)
/// are int64 to ONNX, and cast to it before the kernel runs.
fn integer(dt: DatumType) -> DatumType {
	if dt == DatumType::TDim {
		DatumType::I64
	} else {
		dt
	}
}

/// The model's `ai.onnx.ml` opset (0 when it imports none).
pub fn ml_opset(ctx: &ParsingContext) -> i64 {
	ctx.model
		.opset_import
		.iter()
		.find(|import| import.domain == "ai.onnx.ml")
		.map_or(0, |import| import.version)
}

/// Reads a node's attributes by name.
pub struct Attributes<'a> {
	ctx: &'a ParsingContext<'a>,
	node: &'a NodeProto,
}

impl<'a> Attributes<'a> {
	pub fn of(ctx: &'a ParsingContext<'a>, node: &'a NodeProto) -> Attributes<'a> {
		Attributes { ctx, node }
	}

	fn get(&self, name: &str) -> Option<&'a AttributeProto> {
		self.node.attribute.iter().find(|attribute| attribute.name == name)
	}

	pub fn has(&self, name: &str) -> bool {
		self.get(name).is_some()
	}

	pub fn int(&self, name: &str, default: i64) -> i64 {
		self.get(name).map_or(default, |a| a.i)
	}

	pub fn float(&self, name: &str, default: f32) -> f32 {
		self.get(name).map_or(default, |a| a.f)
	}

	pub fn string(&self, name: &str, default: &str) -> String {
		self.get(name)
			.map_or_else(|| default.to_string(), |a| String::from_utf8_lossy(&a.s).into_owned())
	}

	/// A positive integer attribute (a count of targets), `default` when absent.
	pub fn count(&self, name: &str, default: i64) -> TractResult<usize> {
		let value = self.int(name, default);
		usize::try_from(value)
			.ok()
			.filter(|&n| n > 0)
			.with_context(|| format!("{name} must be positive, got {value}"))
	}

	pub fn ints(&self, name: &str) -> Vec<i64> {
		self.get(name).map_or_else(Vec::new, |a| a.ints.clone())
	}

	pub fn floats(&self, name: &str) -> Vec<f32> {
		self.get(name).map_or_else(Vec::new, |a| a.floats.clone())
	}

	pub fn strings(&self, name: &str) -> Vec<String> {
		self.get(name).map_or_else(Vec::new, |a| {
			a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect()
		})
	}

	/// A tensor attribute (`*_as_tensor`, ml opset 5's `nodes_splits`…), decoded.
	pub fn tensor(&self, name: &str) -> TractResult<Option<Tensor>> {
		match self.get(name).and_then(|a| a.t.as_ref()) {
			Some(proto) => Ok(Some(self.ctx.load_tensor(proto)?)),
			None => Ok(None),
		}
	}

	/// A list of numbers given either as floats (`name`) or as a tensor (`name_as_tensor`, ml
	/// opset 3, double), as f64; both at once is an error, as in onnxruntime.
	pub fn floats_or_tensor(&self, name: &str) -> TractResult<Vec<f64>> {
		let floats = self.floats(name);
		let tensor = self.tensor(&format!("{name}_as_tensor"))?;
		match tensor {
			Some(_) if !floats.is_empty() => {
				bail!("{name} and {name}_as_tensor are both given")
			},
			Some(tensor) => values::<f64>(&tensor),
			None => Ok(floats.into_iter().map(f64::from).collect()),
		}
	}
}

/// `X` as rows: `[N, F]`, or `[F]` as one row; other ranks are refused.
pub fn rows(shape: &[TDim]) -> TractResult<(TDim, TDim)> {
	match shape {
		[features] => Ok((1.into(), features.clone())),
		[n, features] => Ok((n.clone(), features.clone())),
		_ => bail!("X must be [N, F] or [F], got rank {}", shape.len()),
	}
}

/// `X`'s elements as f32, row-major, with its row count and width: every input type converted as
/// C++'s `static_cast<float>` does (what onnxruntime's kernels do).
pub fn f32_rows(x: &Tensor) -> TractResult<(usize, usize, Vec<f32>)> {
	let (n, f) = concrete_rows(x)?;
	let data = values::<f32>(x)?;
	Ok((n, f, data))
}

/// `X`'s elements as f64, row-major, with its row count and width.
pub fn f64_rows(x: &Tensor) -> TractResult<(usize, usize, Vec<f64>)> {
	let (n, f) = concrete_rows(x)?;
	let data = values::<f64>(x)?;
	Ok((n, f, data))
}

/// A tensor's elements converted to `T` (as Rust's `as` and C++'s `static_cast` convert),
/// row-major.
pub fn values<T: Datum + Copy>(tensor: &Tensor) -> TractResult<Vec<T>> {
	Ok(tensor.cast_to::<T>()?.try_as_plain_ram()?.as_slice::<T>()?.to_vec())
}

fn concrete_rows(x: &Tensor) -> TractResult<(usize, usize)> {
	match x.shape() {
		[features] => Ok((1, *features)),
		[n, features] => Ok((*n, *features)),
		shape => bail!("X must be [N, F] or [F], got {shape:?}"),
	}
}

/// The input types a float kernel takes (onnxruntime's: float, double, int32, int64).
pub fn numeric(dt: DatumType) -> TractResult<()> {
	match dt {
		DatumType::F32 | DatumType::F64 | DatumType::I32 | DatumType::I64 => Ok(()),
		other => bail!("input type {other:?} is not one this operator takes"),
	}
}

/// The rows and width of a numeric `X`: what a float kernel's output facts start from.
pub fn numeric_rows(inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<(TDim, TDim)> {
	let (dt, shape) = inputs.first().context("X is missing")?;
	numeric(*dt)?;
	rows(shape)
}

/// A classifier's outputs: the labels, int64 `[N]`, and the scores, f32 `[N, columns]`.
pub fn classifier_facts(n: TDim, columns: usize) -> TVec<TypedFact> {
	tvec!(i64::fact([n.clone()]), f32::fact([n, columns.into()]))
}

/// A `[N, width]` tensor from row-major values.
pub fn matrix<T: Datum + Copy>(n: usize, width: usize, values: Vec<T>) -> TractResult<Tensor> {
	Tensor::from_shape(&[n, width], &values)
}

/// The labels a classifier outputs (integers: string labels cannot be carried).
pub fn int_labels(attributes: &Attributes, operator: &str) -> TractResult<Vec<i64>> {
	if !attributes.strings("classlabels_strings").is_empty() {
		bail!(
			"{operator} with string class labels: the chain's tensors carry no strings; train the \
			 model on integer labels"
		);
	}
	// TreeEnsembleClassifier names them `classlabels_int64s`, the linear and SVM classifiers
	// `classlabels_ints`.
	let labels = attributes.ints("classlabels_int64s");
	Ok(if labels.is_empty() { attributes.ints("classlabels_ints") } else { labels })
}
