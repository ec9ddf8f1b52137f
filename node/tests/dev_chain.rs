//! End-to-end: the real `verinfer --dev` node, driven over JSON-RPC with signed extrinsics.

mod common;

use std::time::Duration;

use common::{hex, Node};
use jsonrpsee::{core::client::ClientT, rpc_params};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Ferdie};
use verinfer_runtime::{BalancesCall, RuntimeCall, RuntimeEvent, UNIT};

const BLOCK_WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_transfer_is_included_and_moves_exactly_the_amount_plus_the_fee() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;
	// The dev chain seals a block every slot even with an empty pool.
	rpc.wait_for_block(1, BLOCK_WAIT).await;

	let amount = 3 * UNIT;
	let (alice, bob) = (Alice.to_account_id(), Bob.to_account_id());
	let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: bob.clone().into(),
		value: amount,
	});
	let xt = rpc.sign(Alice, call).await;
	let submitted_at = rpc.best_number().await;
	let tx_hash = rpc.submit(&xt).await;
	let (block, index) = rpc.wait_for_inclusion(tx_hash, submitted_at + 1, BLOCK_WAIT).await;

	// What the block did, from its events.
	let events = rpc.events(block).await;
	let ours = |record: &&frame_system::EventRecord<RuntimeEvent, _>| {
		record.phase == frame_system::Phase::ApplyExtrinsic(index)
	};
	let fee = events
		.iter()
		.filter(ours)
		.find_map(|record| match &record.event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip },
			) if *who == alice && *tip == 0 => Some(*actual_fee),
			_ => None,
		})
		.unwrap_or_else(|| panic!("no TransactionFeePaid event for Alice in {events:?}"));
	assert!(fee > 0, "a signed transfer pays a fee");
	assert!(
		events.iter().filter(ours).any(|record| record.event
			== RuntimeEvent::Balances(pallet_balances::Event::Transfer {
				from: alice.clone(),
				to: bob.clone(),
				amount,
			})),
		"no Transfer event in {events:?}"
	);
	assert!(
		events.iter().filter(ours).any(|record| matches!(
			record.event,
			RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { .. })
		)),
		"the transfer did not succeed: {events:?}"
	);

	// Balances in the parent block and in the including block differ by exactly amount and fee.
	let header = rpc.call("chain_getHeader", rpc_params![hex(block.as_bytes())]).await;
	let parent = common::unhex(header["parentHash"].as_str().unwrap());
	let parent = sp_core::H256::from_slice(&parent);
	let (alice_before, bob_before) =
		(rpc.account(&alice, Some(parent)).await, rpc.account(&bob, Some(parent)).await);
	let (alice_after, bob_after) =
		(rpc.account(&alice, Some(block)).await, rpc.account(&bob, Some(block)).await);
	assert_eq!(bob_after.data.free, bob_before.data.free + amount);
	assert_eq!(alice_after.data.free, alice_before.data.free - amount - fee);
	assert_eq!(alice_after.nonce, alice_before.nonce + 1);

	// Sealed blocks are final at once.
	let included_number =
		u32::from_str_radix(header["number"].as_str().unwrap().trim_start_matches("0x"), 16)
			.unwrap();
	assert!(rpc.finalized_number().await >= included_number);

	drop(rpc);
	let status = node.stop();
	assert!(status.success(), "the node exited with {status} after SIGINT\n{}", node.log_tail());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_with_a_forged_signature_is_refused_and_changes_nothing() {
	let node = Node::start(&["--dev", "--tmp", "--consensus", "manual-seal-500"]);
	let rpc = node.client().await;
	rpc.wait_for_block(1, BLOCK_WAIT).await;
	let (ferdie, bob) = (Ferdie.to_account_id(), Bob.to_account_id());
	let ferdie_before = rpc.account(&ferdie, None).await;

	// Ferdie's transfer, signed by Alice: the signature does not verify for Ferdie.
	let call =
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive { dest: bob.into(), value: UNIT });
	let mut xt = rpc.sign(Alice, call).await;
	if let sp_runtime::generic::Preamble::Signed(address, _, _) = &mut xt.preamble {
		*address = ferdie.clone().into();
	}
	let refusal = rpc
		.raw()
		.request::<serde_json::Value, _>(
			"author_submitExtrinsic",
			rpc_params![hex(&codec::Encode::encode(&xt))],
		)
		.await
		.expect_err("a forged signature must be refused");
	let message = refusal.to_string();
	assert!(message.contains("Invalid Transaction"), "unexpected refusal: {message}");
	assert!(message.contains("signature"), "the refusal names the bad signature: {message}");

	// Blocks keep coming, and Ferdie's account is as it was.
	let best = rpc.best_number().await;
	rpc.wait_for_block(best + 2, BLOCK_WAIT).await;
	assert_eq!(rpc.account(&ferdie, None).await, ferdie_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_seal_produces_and_finalizes_blocks_on_its_timer_without_transactions() {
	let node = Node::start(&["--dev", "--tmp", "--consensus", "manual-seal-200"]);
	let rpc = node.client().await;
	rpc.wait_for_block(5, BLOCK_WAIT).await;
	assert!(rpc.finalized_number().await >= 4, "sealed blocks are finalized as they are made");
	// One Aura slot per block: timestamps strictly increase by at least a slot.
	let timestamp = |n: u32| {
		let rpc = &rpc;
		async move {
			let key = pallet_timestamp::Now::<verinfer_runtime::Runtime>::hashed_key();
			let at = rpc.block_hash(n).await;
			let bytes = rpc.storage(&key, Some(at)).await.expect("timestamp is set");
			<u64 as codec::Decode>::decode(&mut &bytes[..]).unwrap()
		}
	};
	for n in 1..5 {
		let (earlier, later) = (timestamp(n).await, timestamp(n + 1).await);
		assert!(
			later >= earlier + verinfer_runtime::SLOT_DURATION,
			"block #{} at {later} is less than a slot after #{n} at {earlier}",
			n + 1
		);
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn aura_with_grandpa_authors_and_finalizes_on_a_single_validator() {
	let node = Node::start(&["--dev", "--tmp", "--consensus", "aura"]);
	let rpc = node.client().await;
	// 6 s slots: block #2 within two or three slots, and GRANDPA finalises behind it.
	rpc.wait_for_block(2, BLOCK_WAIT).await;
	let deadline = std::time::Instant::now() + BLOCK_WAIT;
	while rpc.finalized_number().await < 1 {
		assert!(
			std::time::Instant::now() < deadline,
			"GRANDPA finalised nothing\n{}",
			node.log_tail()
		);
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}
