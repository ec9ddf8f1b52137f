//! Checks and runs a model with the engine outside the chain, as registration and a call do, and
//! reports what the chain would record: the library behind `verinfer model check` and
//! `verinfer model run`, the determinism harness and the tests.

use std::{fmt, string::String, vec::Vec};

use verinfer_primitives::{
	analysis::{Analysis, TensorSpec},
	engine::{EngineError, Limits, Measurement, Usage},
	tensor::Tensor,
	DeclaredShape,
};

use crate::{
	digest::{hex, outputs_hash, sha256},
	engine::{declared_as, Engine, HostError, Metered},
};

/// Why a check or run produced no report.
#[derive(Debug)]
pub enum LocalError {
	/// The engine's deterministic verdict: what the chain would record.
	Engine(EngineError),
	/// The engine could not run on this machine.
	Host(HostError),
}

impl fmt::Display for LocalError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			LocalError::Engine(error) => error.fmt(f),
			LocalError::Host(error) => error.fmt(f),
		}
	}
}

impl std::error::Error for LocalError {}

impl From<HostError> for LocalError {
	fn from(error: HostError) -> Self {
		LocalError::Host(error)
	}
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
	declared: &[DeclaredShape],
	limits: Limits,
) -> Result<CheckReport, LocalError> {
	let measured = engine.measure(model, declared, limits)?;
	let usage = measured.usage;
	let (analysis, result) = match measured.result {
		Ok(done) => (done.measurement.analysis.clone(), Ok(done.measurement)),
		Err(error) => (
			engine.analyse(model, declared, limits)?.into_result().map_err(LocalError::Engine)?,
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
pub fn run(engine: &Engine, model: &[u8], inputs: &[Tensor]) -> Result<RunReport, LocalError> {
	let load = engine.load(model, &declared_as(inputs), Limits::LOAD)?;
	let loaded = load.result.map_err(LocalError::Engine)?;
	let run = loaded.run(inputs, Limits::CALL)?;
	let outputs = run.result.map_err(LocalError::Engine)?;
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
