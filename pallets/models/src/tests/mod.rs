//! The mock runtime: System, Balances, the engine pallet and the models pallet, with the real
//! engine blob in state and the real inference host functions (run natively, as the node runs
//! them).

mod engine_tests;
mod management_tests;
mod upload_tests;

use frame_support::{derive_impl, parameter_types, traits::ConstU32, BoundedVec};
use sp_runtime::BuildStorage;
use verinfer_executor::ENGINE_BLOB;

use crate::{self as pallet_models, ModelId, ModelMetadata};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Engine: pallet_engine,
		Models: pallet_models,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Chunks of 16 KiB, so that the corpus's CNN (47,813 bytes) takes 3.
pub const CHUNK: u32 = 16 * 1024;
pub const DEPOSIT_BASE: Balance = 1_000;
pub const DEPOSIT_PER_BYTE: Balance = 2;
pub const LIFETIME: u64 = 10;

parameter_types! {
	pub const ExistentialDeposit: Balance = 1;
	pub const DepositBase: Balance = DEPOSIT_BASE;
	pub const DepositPerByte: Balance = DEPOSIT_PER_BYTE;
	pub const UploadLifetime: u64 = LIFETIME;
}

frame_support::parameter_types! {
	/// The runtime's prices: 1 ns a unit of fuel, 0.5 ns a byte of memory.
	pub const TestEngineCost: pallet_engine::EngineCost =
		pallet_engine::EngineCost { ps_per_fuel: 1_000, ps_per_memory_byte: 500 };
	pub const TestRegistrationLimits: verinfer_primitives::engine::Limits =
		verinfer_primitives::engine::Limits { fuel: 1 << 29, memory: 128 << 20 };
}

impl pallet_engine::Config for Test {
	type ChunkSize = ConstU32<CHUNK>;
	type EngineCost = TestEngineCost;
	type EngineOrigin = frame_system::EnsureRoot<AccountId>;
	type Probe = Models;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Models;
}

impl pallet_models::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ChunkSize = ConstU32<CHUNK>;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type UploadLifetime = UploadLifetime;
	type MaxExpiringPerBlock = ConstU32<4>;
	type CallAdmission = ();
	type Engine = Engine;
	type RegistrationLimits = TestRegistrationLimits;
	type WeightInfo = ();
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
/// Can pay fees but not a model's deposit.
pub const POOR: AccountId = 3;
pub const ENDOWMENT: Balance = 10_000_000;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT), (POOR, 500)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
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

/// A fixture file from `fixtures/`.
pub fn fixture(path: &str) -> Vec<u8> {
	let path = verinfer_fixtures::dir().join(path);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn id_of(bytes: &[u8]) -> ModelId {
	verinfer_executor::digest::model_id(bytes)
}

pub fn metadata(name: &str, version: &str) -> ModelMetadata {
	ModelMetadata {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		version: version.as_bytes().to_vec().try_into().unwrap(),
		description: b"a model".to_vec().try_into().unwrap(),
	}
}

pub fn chunk(bytes: &[u8]) -> BoundedVec<u8, ConstU32<CHUNK>> {
	bytes.to_vec().try_into().unwrap()
}

/// Free and held balance of `who`.
pub fn balances(who: AccountId) -> (Balance, Balance) {
	use frame_support::traits::fungible::{Inspect, InspectHold};
	(Balances::balance(&who), Balances::total_balance_on_hold(&who))
}

/// The events of the models pallet so far.
pub fn model_events() -> Vec<pallet_models::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Models(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Opens an upload of `bytes` (fee 7) as `owner`; returns the model id.
pub fn begin(owner: AccountId, bytes: &[u8], name: &str) -> ModelId {
	let id = id_of(bytes);
	frame_support::assert_ok!(Models::begin_upload(
		RuntimeOrigin::signed(owner),
		id,
		bytes.len() as u32,
		metadata(name, "1.0.0"),
		7,
		Default::default(),
		crate::DEFAULT_HEADROOM_PERCENT,
	));
	id
}

/// Uploads `bytes` in chunks (in reverse order, to show order does not matter) and finalizes.
pub fn upload(owner: AccountId, bytes: &[u8], name: &str) -> ModelId {
	let id = begin(owner, bytes, name);
	let chunks: Vec<_> = bytes.chunks(CHUNK as usize).collect();
	for (index, part) in chunks.iter().enumerate().rev() {
		frame_support::assert_ok!(Models::upload_chunk(
			RuntimeOrigin::signed(owner),
			id,
			index as u32,
			chunk(part)
		));
	}
	frame_support::assert_ok!(Models::finalize(RuntimeOrigin::signed(owner), id));
	id
}
