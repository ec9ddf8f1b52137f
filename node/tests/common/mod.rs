//! Test harness for end-to-end tests: starts the real `verinfer` binary that cargo built for this
//! test run on OS-chosen ports, talks to it over JSON-RPC (WebSocket) with the node's own client
//! (which signs extrinsics as a wallet does), runs the CLI, and always stops the node: on drop, on panic, and (through the kernel's
//! parent-death signal) if the test process itself is killed.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

pub mod blocks;

use std::{
	io::{BufRead, BufReader},
	path::PathBuf,
	process::{Child, Command, ExitStatus, Stdio},
	sync::{mpsc, Arc, Mutex},
	time::{Duration, Instant},
};

use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use verinfer_client::{
	api::{HostInfo, ModelInfo, StoredResult},
	Client, ClientError,
};
use verinfer_runtime::{AccountId, Balance, Nonce, RuntimeCall, UncheckedExtrinsic};

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
	/// Starts `verinfer` with `args` plus the flags that keep a test hermetic: an OS-chosen RPC
	/// port, an OS-chosen p2p port unless `args` has `--port`, no telemetry, no Prometheus unless
	/// `args` has `--prometheus-port`, no mDNS.
	pub fn start(args: &[&str]) -> Node {
		let binary = PathBuf::from(env!("CARGO_BIN_EXE_verinfer"));
		let mut command = Command::new(binary);
		command.args(args).args(["--rpc-port", "0", "--no-telemetry", "--no-mdns"]);
		if !args.contains(&"--prometheus-port") {
			command.arg("--no-prometheus");
		}
		if !args.contains(&"--port") {
			command.args(["--port", "0"]);
		}
		command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
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
		let client = Client::connect(&self.rpc_url)
			.await
			.unwrap_or_else(|e| panic!("{e}\n{}", self.log_tail()));
		Rpc { client }
	}

	/// Waits up to `timeout` for a log line containing `needle`; returns the line.
	pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
				return line.clone();
			}
			assert!(Instant::now() < deadline, "no `{needle}` in the log\n{}", self.log_tail());
			std::thread::sleep(Duration::from_millis(50));
		}
	}

	/// Kills the node at once (SIGKILL), as a crash or a power cut would.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Everything the node logged.
	pub fn full_log(&self) -> String {
		self.log.lock().unwrap().join("\n")
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

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it).
pub fn free_port() -> u16 {
	std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A local testnet of real validators (`--chain local-N`, Aura + GRANDPA), each with its own base
/// path and p2p port, all bootstrapping from the first; every process stops with the network.
pub struct Network {
	/// The validators, `None` while one is stopped.
	pub nodes: Vec<Option<Node>>,
	args: Vec<Vec<String>>,
	dir: PathBuf,
	/// The chain spec name, `local-N`.
	chain: String,
	/// The first validator's p2p address.
	bootnode: String,
}

/// The dev-key flags of the validators, in the order of the chain spec's authorities.
const VALIDATOR_FLAGS: [&str; 6] = ["--alice", "--bob", "--charlie", "--dave", "--eve", "--ferdie"];

impl Network {
	/// Starts `validators` validators (at most 6), bootstrapping from the first.
	pub fn start(validators: usize) -> Network {
		let dir = std::env::temp_dir().join(format!(
			"verinfer-net-{}-{}",
			std::process::id(),
			free_port()
		));
		let chain = format!("local-{validators}");
		let ports: Vec<u16> = (0..validators).map(|_| free_port()).collect();
		let args: Vec<Vec<String>> = (0..validators)
			.map(|index| {
				let base = dir.join(format!("node{index}"));
				[
					"--chain",
					&chain,
					VALIDATOR_FLAGS[index],
					"--base-path",
					&base.display().to_string(),
					"--port",
					&ports[index].to_string(),
					// Validators need a fixed network key (sc-cli will not make one up for them).
					"--node-key",
					&format!("{:064x}", index + 1),
				]
				.map(String::from)
				.to_vec()
			})
			.collect();
		let mut network =
			Network { nodes: Vec::new(), args, dir, chain: chain.clone(), bootnode: String::new() };
		let first = network.spawn(0);
		let identity = first.wait_for_log("Local node identity is: ", STARTUP_TIMEOUT);
		let peer_id = identity.split("identity is: ").nth(1).expect("a peer id").trim().to_string();
		let bootnode = format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer_id}", ports[0]);
		network.nodes.push(Some(first));
		network.bootnode = bootnode.clone();
		for index in 1..validators {
			network.args[index].extend(["--bootnodes".to_string(), bootnode.clone()]);
			let node = network.spawn(index);
			network.nodes.push(Some(node));
		}
		network
	}

	fn spawn(&self, index: usize) -> Node {
		let args: Vec<&str> = self.args[index].iter().map(String::as_str).collect();
		Node::start(&args)
	}

	/// Starts a node that is not a validator, with an empty database: it syncs from genesis,
	/// importing (and so re-executing) every block.
	pub fn join_full_node(&self) -> Node {
		let base = self.dir.join(format!("full-{}", free_port()));
		let port = free_port().to_string();
		let base = base.display().to_string();
		Node::start(&[
			"--chain",
			&self.chain,
			"--base-path",
			&base,
			"--port",
			&port,
			"--bootnodes",
			&self.bootnode,
		])
	}

	/// The running validator `index`.
	pub fn node(&self, index: usize) -> &Node {
		self.nodes[index].as_ref().expect("the validator is running")
	}

	/// Kills validator `index` (SIGKILL).
	pub fn kill(&mut self, index: usize) {
		self.nodes[index].take().expect("the validator is running").kill();
	}

	/// Starts validator `index` again, on its database.
	pub fn restart(&mut self, index: usize) {
		assert!(self.nodes[index].is_none(), "validator {index} is running");
		self.nodes[index] = Some(self.spawn(index));
	}
}

impl Drop for Network {
	/// Stops every validator. When the test failed, prints each running validator's last log
	/// lines and keeps the whole logs (and databases) under the network's directory.
	fn drop(&mut self) {
		let failed = std::thread::panicking();
		if failed {
			for (index, node) in self.nodes.iter().enumerate() {
				let Some(node) = node else { continue };
				eprintln!("=== validator {index} ===\n{}", node.log_tail());
				let _ = std::fs::write(self.dir.join(format!("node{index}.log")), node.full_log());
			}
			eprintln!("the validators' logs are kept in {}", self.dir.display());
		}
		self.nodes.clear();
		if !failed {
			let _ = std::fs::remove_dir_all(&self.dir);
		}
	}
}

/// The address in sc-rpc-server's `Running JSON-RPC server: addr=127.0.0.1:40527,` log line.
fn rpc_address(line: &str) -> Option<String> {
	let rest = line.split("Running JSON-RPC server: addr=").nth(1)?;
	let addr = rest.split([',', ' ']).next()?;
	(!addr.is_empty()).then(|| addr.to_string())
}

/// The node's own JSON-RPC client (`verinfer_client`, what the CLI uses), panicking on
/// failure as tests want.
pub struct Rpc {
	pub client: Client,
}

fn ok<T>(what: &str, result: Result<T, ClientError>) -> T {
	result.unwrap_or_else(|e| panic!("{what} failed: {e}"))
}

impl Rpc {
	pub async fn call(&self, method: &str, params: jsonrpsee::core::params::ArrayParams) -> Value {
		ok(method, self.client.call(method, params).await)
	}

	/// The model `id` (`models_get`), typed as the CLI reads it.
	pub async fn model(&self, id: H256) -> Option<ModelInfo> {
		ok("models_get", self.client.model(id).await)
	}

	/// The stored result `request_id` (`inference_result`) at `at` or the best block.
	pub async fn result(&self, request_id: u64, at: Option<H256>) -> Option<StoredResult> {
		ok("inference_result", self.client.result(request_id, at).await)
	}

	/// The hosts of `model` (`hosts_list`).
	pub async fn hosts(&self, model: H256) -> Vec<HostInfo> {
		ok("hosts_list", self.client.hosts(Some(model)).await)
	}

	/// The raw connection, for tests of JSON-RPC errors.
	pub fn raw(&self) -> &jsonrpsee::ws_client::WsClient {
		self.client.raw()
	}

	pub async fn best_number(&self) -> u32 {
		ok("best_number", self.client.best_number().await)
	}

	pub async fn finalized_number(&self) -> u32 {
		ok("finalized_number", self.client.finalized_number().await)
	}

	pub async fn block_hash(&self, number: u32) -> H256 {
		ok("block_hash", self.client.block_hash(number).await)
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

	/// `Inference.NextRequestId` at the best block: the id the next call's result gets.
	pub async fn next_request_id(&self) -> u64 {
		let key = pallet_inference::NextRequestId::<verinfer_runtime::Runtime>::hashed_key();
		ok("next_request_id", self.client.decoded(&key, None).await).unwrap_or(0)
	}

	/// Raw storage at `key`, at `at` or the best block.
	pub async fn storage(&self, key: &[u8], at: Option<H256>) -> Option<Vec<u8>> {
		ok("storage", self.client.storage(key, at).await)
	}

	/// `System.Account(who)` at `at` or the best block.
	pub async fn account(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>> {
		ok("account", self.client.account(who, at).await)
	}

	/// `System.Events` of the block `at`.
	pub async fn events(
		&self,
		at: H256,
	) -> Vec<frame_system::EventRecord<verinfer_runtime::RuntimeEvent, H256>> {
		ok("events", self.client.events(at).await)
	}

	/// Signs and submits `call` as `signer`, waits up to `timeout` for its block to be final;
	/// returns the events of that extrinsic.
	pub async fn submit_and_wait(
		&self,
		signer: Sr25519Keyring,
		call: RuntimeCall,
		timeout: Duration,
	) -> Vec<verinfer_runtime::RuntimeEvent> {
		ok("submit", self.client.submit_and_watch(&signer.pair(), call, timeout).await).events
	}

	/// Signs `call` as `signer` exactly as a wallet does.
	pub async fn sign(&self, signer: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
		ok("sign", self.client.sign(&signer.pair(), call).await)
	}

	/// Submits an extrinsic over `author_submitExtrinsic`; returns its hash.
	pub async fn submit(&self, xt: &UncheckedExtrinsic) -> H256 {
		ok("author_submitExtrinsic", self.client.submit_extrinsic(xt).await)
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
		ok("inclusion", self.client.wait_for_inclusion(tx_hash, from, deadline).await)
	}
}

#[allow(unused_imports)] // Not every test binary prints hashes.
pub use verinfer_executor::digest::hex;

/// The path of a file under `fixtures`.
pub fn fixture(path: &str) -> String {
	verinfer_fixtures::dir().join(path).display().to_string()
}

/// The bytes of a file under `fixtures`.
pub fn read_fixture(path: &str) -> Vec<u8> {
	let path = fixture(path);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs the `verinfer` binary with `args`, as a user does: (exit code, stdout, stderr).
pub fn verinfer(args: &[&str]) -> (i32, String, String) {
	let output =
		Command::new(env!("CARGO_BIN_EXE_verinfer")).args(args).output().expect("run verinfer");
	(
		output.status.code().expect("exited"),
		String::from_utf8(output.stdout).unwrap(),
		String::from_utf8(output.stderr).unwrap(),
	)
}

pub fn unhex(text: &str) -> Vec<u8> {
	sp_core::bytes::from_hex(text).expect("hex")
}
