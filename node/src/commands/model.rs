//! `verinfer model check` and `verinfer model run` (and `model test`, in [`conformance`](super::conformance)): the chain's engine on a local file, for model
//! owners before they register and for anyone checking a result.
//!
//! Both use the engine blob built into this binary unless `--engine` names another (the chain's
//! current blob, say), compiled once and kept in `~/.cache/verinfer/engine`. Exit status as
//! [`Failure`] says: 2 when the engine refuses the model, or the chain would.

use std::path::PathBuf;

use verinfer_executor::{
	cache::default_disk_dir,
	digest::hex,
	engine::{checked, Engine, HostError},
	local, ENGINE_BLOB,
};
use verinfer_formats::{json_npy, proto, read_file, read_tensor, write_tensor};
use verinfer_primitives::{engine::EngineError, Tensor};

use super::{
	args::{declared, ShapeArg},
	finish, finish_async, owner, Failure,
};

/// `verinfer model …`
#[derive(Debug, clap::Subcommand)]
pub enum ModelCmd {
	/// Analyse an ONNX model as the chain does at registration: inputs and outputs, operators,
	/// parameters, static cost, and the verdict with every reason for a refusal.
	Check(CheckCmd),
	/// Run an ONNX model on input tensors (.json, .npy or ONNX .pb) with the chain's engine: the
	/// outputs and their SHA-256 are what the chain would record.
	Run(RunCmd),
	/// Run ONNX test cases (model.onnx and test_data_set_N/ of input_K.pb and output_K.pb, as
	/// ONNX's backend tests and exporters write them) with the chain's engine, and compare the
	/// outputs with the expected ones within a tolerance.
	Test(super::conformance::TestCmd),
	/// Make inputs of an ONNX model constants of it (parameters an exporter left as graph inputs:
	/// axes, shapes, scales), so that the engine can fix every shape at registration.
	Freeze(FreezeCmd),
	/// Register an ONNX model on a chain: uploaded in chunks, analysed by the chain's engine.
	Register(owner::RegisterCmd),
	/// The models on a chain: id, status, fee, name and version.
	List(owner::ListCmd),
	/// One model on a chain: owner, status, fee, analysis, call weight, hosts.
	Show(owner::ShowCmd),
	/// Change what each call of your model pays.
	SetFee(owner::SetFeeCmd),
	/// Stop new calls of your model; its stored results stay.
	Deprecate(owner::DeprecateCmd),
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

/// `verinfer model freeze`
#[derive(Debug, clap::Args)]
pub struct FreezeCmd {
	/// The ONNX model file.
	pub file: PathBuf,
	/// An input to make a constant, as NAME=FILE (a tensor file: .json, .npy or .pb).
	#[arg(long = "input", value_name = "NAME=FILE", required = true, num_args = 1..)]
	pub inputs: Vec<String>,
	/// Where to write the model.
	#[arg(long, value_name = "FILE")]
	pub out: PathBuf,
}

/// Outputs of at most this many elements are printed in full; larger ones in summary (use --out).
const PRINTED_ELEMENTS: u64 = 64;

/// Runs a `verinfer model` command.
pub fn run(cmd: &ModelCmd) -> sc_cli::Result<()> {
	match cmd {
		ModelCmd::Check(cmd) => finish(check(cmd)),
		ModelCmd::Run(cmd) => finish(run_model(cmd)),
		ModelCmd::Test(cmd) => finish(super::conformance::test(cmd)),
		ModelCmd::Freeze(cmd) => finish(freeze(cmd)),
		ModelCmd::Register(cmd) => finish_async(owner::register(cmd)),
		ModelCmd::List(cmd) => finish_async(owner::list(cmd)),
		ModelCmd::Show(cmd) => finish_async(owner::show(cmd)),
		ModelCmd::SetFee(cmd) => finish_async(owner::set_fee(cmd)),
		ModelCmd::Deprecate(cmd) => finish_async(owner::deprecate(cmd)),
	}
}

/// The engine blob `--engine` names, else the one built into this binary, compiled.
pub(super) fn engine(path: &Option<PathBuf>) -> Result<Engine, Failure> {
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

fn check(cmd: &CheckCmd) -> Result<(), Failure> {
	let model = read_file(&cmd.file)?;
	let declared = declared(&cmd.shapes);
	let registration =
		<verinfer_runtime::Runtime as pallet_models::Config>::RegistrationLimits::get();
	let report = local::check(&engine(&cmd.engine)?, &model, &declared, registration)?;
	println!("{report}");
	if !report.analysis.is_accepted() {
		return Err(Failure::Refused("the engine refuses the model".into()));
	}
	match on_chain(&report, cmd.headroom) {
		Ok(line) => println!("{line}"),
		Err(reason) => {
			println!("on chain    refused: {reason}");
			return Err(Failure::Refused("the chain would refuse the model".into()));
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

fn run_model(cmd: &RunCmd) -> Result<(), Failure> {
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

fn freeze(cmd: &FreezeCmd) -> Result<(), Failure> {
	let model = read_file(&cmd.file)?;
	let values = cmd
		.inputs
		.iter()
		.map(|arg| {
			let (name, path) = arg
				.split_once('=')
				.ok_or_else(|| Failure::Failed(format!("`{arg}`: expected NAME=FILE")))?;
			Ok((name.to_string(), read_tensor(path.as_ref())?))
		})
		.collect::<Result<Vec<_>, Failure>>()?;
	let frozen = proto::freeze(&model, &values).map_err(Failure::Failed)?;
	std::fs::write(&cmd.out, &frozen)
		.map_err(|e| Failure::Failed(format!("{}: {e}", cmd.out.display())))?;
	let left = proto::model_inputs(&frozen).map_err(Failure::Failed)?;
	println!("model id    {}", hex(&verinfer_executor::digest::sha256(&frozen)));
	println!("inputs      {}", left.join(", "));
	println!("written to  {}", cmd.out.display());
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
