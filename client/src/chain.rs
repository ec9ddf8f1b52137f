//! The connection to a node: signing, submitting, waiting for inclusion and finality, reading
//! state and events; and the node's own methods ([`crate::api`]), typed.

use std::time::{Duration, Instant};

use codec::{Decode, Encode};
use jsonrpsee::{
	core::{client::ClientT, params::ArrayParams},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use sp_core::{
	bytes::{from_hex, to_hex},
	crypto::Ss58Codec,
	sr25519, Bytes, Pair, H256,
};
use sp_runtime::{
	generic::Era,
	traits::{BlakeTwo256, Hash as HashT},
};
use verinfer_primitives::{tensor::Tensor, DeclaredShapes};
use verinfer_runtime::{
	describe_error, AccountId, Balance, Nonce, Runtime, RuntimeCall, RuntimeEvent, SignedPayload,
	TxExtension, UncheckedExtrinsic,
};

use crate::api::{
	self, DryRun, HostInfo, HostsApiClient, InferenceApiClient, Inspection, ModelInfo,
	ModelsApiClient, StoredResult,
};

/// Blocks a signed transaction stays valid for: 64, ~6.4 minutes at 6 s blocks, as wallets sign.
const MORTAL_PERIOD: u64 = 64;

/// A one-line error for the user.
#[derive(Debug)]
pub struct ClientError(pub String);

impl std::fmt::Display for ClientError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(&self.0)
	}
}

impl std::error::Error for ClientError {}

fn fail(message: impl std::fmt::Display) -> ClientError {
	ClientError(message.to_string())
}

/// The key pair of a secret URI (`//Alice`, a mnemonic, `0x` seed).
pub fn pair(suri: &str) -> Result<sr25519::Pair, ClientError> {
	sr25519::Pair::from_string(suri, None).map_err(|e| fail(format!("invalid key {suri:?}: {e:?}")))
}

/// How a submitted extrinsic ended.
pub struct Included {
	/// The final block that holds it.
	pub block: H256,
	/// The extrinsic's index in that block.
	pub index: u32,
	/// The events of the extrinsic, `ExtrinsicSuccess` or `ExtrinsicFailed` last.
	pub events: Vec<RuntimeEvent>,
}

/// A connection to a node.
pub struct Client {
	rpc: WsClient,
	url: String,
}

impl Client {
	/// Connects to the node at `url` (`ws://…`).
	pub async fn connect(url: &str) -> Result<Client, ClientError> {
		let rpc = WsClientBuilder::default()
			.request_timeout(Duration::from_secs(120))
			.max_request_size(16 * 1024 * 1024)
			.build(url)
			.await
			.map_err(|e| fail(format!("cannot reach a node at {url}: {e}")))?;
		Ok(Client { rpc, url: url.to_string() })
	}

	/// The JSON-RPC connection itself, for callers that want its errors whole.
	pub fn raw(&self) -> &WsClient {
		&self.rpc
	}

	/// Calls `method`; a JSON-RPC error becomes one line naming the method.
	pub async fn call(&self, method: &str, params: ArrayParams) -> Result<Value, ClientError> {
		self.rpc.request(method, params).await.map_err(|e| self.failure(method, e))
	}

	/// A JSON-RPC error as one line: the node's message (and what it says in `data`, as the
	/// pool says why it refused a transaction), or what went wrong reaching it.
	fn failure(&self, method: &str, error: jsonrpsee::core::client::Error) -> ClientError {
		match error {
			// The pool's refusals say what in `data`: "Invalid Transaction" / "Inability to pay…".
			jsonrpsee::core::client::Error::Call(error) => match error.data() {
				Some(data) => {
					let data = serde_json::from_str::<String>(data.get())
						.unwrap_or_else(|_| data.get().to_string());
					fail(format!("{}: {data}", error.message()))
				},
				None => fail(error.message()),
			},
			other => fail(format!("{method} at {}: {other}", self.url)),
		}
	}

	/// Every model, ordered by id (`models_list`), at the best block.
	pub async fn models(&self) -> Result<Vec<ModelInfo>, ClientError> {
		ModelsApiClient::list(&self.rpc, None).await.map_err(|e| self.failure("models_list", e))
	}

	/// The model `id`, if registered (`models_get`), at the best block.
	pub async fn model(&self, id: H256) -> Result<Option<ModelInfo>, ClientError> {
		ModelsApiClient::get(&self.rpc, id, None).await.map_err(|e| self.failure("models_get", e))
	}

	/// What the chain's engine says of `bytes` with the `declared` input shapes
	/// (`models_inspect`): everything registering them would decide.
	pub async fn inspect(
		&self,
		bytes: &[u8],
		declared: DeclaredShapes,
	) -> Result<Inspection, ClientError> {
		ModelsApiClient::inspect(&self.rpc, Bytes(bytes.to_vec()), Some(declared), None)
			.await
			.map_err(|e| self.failure("models_inspect", e))
	}

	/// What a call of `model` on `inputs` would give and cost (`inference_dryRun`).
	pub async fn dry_run(&self, model: H256, inputs: Vec<Tensor>) -> Result<DryRun, ClientError> {
		InferenceApiClient::dry_run(&self.rpc, model, api::json_tensors(inputs), None)
			.await
			.map_err(|e| self.failure("inference_dryRun", e))
	}

	/// The result stored under `request_id` (`inference_result`), at `at` or the best block.
	pub async fn result(
		&self,
		request_id: u64,
		at: Option<H256>,
	) -> Result<Option<StoredResult>, ClientError> {
		InferenceApiClient::result(&self.rpc, request_id, at)
			.await
			.map_err(|e| self.failure("inference_result", e))
	}

	/// The hosts serving `model`, or every host (`hosts_list`), at the best block.
	pub async fn hosts(&self, model: Option<H256>) -> Result<Vec<HostInfo>, ClientError> {
		HostsApiClient::list(&self.rpc, model, None)
			.await
			.map_err(|e| self.failure("hosts_list", e))
	}

	/// The hash `method` returns.
	pub async fn hash(&self, method: &str, params: ArrayParams) -> Result<H256, ClientError> {
		let value = self.call(method, params).await?;
		let text = value.as_str().ok_or_else(|| fail(format!("{method}: not a hash: {value}")))?;
		let bytes = from_hex(text).map_err(|_| fail(format!("{method}: not a hash: {text}")))?;
		(bytes.len() == 32)
			.then(|| H256::from_slice(&bytes))
			.ok_or_else(|| fail(format!("{method}: not a hash: {text}")))
	}

	/// The number of the block `at`, or of the best block.
	pub async fn number(&self, at: Option<H256>) -> Result<u32, ClientError> {
		let header = self.call("chain_getHeader", rpc_params![at]).await?;
		let number = header["number"].as_str().unwrap_or_default().trim_start_matches("0x");
		u32::from_str_radix(number, 16).map_err(|_| fail(format!("bad header: {header}")))
	}

	/// The best block's number.
	pub async fn best_number(&self) -> Result<u32, ClientError> {
		self.number(None).await
	}

	/// The last final block: its number and hash.
	pub async fn finalized(&self) -> Result<(u32, H256), ClientError> {
		let finalized = self.hash("chain_getFinalizedHead", rpc_params![]).await?;
		Ok((self.number(Some(finalized)).await?, finalized))
	}

	/// The last final block's number.
	pub async fn finalized_number(&self) -> Result<u32, ClientError> {
		Ok(self.finalized().await?.0)
	}

	/// The hash of block `number` on the best chain.
	pub async fn block_hash(&self, number: u32) -> Result<H256, ClientError> {
		self.hash("chain_getBlockHash", rpc_params![number]).await
	}

	/// Raw storage at `key`, at `at` or the best block.
	pub async fn storage(
		&self,
		key: &[u8],
		at: Option<H256>,
	) -> Result<Option<Vec<u8>>, ClientError> {
		let value = self.call("state_getStorage", rpc_params![to_hex(key, false), at]).await?;
		let Some(text) = value.as_str() else { return Ok(None) };
		from_hex(text).map(Some).map_err(|_| fail(format!("state_getStorage: not hex: {text}")))
	}

	/// The value of type `T` stored at `key`, at `at` or the best block.
	pub async fn decoded<T: Decode>(
		&self,
		key: &[u8],
		at: Option<H256>,
	) -> Result<Option<T>, ClientError> {
		self.storage(key, at)
			.await?
			.map(|bytes| {
				T::decode(&mut &bytes[..]).map_err(|e| {
					fail(format!("cannot decode {}: {e}", core::any::type_name::<T>()))
				})
			})
			.transpose()
	}

	/// The account's free balance and nonce, at `at` or the best block.
	pub async fn account(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>, ClientError>
	{
		let key = frame_system::Account::<Runtime>::hashed_key_for(who);
		Ok(self.decoded(&key, at).await?.unwrap_or_default())
	}

	/// Signs `call` as a wallet does: the pool-aware next nonce, a mortal era of 64 blocks, the
	/// runtime's versions and the genesis hash.
	pub async fn sign(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
	) -> Result<UncheckedExtrinsic, ClientError> {
		let nonce = self.next_nonce(signer).await?;
		self.sign_with_nonce(signer, call, nonce).await
	}

	/// The signer's next nonce, counting its transactions waiting in the node's pool.
	async fn next_nonce(&self, signer: &sr25519::Pair) -> Result<Nonce, ClientError> {
		let account = AccountId::from(signer.public());
		serde_json::from_value(
			self.call("system_accountNextIndex", rpc_params![account.to_ss58check()]).await?,
		)
		.map_err(|e| fail(format!("system_accountNextIndex: {e}")))
	}

	/// Signs `call` with the nonce `nonce`: for a sender that submits many transactions at once
	/// and counts its nonces itself (the pool's next nonce can lag while a block is imported).
	pub async fn sign_with_nonce(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		nonce: Nonce,
	) -> Result<UncheckedExtrinsic, ClientError> {
		let account = AccountId::from(signer.public());
		let version = self.call("state_getRuntimeVersion", rpc_params![]).await?;
		let spec_version = version["specVersion"].as_u64().unwrap_or_default() as u32;
		let transaction_version = version["transactionVersion"].as_u64().unwrap_or_default() as u32;
		let genesis = self.block_hash(0).await?;
		// The era starts a little behind the head: the node's pool validates in a view of the
		// chain that may not have caught up with the block RPC calls best (the view of #N refuses
		// a transaction born at #N as `AncientBirthBlock`), so the birth block is the last final
		// one, and at least two blocks behind the best (a development chain finalizes each block
		// at once). If finality lags far behind, it is two behind the best, so the transaction
		// still lives for most of its period.
		let (finalized, _) = self.finalized().await?;
		let best = self.best_number().await?;
		let birth = if best.saturating_sub(finalized) <= MORTAL_PERIOD as u32 / 4 {
			finalized.min(best.saturating_sub(2))
		} else {
			best.saturating_sub(2)
		};
		let birth_hash = self.block_hash(birth).await?;
		let tx_ext: TxExtension = (
			frame_system::CheckNonZeroSender::new(),
			frame_system::CheckSpecVersion::new(),
			frame_system::CheckTxVersion::new(),
			frame_system::CheckGenesis::new(),
			frame_system::CheckEra::from(Era::mortal(MORTAL_PERIOD, birth as u64)),
			frame_system::CheckNonce::from(nonce),
			frame_system::CheckWeight::new(),
			pallet_transaction_payment::ChargeTransactionPayment::from(0),
			frame_system::WeightReclaim::new(),
		);
		let implicit = ((), spec_version, transaction_version, genesis, birth_hash, (), (), (), ());
		let payload = SignedPayload::from_raw(call.clone(), tx_ext.clone(), implicit);
		let signature = payload.using_encoded(|bytes| signer.sign(bytes));
		Ok(UncheckedExtrinsic::new_signed(call, account.into(), signature.into(), tx_ext))
	}

	/// Submits a signed extrinsic; returns its hash once the node's pool accepted it.
	pub async fn submit_extrinsic(&self, xt: &UncheckedExtrinsic) -> Result<H256, ClientError> {
		self.hash("author_submitExtrinsic", rpc_params![to_hex(&xt.encode(), false)]).await
	}

	/// Signs and submits `call`; returns its hash once the node's pool accepted it.
	pub async fn submit_only(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
	) -> Result<H256, ClientError> {
		let xt = self.sign(signer, call).await?;
		self.submit_extrinsic(&xt).await
	}

	/// Signs and submits `call`, waits up to `timeout` until a final block includes it and
	/// returns that extrinsic's events, whether its dispatch succeeded or failed.
	pub async fn submit_and_watch(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		timeout: Duration,
	) -> Result<Included, ClientError> {
		let deadline = Instant::now() + timeout;
		let xt = self.sign(signer, call).await?;
		let from = self.best_number().await? + 1;
		let tx_hash = self.submit_extrinsic(&xt).await?;
		let (block, index) = self.wait_for_inclusion(tx_hash, from, deadline).await?;
		self.wait_for_finality(block, deadline).await?;
		Ok(Included { block, index, events: self.events_of(block, index).await? })
	}

	/// The events of the extrinsic at `index` of `block`.
	async fn events_of(&self, block: H256, index: u32) -> Result<Vec<RuntimeEvent>, ClientError> {
		Ok(self
			.events(block)
			.await?
			.into_iter()
			.filter(|record| record.phase == frame_system::Phase::ApplyExtrinsic(index))
			.map(|record| record.event)
			.collect())
	}

	/// Signs and submits `calls` in order with consecutive nonces, keeping up to `window` in the
	/// pool at once so that a block takes as many as fit; calls `included(i)` as call `i` is
	/// included, and returns once the last one's block is final. Any call the chain refuses is an
	/// error naming it (those before it stay applied). For uploads of many chunks: one block per
	/// call would take as many blocks as chunks.
	pub async fn submit_all(
		&self,
		signer: &sr25519::Pair,
		calls: Vec<RuntimeCall>,
		window: usize,
		timeout: Duration,
		mut included: impl FnMut(usize),
	) -> Result<Vec<Included>, ClientError> {
		let deadline = Instant::now() + timeout;
		let mut nonce = self.next_nonce(signer).await?;
		let mut from = self.best_number().await? + 1;
		let mut in_pool = std::collections::VecDeque::new();
		let mut done = Vec::new();
		let mut calls = calls.into_iter().peekable();
		while calls.peek().is_some() || !in_pool.is_empty() {
			if in_pool.len() < window.max(1) {
				if let Some(call) = calls.next() {
					let xt = self.sign_with_nonce(signer, call, nonce).await?;
					in_pool.push_back(self.submit_extrinsic(&xt).await?);
					nonce += 1;
					continue;
				}
			}
			let Some(tx_hash) = in_pool.pop_front() else { break };
			// In nonce order, so each is in the block of the one before or later.
			let (block, index) = self.wait_for_inclusion(tx_hash, from, deadline).await?;
			from = self.number(Some(block)).await?;
			let events = self.events_of(block, index).await?;
			refused(&events).map_err(|error| fail(format!("call {}: {error}", done.len())))?;
			included(done.len());
			done.push(Included { block, index, events });
		}
		if let Some(last) = done.last() {
			self.wait_for_finality(last.block, deadline).await?;
		}
		Ok(done)
	}

	/// [`Client::submit_and_watch`], with a failed dispatch as an error naming the pallet error.
	pub async fn submit(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		timeout: Duration,
	) -> Result<Included, ClientError> {
		let included = self.submit_and_watch(signer, call, timeout).await?;
		refused(&included.events)?;
		Ok(included)
	}

	/// The best-chain block, from number `from` on, that holds the extrinsic `tx_hash`, and its
	/// index there; waits for it until `deadline`.
	pub async fn wait_for_inclusion(
		&self,
		tx_hash: H256,
		from: u32,
		deadline: Instant,
	) -> Result<(H256, u32), ClientError> {
		let mut next = from;
		loop {
			while next <= self.best_number().await? {
				let hash = self.block_hash(next).await?;
				let block = self.call("chain_getBlock", rpc_params![hash]).await?;
				let extrinsics =
					block["block"]["extrinsics"].as_array().cloned().unwrap_or_default();
				for (index, xt) in extrinsics.iter().enumerate() {
					let bytes = from_hex(xt.as_str().unwrap_or_default()).unwrap_or_default();
					if <BlakeTwo256 as HashT>::hash(&bytes) == tx_hash {
						return Ok((hash, index as u32));
					}
				}
				next += 1;
			}
			if Instant::now() > deadline {
				return Err(fail(format!("{tx_hash:?} was not included in time")));
			}
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
	}

	/// Waits until `block` is final (at once on a dev chain, a few blocks behind the best one
	/// under GRANDPA); an error if a fork replaced it or `deadline` passed.
	pub async fn wait_for_finality(
		&self,
		block: H256,
		deadline: Instant,
	) -> Result<(), ClientError> {
		let number = self.number(Some(block)).await?;
		loop {
			if self.finalized_number().await? >= number {
				return if self.block_hash(number).await? == block {
					Ok(())
				} else {
					Err(fail(format!(
						"block #{number} {block:?} that held the transaction was replaced by a fork: \
						 submit it again"
					)))
				};
			}
			if Instant::now() > deadline {
				return Err(fail(format!("block #{number} {block:?} was not final in time")));
			}
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
	}

	/// `System.Events` of the block `at`.
	pub async fn events(
		&self,
		at: H256,
	) -> Result<Vec<frame_system::EventRecord<RuntimeEvent, H256>>, ClientError> {
		// `System.Events` is not public in frame-system: its key is the usual pallet/item prefix.
		let key =
			[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat();
		Ok(self.decoded(&key, Some(at)).await?.unwrap_or_default())
	}
}

/// An error naming the pallet error if `events` (one extrinsic's) say its dispatch failed.
fn refused(events: &[RuntimeEvent]) -> Result<(), ClientError> {
	for event in events {
		if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
			dispatch_error, ..
		}) = event
		{
			return Err(fail(format!("the chain refused it: {}", describe_error(*dispatch_error))));
		}
	}
	Ok(())
}
