//! Test harness for end-to-end tests: starts the real `verinfer` binary that cargo built for this
//! test run on OS-chosen ports, talks to it over JSON-RPC (WebSocket), builds signed extrinsics with
//! the runtime's own types, and always stops the node: on drop, on panic, and (through the kernel's
//! parent-death signal) if the test process itself is killed.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::{
	io::{BufRead, BufReader},
	path::PathBuf,
	process::{Child, Command, ExitStatus, Stdio},
	sync::{mpsc, Arc, Mutex},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use jsonrpsee::{
	core::client::ClientT,
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use sp_core::{crypto::Ss58Codec, Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::Era,
	traits::{BlakeTwo256, Hash as HashT},
};
use verinfer_runtime::{
	AccountId, Balance, Nonce, Runtime, RuntimeCall, SignedPayload, TxExtension, UncheckedExtrinsic,
};

/// How long a node may take to open its RPC port: a cold start compiles the runtime Wasm.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a node may take to exit after SIGINT.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `verinfer` process, killed when dropped.
pub struct Node {
	child: Option<Child>,
	/// `ws://127.0.0.1:<port>` of its JSON-RPC server.
	pub rpc_url: String,
	/// Everything the node logged so far (stderr), for failure messages.
	log: Arc<Mutex<Vec<String>>>,
}

impl Node {
	/// Starts `verinfer` with `args` plus the flags that keep a test hermetic: OS-chosen RPC and p2p
	/// ports, no telemetry, Prometheus or mDNS.
	pub fn start(args: &[&str]) -> Node {
		let binary = PathBuf::from(env!("CARGO_BIN_EXE_verinfer"));
		let mut command = Command::new(binary);
		command
			.args(args)
			.args([
				"--rpc-port",
				"0",
				"--port",
				"0",
				"--no-telemetry",
				"--no-prometheus",
				"--no-mdns",
			])
			.stdin(Stdio::null())
			.stdout(Stdio::null())
			.stderr(Stdio::piped());
		// SAFETY: `prctl` is async-signal-safe and touches only the child being set up.
		unsafe {
			use std::os::unix::process::CommandExt;
			command.pre_exec(|| {
				// If the test process dies without running destructors, the node dies with it.
				if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
					return Err(std::io::Error::last_os_error());
				}
				Ok(())
			});
		}
		let mut child = command.spawn().expect("start the verinfer binary");

		let log = Arc::new(Mutex::new(Vec::new()));
		let (addr_tx, addr_rx) = mpsc::channel();
		let stderr = child.stderr.take().expect("stderr is piped");
		let log_writer = log.clone();
		std::thread::spawn(move || {
			for line in BufReader::new(stderr).lines().map_while(Result::ok) {
				if let Some(addr) = rpc_address(&line) {
					let _ = addr_tx.send(addr);
				}
				if std::env::var_os("VERINFER_TEST_LOG").is_some() {
					eprintln!("[node] {line}");
				}
				log_writer.lock().unwrap().push(line);
			}
		});

		let mut node = Node { child: Some(child), rpc_url: String::new(), log };
		match addr_rx.recv_timeout(STARTUP_TIMEOUT) {
			Ok(addr) => node.rpc_url = format!("ws://{addr}"),
			Err(_) => panic!("the node did not open its RPC port in time\n{}", node.log_tail()),
		}
		node
	}

	/// A JSON-RPC client connected to this node.
	pub async fn client(&self) -> Rpc {
		let client = WsClientBuilder::default()
			.request_timeout(Duration::from_secs(60))
			.build(&self.rpc_url)
			.await
			.unwrap_or_else(|e| panic!("connect to {}: {e}\n{}", self.rpc_url, self.log_tail()));
		Rpc { client }
	}

	/// The last lines the node logged.
	pub fn log_tail(&self) -> String {
		let log = self.log.lock().unwrap();
		let start = log.len().saturating_sub(60);
		format!("--- last node log lines ---\n{}", log[start..].join("\n"))
	}

	/// Sends SIGINT (what Ctrl-C sends) and waits for the node to exit; returns its exit status.
	pub fn stop(&mut self) -> ExitStatus {
		let mut child = self.child.take().expect("node is running");
		// SAFETY: signalling a child process we own, by its pid.
		unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
		let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
		loop {
			if let Some(status) = child.try_wait().expect("wait for the node") {
				return status;
			}
			if Instant::now() > deadline {
				let _ = child.kill();
				let _ = child.wait();
				panic!(
					"the node did not stop within {SHUTDOWN_TIMEOUT:?} of SIGINT\n{}",
					self.log_tail()
				);
			}
			std::thread::sleep(Duration::from_millis(50));
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

/// The address in sc-rpc-server's `Running JSON-RPC server: addr=127.0.0.1:40527,` log line.
fn rpc_address(line: &str) -> Option<String> {
	let rest = line.split("Running JSON-RPC server: addr=").nth(1)?;
	let addr = rest.split([',', ' ']).next()?;
	(!addr.is_empty()).then(|| addr.to_string())
}

/// A JSON-RPC connection with typed helpers for what the tests need.
pub struct Rpc {
	pub client: WsClient,
}

impl Rpc {
	pub async fn call(&self, method: &str, params: jsonrpsee::core::params::ArrayParams) -> Value {
		self.client
			.request(method, params)
			.await
			.unwrap_or_else(|e| panic!("RPC {method} failed: {e}"))
	}

	pub async fn best_number(&self) -> u32 {
		let header = self.call("chain_getHeader", rpc_params![]).await;
		hex_number(&header["number"])
	}

	pub async fn finalized_number(&self) -> u32 {
		let hash = self.call("chain_getFinalizedHead", rpc_params![]).await;
		let header = self.call("chain_getHeader", rpc_params![hash]).await;
		hex_number(&header["number"])
	}

	pub async fn block_hash(&self, number: u32) -> H256 {
		parse_hash(&self.call("chain_getBlockHash", rpc_params![number]).await)
	}

	/// Waits until the best block is at least `number`.
	pub async fn wait_for_block(&self, number: u32, timeout: Duration) -> u32 {
		let deadline = Instant::now() + timeout;
		loop {
			let best = self.best_number().await;
			if best >= number {
				return best;
			}
			assert!(
				Instant::now() < deadline,
				"no block #{number} within {timeout:?} (best #{best})"
			);
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
	}

	/// Raw storage at `key`, at `at` or the best block.
	pub async fn storage(&self, key: &[u8], at: Option<H256>) -> Option<Vec<u8>> {
		let value = self.call("state_getStorage", rpc_params![hex(key), at]).await;
		value.as_str().map(unhex)
	}

	/// `System.Account(who)` at `at` or the best block.
	pub async fn account(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(who);
		match self.storage(&key, at).await {
			Some(bytes) => Decode::decode(&mut &bytes[..]).expect("decode AccountInfo"),
			None => Default::default(),
		}
	}

	/// `System.Events` of the block `at`.
	pub async fn events(
		&self,
		at: H256,
	) -> Vec<frame_system::EventRecord<verinfer_runtime::RuntimeEvent, H256>> {
		// `System.Events` is not public in frame-system: its key is the usual pallet/item prefix.
		let key =
			[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat();
		match self.storage(&key, Some(at)).await {
			Some(bytes) => Decode::decode(&mut &bytes[..]).expect("decode events"),
			None => Vec::new(),
		}
	}

	/// Signs and submits `call` as `signer`, waits up to `timeout` for its block; returns the
	/// events of that extrinsic.
	pub async fn submit_and_wait(
		&self,
		signer: Sr25519Keyring,
		call: RuntimeCall,
		timeout: Duration,
	) -> Vec<verinfer_runtime::RuntimeEvent> {
		let xt = self.sign(signer, call).await;
		let from = self.best_number().await;
		let tx_hash = self.submit(&xt).await;
		let (block, index) = self.wait_for_inclusion(tx_hash, from + 1, timeout).await;
		self.events(block)
			.await
			.into_iter()
			.filter(|record| record.phase == frame_system::Phase::ApplyExtrinsic(index))
			.map(|record| record.event)
			.collect()
	}

	/// Signs `call` as `signer` exactly as a wallet does: next nonce from the pool-aware
	/// `system_accountNextIndex`, a mortal era anchored at the best block, the runtime's spec and
	/// transaction versions, the genesis hash.
	pub async fn sign(&self, signer: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
		let account = signer.to_account_id();
		let nonce: Nonce = serde_json::from_value(
			self.call("system_accountNextIndex", rpc_params![account.to_ss58check()]).await,
		)
		.expect("nonce is a number");
		let version = self.call("state_getRuntimeVersion", rpc_params![]).await;
		let spec_version = version["specVersion"].as_u64().expect("specVersion") as u32;
		let transaction_version =
			version["transactionVersion"].as_u64().expect("transactionVersion") as u32;
		let genesis_hash = self.block_hash(0).await;
		let best = self.best_number().await;
		let best_hash = self.block_hash(best).await;
		// Valid for 64 blocks from the best block, like polkadot.js's default.
		let era = Era::mortal(64, best as u64);

		let tx_ext: TxExtension = (
			frame_system::CheckNonZeroSender::new(),
			frame_system::CheckSpecVersion::new(),
			frame_system::CheckTxVersion::new(),
			frame_system::CheckGenesis::new(),
			frame_system::CheckEra::from(era),
			frame_system::CheckNonce::from(nonce),
			frame_system::CheckWeight::new(),
			pallet_transaction_payment::ChargeTransactionPayment::from(0),
			frame_system::WeightReclaim::new(),
		);
		let implicit =
			((), spec_version, transaction_version, genesis_hash, best_hash, (), (), (), ());
		let payload = SignedPayload::from_raw(call.clone(), tx_ext.clone(), implicit);
		let signature = payload.using_encoded(|bytes| signer.pair().sign(bytes));
		UncheckedExtrinsic::new_signed(call, account.into(), signature.into(), tx_ext)
	}

	/// Submits an extrinsic over `author_submitExtrinsic`; returns its hash.
	pub async fn submit(&self, xt: &UncheckedExtrinsic) -> H256 {
		parse_hash(&self.call("author_submitExtrinsic", rpc_params![hex(&xt.encode())]).await)
	}

	/// Waits for the block that includes the extrinsic with hash `tx_hash`, searching from block
	/// `from`; returns the block's hash and the extrinsic's index in it.
	pub async fn wait_for_inclusion(
		&self,
		tx_hash: H256,
		from: u32,
		timeout: Duration,
	) -> (H256, u32) {
		let deadline = Instant::now() + timeout;
		let mut next = from;
		loop {
			while next <= self.best_number().await {
				let hash = self.block_hash(next).await;
				let block = self.call("chain_getBlock", rpc_params![hash]).await;
				let extrinsics = block["block"]["extrinsics"].as_array().expect("extrinsics");
				for (index, xt) in extrinsics.iter().enumerate() {
					let bytes = unhex(xt.as_str().expect("extrinsic hex"));
					if <BlakeTwo256 as HashT>::hash(&bytes) == tx_hash {
						return (hash, index as u32);
					}
				}
				next += 1;
			}
			assert!(
				Instant::now() < deadline,
				"extrinsic {tx_hash:?} not included within {timeout:?}"
			);
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
	}
}

pub fn hex(bytes: &[u8]) -> String {
	format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

pub fn unhex(text: &str) -> Vec<u8> {
	let digits = text.trim_start_matches("0x");
	(0..digits.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
		.collect()
}

fn parse_hash(value: &Value) -> H256 {
	let bytes = unhex(value.as_str().expect("hash is a hex string"));
	H256::from_slice(&bytes)
}

fn hex_number(value: &Value) -> u32 {
	u32::from_str_radix(value.as_str().expect("hex number").trim_start_matches("0x"), 16)
		.expect("hex number")
}
