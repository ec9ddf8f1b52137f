//! Tree ensembles: `TreeEnsembleClassifier` and `TreeEnsembleRegressor` (ml opsets 1–3) and
//! `TreeEnsemble` (ml opset 5), over one evaluator, as onnxruntime computes them
//! (`tree_ensemble_common.h`, `tree_ensemble_aggregator.h`).
//!
//! Every tree is walked from its root for each row; the leaf's votes are aggregated per target
//! (class) in tree order, in f32 for float and integer inputs and in f64 for double inputs
//! (onnxruntime's `ThresholdType`), then the base values are added and the post transform
//! applied in f32. A tree that does not reach a leaf within as many steps as it has nodes (a
//! cycle in hostile attributes) is an error, never a hang.

use std::collections::BTreeMap;

use tract_onnx::{model::ParsingContext, pb::NodeProto, tract_hir::internal::*};

use super::{
	classifier_facts, f32_rows, f64_rows, int_labels, matrix, numeric_rows, op, rows,
	transform::{logistic, PostTransform},
	Attributes, Kernel,
};

/// How a node decides: a comparison of the row's feature with the node's value, set
/// membership, or a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
	Leq,
	Lt,
	Gte,
	Gt,
	Eq,
	Neq,
	/// The value is in `sets[start..end]` (ml opset 5).
	Member {
		start: u32,
		end: u32,
	},
	Leaf,
}

impl Mode {
	/// ml opsets 1–3's `nodes_modes` strings. onnxruntime reads any unknown string as
	/// BRANCH_NEQ; here it is an error.
	fn from_name(name: &str) -> TractResult<Mode> {
		Ok(match name {
			"BRANCH_LEQ" => Mode::Leq,
			"BRANCH_LT" => Mode::Lt,
			"BRANCH_GTE" => Mode::Gte,
			"BRANCH_GT" => Mode::Gt,
			"BRANCH_EQ" => Mode::Eq,
			"BRANCH_NEQ" => Mode::Neq,
			"LEAF" => Mode::Leaf,
			other => bail!("node mode {other:?} is not a BRANCH_* mode or LEAF"),
		})
	}
}

/// One node, its children as indices into [`Ensemble::nodes`].
#[derive(Clone, Debug, PartialEq)]
struct Node {
	mode: Mode,
	feature: usize,
	value: f64,
	/// A NaN feature takes the true branch.
	missing_true: bool,
	true_child: usize,
	false_child: usize,
	/// The leaf's votes: `Ensemble::votes[start..end]`.
	votes: (usize, usize),
}

/// The trees, normalised from either attribute layout.
#[derive(Clone, Debug, PartialEq)]
struct Ensemble {
	nodes: Vec<Node>,
	/// Each tree's root, in tree order (the order scores are summed in).
	roots: Vec<usize>,
	/// (target, weight) of every leaf's votes, grouped by leaf.
	votes: Vec<(usize, f64)>,
	/// The members of every `Mode::Member` node's set.
	sets: Vec<f64>,
	/// Targets (regressor) or classes (classifier).
	targets: usize,
	/// The largest feature index a node reads, plus one.
	features: usize,
}

/// How the votes of the trees combine per target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aggregate {
	Sum,
	Average,
	Min,
	Max,
}

impl Aggregate {
	fn from_name(name: &str) -> TractResult<Aggregate> {
		Ok(match name {
			"SUM" => Aggregate::Sum,
			"AVERAGE" => Aggregate::Average,
			"MIN" => Aggregate::Min,
			"MAX" => Aggregate::Max,
			other => bail!("aggregate_function {other:?} is none of SUM, AVERAGE, MIN, MAX"),
		})
	}
}

/// The float type scores are accumulated in: f32, or f64 for double inputs.
trait Value:
	Copy
	+ PartialOrd
	+ std::ops::Add<Output = Self>
	+ std::ops::Div<Output = Self>
	+ std::ops::Neg<Output = Self>
{
	const ZERO: Self;
	fn of(value: f64) -> Self;
	fn count(n: usize) -> Self;
	fn is_nan(self) -> bool;
	fn to_f32(self) -> f32;
}

impl Value for f32 {
	const ZERO: f32 = 0.0;
	fn of(value: f64) -> f32 {
		value as f32
	}
	fn count(n: usize) -> f32 {
		n as f32
	}
	fn is_nan(self) -> bool {
		f32::is_nan(self)
	}
	fn to_f32(self) -> f32 {
		self
	}
}

impl Value for f64 {
	const ZERO: f64 = 0.0;
	fn of(value: f64) -> f64 {
		value
	}
	fn count(n: usize) -> f64 {
		n as f64
	}
	fn is_nan(self) -> bool {
		f64::is_nan(self)
	}
	fn to_f32(self) -> f32 {
		self as f32
	}
}

/// One target's aggregate: its score, and whether any vote reached it.
#[derive(Clone, Copy)]
struct Score<T> {
	score: T,
	has: bool,
}

impl Ensemble {
	/// The aggregated scores of each row of `x` (`n` rows of `width`), not yet with the base
	/// values: `n × targets` scores.
	fn scores<T: Value>(
		&self,
		x: &[T],
		n: usize,
		width: usize,
		aggregate: Aggregate,
	) -> TractResult<Vec<Score<T>>> {
		if width < self.features {
			bail!("X has {width} features, the trees read feature {}", self.features - 1);
		}
		let mut scores = vec![Score { score: T::ZERO, has: false }; n * self.targets];
		for (row, out) in x.chunks(width).zip(scores.chunks_mut(self.targets)) {
			for &root in &self.roots {
				let leaf = self.leaf(root, row)?;
				let (start, end) = leaf.votes;
				for &(target, weight) in &self.votes[start..end] {
					let weight = T::of(weight);
					let slot = &mut out[target];
					slot.score = match aggregate {
						Aggregate::Sum | Aggregate::Average => slot.score + weight,
						Aggregate::Min if !slot.has || weight < slot.score => weight,
						Aggregate::Max if !slot.has || weight > slot.score => weight,
						Aggregate::Min | Aggregate::Max => slot.score,
					};
					slot.has = true;
				}
			}
		}
		Ok(scores)
	}

	/// The leaf `row` reaches from `root`.
	fn leaf<T: Value>(&self, root: usize, row: &[T]) -> TractResult<&Node> {
		let mut node = &self.nodes[root];
		for _ in 0..=self.nodes.len() {
			if node.mode == Mode::Leaf {
				return Ok(node);
			}
			let x = row[node.feature];
			let value = T::of(node.value);
			let taken = match node.mode {
				Mode::Leq => x <= value,
				Mode::Lt => x < value,
				Mode::Gte => x >= value,
				Mode::Gt => x > value,
				Mode::Eq => x == value,
				Mode::Neq => x != value,
				Mode::Member { start, end } => {
					self.sets[start as usize..end as usize].iter().any(|&m| x == T::of(m))
				},
				Mode::Leaf => true,
			};
			let taken = taken || (node.missing_true && x.is_nan());
			node = &self.nodes[if taken { node.true_child } else { node.false_child }];
		}
		bail!("a tree does not reach a leaf: its nodes form a cycle")
	}
}

/// Reads the ml opset 1–3 layout: `nodes_*` and the votes `prefix_{ids,nodeids,treeids,weights}`
/// (`target_` for the regressor, `class_` for the classifier) over `targets` targets.
fn classic(attributes: &Attributes, prefix: &str, targets: usize) -> TractResult<Ensemble> {
	let tree_ids = attributes.ints("nodes_treeids");
	let node_ids = attributes.ints("nodes_nodeids");
	let features = attributes.ints("nodes_featureids");
	let modes = attributes.strings("nodes_modes");
	let values = attributes.floats_or_tensor("nodes_values")?;
	let true_ids = attributes.ints("nodes_truenodeids");
	let false_ids = attributes.ints("nodes_falsenodeids");
	let missing = attributes.ints("nodes_missing_value_tracks_true");
	let count = tree_ids.len();
	let same = [node_ids.len(), features.len(), modes.len(), true_ids.len(), false_ids.len()];
	if count == 0 || same.iter().any(|&len| len != count) {
		bail!("the nodes_* attributes must be non-empty and of one length");
	}
	if !(values.is_empty() || values.len() == count)
		|| !(missing.is_empty() || missing.len() == count)
	{
		bail!("nodes_values and nodes_missing_value_tracks_true must have one value per node");
	}
	// Nodes by (tree, node) id; roots are the first node of each run of one tree id.
	let mut index = BTreeMap::new();
	let mut roots = Vec::new();
	for (i, (&tree, &node)) in tree_ids.iter().zip(&node_ids).enumerate() {
		if index.insert((tree, node), i).is_some() {
			bail!("node {node} of tree {tree} is given twice");
		}
		if i == 0 || tree_ids[i - 1] != tree {
			roots.push(i);
		}
	}
	let mut nodes = Vec::with_capacity(count);
	for i in 0..count {
		let mode = Mode::from_name(&modes[i])?;
		let child = |id: i64| -> TractResult<usize> {
			let found = index.get(&(tree_ids[i], id)).copied();
			found.filter(|&c| c != i).with_context(|| {
				format!(
					"node {} of tree {} points to node {id}, which is not another node of its tree",
					node_ids[i], tree_ids[i]
				)
			})
		};
		let (true_child, false_child) =
			if mode == Mode::Leaf { (i, i) } else { (child(true_ids[i])?, child(false_ids[i])?) };
		let feature = usize::try_from(features[i])
			.map_err(|_| format_err!("feature id {} is negative", features[i]))?;
		nodes.push(Node {
			mode,
			feature: if mode == Mode::Leaf { 0 } else { feature },
			value: values.get(i).copied().unwrap_or(0.0),
			missing_true: missing.get(i).is_some_and(|&m| m != 0),
			true_child,
			false_child,
			votes: (0, 0),
		});
	}
	// Votes sorted by (tree, node), each leaf's in their given order, attached to their leaf;
	// votes on nodes that are not leaves count for nothing, as in onnxruntime.
	let vote_trees = attributes.ints(&format!("{prefix}treeids"));
	let vote_nodes = attributes.ints(&format!("{prefix}nodeids"));
	let vote_targets = attributes.ints(&format!("{prefix}ids"));
	let weights = attributes.floats_or_tensor(&format!("{prefix}weights"))?;
	let votes_count = vote_trees.len();
	if [vote_nodes.len(), vote_targets.len(), weights.len()].iter().any(|&l| l != votes_count) {
		bail!("the {prefix}* attributes must be of one length");
	}
	let mut order: Vec<usize> = (0..votes_count).collect();
	order.sort_by_key(|&v| (vote_trees[v], vote_nodes[v], v));
	let mut votes = Vec::with_capacity(votes_count);
	let mut by_leaf: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
	for v in order {
		let target = usize::try_from(vote_targets[v])
			.ok()
			.filter(|&t| t < targets)
			.with_context(|| format!("{prefix}ids {} is not below {targets}", vote_targets[v]))?;
		let node = *index.get(&(vote_trees[v], vote_nodes[v])).with_context(|| {
			format!(
				"a vote names node {} of tree {}, which does not exist",
				vote_nodes[v], vote_trees[v]
			)
		})?;
		if nodes[node].mode != Mode::Leaf {
			continue;
		}
		let range = by_leaf.entry(node).or_insert((votes.len(), votes.len()));
		if range.1 != votes.len() {
			bail!("the votes of one leaf are not together once sorted");
		}
		votes.push((target, weights[v]));
		range.1 = votes.len();
	}
	for (i, node) in nodes.iter_mut().enumerate() {
		if node.mode == Mode::Leaf {
			node.votes = *by_leaf.get(&i).with_context(|| {
				format!("leaf {} of tree {} has no vote", node_ids[i], tree_ids[i])
			})?;
		}
	}
	let features = nodes.iter().filter(|n| n.mode != Mode::Leaf).map(|n| n.feature + 1).max();
	Ok(Ensemble { nodes, roots, votes, sets: Vec::new(), targets, features: features.unwrap_or(0) })
}

/// The regressor's and the classifier's base values: none, or as many as `allowed` says.
fn base_values(attributes: &Attributes, allowed: &[usize]) -> TractResult<Vec<f64>> {
	let base = attributes.floats_or_tensor("base_values")?;
	if !allowed.contains(&base.len()) {
		bail!("{} base values, expected one of {allowed:?}", base.len());
	}
	Ok(base)
}

/// `TreeEnsembleRegressor`: `Y` f32 `[N, n_targets]`.
#[derive(Clone, Debug, PartialEq)]
struct Regressor {
	ensemble: Ensemble,
	aggregate: Aggregate,
	base: Vec<f64>,
	transform: PostTransform,
}

pub fn regressor(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let targets = attributes.count("n_targets", 1)?;
	op(Regressor {
		ensemble: classic(&attributes, "target_", targets)?,
		aggregate: Aggregate::from_name(&attributes.string("aggregate_function", "SUM"))?,
		base: base_values(&attributes, &[0, targets])?,
		transform: PostTransform::from_name(&attributes.string("post_transform", "NONE"))?,
	})
}

impl Regressor {
	fn finish<T: Value>(&self, scores: Vec<Score<T>>, n: usize) -> TractResult<Tensor> {
		let targets = self.ensemble.targets;
		let trees = T::count(self.ensemble.roots.len());
		let mut y = Vec::with_capacity(n * targets);
		for row in scores.chunks(targets) {
			let start = y.len();
			for (target, slot) in row.iter().enumerate() {
				let base = self.base.get(target).map_or(T::ZERO, |&b| T::of(b));
				let score = match self.aggregate {
					Aggregate::Sum => slot.score + base,
					Aggregate::Average => slot.score / trees + base,
					Aggregate::Min | Aggregate::Max => {
						base + if slot.has { slot.score } else { T::ZERO }
					},
				};
				y.push(score.to_f32());
			}
			self.transform.apply_regression(&mut y[start..]);
		}
		matrix(n, targets, y)
	}
}

impl Kernel for Regressor {
	fn name(&self) -> &'static str {
		"TreeEnsembleRegressor"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (n, _) = numeric_rows(inputs)?;
		Ok(tvec!(f32::fact([n, self.ensemble.targets.into()])))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = inputs[0];
		let y = if x.datum_type() == DatumType::F64 {
			let (n, width, x) = f64_rows(x)?;
			self.finish(self.ensemble.scores(&x, n, width, self.aggregate)?, n)?
		} else {
			let (n, width, x) = f32_rows(x)?;
			self.finish(self.ensemble.scores(&x, n, width, self.aggregate)?, n)?
		};
		Ok(tvec!(y))
	}
}

/// `TreeEnsembleClassifier`: `Y` int64 `[N]` (the labels) and `Z` f32 `[N, classes]` (the scores;
/// two columns for two classes).
#[derive(Clone, Debug, PartialEq)]
struct Classifier {
	ensemble: Ensemble,
	labels: Vec<i64>,
	base: Vec<f64>,
	transform: PostTransform,
	/// Two classes, and every vote for one class id (what converters write for binary models).
	binary: bool,
	/// Every vote weight is at least 0.
	positive: bool,
}

pub fn classifier(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let labels = int_labels(&attributes, "TreeEnsembleClassifier")?;
	let classes = labels.len();
	if classes < 2 {
		bail!("TreeEnsembleClassifier needs two class labels or more, got {classes}");
	}
	let ensemble = classic(&attributes, "class_", classes)?;
	let allowed = if classes == 2 { vec![0, 1, 2] } else { vec![0, classes] };
	let base = base_values(&attributes, &allowed)?;
	let class_ids = attributes.ints("class_ids");
	let binary = classes == 2 && class_ids.windows(2).all(|pair| pair[0] == pair[1]);
	let positive = ensemble.votes.iter().all(|&(_, w)| w >= 0.0);
	let transform = PostTransform::from_name(&attributes.string("post_transform", "NONE"))?;
	op(Classifier { ensemble, labels, base, transform, binary, positive })
}

impl Classifier {
	/// Labels and scores of the rows, from their aggregated scores.
	fn finish<T: Value>(&self, scores: Vec<Score<T>>, n: usize) -> TractResult<TVec<Tensor>> {
		let classes = self.labels.len();
		let mut labels = Vec::with_capacity(n);
		let mut z = Vec::with_capacity(n * classes);
		for row in scores.chunks(classes) {
			let mut row: Vec<Score<T>> = row.to_vec();
			if classes == 2 {
				let (label, scores) = self.binary_row(&mut row)?;
				labels.push(label);
				z.extend(scores);
				continue;
			}
			for (slot, &base) in row.iter_mut().zip(&self.base) {
				slot.score = if slot.has { slot.score + T::of(base) } else { T::of(base) };
				slot.has = true;
			}
			// The first class with the largest raw score among those any vote reached.
			let mut best: Option<(usize, T)> = None;
			for (class, slot) in row.iter().enumerate() {
				if slot.has && best.is_none_or(|(_, max)| slot.score > max) {
					best = Some((class, slot.score));
				}
			}
			labels.push(self.labels[best.map_or(0, |(class, _)| class)]);
			let start = z.len();
			z.extend(row.iter().map(|slot| slot.score.to_f32()));
			self.transform.apply(&mut z[start..]);
		}
		Ok(tvec!(Tensor::from_shape(&[n], &labels)?, matrix(n, classes, z)?))
	}

	/// One row of a two-class model: its label and its two scores (onnxruntime's binary rules).
	fn binary_row<T: Value>(&self, row: &mut [Score<T>]) -> TractResult<(i64, [f32; 2])> {
		let (p0, p1) = (row[0], row[1]);
		let (mut s0, mut s1) = (p0.score, p1.score);
		let mut two = p1.has;
		match self.base[..] {
			[b0, b1] => {
				if p1.has {
					// onnxruntime's rule, which reads class 0's score and not base 0.
					s1 = T::of(b1) + s0;
					s0 = -s1;
				} else {
					s1 = s1 + T::of(b1);
					s0 = s0 + T::of(b0);
				}
				two = true;
			},
			[b0] => s0 = s0 + T::of(b0),
			_ => {},
		}
		let positive = if p1.has {
			s1
		} else if p0.has {
			s0
		} else {
			T::ZERO
		};
		let pos = positive.to_f32();
		let label = if self.binary {
			let threshold = if self.positive { 0.5 } else { 0.0 };
			self.labels[usize::from(pos > threshold)]
		} else {
			i64::from(pos > 0.0)
		};
		if two {
			let mut scores = [s0.to_f32(), s1.to_f32()];
			self.transform.apply(&mut scores);
			return Ok((label, scores));
		}
		let s = s0.to_f32();
		let scores = match (self.transform, self.binary, self.positive) {
			(PostTransform::Probit, ..) => {
				bail!("PROBIT over a single binary score has no second column (onnxruntime leaves it unwritten)")
			},
			(_, false, _) => {
				bail!("a two-class model whose votes reach one score has no defined second column")
			},
			(_, true, true) => [1.0 - s, s],
			(PostTransform::Logistic, true, false) => [logistic(-s), logistic(s)],
			(_, true, false) => [-s, s],
		};
		Ok((label, scores))
	}
}

impl Kernel for Classifier {
	fn name(&self) -> &'static str {
		"TreeEnsembleClassifier"
	}

	fn outputs(&self) -> usize {
		2
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (n, _) = numeric_rows(inputs)?;
		Ok(classifier_facts(n, self.labels.len()))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = inputs[0];
		if x.datum_type() == DatumType::F64 {
			let (n, width, x) = f64_rows(x)?;
			self.finish(self.ensemble.scores(&x, n, width, Aggregate::Sum)?, n)
		} else {
			let (n, width, x) = f32_rows(x)?;
			self.finish(self.ensemble.scores(&x, n, width, Aggregate::Sum)?, n)
		}
	}
}

/// `TreeEnsemble` (ml opset 5): `Y` `[N, n_targets]` of the input's type.
#[derive(Clone, Debug, PartialEq)]
struct Ensemble5 {
	ensemble: Ensemble,
	aggregate: Aggregate,
	transform: PostTransform,
}

pub fn ensemble(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let attributes = Attributes::of(ctx, node);
	let tensor = |name: &str| -> TractResult<Vec<f64>> {
		let tensor = attributes.tensor(name)?.with_context(|| format!("{name} is missing"))?;
		super::values::<f64>(&tensor)
	};
	let targets = attributes.count("n_targets", 0)?;
	let modes = tensor("nodes_modes")?;
	let splits = tensor("nodes_splits")?;
	let features = attributes.ints("nodes_featureids");
	let true_ids = attributes.ints("nodes_truenodeids");
	let false_ids = attributes.ints("nodes_falsenodeids");
	let true_leafs = attributes.ints("nodes_trueleafs");
	let false_leafs = attributes.ints("nodes_falseleafs");
	let missing = attributes.ints("nodes_missing_value_tracks_true");
	let leaf_targets = attributes.ints("leaf_targetids");
	let leaf_weights = tensor("leaf_weights")?;
	let members = match attributes.tensor("membership_values")? {
		Some(tensor) => super::values::<f64>(&tensor)?,
		None => Vec::new(),
	};
	let count = modes.len();
	let lengths = [
		splits.len(),
		features.len(),
		true_ids.len(),
		false_ids.len(),
		true_leafs.len(),
		false_leafs.len(),
	];
	if count == 0
		|| lengths.iter().any(|&l| l != count)
		|| !(missing.is_empty() || missing.len() == count)
	{
		bail!("the nodes_* attributes must be non-empty and of one length");
	}
	let leaves = leaf_targets.len();
	if leaves == 0 || leaf_weights.len() != leaves {
		bail!("leaf_targetids and leaf_weights must be non-empty and of one length");
	}
	// Branches first, then one node per leaf, each with its one vote.
	let mut nodes = Vec::with_capacity(count + leaves);
	let mut votes = Vec::with_capacity(leaves);
	let mut sets = Vec::new();
	let mut member_sets = members.split(|m| m.is_nan());
	for i in 0..count {
		let child = |id: i64, leaf: i64| -> TractResult<usize> {
			let (base, bound) = if leaf != 0 { (count, leaves) } else { (0, count) };
			usize::try_from(id).ok().filter(|&id| id < bound).map(|id| base + id).with_context(
				|| {
					format!(
						"node {i} points to {} {id}, out of range",
						if leaf != 0 { "leaf" } else { "node" }
					)
				},
			)
		};
		let mode = match modes[i] as i64 {
			0 => Mode::Leq,
			1 => Mode::Lt,
			2 => Mode::Gte,
			3 => Mode::Gt,
			4 => Mode::Eq,
			5 => Mode::Neq,
			6 => {
				let set = member_sets
					.next()
					.context("membership_values holds fewer sets than MEMBER nodes")?;
				let start = sets.len() as u32;
				sets.extend_from_slice(set);
				Mode::Member { start, end: sets.len() as u32 }
			},
			other => bail!("node mode {other} is not 0 to 6"),
		};
		let feature = usize::try_from(features[i])
			.map_err(|_| format_err!("feature id {} is negative", features[i]))?;
		nodes.push(Node {
			mode,
			feature,
			value: splits[i],
			missing_true: missing.get(i).is_some_and(|&m| m != 0),
			true_child: child(true_ids[i], true_leafs[i])?,
			false_child: child(false_ids[i], false_leafs[i])?,
			votes: (0, 0),
		});
	}
	for (leaf, (&target, &weight)) in leaf_targets.iter().zip(&leaf_weights).enumerate() {
		let target = usize::try_from(target)
			.ok()
			.filter(|&t| t < targets)
			.with_context(|| format!("leaf_targetids {target} is not below {targets}"))?;
		votes.push((target, weight));
		nodes.push(Node {
			mode: Mode::Leaf,
			feature: 0,
			value: 0.0,
			missing_true: false,
			true_child: count + leaf,
			false_child: count + leaf,
			votes: (leaf, leaf + 1),
		});
	}
	let roots = attributes
		.ints("tree_roots")
		.iter()
		.map(|&root| {
			usize::try_from(root)
				.ok()
				.filter(|&r| r < count)
				.with_context(|| format!("tree root {root} is not a node"))
		})
		.collect::<TractResult<Vec<usize>>>()?;
	if roots.is_empty() {
		bail!("tree_roots is empty");
	}
	let aggregate = match attributes.int("aggregate_function", 1) {
		0 => Aggregate::Average,
		1 => Aggregate::Sum,
		2 => Aggregate::Min,
		3 => Aggregate::Max,
		other => bail!("aggregate_function {other} is not 0 to 3"),
	};
	let features = nodes.iter().filter(|n| n.mode != Mode::Leaf).map(|n| n.feature + 1).max();
	let ensemble = Ensemble { nodes, roots, votes, sets, targets, features: features.unwrap_or(0) };
	let transform = PostTransform::from_code(attributes.int("post_transform", 0))?;
	op(Ensemble5 { ensemble, aggregate, transform })
}

impl Ensemble5 {
	fn finish<T: Value + Datum>(
		&self,
		scores: Vec<Score<T>>,
		n: usize,
		widen: impl Fn(f32) -> T,
	) -> TractResult<Tensor> {
		let targets = self.ensemble.targets;
		let trees = T::count(self.ensemble.roots.len());
		let mut y = Vec::with_capacity(n * targets);
		for row in scores.chunks(targets) {
			let mut values: Vec<T> = row
				.iter()
				.map(|slot| match self.aggregate {
					Aggregate::Average => slot.score / trees,
					_ => {
						if slot.has {
							slot.score
						} else {
							T::ZERO
						}
					},
				})
				.collect();
			if self.transform != PostTransform::None {
				let mut row32: Vec<f32> = values.iter().map(|v| v.to_f32()).collect();
				self.transform.apply_regression(&mut row32);
				values = row32.into_iter().map(&widen).collect();
			}
			y.extend(values);
		}
		matrix(n, targets, y)
	}
}

impl Kernel for Ensemble5 {
	fn name(&self) -> &'static str {
		"TreeEnsemble"
	}

	fn output_facts(&self, inputs: &[(DatumType, TVec<TDim>)]) -> TractResult<TVec<TypedFact>> {
		let (dt, shape) = &inputs[0];
		if !matches!(dt, DatumType::F32 | DatumType::F64) {
			bail!("TreeEnsemble takes float or double, got {dt:?}");
		}
		let (n, _) = rows(shape)?;
		Ok(tvec!(TypedFact::dt_shape(*dt, [n, self.ensemble.targets.into()])))
	}

	fn eval(&self, inputs: &[&Tensor]) -> TractResult<TVec<Tensor>> {
		let x = inputs[0];
		let y = if x.datum_type() == DatumType::F64 {
			let (n, width, x) = f64_rows(x)?;
			self.finish(self.ensemble.scores(&x, n, width, self.aggregate)?, n, f64::from)?
		} else {
			let (n, width, x) = f32_rows(x)?;
			self.finish(self.ensemble.scores(&x, n, width, self.aggregate)?, n, |v| v)?
		};
		Ok(tvec!(y))
	}
}
