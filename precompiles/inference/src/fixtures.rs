//! The hostile-cost corpus (`scripts/fixtures/hostile/cost.json`, written by
//! `scripts/fixtures/generate.py`): models whose work is out of proportion to their size or to
//! their registration probe, each with the input an attacker would send. Registration must refuse
//! them, or charge calls at least the time they take: the tests check the first half, the prices
//! benchmark (`scripts/bench-prices.sh`) the second.

use std::{path::Path, string::String, vec::Vec};

use serde_json::Value;

use crate::{
	tool::{self, ToolError},
	Tensor,
};

/// One model of the hostile-cost corpus.
pub struct CostFixture {
	/// The file name, `x.onnx`.
	pub file: String,
	/// What the model does to whom.
	pub why: String,
	pub model: Vec<u8>,
	/// The hostile inputs.
	pub inputs: Vec<Tensor>,
	/// Whether registration must accept it (else refuse it, for fuel or memory).
	pub accepted: bool,
}

/// The tensors a manifest entry names in `inputs`, read from `dir`.
pub fn manifest_inputs(entry: &Value, dir: &Path) -> Result<Vec<Tensor>, ToolError> {
	entry["inputs"]
		.as_array()
		.into_iter()
		.flatten()
		.filter_map(Value::as_str)
		.map(|input| tool::read_tensor(&dir.join(input)))
		.collect()
}

/// The hostile-cost corpus under `fixtures` (`scripts/fixtures`), in manifest order.
pub fn cost_fixtures(fixtures: &Path) -> Result<Vec<CostFixture>, ToolError> {
	let dir = fixtures.join("hostile");
	let path = dir.join("cost.json");
	let malformed = |reason: String| ToolError::Tensor { path: path.display().to_string(), reason };
	let manifest: Value =
		serde_json::from_slice(&tool::read_file(&path)?).map_err(|e| malformed(e.to_string()))?;
	let text = |entry: &Value, key: &str| {
		entry[key].as_str().map(String::from).ok_or_else(|| malformed(format!("no `{key}`")))
	};
	let mut fixtures = Vec::new();
	for entry in manifest["fixtures"].as_array().into_iter().flatten() {
		let file = text(entry, "file")?;
		let accepted = match text(entry, "expect")?.as_str() {
			"accepted" => true,
			"refused" => false,
			other => return Err(malformed(format!("{file}: expect `{other}`"))),
		};
		let inputs = manifest_inputs(entry, &dir)?;
		fixtures.push(CostFixture {
			why: text(entry, "why")?,
			model: tool::read_file(&dir.join(&file))?,
			file,
			inputs,
			accepted,
		});
	}
	Ok(fixtures)
}
