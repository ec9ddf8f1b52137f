//! Digests of the fixture corpus: the analysis and the outputs of every model, hashed, so that two
//! machines (or two code generators) can be compared line by line. `scripts/determinism.sh` runs
//! them on x86-64 with and without AVX and on aarch64; `tests/codegen.rs` in-process with other
//! code-generation settings.

use std::{fmt, path::Path, string::String, vec::Vec};

use codec::Encode;
use serde_json::Value;

use verinfer_executor::{
	digest::{hex, sha256},
	engine::{declared_as, Engine, HostError, Metered},
	stack::{deepest_recursion, NATIVE_BYTES_PER_SLOT, STACK_SLOTS},
};
use verinfer_fixtures::{cost_fixtures, manifest_inputs};
use verinfer_formats::{read_file, test_case, FileError};
use verinfer_primitives::{
	engine::{Limits, ModelCost, Usage, DEFAULT_HEADROOM_PERCENT},
	Tensor,
};

/// Why the digests could not be computed: a fixture could not be read, or the engine could not
/// run on this machine.
#[derive(Debug)]
pub enum DigestError {
	File(FileError),
	Host(HostError),
}

impl fmt::Display for DigestError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			DigestError::File(error) => error.fmt(f),
			DigestError::Host(error) => error.fmt(f),
		}
	}
}

impl From<FileError> for DigestError {
	fn from(error: FileError) -> Self {
		DigestError::File(error)
	}
}

impl From<HostError> for DigestError {
	fn from(error: HostError) -> Self {
		DigestError::Host(error)
	}
}

/// One model's digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
	pub model: String,
	/// SHA-256 of the SCALE-encoded analysis result (`Result<Analysis, EngineError>`); for the
	/// hostile-cost corpus, of the registration's measurement (`Result<Measurement, EngineError>`).
	pub analysis: [u8; 32],
	/// What analysing (measuring) used: fuel and memory, part of consensus as much as the result.
	pub analysis_usage: Usage,
	/// SHA-256 of the SCALE-encoded run result (`Result<Vec<Tensor>, EngineError>`), for models
	/// that have inputs.
	pub outputs: Option<[u8; 32]>,
	/// What the run used.
	pub run_usage: Option<Usage>,
	/// SHA-256 of the result and usage of the same run given half the fuel it needs (an
	/// `OutOfFuel` engine error), for models that run.
	pub starved: Option<[u8; 32]>,
}

impl fmt::Display for Digest {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let outputs = self.outputs.map_or_else(|| "-".into(), |h| hex(&h));
		let usage = |usage: Option<Usage>| {
			usage.map_or_else(|| "-".into(), |u| format!("fuel {} memory {}", u.fuel, u.memory))
		};
		let starved = self.starved.map_or_else(|| "-".into(), |h| hex(&h));
		write!(
			f,
			"{:<32} analysis {} ({}) outputs {} ({}) half-fuel {}",
			self.model,
			hex(&self.analysis),
			usage(Some(self.analysis_usage)),
			outputs,
			usage(self.run_usage),
			starved
		)
	}
}

/// Digests of every model in `fixtures/models/corpus.json` (analysed and run),
/// `fixtures/hostile/hostile.json` (analysed, and run where it has inputs) and
/// `fixtures/hostile/cost.json` (measured as registration does, and run where accepted), but
/// those in `skip`.
pub fn corpus_digests(
	engine: &Engine,
	fixtures: &Path,
	skip: &[String],
) -> Result<Vec<Digest>, DigestError> {
	let mut digests = Vec::new();
	for (dir, manifest, list, file) in [
		("models", "corpus.json", "models", "model"),
		("hostile", "hostile.json", "fixtures", "file"),
	] {
		let dir = fixtures.join(dir);
		let path = dir.join(manifest);
		let manifest: Value = serde_json::from_slice(&read_file(&path)?)
			.map_err(|e| FileError::format(&path, e.to_string()))?;
		for entry in manifest[list].as_array().into_iter().flatten() {
			let name = entry[file].as_str().unwrap_or_default().to_string();
			if skip.contains(&name) {
				continue;
			}
			let model = read_file(&dir.join(&name))?;
			let inputs = manifest_inputs(entry, &dir)?;
			let analysed = engine.analyse(&model, &[], Limits::LOAD)?;
			let analysis = sha256(&analysed.result.encode());
			let (outputs, run_usage, starved) = if inputs.is_empty() {
				(None, None, None)
			} else {
				ran(|limits| engine.run(&model, &inputs, limits), Limits::CALL)?
			};
			digests.push(Digest {
				model: name,
				analysis,
				analysis_usage: analysed.usage,
				outputs,
				run_usage,
				starved,
			});
		}
	}
	// The hostile-cost corpus as the chain meets it: measured within the registration's limits,
	// then, if accepted, run on its hostile inputs within the call limits the measurement gives.
	for fixture in cost_fixtures(fixtures)? {
		if skip.contains(&fixture.file) {
			continue;
		}
		let measured = engine.measure(&fixture.model, &[], Limits::REGISTRATION)?;
		let analysis =
			sha256(&measured.result.as_ref().map(|measured| &measured.measurement).encode());
		let (outputs, run_usage, starved) = match &measured.result {
			Err(_) => (None, None, None),
			Ok(done) => {
				let cost = ModelCost::new(&done.measurement, DEFAULT_HEADROOM_PERCENT);
				ran(|limits| done.loaded.run(&fixture.inputs, limits), cost.call)?
			},
		};
		digests.push(Digest {
			model: fixture.file,
			analysis,
			analysis_usage: measured.usage,
			outputs,
			run_usage,
			starved,
		});
	}
	Ok(digests)
}

/// Digests of every ONNX test case in `dir` (see [`verinfer_formats::test_case`]), as `model
/// test` runs them: analysed and loaded for the first data set's input shapes, run on each data
/// set. Named `DIR/CASE`, or `DIR/CASE#N` for the data sets after the first.
pub fn case_digests(engine: &Engine, dir: &Path) -> Result<Vec<Digest>, DigestError> {
	let mut digests = Vec::new();
	let suite = test_case::name(dir);
	for path in test_case::cases_in(dir).map_err(|e| FileError::format(dir, e))? {
		let case = test_case::read_inputs(&path).map_err(|e| FileError::format(&path, e))?;
		let Some(first) = case.data_sets.first() else { continue };
		let declared = declared_as(&first.inputs);
		let analysed = engine.analyse(&case.model, &declared, Limits::LOAD)?;
		let analysis = sha256(&analysed.result.encode());
		for (index, set) in case.data_sets.iter().enumerate() {
			let (outputs, run_usage, starved) =
				ran(|limits| engine.run(&case.model, &set.inputs, limits), Limits::CALL)?;
			let number = if index == 0 { String::new() } else { format!("#{index}") };
			digests.push(Digest {
				model: format!("{suite}/{}{number}", case.name),
				analysis,
				analysis_usage: analysed.usage,
				outputs,
				run_usage,
				starved,
			});
		}
	}
	Ok(digests)
}

/// The digests of a run within `limits` (outputs and usage), and of the same run given half the
/// fuel it used where it succeeded (an `OutOfFuel` engine error, stopped at the same operator
/// everywhere, with the same memory reached).
fn ran(
	run: impl Fn(Limits) -> Result<Metered<Vec<Tensor>>, HostError>,
	limits: Limits,
) -> Result<(Option<[u8; 32]>, Option<Usage>, Option<[u8; 32]>), HostError> {
	let ran = run(limits)?;
	let starved = match ran.result {
		Ok(_) => Some(run(Limits { fuel: ran.usage.fuel / 2, ..limits })?),
		Err(_) => None,
	};
	let starved = starved.map(|s| sha256(&(s.result, s.usage).encode()));
	Ok((Some(sha256(&ran.result.encode())), Some(ran.usage), starved))
}

/// The frame shapes of the depth-limit digests (see [`verinfer_executor::stack::recursion_module`]):
/// a minimal frame, vector locals, a deep operand stack, both.
pub const DEPTH_SHAPES: [(u32, u32); 4] = [(0, 0), (64, 0), (0, 64), (200, 200)];

/// One line per frame shape of [`DEPTH_SHAPES`]: its name (`stack-depth-LOCALSxOPERANDS`), how
/// deep the recursion went before the depth limit stopped it and the fuel the stopped call used,
/// compiled with `config` given half the engine's native stack (so that a machine whose frames
/// take more than [`NATIVE_BYTES_PER_SLOT`] fails here).
pub fn depth_digests(config: &wasmtime::Config) -> Result<Vec<String>, String> {
	let native = STACK_SLOTS as usize * NATIVE_BYTES_PER_SLOT;
	let mut config = config.clone();
	config.max_wasm_stack(native);
	std::thread::scope(|scope| {
		std::thread::Builder::new()
			.stack_size(native + (8 << 20))
			.spawn_scoped(scope, || {
				DEPTH_SHAPES
					.iter()
					.map(|&(locals, operands)| {
						let (deepest, fuel) =
							deepest_recursion(&config, locals, operands, STACK_SLOTS)?;
						let name = format!("stack-depth-{locals}x{operands}");
						Ok(format!("{name:<32} deepest {deepest} (fuel {fuel})"))
					})
					.collect()
			})
			.map_err(|e| e.to_string())?
			.join()
			.map_err(|_| "the recursion panicked".to_string())?
	})
}
