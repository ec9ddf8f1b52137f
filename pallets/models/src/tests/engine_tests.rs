//! The registry as what a replacement engine is tried on (`pallet_engine::EngineProbe`): an
//! Active model, measured within the registration limits; and the engine it reads
//! (`pallet_engine::EngineSource`) is the engine pallet's current one.

use frame_support::{assert_noop, assert_ok, dispatch::WithPostDispatchInfo};
use sp_core::H256;
use verinfer_executor::ENGINE_BLOB;

use super::*;
use crate::{Error, ModelStatus};

/// The engine blob with a custom section appended: another blob (another SHA-256) that Wasm
/// runs exactly as the original.
fn another_engine() -> Vec<u8> {
	let name = b"verinfer-test";
	let section = [&[name.len() as u8][..], name, b"payload"].concat();
	[ENGINE_BLOB.unwrap(), &[0, section.len() as u8], &section].concat()
}

/// Uploads `blob` as the replacement engine, as root.
fn upload_engine(blob: &[u8]) {
	assert_ok!(Engine::begin_upload(RuntimeOrigin::root(), id_of(blob), blob.len() as u32));
	for (index, part) in blob.chunks(CHUNK as usize).enumerate() {
		assert_ok!(Engine::upload_chunk(RuntimeOrigin::root(), index as u32, chunk(part)));
	}
}

#[test]
fn an_engine_activated_on_a_registered_model_registers_models_as_the_old_one_did() {
	new_test_ext().execute_with(|| {
		let probe = upload(ALICE, &fixture("models/mlp.onnx"), "mlp");
		let new = another_engine();
		upload_engine(&new);
		assert_ok!(Engine::activate(RuntimeOrigin::root(), probe));
		assert_eq!(
			pallet_engine::Engine::<Test>::get().map(|engine| engine.sha256),
			Some(id_of(&new))
		);

		// The registry reads the new engine, and it registers models.
		let cnn = upload(ALICE, &fixture("models/cnn.onnx"), "cnn");
		assert_eq!(crate::Models::<Test>::get(cnn).unwrap().status, ModelStatus::Active);
	});
}

#[test]
fn the_probe_must_be_an_active_model() {
	new_test_ext().execute_with(|| {
		upload_engine(&another_engine());
		assert_noop!(
			Engine::activate(RuntimeOrigin::root(), H256::zero()),
			Error::<Test>::ModelNotFound
		);
		let uploading = begin(ALICE, &fixture("models/mlp.onnx"), "mlp");
		assert_noop!(Engine::activate(RuntimeOrigin::root(), uploading), Error::<Test>::NotActive);
		let deprecated = upload(ALICE, &fixture("models/cnn.onnx"), "cnn");
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), deprecated));
		assert_noop!(Engine::activate(RuntimeOrigin::root(), deprecated), Error::<Test>::NotActive);
	});
}

#[test]
fn a_model_cannot_register_without_an_engine() {
	new_test_ext().execute_with(|| {
		pallet_engine::Engine::<Test>::kill();
		let id = begin(ALICE, &fixture("models/mlp.onnx"), "mlp");
		let bytes = fixture("models/mlp.onnx");
		assert_ok!(Models::upload_chunk(RuntimeOrigin::signed(ALICE), id, 0, chunk(&bytes)));
		assert_noop!(
			Models::finalize(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NoEngine.with_weight(<() as crate::WeightInfo>::finalize(0))
		);
	});
}
