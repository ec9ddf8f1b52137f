//! `verinfer model register`: a model owner's registration from the command line. The file goes
//! up in one `models.register` call when it fits one chunk, else as `begin_upload`, one
//! `upload_chunk` per chunk (progress on stderr) and `finalize`; the chain's engine analyses it and
//! the command prints the model id, or why the chain refused it (exit status 2).

use std::{path::PathBuf, time::Duration};

use verinfer_precompile::{cache::sha256, tool};
use verinfer_runtime::{RuntimeCall, RuntimeEvent};

use crate::{
	client::{self, Client, ClientError},
	infer::NodeArgs,
	model::DeclaredShape,
};

/// How long each extrinsic may take to be included.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);
/// The runtime's chunk size (`pallet_models::Config::ChunkSize`).
const CHUNK: usize = 1 << 20;

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
	/// What each call pays, in plancks.
	#[arg(long, default_value_t = 0)]
	pub fee: u128,
	/// Declare the shape of an input the model leaves open, as INDEX=D0,D1,….
	#[arg(long = "shape", value_name = "INDEX=DIMS")]
	pub shapes: Vec<DeclaredShape>,
	/// The owner's secret URI (`//Alice`, a mnemonic, a 0x seed).
	#[arg(long, value_name = "SURI")]
	pub suri: String,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// Why registration did not happen.
pub enum RegisterError {
	/// The command could not do its work.
	Failed(ClientError),
	/// The chain's engine (or its limits) refused the model.
	Refused(String),
}

impl From<ClientError> for RegisterError {
	fn from(error: ClientError) -> Self {
		RegisterError::Failed(error)
	}
}

/// Registers the model; prints its id.
pub async fn register(cmd: &RegisterCmd) -> Result<(), RegisterError> {
	let signer = client::pair(&cmd.suri)?;
	let bytes = tool::read_file(&cmd.file).map_err(|e| ClientError(e.to_string()))?;
	let id = sp_core::H256(sha256(&bytes));
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
	let count = cmd.shapes.iter().map(|shape| shape.index + 1).max().unwrap_or(0);
	let mut declared: Vec<pallet_models::DeclaredShape> = vec![None; count];
	for shape in &cmd.shapes {
		declared[shape.index] =
			Some(shape.dims.clone().try_into().map_err(|_| too_long("declared shape"))?);
	}
	let declared: pallet_models::DeclaredShapes =
		declared.try_into().map_err(|_| too_long("list of declared shapes"))?;

	let node = Client::connect(&cmd.node.url).await?;
	let model_id = tool::hex(&id.0);
	let existing = node.call("models_get", jsonrpsee::rpc_params![&model_id]).await?;
	if !existing.is_null() {
		return Err(ClientError(format!("model {model_id} is already on this chain")).into());
	}
	let size = u32::try_from(bytes.len()).map_err(|_| too_long("model"))?;
	let events = if bytes.len() <= CHUNK {
		let call = RuntimeCall::Models(pallet_models::Call::register {
			metadata,
			fee: cmd.fee,
			declared,
			bytes: bytes.try_into().map_err(|_| too_long("model"))?,
		});
		node.submit(&signer, call, INCLUSION_TIMEOUT).await?.events
	} else {
		let begin = RuntimeCall::Models(pallet_models::Call::begin_upload {
			id,
			size,
			metadata,
			fee: cmd.fee,
			declared,
		});
		node.submit(&signer, begin, INCLUSION_TIMEOUT).await?;
		let chunks = bytes.len().div_ceil(CHUNK);
		for (index, chunk) in bytes.chunks(CHUNK).enumerate() {
			let call = RuntimeCall::Models(pallet_models::Call::upload_chunk {
				id,
				index: index as u32,
				bytes: chunk.to_vec().try_into().map_err(|_| too_long("chunk"))?,
			});
			node.submit(&signer, call, INCLUSION_TIMEOUT).await?;
			eprintln!("uploaded chunk {}/{chunks}", index + 1);
		}
		let finalize = RuntimeCall::Models(pallet_models::Call::finalize { id });
		node.submit(&signer, finalize, INCLUSION_TIMEOUT).await?.events
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
				return Err(RegisterError::Refused(String::from_utf8_lossy(&reason).into_owned()));
			},
			_ => {},
		}
	}
	Err(ClientError("the block holds neither ModelRegistered nor ModelRefused".into()).into())
}
