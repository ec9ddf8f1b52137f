//! `verinfer model check` and `verinfer model run`: the chain's engine on a local file, for model
//! owners before they register and for anyone checking a result.
//!
//! Both use the engine blob built into this binary unless `--engine` names another (the chain's
//! current blob, say), compiled once and kept in `~/.cache/verinfer/engine`. Errors are one line on stderr and a non-zero exit: 1 when the command could
//! not do its work, 2 when the engine refused the model.

use std::{path::PathBuf, str::FromStr};

use sp_core::Get;

use verinfer_executor::{
	cache::default_disk_dir,
	digest::hex,
	engine::{checked, Engine, HostError},
	local::{self, LocalError},
	ENGINE_BLOB,
};
use verinfer_formats::{json_npy, read_file, read_tensor, write_tensor, FileError};
use verinfer_primitives::{engine::EngineError, DeclaredShapes, Tensor};

/// `verinfer model …`
#[derive(Debug, clap::Subcommand)]
pub enum ModelCmd {
	/// Analyse an ONNX model as the chain does at registration: inputs and outputs, operators,
	/// parameters, static cost, and the verdict with every reason for a refusal.
	Check(CheckCmd),
	/// Run an ONNX model on input tensors (.json, .npy or ONNX .pb) with the chain's engine: the
	/// outputs and their SHA-256 are what the chain would record.
	Run(RunCmd),
	/// Register an ONNX model on a chain: uploaded in chunks, analysed by the chain's engine.
	Register(crate::owner::RegisterCmd),
	/// The models on a chain: id, status, fee, name and version.
	List(crate::owner::ListCmd),
	/// One model on a chain: owner, status, fee, analysis, call weight, hosts.
	Show(crate::owner::ShowCmd),
	/// Change what each call of your model pays.
	SetFee(crate::owner::SetFeeCmd),
	/// Stop new calls of your model; its stored results stay.
	Deprecate(crate::owner::DeprecateCmd),
}

/// `verinfer model check`
#[derive(Debug, clap::Args)]
pub struct CheckCmd {
	/// The ONNX model file.
	pub file: PathBuf,
	/// Declare the shape of an input the model leaves open, as INDEX=D0,D1,… (e.g. 0=1,3,224,224).
	#[arg(long = "shape", value_name = "INDEX=DIMS")]
	pub shapes: Vec<ShapeArg>,
	/// The headroom the model would be registered with (see `verinfer model register`).
	#[arg(long, value_name = "PERCENT", default_value_t = pallet_models::DEFAULT_HEADROOM_PERCENT)]
	pub headroom: u32,
	/// An engine blob to use instead of the one built into this binary.
	#[arg(long, value_name = "FILE")]
	pub engine: Option<PathBuf>,
}

/// `verinfer model run`
#[derive(Debug, clap::Args)]
pub struct RunCmd {
	/// The ONNX model file.
	pub file: PathBuf,
	/// One tensor file per model input, in order.
	#[arg(long = "input", value_name = "FILE", required = true, num_args = 1..)]
	pub inputs: Vec<PathBuf>,
	/// Write the outputs, in order, to these files (.json or .npy).
	#[arg(long = "out", value_name = "FILE", num_args = 1..)]
	pub outputs: Vec<PathBuf>,
	/// An engine blob to use instead of the one built into this binary.
	#[arg(long, value_name = "FILE")]
	pub engine: Option<PathBuf>,
}

/// `--shape INDEX=D0,D1,…`: the shape declared for one input.
#[derive(Debug, Clone)]
pub struct ShapeArg {
	pub index: usize,
	pub dims: Vec<u32>,
}

impl FromStr for ShapeArg {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		let usage = || format!("`{s}`: expected INDEX=D0,D1,… such as 0=1,3,224,224");
		let (index, dims) = s.split_once('=').ok_or_else(usage)?;
		let index: usize = index.trim().parse().map_err(|_| usage())?;
		let dims: Vec<u32> = dims
			.split(',')
			.map(|d| d.trim().parse::<u32>())
			.collect::<Result<_, _>>()
			.map_err(|_| usage())?;
		// The chain's bounds, checked here so that a typo is one line, not an allocation.
		let inputs = <pallet_models::MaxDeclaredInputs as Get<u32>>::get() as usize;
		if index >= inputs {
			return Err(format!("`{s}`: shapes can be declared for inputs 0 to {}", inputs - 1));
		}
		let rank = <pallet_models::MaxDeclaredRank as Get<u32>>::get() as usize;
		if dims.len() > rank {
			return Err(format!("`{s}`: a declared shape has at most {rank} dimensions"));
		}
		Ok(ShapeArg { index, dims })
	}
}

/// The declared shapes `shapes` give, one per input up to the last one named; the inputs between
/// keep the model's own, and a later `--shape` of an input replaces an earlier one. (The engine
/// wants a shape for every input when any is declared: it refuses a shorter list.)
pub fn declared(shapes: &[ShapeArg]) -> DeclaredShapes {
	let count = shapes.iter().map(|shape| shape.index + 1).max().unwrap_or(0);
	let mut declared = vec![None; count];
	for shape in shapes {
		declared[shape.index] = Some(shape.dims.clone());
	}
	declared
}

/// Outputs of at most this many elements are printed in full; larger ones in summary (use --out).
const PRINTED_ELEMENTS: u64 = 64;

/// Runs a `verinfer model` command; exits the process on failure, with the reason on stderr.
pub fn run(cmd: &ModelCmd) -> sc_cli::Result<()> {
	let outcome = match cmd {
		ModelCmd::Check(cmd) => check(cmd),
		ModelCmd::Run(cmd) => run_model(cmd),
		ModelCmd::Register(cmd) => {
			use crate::owner::{register, RegisterError};
			match crate::args::block_on_result(register(cmd)) {
				Ok(()) => return Ok(()),
				Err(RegisterError::Refused(reason)) => {
					eprintln!("error: the chain refused the model: {reason}");
					std::process::exit(2)
				},
				Err(RegisterError::Failed(error)) => {
					eprintln!("error: {error}");
					std::process::exit(1)
				},
			}
		},
		ModelCmd::List(_) | ModelCmd::Show(_) | ModelCmd::SetFee(_) | ModelCmd::Deprecate(_) => {
			crate::owner::run(cmd);
			return Ok(());
		},
	};
	match outcome {
		Ok(()) => Ok(()),
		Err(error) => {
			eprintln!("error: {error}");
			std::process::exit(match error {
				ModelError::Local(LocalError::Engine(EngineError::Refused(_))) => 2,
				_ => 1,
			})
		},
	}
}

/// Why `model check` or `model run` gave no report.
#[derive(Debug)]
enum ModelError {
	File(FileError),
	Local(LocalError),
}

impl std::fmt::Display for ModelError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			ModelError::File(error) => error.fmt(f),
			ModelError::Local(error) => error.fmt(f),
		}
	}
}

impl From<FileError> for ModelError {
	fn from(error: FileError) -> Self {
		ModelError::File(error)
	}
}

impl From<LocalError> for ModelError {
	fn from(error: LocalError) -> Self {
		ModelError::Local(error)
	}
}

impl From<HostError> for ModelError {
	fn from(error: HostError) -> Self {
		ModelError::Local(LocalError::Host(error))
	}
}

fn engine(path: &Option<PathBuf>) -> Result<Engine, ModelError> {
	let blob = match path {
		Some(path) => read_file(path)?,
		None => ENGINE_BLOB
			.ok_or_else(|| {
				HostError(
					"this binary was built without the engine blob (SKIP_WASM_BUILD); pass --engine"
						.into(),
				)
			})?
			.to_vec(),
	};
	Ok(Engine::compile(&checked(&blob)?, default_disk_dir().as_deref())?)
}

fn check(cmd: &CheckCmd) -> Result<(), ModelError> {
	let model = read_file(&cmd.file)?;
	let declared = declared(&cmd.shapes);
	let registration =
		<verinfer_runtime::Runtime as pallet_models::Config>::RegistrationLimits::get();
	let report = local::check(&engine(&cmd.engine)?, &model, &declared, registration)?;
	println!("{report}");
	if !report.analysis.is_accepted() {
		std::process::exit(2);
	}
	match on_chain(&report, cmd.headroom) {
		Ok(line) => println!("{line}"),
		Err(reason) => {
			println!("on chain    refused: {reason}");
			std::process::exit(2);
		},
	}
	Ok(())
}

/// What registering an accepted model and calling it weigh on this binary's runtime, and how
/// many calls fit in a block, or why the chain would refuse the model although the engine accepts
/// it.
fn on_chain(report: &local::CheckReport, headroom: u32) -> Result<String, String> {
	type Runtime = verinfer_runtime::Runtime;
	type Inference = pallet_inference::Pallet<Runtime>;
	let measured = report.measurement.as_ref().ok_or("the model was not measured")?;
	let measurement = match &measured.result {
		Ok(measurement) => measurement,
		Err(EngineError::OutOfFuel { limit }) => {
			return Err(format!(
				"measuring it (a load and two probe runs) needs more than the {limit} units of \
				 fuel a registration may use"
			))
		},
		Err(EngineError::MemoryLimitExceeded { limit }) => {
			return Err(format!(
				"measuring it (a load and two probe runs) needs more than the {limit} bytes of \
				 engine memory a registration may use"
			))
		},
		Err(error) => {
			return Err(format!("measuring it (a load and two probe runs) failed: {error}"))
		},
	};
	let cost = pallet_models::ModelCost::new(measurement, headroom);
	let size = u32::try_from(report.bytes).unwrap_or(u32::MAX);
	let call = Inference::call_info(&measurement.analysis, &cost, size);
	call.admitted.map_err(|reason| String::from_utf8_lossy(&reason).into_owned())?;
	let ms = |picoseconds: u64| picoseconds as f64 / 1e9;
	Ok(format!(
		"fuel        {} to load, {} for the costliest probe run, {} at most per call ({headroom} %)\n\
		 memory      {} bytes of image, {} at most per call\n\
		 call weight {:.2} ms charged, {:.2} ms after the refund of a call like the probes, \
		 {:.2} ms more for the first call in a block (loading)\n\
		 per block   {} calls",
		measurement.load.fuel,
		measurement.probe.fuel,
		cost.call.fuel,
		cost.image_bytes(),
		cost.call.memory,
		ms(call.run.ref_time()),
		ms(call.used.ref_time()),
		ms(call.load.ref_time()),
		call.calls_per_block
	))
}

fn run_model(cmd: &RunCmd) -> Result<(), ModelError> {
	let model = read_file(&cmd.file)?;
	let inputs = cmd.inputs.iter().map(|path| read_tensor(path)).collect::<Result<Vec<_>, _>>()?;
	let report = local::run(&engine(&cmd.engine)?, &model, &inputs)?;
	println!("{}", report.check);
	for (index, output) in report.outputs.iter().enumerate() {
		println!("output {index}    {}", describe(output));
		if let Some(path) = cmd.outputs.get(index) {
			write_tensor(path, output)?;
			println!("            written to {}", path.display());
		}
	}
	println!("outputs sha256 {}", hex(&report.outputs_hash));
	Ok(())
}

/// The tensor in JSON when small, else its dtype and shape.
pub fn describe(tensor: &Tensor) -> String {
	match tensor.element_count() {
		Ok(count) if count <= PRINTED_ELEMENTS => json_npy::to_json(tensor)
			.unwrap_or_else(|e| format!("{} {:?} ({e})", tensor.dtype.name(), tensor.shape)),
		_ => format!("{} {:?} (write it with --out)", tensor.dtype.name(), tensor.shape),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn shape_arguments_beyond_the_chains_bounds_are_one_line_errors() {
		let shape: ShapeArg = "1=1, 3,32,32".parse().expect("a valid shape");
		assert_eq!((shape.index, shape.dims), (1, vec![1, 3, 32, 32]));
		let inputs = "16=1".parse::<ShapeArg>().unwrap_err();
		assert!(inputs.contains("inputs 0 to 15"), "{inputs}");
		// Once `index + 1` overflowed, and a large index allocated a list of that length.
		assert!("18446744073709551615=1".parse::<ShapeArg>().is_err());
		assert!("1000000000=1".parse::<ShapeArg>().is_err());
		let rank = "0=1,1,1,1,1,1,1,1,1".parse::<ShapeArg>().unwrap_err();
		assert!(rank.contains("at most 8 dimensions"), "{rank}");
		assert!("0=1,x".parse::<ShapeArg>().unwrap_err().contains("expected INDEX=D0,D1"));
	}

	#[test]
	fn declared_shapes_fill_the_inputs_up_to_the_last_named_and_a_later_one_wins() {
		let shapes: Vec<ShapeArg> =
			["2=4", "0=1,2", "2=5"].iter().map(|s| s.parse().expect("valid")).collect();
		assert_eq!(declared(&shapes), vec![Some(vec![1, 2]), None, Some(vec![5])]);
		assert_eq!(declared(&[]), DeclaredShapes::new());
	}
}
