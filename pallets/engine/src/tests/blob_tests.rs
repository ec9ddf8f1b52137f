//! The engine blob in state, and replacing it: only by root, only with a blob whose chunks hash to
//! what it was uploaded as and that analyses a model the chain runs.

use frame_support::{assert_noop, assert_ok};
use sp_core::H256;
use sp_runtime::DispatchError;
use verinfer_executor::ENGINE_BLOB;

use super::*;
use crate::{Engine as CurrentEngine, EngineChunks, Error, Event, PendingEngine, MAX_ENGINE_BYTES};

/// The engine blob with a custom section appended: another blob (another SHA-256) that Wasm
/// runs exactly as the original.
fn another_engine() -> Vec<u8> {
	let name = b"verinfer-test";
	let section = [&[name.len() as u8][..], name, b"payload"].concat();
	[ENGINE_BLOB.unwrap(), &[0, section.len() as u8], &section].concat()
}

fn sha(bytes: &[u8]) -> H256 {
	verinfer_executor::digest::model_id(bytes)
}

/// Opens the upload of `blob` as root and stores every chunk.
fn upload_engine(blob: &[u8]) {
	assert_ok!(Engine::begin_upload(RuntimeOrigin::root(), sha(blob), blob.len() as u32));
	for (index, part) in blob.chunks(CHUNK as usize).enumerate() {
		assert_ok!(Engine::upload_chunk(RuntimeOrigin::root(), index as u32, chunk(part)));
	}
}

fn chunks_stored(sha256: H256) -> usize {
	EngineChunks::<Test>::iter_prefix(sha256).count()
}

#[test]
fn the_engine_in_state_is_what_the_host_functions_are_given() {
	new_test_ext().execute_with(|| {
		let engine = Engine::engine_bytes().unwrap();
		let blob = ENGINE_BLOB.unwrap();
		assert_eq!(engine.sha256, sha(blob).0);
		assert_eq!(engine.keys.len(), blob.len().div_ceil(CHUNK as usize));
		use codec::Decode;
		let stored: Vec<u8> = engine
			.keys
			.iter()
			.flat_map(|key| Vec::<u8>::decode(&mut &sp_io::storage::get(key).unwrap()[..]).unwrap())
			.collect();
		assert_eq!(stored, blob);
	});
}

#[test]
fn root_replaces_the_engine_and_the_old_engines_chunks_are_deleted() {
	new_test_ext().execute_with(|| {
		let (probe, cnn) = store_probes();
		let (old, new) = (sha(ENGINE_BLOB.unwrap()), another_engine());
		upload_engine(&new);
		assert_ok!(Engine::activate(RuntimeOrigin::root(), probe));

		let engine = CurrentEngine::<Test>::get().unwrap();
		assert_eq!((engine.sha256, engine.size as usize), (sha(&new), new.len()));
		assert_eq!(chunks_stored(old), 0);
		assert_eq!(chunks_stored(sha(&new)), engine.chunks as usize);
		assert!(PendingEngine::<Test>::get().is_none());
		assert!(engine_events().contains(&Event::Replaced {
			old: Some(old),
			new: sha(&new),
			probe
		}));
		// What the host functions are handed is the new engine, and it analyses models.
		let bytes = Engine::engine_bytes().unwrap();
		assert_eq!(bytes.sha256, sha(&new).0);
		assert_eq!(StoredProbes::accepts(&cnn, bytes), Ok(true));
	});
}

#[test]
fn a_blob_that_is_not_an_engine_is_rejected_and_the_engine_stays() {
	new_test_ext().execute_with(|| {
		let (probe, _) = store_probes();
		let before = CurrentEngine::<Test>::get();
		let garbage = vec![7u8; 40_000];
		upload_engine(&garbage);
		assert_noop!(Engine::activate(RuntimeOrigin::root(), probe), Error::<Test>::EngineRejected);
		assert_eq!(CurrentEngine::<Test>::get(), before);
		// Root abandons it; its chunks go.
		assert_ok!(Engine::cancel_upload(RuntimeOrigin::root()));
		assert_eq!(chunks_stored(sha(&garbage)), 0);
		assert!(engine_events().contains(&Event::UploadCancelled { sha256: sha(&garbage) }));
	});
}

#[test]
fn a_blob_uploaded_under_another_blobs_hash_is_rejected_even_where_that_hash_is_compiled() {
	new_test_ext().execute_with(|| {
		let (probe, _) = store_probes();
		let before = CurrentEngine::<Test>::get();
		// A node that compiled a real engine under this hash would run it for these bytes if
		// the hash were taken on trust; one that had not would refuse them.
		let (claimed, garbage) = (sha(&another_engine()), vec![7u8; 40_000]);
		let cache = verinfer_executor::cache::InferenceCache::global();
		let compiled = cache
			.engine(&Engine::engine_bytes().unwrap(), &mut |key| {
				sp_io::storage::get(key).map(|v| v.to_vec())
			})
			.unwrap()
			.unwrap();
		cache.insert_engine(claimed.0, compiled);
		assert_ok!(Engine::begin_upload(RuntimeOrigin::root(), claimed, 40_000));
		for (index, part) in garbage.chunks(CHUNK as usize).enumerate() {
			assert_ok!(Engine::upload_chunk(RuntimeOrigin::root(), index as u32, chunk(part)));
		}
		assert_noop!(Engine::activate(RuntimeOrigin::root(), probe), Error::<Test>::HashMismatch);
		assert_eq!(CurrentEngine::<Test>::get(), before);
	});
}

#[test]
fn only_root_touches_the_engine() {
	new_test_ext().execute_with(|| {
		let new = another_engine();
		let signed = RuntimeOrigin::signed(1);
		assert_noop!(
			Engine::begin_upload(signed.clone(), sha(&new), new.len() as u32),
			DispatchError::BadOrigin
		);
		upload_engine(&new);
		assert_noop!(
			Engine::upload_chunk(signed.clone(), 0, chunk(&new[..CHUNK as usize])),
			DispatchError::BadOrigin
		);
		assert_noop!(Engine::activate(signed.clone(), H256::zero()), DispatchError::BadOrigin);
		assert_noop!(Engine::cancel_upload(signed), DispatchError::BadOrigin);
	});
}

#[test]
fn an_engine_upload_is_refused_when_it_cannot_be_activated() {
	new_test_ext().execute_with(|| {
		let (probe, _) = store_probes();
		let blob = ENGINE_BLOB.unwrap();
		let root = RuntimeOrigin::root;
		assert_noop!(
			Engine::begin_upload(root(), sha(blob), blob.len() as u32),
			Error::<Test>::EngineUnchanged
		);
		assert_noop!(Engine::begin_upload(root(), H256::zero(), 0), Error::<Test>::EmptyEngine);
		assert_noop!(
			Engine::begin_upload(root(), H256::zero(), MAX_ENGINE_BYTES + 1),
			Error::<Test>::EngineTooLarge
		);
		assert_noop!(Engine::activate(root(), probe), Error::<Test>::NoUpload);
		assert_noop!(Engine::cancel_upload(root()), Error::<Test>::NoUpload);

		let new = another_engine();
		assert_ok!(Engine::begin_upload(root(), sha(&new), new.len() as u32));
		assert_noop!(Engine::begin_upload(root(), H256::zero(), 10), Error::<Test>::UploadPending);
		assert_noop!(
			Engine::upload_chunk(root(), 0, chunk(&new[..10])),
			Error::<Test>::WrongChunkSize
		);
		assert_ok!(Engine::upload_chunk(root(), 0, chunk(&new[..CHUNK as usize])));
		assert_noop!(
			Engine::upload_chunk(root(), 0, chunk(&new[..CHUNK as usize])),
			Error::<Test>::ChunkAlreadyUploaded
		);
		assert_noop!(
			Engine::upload_chunk(root(), 10_000, chunk(&new[..CHUNK as usize])),
			Error::<Test>::ChunkOutOfRange
		);
		assert_noop!(Engine::activate(root(), probe), Error::<Test>::UploadIncomplete);
	});
}

#[test]
fn the_probe_must_be_a_model_the_chain_runs() {
	new_test_ext().execute_with(|| {
		upload_engine(&another_engine());
		assert_noop!(
			Engine::activate(RuntimeOrigin::root(), H256::zero()),
			DispatchError::Other("not a model the chain runs")
		);
	});
}

#[test]
fn activation_is_charged_the_probes_measurement_and_hashing_every_chunk() {
	new_test_ext().execute_with(|| {
		let (probe, _) = store_probes();
		let bound = TestEngineCost::get().of(StoredProbes::usage_bound());
		let before_upload = Engine::activate_weight(probe);
		assert!(before_upload.all_gte(bound));
		upload_engine(&another_engine());
		// Hashing the pending blob's chunks is in the weight.
		assert!(Engine::activate_weight(probe).all_gt(before_upload));
	});
}
