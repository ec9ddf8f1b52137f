//! `verinfer infer` and `verinfer result`: a dApp's calls from the command line, against a node
//! over JSON-RPC. `infer` signs and submits `inference.infer` with input tensors from files;
//! `result` reads a stored result. Outputs print as `verinfer model run` prints them and can be
//! written to `.json` / `.npy` files. Errors are one line on stderr and exit status 1.

use std::path::PathBuf;

use sp_core::H256;
use verinfer_client::{api, Client, ClientError};
use verinfer_executor::digest::hex;
use verinfer_formats::{read_tensor, write_tensor};
use verinfer_primitives::tensor::Tensor;
use verinfer_runtime::{RuntimeCall, RuntimeEvent};

use super::{
	args::{Amount, NodeArgs, SignerArgs, Tokens, FINAL_TIMEOUT},
	finish_async, Failure,
};

/// `verinfer infer`
#[derive(Debug, clap::Args)]
pub struct InferCmd {
	/// The model's id (0x…, the SHA-256 of its file).
	#[arg(long)]
	pub model: H256,
	/// One tensor file per model input, in order (.json, .npy or ONNX .pb).
	#[arg(long = "input", value_name = "FILE", required = true, num_args = 1..)]
	pub inputs: Vec<PathBuf>,
	/// Write the outputs, in order, to these files (.json or .npy); needs `--wait`.
	#[arg(long = "out", value_name = "FILE", num_args = 1.., requires = "wait")]
	pub outputs: Vec<PathBuf>,
	/// The most the call may pay the model (plancks, or VINF as `0.01VINF`); by default the
	/// model's fee now.
	#[arg(long, value_name = "AMOUNT")]
	pub max_fee: Option<Amount>,
	/// Wait for the block that includes the call and print the result; otherwise print the
	/// transaction hash once the node accepted it.
	#[arg(long)]
	pub wait: bool,
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// `verinfer result`
#[derive(Debug, clap::Args)]
pub struct ResultCmd {
	/// The request id `infer` printed.
	pub request_id: u64,
	/// Write the outputs, in order, to these files (.json or .npy).
	#[arg(long = "out", value_name = "FILE", num_args = 1..)]
	pub outputs: Vec<PathBuf>,
	#[command(flatten)]
	pub node: NodeArgs,
}

pub fn run_infer(cmd: &InferCmd) -> sc_cli::Result<()> {
	finish_async(infer(cmd))
}

pub fn run_result(cmd: &ResultCmd) -> sc_cli::Result<()> {
	finish_async(result(cmd))
}

async fn infer(cmd: &InferCmd) -> Result<(), Failure> {
	let signer = cmd.signer.pair()?;
	let inputs = cmd.inputs.iter().map(|path| read_tensor(path)).collect::<Result<Vec<_>, _>>()?;
	let node = Client::connect(&cmd.node.url).await?;
	let max_fee = match cmd.max_fee {
		Some(Amount(fee)) => fee,
		None => match node.model(cmd.model).await? {
			Some(model) => model.fee,
			None => {
				let id = hex(&cmd.model.0);
				return Err(ClientError(format!("no model {id} on this chain")).into());
			},
		},
	};
	let call =
		RuntimeCall::Inference(pallet_inference::Call::infer { model: cmd.model, inputs, max_fee });
	if !cmd.wait {
		let tx_hash = node.submit_only(&signer, call).await?;
		println!("submitted   {}", hex(&tx_hash.0));
		return Ok(());
	}
	let included = node.submit(&signer, call, FINAL_TIMEOUT).await?;
	let completed = included.events.iter().find_map(|event| match event {
		RuntimeEvent::Inference(pallet_inference::Event::InferenceCompleted {
			request_id,
			fee,
			output_hash,
			outputs,
			..
		}) => Some((*request_id, *fee, *output_hash, outputs.clone())),
		_ => None,
	});
	let Some((request_id, fee, output_hash, outputs)) = completed else {
		return Err(ClientError("the block holds no InferenceCompleted for the call".into()).into());
	};
	let outputs = match outputs {
		Some(outputs) => outputs,
		// Too large for the event: read the stored result at the call's block.
		None => {
			let stored = node.result(request_id, Some(included.block)).await?.ok_or_else(|| {
				ClientError(format!("no result {request_id} in the call's block"))
			})?;
			api::tensors(stored.outputs)
		},
	};
	println!("request id  {request_id}");
	println!("block       {}", hex(&included.block.0));
	println!("fee paid    {}", Tokens(fee));
	print_outputs(&outputs, &cmd.outputs)?;
	println!("outputs sha256 {}", hex(&output_hash.0));
	Ok(())
}

async fn result(cmd: &ResultCmd) -> Result<(), Failure> {
	let node = Client::connect(&cmd.node.url).await?;
	let Some(stored) = node.result(cmd.request_id, None).await? else {
		return Err(ClientError(format!(
			"no result {} on this chain (never made, or older than the retention period)",
			cmd.request_id
		))
		.into());
	};
	println!("request id  {}", cmd.request_id);
	println!("model       {}", hex(&stored.model.0));
	println!("caller      {}", stored.caller);
	println!("block       {}", stored.at);
	println!("fee paid    {}", Tokens(stored.fee));
	print_outputs(&api::tensors(stored.outputs), &cmd.outputs)?;
	println!("outputs sha256 {}", hex(&stored.output_hash.0));
	Ok(())
}

fn print_outputs(outputs: &[Tensor], files: &[PathBuf]) -> Result<(), Failure> {
	for (index, output) in outputs.iter().enumerate() {
		println!("output {index}    {}", super::model::describe(output));
		if let Some(path) = files.get(index) {
			write_tensor(path, output)?;
			println!("            written to {}", path.display());
		}
	}
	Ok(())
}
