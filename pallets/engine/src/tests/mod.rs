//! The mock runtime: System and the engine pallet, with the real engine blob in state and the
//! real inference host functions (run natively, as the node runs them). The models a replacement
//! is tried on are ONNX files stored under their id ([`StoredProbes`]), as the registry offers its
//! Active models; the registry's own [`EngineProbe`] is tested in `pallet-models`.

mod blob_tests;

use codec::{Decode, Encode};
use frame_support::{derive_impl, ensure, traits::ConstU32, BoundedVec};
use sp_runtime::{BuildStorage, DispatchError};
use verinfer_executor::ENGINE_BLOB;
use verinfer_interface::inference;
use verinfer_primitives::{
	engine::{Limits, Usage},
	inference::StoredBytes,
	ModelId,
};

use crate::{self as pallet_engine, EngineCost, EngineProbe};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Engine: pallet_engine,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Chunks of 16 KiB.
pub const CHUNK: u32 = 16 * 1024;
/// What trying an engine on a probe may use: the registry's registration limits.
pub const LIMITS: Limits = Limits::REGISTRATION;

frame_support::parameter_types! {
	/// The runtime's prices: 1 ns a unit of fuel, 0.5 ns a byte of memory.
	pub const TestEngineCost: EngineCost = EngineCost { ps_per_fuel: 1_000, ps_per_memory_byte: 500 };
}

impl pallet_engine::Config for Test {
	type ChunkSize = ConstU32<CHUNK>;
	type EngineCost = TestEngineCost;
	type EngineOrigin = frame_system::EnsureRoot<AccountId>;
	type Probe = StoredProbes;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = StoredProbes;
}

/// Models a replacement engine may be tried on: ONNX bytes stored whole under
/// [`probe_key`]`(id)`, SCALE-encoded as the registry stores a chunk (what the host functions
/// read), measured within [`LIMITS`] as the registry measures a registration.
pub struct StoredProbes;

/// Where [`StoredProbes`] keeps the model `id`.
fn probe_key(id: &ModelId) -> Vec<u8> {
	[&b":probe:"[..], id.as_bytes()].concat()
}

/// Stores `bytes` as a model the chain runs; returns its id.
pub fn store_probe(bytes: &[u8]) -> ModelId {
	let id = verinfer_executor::digest::model_id(bytes);
	sp_io::storage::set(&probe_key(&id), &bytes.encode());
	id
}

impl EngineProbe for StoredProbes {
	fn size(probe: &ModelId) -> u32 {
		let stored = sp_io::storage::get(&probe_key(probe));
		stored
			.and_then(|bytes| Vec::<u8>::decode(&mut &bytes[..]).ok())
			.map_or(0, |model| model.len() as u32)
	}

	fn usage_bound() -> Usage {
		Usage { fuel: LIMITS.fuel, memory: LIMITS.memory_cap().saturating_mul(3) }
	}

	fn accepts(probe: &ModelId, engine: StoredBytes) -> Result<bool, DispatchError> {
		let key = probe_key(probe);
		ensure!(sp_io::storage::exists(&key), DispatchError::Other("not a model the chain runs"));
		let model = StoredBytes { sha256: probe.0, keys: vec![key] };
		let measured = inference::measure(engine, model, Vec::new(), LIMITS);
		Ok(measured.result.is_ok_and(|measurement| measurement.analysis.is_accepted()))
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for StoredProbes {
	fn probe(size: u32) -> ModelId {
		store_probe(&verinfer_synthetic::sized(size, size as u64))
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_engine::GenesisConfig::<Test> {
		blob: ENGINE_BLOB.expect("the engine blob is built").to_vec(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// The corpus's MLP and CNN, stored as models the chain runs.
pub fn store_probes() -> (ModelId, ModelId) {
	let read = |name| verinfer_fixtures::read("models", name);
	(store_probe(&read("mlp.onnx")), store_probe(&read("cnn.onnx")))
}

pub fn chunk(bytes: &[u8]) -> BoundedVec<u8, ConstU32<CHUNK>> {
	bytes.to_vec().try_into().unwrap()
}

/// The events of the engine pallet so far.
pub fn engine_events() -> Vec<pallet_engine::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Engine(event) => Some(event),
			_ => None,
		})
		.collect()
}
