//! ONNX test cases: a directory with `model.onnx` and `test_data_set_N/` folders of
//! `input_K.pb` and `output_K.pb` (`TensorProto`s, numbered in the graph's order), as
//! `onnx.backend.test`'s own cases, exporters and `fixtures/zoo` write them.

use std::{
	path::{Path, PathBuf},
	string::{String, ToString},
	vec::Vec,
};

use verinfer_primitives::tensor::Tensor;

use crate::{read_file, read_tensor};

/// One test case, read.
pub struct TestCase {
	/// The directory's name.
	pub name: String,
	/// The bytes of `model.onnx`.
	pub model: Vec<u8>,
	/// Its data sets in order: for each, the inputs and the expected outputs.
	pub data_sets: Vec<DataSet>,
}

/// One `test_data_set_N` folder.
pub struct DataSet {
	pub inputs: Vec<Tensor>,
	pub outputs: Vec<Tensor>,
}

/// A case's name: its directory's.
pub fn name(dir: &Path) -> String {
	dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into())
}

/// Reads the case in `dir`; `Err` says what could not be read (a missing file, a tensor of a
/// type the chain's tensors do not carry, a sequence).
pub fn read(dir: &Path) -> Result<TestCase, String> {
	read_sets(dir, true)
}

/// Reads the case in `dir` without its expected outputs (each data set's `outputs` is empty):
/// what running it needs, whatever the reference holds.
pub fn read_inputs(dir: &Path) -> Result<TestCase, String> {
	read_sets(dir, false)
}

fn read_sets(dir: &Path, expected: bool) -> Result<TestCase, String> {
	let model = read_file(&dir.join("model.onnx")).map_err(|e| e.to_string())?;
	let mut data_sets = Vec::new();
	for set in numbered(dir, "test_data_set_")? {
		let read = |prefix: &str| -> Result<Vec<Tensor>, String> {
			numbered(&set, prefix)?
				.iter()
				.map(|path| read_tensor(path).map_err(|e| e.to_string()))
				.collect()
		};
		let outputs = if expected { read("output_")? } else { Vec::new() };
		data_sets.push(DataSet { inputs: read("input_")?, outputs });
	}
	Ok(TestCase { name: name(dir), model, data_sets })
}

/// The directories directly under `dir` that hold a `model.onnx`, by name.
pub fn cases_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
	let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
	let mut cases = Vec::new();
	for entry in entries {
		let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
		if path.join("model.onnx").is_file() {
			cases.push(path);
		}
	}
	cases.sort();
	Ok(cases)
}

/// The entries of `dir` named `PREFIX<number>` (any extension), in the numbers' order.
fn numbered(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>, String> {
	let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
	let mut found = Vec::new();
	for entry in entries {
		let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
		let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
		if let Some(Ok(number)) = stem.strip_prefix(prefix).map(str::parse::<u32>) {
			found.push((number, path));
		}
	}
	found.sort();
	Ok(found.into_iter().map(|(_, path)| path).collect())
}
