//! Replacing the engine blob: only by root, only with a blob that analyses a model the chain runs.

use frame_support::{assert_noop, assert_ok};
use sp_core::H256;
use sp_runtime::DispatchError;
use verinfer_executor::ENGINE_BLOB;

use super::*;
use crate::{Engine, EngineChunks, Error, Event, PendingEngine};

/// The engine blob with a custom section appended: another blob (another SHA-256) that Wasm
/// runs exactly as the original.
fn another_engine() -> Vec<u8> {
	let name = b"verinfer-test";
	let section = [&[name.len() as u8][..], name, b"payload"].concat();
	[ENGINE_BLOB.unwrap(), &[0, section.len() as u8], &section].concat()
}

fn sha(bytes: &[u8]) -> H256 {
	id_of(bytes)
}

/// Opens the upload of `blob` as root and stores every chunk.
fn upload_engine(blob: &[u8]) {
	assert_ok!(Models::begin_engine_upload(RuntimeOrigin::root(), sha(blob), blob.len() as u32));
	for (index, part) in blob.chunks(CHUNK as usize).enumerate() {
		assert_ok!(Models::upload_engine_chunk(RuntimeOrigin::root(), index as u32, chunk(part)));
	}
}

fn chunks_stored(sha256: H256) -> usize {
	EngineChunks::<Test>::iter_prefix(sha256).count()
}

#[test]
fn root_replaces_the_engine_and_the_old_engines_chunks_are_deleted() {
	new_test_ext().execute_with(|| {
		let probe = upload(ALICE, &fixture("models/mlp.onnx"), "mlp");
		let (old, new) = (sha(ENGINE_BLOB.unwrap()), another_engine());
		upload_engine(&new);
		assert_ok!(Models::activate_engine(RuntimeOrigin::root(), probe));

		let engine = Engine::<Test>::get().unwrap();
		assert_eq!((engine.sha256, engine.size as usize), (sha(&new), new.len()));
		assert_eq!(chunks_stored(old), 0);
		assert_eq!(chunks_stored(sha(&new)), engine.chunks as usize);
		assert!(PendingEngine::<Test>::get().is_none());
		assert!(model_events().contains(&Event::EngineReplaced {
			old: Some(old),
			new: sha(&new),
			probe
		}));
		// The new engine registers models as the old one did.
		let cnn = upload(ALICE, &fixture("models/cnn.onnx"), "cnn");
		assert_eq!(crate::Models::<Test>::get(cnn).unwrap().status, crate::ModelStatus::Active);
	});
}

#[test]
fn a_blob_that_is_not_an_engine_is_rejected_and_the_engine_stays() {
	new_test_ext().execute_with(|| {
		let probe = upload(ALICE, &fixture("models/mlp.onnx"), "mlp");
		let before = Engine::<Test>::get();
		let garbage = vec![7u8; 40_000];
		upload_engine(&garbage);
		assert_noop!(
			Models::activate_engine(RuntimeOrigin::root(), probe),
			Error::<Test>::EngineRejected
		);
		assert_eq!(Engine::<Test>::get(), before);
		// Root abandons it; its chunks go.
		assert_ok!(Models::cancel_engine_upload(RuntimeOrigin::root()));
		assert_eq!(chunks_stored(sha(&garbage)), 0);
		assert!(model_events().contains(&Event::EngineUploadCancelled { sha256: sha(&garbage) }));
	});
}

#[test]
fn a_blob_uploaded_under_another_blobs_hash_is_rejected_even_where_that_hash_is_compiled() {
	new_test_ext().execute_with(|| {
		let probe = upload(ALICE, &fixture("models/mlp.onnx"), "mlp");
		let before = Engine::<Test>::get();
		// A node that compiled a real engine under this hash would run it for these bytes if
		// the hash were taken on trust; one that had not would refuse them.
		let (claimed, garbage) = (sha(&another_engine()), vec![7u8; 40_000]);
		let cache = verinfer_executor::cache::InferenceCache::global();
		let compiled = cache
			.engine(&Models::engine_bytes().unwrap(), &mut |key| {
				sp_io::storage::get(key).map(|v| v.to_vec())
			})
			.unwrap()
			.unwrap();
		cache.insert_engine(claimed.0, compiled);
		assert_ok!(Models::begin_engine_upload(RuntimeOrigin::root(), claimed, 40_000));
		for (index, part) in garbage.chunks(CHUNK as usize).enumerate() {
			assert_ok!(Models::upload_engine_chunk(
				RuntimeOrigin::root(),
				index as u32,
				chunk(part)
			));
		}
		assert_noop!(
			Models::activate_engine(RuntimeOrigin::root(), probe),
			Error::<Test>::EngineHashMismatch
		);
		assert_eq!(Engine::<Test>::get(), before);
	});
}

#[test]
fn only_root_touches_the_engine() {
	new_test_ext().execute_with(|| {
		let new = another_engine();
		let signed = RuntimeOrigin::signed(ALICE);
		assert_noop!(
			Models::begin_engine_upload(signed.clone(), sha(&new), new.len() as u32),
			DispatchError::BadOrigin
		);
		upload_engine(&new);
		assert_noop!(
			Models::upload_engine_chunk(signed.clone(), 0, chunk(&new[..CHUNK as usize])),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Models::activate_engine(signed.clone(), H256::zero()),
			DispatchError::BadOrigin
		);
		assert_noop!(Models::cancel_engine_upload(signed), DispatchError::BadOrigin);
	});
}

#[test]
fn an_engine_upload_is_refused_when_it_cannot_be_activated() {
	new_test_ext().execute_with(|| {
		let probe = upload(ALICE, &fixture("models/mlp.onnx"), "mlp");
		let blob = ENGINE_BLOB.unwrap();
		let root = RuntimeOrigin::root;
		assert_noop!(
			Models::begin_engine_upload(root(), sha(blob), blob.len() as u32),
			Error::<Test>::EngineUnchanged
		);
		assert_noop!(
			Models::begin_engine_upload(root(), H256::zero(), crate::MAX_ENGINE_BYTES + 1),
			Error::<Test>::EngineTooLarge
		);
		assert_noop!(Models::activate_engine(root(), probe), Error::<Test>::NoEngineUpload);

		let new = another_engine();
		assert_ok!(Models::begin_engine_upload(root(), sha(&new), new.len() as u32));
		assert_noop!(
			Models::begin_engine_upload(root(), H256::zero(), 10),
			Error::<Test>::EngineUploadPending
		);
		assert_noop!(
			Models::upload_engine_chunk(root(), 0, chunk(&new[..10])),
			Error::<Test>::WrongChunkSize
		);
		assert_ok!(Models::upload_engine_chunk(root(), 0, chunk(&new[..CHUNK as usize])));
		assert_noop!(
			Models::upload_engine_chunk(root(), 0, chunk(&new[..CHUNK as usize])),
			Error::<Test>::ChunkAlreadyUploaded
		);
		assert_noop!(
			Models::upload_engine_chunk(root(), 10_000, chunk(&new[..CHUNK as usize])),
			Error::<Test>::ChunkOutOfRange
		);
		assert_noop!(Models::activate_engine(root(), probe), Error::<Test>::UploadIncomplete);
	});
}

#[test]
fn the_probe_must_be_an_active_model() {
	new_test_ext().execute_with(|| {
		let new = another_engine();
		upload_engine(&new);
		assert_noop!(
			Models::activate_engine(RuntimeOrigin::root(), H256::zero()),
			Error::<Test>::ModelNotFound
		);
		let uploading = begin(ALICE, &fixture("models/mlp.onnx"), "mlp");
		assert_noop!(
			Models::activate_engine(RuntimeOrigin::root(), uploading),
			Error::<Test>::NotActive
		);
	});
}
