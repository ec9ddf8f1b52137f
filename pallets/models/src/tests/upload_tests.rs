//! Uploading, finalising and registering models; refusals and expiry.

use frame_support::{assert_noop, assert_ok, dispatch::WithPostDispatchInfo, traits::Hooks};
use verinfer_primitives::analysis::MAX_MODEL_BYTES;

use super::*;
use crate::{
	Analyses, Chunks, Costs, Error, Event, Expiries, ModelStatus, Models as ModelsStorage,
	DEFAULT_HEADROOM_PERCENT,
};

#[test]
fn a_model_uploaded_in_chunks_in_any_order_is_analysed_and_becomes_active() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/cnn.onnx");
		let id = upload(ALICE, &bytes, "cnn");

		let model = ModelsStorage::<Test>::get(id).unwrap();
		assert_eq!(model.status, ModelStatus::Active);
		assert_eq!((model.size, model.chunks, model.owner), (bytes.len() as u32, 3, ALICE));
		let deposit = DEPOSIT_BASE + DEPOSIT_PER_BYTE * bytes.len() as Balance;
		assert_eq!(model.deposit, deposit);
		assert_eq!(balances(ALICE), (ENDOWMENT - deposit, deposit));

		let analysis = Analyses::<Test>::get(id).unwrap();
		assert!(analysis.is_accepted());
		assert_eq!(analysis.inputs[0].shape, vec![1, 3, 32, 32]);
		assert_eq!(analysis.cost.multiply_adds, 526_336);
		// Measured: a load far costlier than a run, and calls allowed the default headroom.
		let cost = Costs::<Test>::get(id).unwrap();
		assert!(cost.load.fuel > 10 * cost.probe.fuel && cost.probe.fuel > 0, "{cost:?}");
		assert_eq!(cost.call.fuel, (cost.probe.fuel * 3).div_ceil(2));
		let growth = cost.probe.memory - cost.load.memory;
		assert_eq!(cost.call.memory, cost.load.memory + (growth * 3).div_ceil(2));
		assert!(model_events().contains(&Event::ModelRegistered {
			id,
			owner: ALICE,
			name: b"cnn".to_vec().try_into().unwrap(),
			version: b"1.0.0".to_vec().try_into().unwrap(),
			fee: 7,
			multiply_adds: 526_336,
			cost,
		}));
	});
}

#[test]
fn a_small_model_registers_in_one_call_under_the_sha256_of_its_bytes() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/mlp.onnx");
		assert_ok!(Models::register(
			RuntimeOrigin::signed(BOB),
			metadata("mlp", "0.1.0"),
			3,
			Default::default(),
			DEFAULT_HEADROOM_PERCENT,
			chunk(&bytes),
		));
		let model = ModelsStorage::<Test>::get(id_of(&bytes)).unwrap();
		assert_eq!((model.status, model.owner, model.fee), (ModelStatus::Active, BOB, 3));
	});
}

/// Everything the pallet keeps about `id`, and Alice's balances.
fn footprint(id: ModelId) -> (bool, usize, bool, (Balance, Balance)) {
	(
		ModelsStorage::<Test>::contains_key(id),
		Chunks::<Test>::iter_prefix(id).count(),
		Analyses::<Test>::contains_key(id) || Costs::<Test>::contains_key(id),
		balances(ALICE),
	)
}

fn upload_expecting_refusal(bytes: &[u8], claimed: ModelId) -> String {
	assert_ok!(Models::begin_upload(
		RuntimeOrigin::signed(ALICE),
		claimed,
		bytes.len() as u32,
		metadata("x", "1.0.0"),
		0,
		Default::default(),
		DEFAULT_HEADROOM_PERCENT,
	));
	for (index, part) in bytes.chunks(CHUNK as usize).enumerate() {
		assert_ok!(Models::upload_chunk(
			RuntimeOrigin::signed(ALICE),
			claimed,
			index as u32,
			chunk(part)
		));
	}
	assert_ok!(Models::finalize(RuntimeOrigin::signed(ALICE), claimed));
	match model_events().last() {
		Some(Event::ModelRefused { id, owner: ALICE, reason, .. }) if *id == claimed => {
			String::from_utf8(reason.to_vec()).unwrap()
		},
		other => panic!("expected ModelRefused, got {other:?}"),
	}
}

#[test]
fn a_refused_operator_is_named_and_the_upload_leaves_nothing_behind() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("hostile/random_normal.onnx");
		let id = id_of(&bytes);
		let before = footprint(id);
		let reason = upload_expecting_refusal(&bytes, id);
		assert_eq!(reason, "model refused: operator RandomNormal is not allowed");
		assert_eq!(footprint(id), before);
		assert_eq!(before, (false, 0, false, (ENDOWMENT, 0)));
	});
}

#[test]
fn bytes_that_do_not_match_the_claimed_id_are_refused_and_the_deposit_returned() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/mlp.onnx");
		let claimed = id_of(b"something else");
		let reason = upload_expecting_refusal(&bytes, claimed);
		assert_eq!(reason, "stored bytes do not match their SHA-256");
		assert_eq!(footprint(claimed), (false, 0, false, (ENDOWMENT, 0)));
	});
}

#[test]
fn garbage_is_refused_as_not_a_model() {
	new_test_ext().execute_with(|| {
		let bytes = vec![0xAB; 3000];
		let reason = upload_expecting_refusal(&bytes, id_of(&bytes));
		assert!(reason.starts_with("not a valid ONNX model"), "{reason}");
		assert_eq!(balances(ALICE), (ENDOWMENT, 0));
	});
}

#[test]
fn bad_uploads_are_refused_before_anything_is_stored_or_held() {
	new_test_ext().execute_with(|| {
		let id = id_of(b"model");
		let signed = RuntimeOrigin::signed;
		let begin = |who, size, version: &str| {
			Models::begin_upload(
				signed(who),
				id,
				size,
				metadata("m", version),
				0,
				Default::default(),
				DEFAULT_HEADROOM_PERCENT,
			)
		};
		assert_noop!(begin(ALICE, 0, "1.0.0"), Error::<Test>::EmptyModel);
		let too_large = MAX_MODEL_BYTES as u32 + 1;
		assert_noop!(begin(ALICE, too_large, "1.0.0"), Error::<Test>::ModelTooLarge);
		assert_noop!(begin(ALICE, 100, "1.0"), Error::<Test>::InvalidVersion);
		assert_noop!(
			Models::begin_upload(
				signed(ALICE),
				id,
				100,
				metadata("", "1.0.0"),
				0,
				Default::default(),
				DEFAULT_HEADROOM_PERCENT,
			),
			Error::<Test>::InvalidName
		);
		// 100 bytes need a deposit of 1,200; POOR has 500.
		assert_noop!(begin(POOR, 100, "1.0.0"), sp_runtime::TokenError::FundsUnavailable);
		assert_ok!(begin(ALICE, 100, "1.0.0"));
		assert_noop!(begin(BOB, 100, "1.0.0"), Error::<Test>::ModelExists);
	});
}

#[test]
fn chunks_must_fit_the_upload_exactly_and_only_the_owner_may_send_them() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/cnn.onnx");
		let id = begin(ALICE, &bytes, "cnn");
		let send = |who, index, part: &[u8]| {
			Models::upload_chunk(RuntimeOrigin::signed(who), id, index, chunk(part))
		};
		let chunk_size = CHUNK as usize;
		assert_noop!(send(BOB, 0, &bytes[..chunk_size]), Error::<Test>::NotOwner);
		assert_noop!(send(ALICE, 3, &bytes[..10]), Error::<Test>::ChunkOutOfRange);
		assert_noop!(send(ALICE, 0, &bytes[..chunk_size - 1]), Error::<Test>::WrongChunkSize);
		// The last chunk is the remainder, exactly.
		assert_noop!(send(ALICE, 2, &bytes[2 * chunk_size..][..10]), Error::<Test>::WrongChunkSize);
		assert_ok!(send(ALICE, 0, &bytes[..chunk_size]));
		assert_noop!(send(ALICE, 0, &bytes[..chunk_size]), Error::<Test>::ChunkAlreadyUploaded);
		// Refused before the engine runs: charged the storage work alone, not the measurement.
		assert_noop!(
			Models::finalize(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UploadIncomplete.with_weight(<() as crate::WeightInfo>::finalize(0))
		);
	});
}

#[test]
fn an_abandoned_upload_expires_and_its_deposit_returns() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/cnn.onnx");
		let id = begin(ALICE, &bytes, "cnn");
		assert_ok!(Models::upload_chunk(
			RuntimeOrigin::signed(ALICE),
			id,
			0,
			chunk(&bytes[..CHUNK as usize])
		));
		assert!(balances(ALICE).1 > 0);
		let expires_at = 1 + LIFETIME;
		assert_eq!(Expiries::<Test>::get(expires_at).to_vec(), vec![id]);

		Models::on_initialize(expires_at - 1);
		assert!(ModelsStorage::<Test>::contains_key(id));
		System::set_block_number(expires_at);
		Models::on_initialize(expires_at);
		assert_eq!(footprint(id), (false, 0, false, (ENDOWMENT, 0)));
		assert_eq!(model_events().last(), Some(&Event::UploadExpired { id }));
	});
}

#[test]
fn a_finalised_model_does_not_expire() {
	new_test_ext().execute_with(|| {
		let id = upload(ALICE, &fixture("models/mlp.onnx"), "mlp");
		Models::on_initialize(1 + LIFETIME);
		assert_eq!(ModelsStorage::<Test>::get(id).unwrap().status, ModelStatus::Active);
	});
}

#[test]
fn the_owner_may_cancel_an_upload_and_gets_the_deposit_back() {
	new_test_ext().execute_with(|| {
		let id = id_of(b"model");
		assert_ok!(Models::begin_upload(
			RuntimeOrigin::signed(ALICE),
			id,
			100,
			metadata("m", "1.0.0"),
			0,
			Default::default(),
			DEFAULT_HEADROOM_PERCENT,
		));
		assert_noop!(
			Models::cancel_upload(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotOwner
		);
		assert_ok!(Models::cancel_upload(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(footprint(id), (false, 0, false, (ENDOWMENT, 0)));
	});
}

#[test]
fn a_refused_model_pays_for_the_engine_work_it_caused() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("hostile/random_normal.onnx");
		let id = id_of(&bytes);
		assert_ok!(Models::begin_upload(
			RuntimeOrigin::signed(ALICE),
			id,
			bytes.len() as u32,
			metadata("x", "1.0.0"),
			0,
			Default::default(),
			DEFAULT_HEADROOM_PERCENT,
		));
		assert_ok!(Models::upload_chunk(RuntimeOrigin::signed(ALICE), id, 0, chunk(&bytes)));
		let charged = Models::finalize(RuntimeOrigin::signed(ALICE), id).unwrap().actual_weight;
		let Some(Event::ModelRefused { usage, .. }) = model_events().last().cloned() else {
			panic!("refused")
		};
		// Parsing and analysing it took work, charged as measured, within the up-front bound.
		assert!(usage.fuel > 0, "{usage:?}");
		let expected = Models::registration_weight(
			<() as crate::WeightInfo>::finalize(bytes.len() as u32),
			1,
			usage,
		);
		assert_eq!(charged, Some(expected));
		let bound = Models::registration_weight(
			<() as crate::WeightInfo>::finalize(bytes.len() as u32),
			1,
			Models::registration_usage_bound(),
		);
		assert!(expected.ref_time() < bound.ref_time());
	});
}

#[test]
fn a_headroom_below_the_probe_or_beyond_the_bound_is_refused() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/mlp.onnx");
		for headroom in [0, 99, crate::MAX_HEADROOM_PERCENT + 1] {
			assert_noop!(
				Models::register(
					RuntimeOrigin::signed(ALICE),
					metadata("mlp", "1.0.0"),
					0,
					Default::default(),
					headroom,
					chunk(&bytes),
				),
				Error::<Test>::InvalidHeadroom
					.with_weight(<() as crate::WeightInfo>::register(bytes.len() as u32))
			);
		}
		// Ten times the probe: a call may use ten times what the costliest probe used.
		assert_ok!(Models::register(
			RuntimeOrigin::signed(ALICE),
			metadata("mlp", "1.0.0"),
			0,
			Default::default(),
			1_000,
			chunk(&bytes),
		));
		let cost = Costs::<Test>::get(id_of(&bytes)).unwrap();
		assert_eq!(cost.call.fuel, cost.probe.fuel * 10);
	});
}

#[test]
fn cancelled_and_finalised_uploads_free_their_place_among_the_expiring() {
	new_test_ext().execute_with(|| {
		// As many uploads as may expire in one block, each cancelled at once (deposit back)...
		for n in 0..4u8 {
			let id = begin(ALICE, &[n; 100], "m");
			assert_ok!(Models::cancel_upload(RuntimeOrigin::signed(ALICE), id));
		}
		// ...and one finalised.
		let mlp = fixture("models/mlp.onnx");
		let id = begin(ALICE, &mlp, "mlp");
		assert_ok!(Models::upload_chunk(RuntimeOrigin::signed(ALICE), id, 0, chunk(&mlp)));
		assert_ok!(Models::finalize(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Expiries::<Test>::iter().count(), 0, "no id is kept for nothing");
		// Another upload in the same block still finds room.
		begin(BOB, &[9; 100], "m");
		assert_eq!(Expiries::<Test>::get(1 + LIFETIME).len(), 1);
	});
}

#[test]
fn declared_shapes_are_stored_within_the_registrys_bounds_and_read_back_unchanged() {
	let declared = vec![Some(vec![1, 3, 32, 32]), None];
	let stored = Models::stored_shapes(declared.clone()).expect("within the bounds");
	assert_eq!(Models::declared_shapes(&stored), declared);
	assert_eq!(Models::stored_shapes(vec![None; 17]), None, "more inputs than the registry stores");
	assert_eq!(Models::stored_shapes(vec![Some(vec![1; 9])]), None, "a shape beyond MAX_RANK");
	assert_eq!(Models::stored_shapes(vec![None; 16]).map(|shapes| shapes.len()), Some(16));
}
