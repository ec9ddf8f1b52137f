//! The mock runtime: System, Balances, the models pallet with the real engine blob in state, and
//! the inference pallet, running the real inference host functions natively as the node does.
//! Hosts are a stand-in that pays one host account, when told a model has hosts.

mod admission_tests;
mod fee_tests;
mod infer_tests;
mod retention_tests;

use frame_support::{
	derive_impl, parameter_types,
	traits::{
		fungible::{Inspect, Mutate},
		tokens::Preservation,
		ConstU32, Hooks,
	},
	weights::Weight,
};
use frame_system::limits::BlockWeights;
use pallet_models::{HostRewards, ModelId, ModelMetadata};
use sp_runtime::{BuildStorage, DispatchError, Perbill};
use verinfer_primitives::tensor::Tensor;

use crate as pallet_inference;

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Engine: pallet_engine,
		Models: pallet_models,
		Inference: pallet_inference,
	}
);

parameter_types! {
	/// Settable per test, to refuse models that are too heavy for a block.
	pub static MaxBlockRefTime: u64 = 2_000_000_000_000;
	pub TestBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(MaxBlockRefTime::get(), u64::MAX),
		Perbill::from_percent(75),
	);
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
	type BlockWeights = TestBlockWeights;
	type DbWeight = frame_support::weights::constants::ParityDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ConstU128<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

use frame_support::traits::ConstU128;

frame_support::parameter_types! {
	/// The runtime's prices: 1 ns a unit of fuel, 0.5 ns a byte of memory.
	pub const TestEngineCost: pallet_engine::EngineCost =
		pallet_engine::EngineCost { ps_per_fuel: 1_000, ps_per_memory_byte: 500 };
	pub const TestRegistrationLimits: verinfer_primitives::engine::Limits =
		verinfer_primitives::engine::Limits::REGISTRATION;
}

impl pallet_engine::Config for Test {
	type ChunkSize = ConstU32<{ 64 * 1024 }>;
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
	type ChunkSize = ConstU32<{ 64 * 1024 }>;
	type DepositBase = ConstU128<1_000>;
	type DepositPerByte = ConstU128<1>;
	type UploadLifetime = ConstU64<10>;
	type MaxExpiringPerBlock = ConstU32<4>;
	type CallAdmission = Inference;
	type Engine = Engine;
	type RegistrationLimits = TestRegistrationLimits;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Test>;
}

use frame_support::traits::ConstU64;

/// The host that serves every model [`HasHosts`] names.
pub const HOST: AccountId = 9;

parameter_types! {
	/// Models the stand-in host serves.
	pub static HasHosts: Vec<ModelId> = vec![];
	pub static MaxResultBytes: u32 = 64 * 1024;
	pub static MaxEventOutputBytes: u32 = 1024;
	pub static MaxResultBytesPerBlock: u32 = 1 << 20;
	pub const HostShare: Perbill = Perbill::from_percent(30);
	pub const ResultRetention: u64 = RETENTION;
}

pub const RETENTION: u64 = 5;

/// Pays the whole hosts' share to [`HOST`] for the models in [`HasHosts`].
pub struct OneHost;

impl HostRewards<AccountId, Balance> for OneHost {
	fn reward_weight() -> Weight {
		<Test as frame_system::Config>::DbWeight::get().reads_writes(2, 2)
	}

	fn reward(
		model: &ModelId,
		payer: &AccountId,
		amount: Balance,
	) -> Result<Balance, DispatchError> {
		if !HasHosts::get().contains(model) {
			return Ok(0);
		}
		Balances::transfer(payer, &HOST, amount, Preservation::Preserve)?;
		Ok(amount)
	}
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Engine = Engine;
	type Hosts = OneHost;
	type HostShare = HostShare;
	type ResultRetention = ResultRetention;
	type MaxResultBytes = MaxResultBytes;
	type MaxEventOutputBytes = MaxEventOutputBytes;
	type MaxResultBytesPerBlock = MaxResultBytesPerBlock;
	type ResultDepositBase = ConstU128<RESULT_DEPOSIT_BASE>;
	type ResultDepositPerByte = ConstU128<RESULT_DEPOSIT_PER_BYTE>;
	type WeightInfo = crate::weights::SubstrateWeight<Test>;
}

pub const OWNER: AccountId = 1;
pub const CALLER: AccountId = 2;
/// Can pay transaction fees but not a model's fee.
pub const POOR: AccountId = 3;
pub const ENDOWMENT: Balance = 10_000_000;
/// The fee every test model charges.
pub const FEE: Balance = 1_000;
/// What a stored result holds from its caller: 100 + 2 a byte.
pub const RESULT_DEPOSIT_BASE: Balance = 100;
pub const RESULT_DEPOSIT_PER_BYTE: Balance = 2;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(OWNER, ENDOWMENT), (CALLER, ENDOWMENT), (POOR, FEE / 2), (HOST, 10)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_engine::GenesisConfig::<Test> {
		blob: verinfer_executor::ENGINE_BLOB.expect("the engine blob is built").to_vec(),
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

/// A tensor fixture (`.npy`).
pub fn tensor(path: &str) -> Tensor {
	let path = verinfer_fixtures::dir().join(path);
	verinfer_formats::read_tensor(&path).unwrap()
}

pub fn metadata(name: &str) -> ModelMetadata {
	ModelMetadata {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		version: b"1.0.0".to_vec().try_into().unwrap(),
		description: Default::default(),
	}
}

/// Registers a corpus model (`models/NAME.onnx`, one chunk) as [`OWNER`] with fee [`FEE`]; returns
/// its id. Whether it was accepted is for the caller to check.
pub fn register(name: &str) -> ModelId {
	let bytes = fixture(&format!("models/{name}.onnx"));
	frame_support::assert_ok!(Models::register(
		RuntimeOrigin::signed(OWNER),
		metadata(name),
		FEE,
		Default::default(),
		pallet_models::DEFAULT_HEADROOM_PERCENT,
		bytes.clone().try_into().unwrap(),
	));
	verinfer_executor::digest::model_id(&bytes)
}

/// The corpus input of a model (`models/NAME.input0.npy`).
/// The weight of one call of a registered model.
pub fn call_weight(model: ModelId) -> crate::CallWeight {
	let analysis = pallet_models::Analyses::<Test>::get(model).unwrap();
	let cost = pallet_models::Costs::<Test>::get(model).unwrap();
	let size = pallet_models::Models::<Test>::get(model).unwrap().size;
	Inference::call_weight(&analysis, &cost, size)
}

/// What the engine uses running `model` on `inputs` (the dry run's figure).
pub fn usage(model: ModelId, inputs: Vec<Tensor>) -> verinfer_primitives::engine::Usage {
	Inference::dry_run(model, inputs).expect("the model runs").usage
}

pub fn input(name: &str) -> Vec<Tensor> {
	vec![tensor(&format!("models/{name}.input0.npy"))]
}

/// What the engine outputs for `model` on `inputs`, run natively outside any chain, as
/// `verinfer model run` does.
pub fn native_outputs(model: &str, inputs: &[Tensor]) -> Vec<Tensor> {
	let engine = verinfer_executor::engine::Engine::built_in().unwrap();
	let bytes = fixture(&format!("models/{model}.onnx"));
	verinfer_executor::local::run(&engine, &bytes, inputs).unwrap().outputs
}

/// Free balance of `who`.
pub fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

/// What `who` holds for stored results.
pub fn held_for_results(who: AccountId) -> Balance {
	use frame_support::traits::fungible::InspectHold;
	Balances::balance_on_hold(&crate::HoldReason::ResultStorage.into(), &who)
}

/// The state root now: equal before and after means nothing changed.
pub fn state_root() -> Vec<u8> {
	sp_io::storage::root(sp_runtime::StateVersion::V1)
}

/// The events of the inference pallet so far.
pub fn inference_events() -> Vec<pallet_inference::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Inference(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Moves to the next block, running the pallet's hooks as the executive would.
pub fn next_block() {
	let now = System::block_number() + 1;
	System::set_block_number(now);
	Inference::on_initialize(now);
}

/// Runs `on_idle` with `weight` to spare.
pub fn idle(weight: Weight) -> Weight {
	Inference::on_idle(System::block_number(), weight)
}
