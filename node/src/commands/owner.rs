//! A model owner's commands against a chain: `verinfer model register|list|show|set-fee|deprecate`.
//!
//! `register` uploads the file in one `models.register` call when it fits one chunk, else as
//! `begin_upload`, one `upload_chunk` per chunk (progress on stderr) and `finalize`; the chain's
//! engine analyses it and the command prints the model id, or why the chain refused it (exit
//! status 2). `list` and `show` read the node's `models_*` and `hosts_list` JSON-RPC methods.
//! Every command that signs waits until its block is final.

use std::path::PathBuf;

use sp_core::H256;
use verinfer_client::{
	api::{ModelInfo, ModelState, SpecInfo},
	Client, ClientError,
};
use verinfer_executor::digest::{hex, model_id};
use verinfer_formats::read_file;
use verinfer_runtime::{RuntimeCall, RuntimeEvent};

use super::{
	args::{declared, Amount, NodeArgs, ShapeArg, SignerArgs, Tokens, FINAL_TIMEOUT},
	Failure,
};

/// The runtime's chunk size (`pallet_models::Config::ChunkSize`).
const CHUNK: usize = 1 << 20;

/// Chunks waiting in the pool at once: 8 MiB, two blocks' worth (a block's 5 MiB, three quarters
/// of it for transactions, takes 3), well under the pool's default 20 MiB of ready transactions.
const CHUNKS_IN_POOL: usize = 8;

/// `verinfer model register`
#[derive(Debug, clap::Args)]
// `--version` is the model's here, not the binary's.
#[command(disable_version_flag = true)]
pub struct RegisterCmd {
	/// The ONNX model file.
	pub file: PathBuf,
	/// The model's name (UTF-8, at most 64 bytes).
	#[arg(long)]
	pub name: String,
	/// Its semantic version.
	#[arg(long, default_value = "1.0.0")]
	pub version: String,
	/// A description (UTF-8, at most 1 KiB).
	#[arg(long, default_value = "")]
	pub description: String,
	/// What each call pays the owner and hosts: plancks, or VINF as `0.001VINF`.
	#[arg(long, value_name = "AMOUNT", default_value = "0")]
	pub fee: Amount,
	/// Declare the shape of an input the model leaves open, as INDEX=D0,D1,….
	#[arg(long = "shape", value_name = "INDEX=DIMS")]
	pub shapes: Vec<ShapeArg>,
	/// The fuel and memory growth a call may use, in per cent of what the model used on the
	/// chain's probe inputs (`verinfer model check` shows both). Raise it for models whose work
	/// depends on their inputs (trees, loops, conditionals).
	#[arg(long, value_name = "PERCENT", default_value_t = pallet_models::DEFAULT_HEADROOM_PERCENT)]
	pub headroom: u32,
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// Registers the model; prints its id.
pub async fn register(cmd: &RegisterCmd) -> Result<(), Failure> {
	let signer = cmd.signer.pair()?;
	let bytes = read_file(&cmd.file)?;
	let id = model_id(&bytes);
	let too_long = |what: &str| ClientError(format!("the {what} is too long"));
	let metadata = pallet_models::ModelMetadata {
		name: cmd.name.as_bytes().to_vec().try_into().map_err(|_| too_long("name"))?,
		version: cmd.version.as_bytes().to_vec().try_into().map_err(|_| too_long("version"))?,
		description: cmd
			.description
			.as_bytes()
			.to_vec()
			.try_into()
			.map_err(|_| too_long("description"))?,
	};
	let declared =
		pallet_models::Pallet::<verinfer_runtime::Runtime>::stored_shapes(declared(&cmd.shapes))
			.ok_or_else(|| too_long("list of declared shapes"))?;

	let node = Client::connect(&cmd.node.url).await?;
	let model_id = hex(&id.0);
	if node.model(id).await?.is_some() {
		return Err(ClientError(format!("model {model_id} is already on this chain")).into());
	}
	let size = u32::try_from(bytes.len()).map_err(|_| too_long("model"))?;
	let events = if bytes.len() <= CHUNK {
		let call = RuntimeCall::Models(pallet_models::Call::register {
			metadata,
			fee: cmd.fee.0,
			declared,
			headroom_percent: cmd.headroom,
			bytes: bytes.try_into().map_err(|_| too_long("model"))?,
		});
		node.submit(&signer, call, FINAL_TIMEOUT).await?.events
	} else {
		let begin = RuntimeCall::Models(pallet_models::Call::begin_upload {
			id,
			size,
			metadata,
			fee: cmd.fee.0,
			declared,
			headroom_percent: cmd.headroom,
		});
		node.submit(&signer, begin, FINAL_TIMEOUT).await?;
		let chunks = bytes.len().div_ceil(CHUNK);
		let calls = bytes
			.chunks(CHUNK)
			.enumerate()
			.map(|(index, chunk)| {
				Ok(RuntimeCall::Models(pallet_models::Call::upload_chunk {
					id,
					index: index as u32,
					bytes: chunk.to_vec().try_into().map_err(|_| too_long("chunk"))?,
				}))
			})
			.collect::<Result<Vec<_>, Failure>>()?;
		// Chunks go in as fast as blocks take them; the timeout grows with the upload.
		let timeout = FINAL_TIMEOUT * (1 + chunks as u32 / CHUNKS_IN_POOL as u32);
		node.submit_all(&signer, calls, CHUNKS_IN_POOL, timeout, |index| {
			progress(index + 1, chunks, bytes.len())
		})
		.await?;
		let finalize = RuntimeCall::Models(pallet_models::Call::finalize { id });
		node.submit(&signer, finalize, FINAL_TIMEOUT).await?.events
	};
	for event in events {
		match event {
			RuntimeEvent::Models(pallet_models::Event::ModelRegistered {
				multiply_adds, ..
			}) => {
				println!("model id    {model_id}");
				println!("cost        {multiply_adds} multiply-adds");
				return Ok(());
			},
			RuntimeEvent::Models(pallet_models::Event::ModelRefused { reason, .. }) => {
				let reason = String::from_utf8_lossy(&reason);
				return Err(Failure::Refused(format!("the chain refused the model: {reason}")));
			},
			_ => {},
		}
	}
	Err(ClientError("the block holds neither ModelRegistered nor ModelRefused".into()).into())
}

/// Reports an uploaded chunk on stderr: a bar redrawn in place on a terminal, a line otherwise
/// (logs, pipes).
fn progress(done: usize, chunks: usize, size: usize) {
	use std::io::{IsTerminal, Write};
	let mut stderr = std::io::stderr();
	if !stderr.is_terminal() {
		eprintln!("uploaded chunk {done}/{chunks}");
		return;
	}
	const WIDTH: usize = 30;
	let filled = WIDTH * done / chunks;
	let sent = (done * CHUNK).min(size) as f64 / 1e6;
	let _ = write!(
		stderr,
		"\ruploading [{}{}] {done}/{chunks} chunks, {sent:.1}/{:.1} MB",
		"#".repeat(filled),
		" ".repeat(WIDTH - filled),
		size as f64 / 1e6
	);
	if done == chunks {
		let _ = writeln!(stderr);
	}
	let _ = stderr.flush();
}

/// `verinfer model list`
#[derive(Debug, clap::Args)]
pub struct ListCmd {
	#[command(flatten)]
	pub node: NodeArgs,
}

/// `verinfer model show`
#[derive(Debug, clap::Args)]
pub struct ShowCmd {
	/// The model's id (0x…).
	pub id: H256,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// `verinfer model set-fee`
#[derive(Debug, clap::Args)]
pub struct SetFeeCmd {
	/// The model's id (0x…).
	pub id: H256,
	/// What each call pays from now on: plancks, or VINF as `0.001VINF`.
	pub fee: Amount,
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// `verinfer model deprecate`
#[derive(Debug, clap::Args)]
pub struct DeprecateCmd {
	/// The model's id (0x…).
	pub id: H256,
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// A model's status in a word: `active`, `deprecated`, `uploading (2/3 chunks)`.
fn status(model: &ModelInfo) -> String {
	match model.status {
		ModelState::Active => "active".into(),
		ModelState::Deprecated => "deprecated".into(),
		ModelState::Uploading { received, expires_at } => format!(
			"uploading ({received}/{} chunks, expires at block #{expires_at})",
			model.chunks
		),
	}
}

pub async fn list(cmd: &ListCmd) -> Result<(), ClientError> {
	let node = Client::connect(&cmd.node.url).await?;
	let models = node.models().await?;
	if models.is_empty() {
		println!("no models on this chain");
		return Ok(());
	}
	println!("{:<66}  {:<10}  {:>20}  name", "id", "status", "fee");
	for model in models {
		let state = match model.status {
			ModelState::Uploading { .. } => "uploading".into(),
			_ => status(&model),
		};
		println!(
			"{:<66}  {state:<10}  {:>20}  {} {}",
			hex(&model.id.0),
			Tokens(model.fee).to_string(),
			model.name,
			model.version,
		);
	}
	Ok(())
}

/// `name dtype [shape]` of a tensor spec.
fn spec(spec: &SpecInfo) -> String {
	let dims: Vec<String> = spec.shape.iter().map(u32::to_string).collect();
	format!("{} {} [{}]", spec.name, spec.dtype, dims.join(", "))
}

pub async fn show(cmd: &ShowCmd) -> Result<(), ClientError> {
	let node = Client::connect(&cmd.node.url).await?;
	let id = hex(&cmd.id.0);
	let Some(model) = node.model(cmd.id).await? else {
		return Err(ClientError(format!("no model {id} on this chain")));
	};
	println!("model id    {id}");
	println!("name        {} {}", model.name, model.version);
	if !model.description.is_empty() {
		println!("description {}", model.description);
	}
	println!("owner       {}", model.owner);
	println!("status      {}", status(&model));
	println!("fee         {}", Tokens(model.fee));
	let plural = if model.chunks == 1 { "" } else { "s" };
	println!("size        {} bytes in {} chunk{plural}", model.size, model.chunks);
	println!("deposit     {}", Tokens(model.deposit));
	println!("created at  block #{}", model.created_at);
	if let Some(analysis) = &model.analysis {
		for input in &analysis.inputs {
			println!("input       {}", spec(input));
		}
		for output in &analysis.outputs {
			println!("output      {}", spec(output));
		}
		let operators: Vec<String> =
			analysis.operators.iter().map(|o| format!("{} ×{}", o.operator, o.count)).collect();
		println!("operators   {}", operators.join(", "));
		println!(
			"cost        {} multiply-adds, {} elements touched",
			analysis.cost.multiply_adds, analysis.cost.elements_touched
		);
	}
	if let Some(weight) = model.call_weight {
		// Picoseconds of reference time as milliseconds.
		println!("call weight {:.2} ms", weight.ref_time as f64 / 1e9);
	}
	let hosts = node.hosts(Some(cmd.id)).await?;
	if hosts.is_empty() {
		println!("hosts       none (the owner receives the whole fee)");
	}
	for host in hosts {
		println!("host        {} bonded {} {}", host.account, Tokens(host.active), host.endpoint);
	}
	Ok(())
}

pub async fn set_fee(cmd: &SetFeeCmd) -> Result<(), ClientError> {
	let signer = cmd.signer.pair()?;
	let node = Client::connect(&cmd.node.url).await?;
	let call = RuntimeCall::Models(pallet_models::Call::set_fee { id: cmd.id, fee: cmd.fee.0 });
	let included = node.submit(&signer, call, FINAL_TIMEOUT).await?;
	println!("model {} now costs {} a call", hex(&cmd.id.0), Tokens(cmd.fee.0));
	println!("block       {}", hex(&included.block.0));
	Ok(())
}

pub async fn deprecate(cmd: &DeprecateCmd) -> Result<(), ClientError> {
	let signer = cmd.signer.pair()?;
	let node = Client::connect(&cmd.node.url).await?;
	let call = RuntimeCall::Models(pallet_models::Call::deprecate { id: cmd.id });
	let included = node.submit(&signer, call, FINAL_TIMEOUT).await?;
	println!("model {} is deprecated: it takes no new calls", hex(&cmd.id.0));
	println!("block       {}", hex(&included.block.0));
	Ok(())
}
