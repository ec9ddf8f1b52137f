//! The library behind `verinfer model check` and `verinfer model run`: check or run an ONNX file
//! with the same engine blob the chain executes, and print what the chain would record.
//!
//! Tensor files are read by extension: `.json`, `.npy`, `.pb` (ONNX `TensorProto`); written as
//! `.json` or `.npy`. The output hash is [`outputs_hash`]: the SHA-256 of the SCALE-encoded output
//! tensors (dtype, shape and bytes of each), the value the chain stores beside a result.

use std::{fmt, path::Path, string::String, vec::Vec};

use crate::{
	analysis::{Analysis, TensorSpec},
	digest::sha256,
	engine::{EngineError, Limits, Measurement, Usage},
	host::{declared_as, Engine, HostError, Metered},
	tensor::Tensor,
	tensor_io, tensor_proto,
};

/// Why a check or run produced no report.
#[derive(Debug)]
pub enum ToolError {
	/// A file could not be read or written.
	Io { path: String, error: std::io::Error },
	/// A tensor file is not in a format we read, or not a valid tensor.
	Tensor { path: String, reason: String },
	/// The engine's deterministic verdict: what the chain would record.
	Engine(EngineError),
	/// The engine could not run on this machine.
	Host(HostError),
}

impl fmt::Display for ToolError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ToolError::Io { path, error } => write!(f, "{path}: {error}"),
			ToolError::Tensor { path, reason } => write!(f, "{path}: {reason}"),
			ToolError::Engine(error) => error.fmt(f),
			ToolError::Host(error) => error.fmt(f),
		}
	}
}

impl std::error::Error for ToolError {}

impl From<HostError> for ToolError {
	fn from(error: HostError) -> Self {
		ToolError::Host(error)
	}
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ToolError + '_ {
	move |error| ToolError::Io { path: path.display().to_string(), error }
}

/// Reads a file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ToolError> {
	std::fs::read(path).map_err(io(path))
}

/// Reads a tensor from a `.json`, `.npy` or `.pb` file.
pub fn read_tensor(path: &Path) -> Result<Tensor, ToolError> {
	let bytes = read_file(path)?;
	let tensor = |reason: String| ToolError::Tensor { path: path.display().to_string(), reason };
	match extension(path).as_str() {
		"json" => {
			let text = String::from_utf8(bytes).map_err(|_| tensor("not UTF-8".into()))?;
			tensor_io::from_json(&text).map_err(|e| tensor(e.to_string()))
		},
		"npy" => tensor_io::from_npy(&bytes).map_err(|e| tensor(e.to_string())),
		"pb" => tensor_proto::from_tensor_proto(&bytes).map_err(tensor),
		other => Err(tensor(format!("unknown tensor format `.{other}`: use .json, .npy or .pb"))),
	}
}

/// Writes a tensor as `.json` or `.npy`, by the path's extension.
pub fn write_tensor(path: &Path, tensor: &Tensor) -> Result<(), ToolError> {
	let fail = |reason: String| ToolError::Tensor { path: path.display().to_string(), reason };
	let bytes = match extension(path).as_str() {
		"json" => {
			(tensor_io::to_json(tensor).map_err(|e| fail(e.to_string()))? + "\n").into_bytes()
		},
		"npy" => tensor_io::to_npy(tensor).map_err(|e| fail(e.to_string()))?,
		other => return Err(fail(format!("cannot write `.{other}`: use .json or .npy"))),
	};
	std::fs::write(path, bytes).map_err(io(path))
}

fn extension(path: &Path) -> String {
	path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

/// What the chain stores as the hash of a call's `outputs` ([`verinfer_primitives::output_hash`]).
pub fn outputs_hash(outputs: &[Tensor]) -> [u8; 32] {
	verinfer_primitives::output_hash(outputs, sha256)
}

/// What `model check` reports.
#[derive(Clone, Debug)]
pub struct CheckReport {
	/// The model id: the SHA-256 of the file.
	pub model_id: [u8; 32],
	pub bytes: u64,
	pub analysis: Analysis,
	/// What registering the model measured, within the registration's limits, and what that
	/// used; `None` where the model was not measured (`model run`).
	pub measurement: Option<Metered<Measurement>>,
}

/// Measures `model` for the `declared` input shapes as registration does (one load, two probe
/// runs) within `limits`, the registration's; where the measurement fails (the engine refuses the
/// model, it runs out of fuel or memory, or fails on its probe inputs), analyses it within the
/// same limits, for what the analysis says: a check never does more work than a registration.
pub fn check(
	engine: &Engine,
	model: &[u8],
	declared: &[Option<Vec<u32>>],
	limits: Limits,
) -> Result<CheckReport, ToolError> {
	let measured = engine.measure(model, declared, limits)?;
	let usage = measured.usage;
	let (analysis, result) = match measured.result {
		Ok(done) => (done.measurement.analysis.clone(), Ok(done.measurement)),
		Err(error) => (
			engine.analyse(model, declared, limits)?.into_result().map_err(ToolError::Engine)?,
			Err(error),
		),
	};
	Ok(CheckReport {
		model_id: sha256(model),
		bytes: model.len() as u64,
		analysis,
		measurement: Some(Metered { result, usage }),
	})
}

/// What `model run` reports.
#[derive(Clone, Debug)]
pub struct RunReport {
	pub check: CheckReport,
	pub outputs: Vec<Tensor>,
	/// [`outputs_hash`] of the outputs.
	pub outputs_hash: [u8; 32],
	/// What loading the model used.
	pub load: Usage,
	/// What the run used.
	pub run: Usage,
}

/// Loads `model` for the inputs' shapes and runs it on them, each within the protocol's most
/// ([`Limits::LOAD`], [`Limits::CALL`]).
pub fn run(engine: &Engine, model: &[u8], inputs: &[Tensor]) -> Result<RunReport, ToolError> {
	let load = engine.load(model, &declared_as(inputs), Limits::LOAD)?;
	let loaded = load.result.map_err(ToolError::Engine)?;
	let run = loaded.run(inputs, Limits::CALL)?;
	let outputs = run.result.map_err(ToolError::Engine)?;
	let check = CheckReport {
		model_id: sha256(model),
		bytes: model.len() as u64,
		analysis: loaded.analysis().clone(),
		measurement: None,
	};
	Ok(RunReport {
		check,
		outputs_hash: outputs_hash(&outputs),
		outputs,
		load: load.usage,
		run: run.usage,
	})
}

/// `0x` and lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
	let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
	format!("0x{digits}")
}

fn spec_line(spec: &TensorSpec) -> String {
	format!("{} {} {:?}", String::from_utf8_lossy(&spec.name), spec.dtype.name(), spec.shape)
}

impl fmt::Display for CheckReport {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let analysis = &self.analysis;
		writeln!(f, "model id    {}", hex(&self.model_id))?;
		writeln!(f, "size        {} bytes", self.bytes)?;
		if analysis.is_accepted() {
			writeln!(f, "verdict     accepted")?;
		} else {
			writeln!(f, "verdict     refused")?;
			for refusal in &analysis.refusals {
				writeln!(f, "  - {refusal}")?;
			}
		}
		for (label, specs) in [("input", &analysis.inputs), ("output", &analysis.outputs)] {
			for spec in specs.iter() {
				writeln!(f, "{label:<12}{}", spec_line(spec))?;
			}
		}
		let operators: Vec<String> = analysis
			.operators
			.iter()
			.map(|o| format!("{} ×{}", String::from_utf8_lossy(&o.operator), o.count))
			.collect();
		writeln!(f, "operators   {}", operators.join(", "))?;
		writeln!(f, "nodes       {}", analysis.nodes)?;
		let cost = &analysis.cost;
		writeln!(f, "parameters  {} ({} bytes)", analysis.parameters, cost.parameter_bytes)?;
		write!(
			f,
			"cost        {} multiply-adds, {} elements touched, {} intermediate bytes",
			cost.multiply_adds, cost.elements_touched, cost.intermediate_bytes
		)
	}
}
