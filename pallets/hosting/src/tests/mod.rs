//! The mock runtime: System, Balances and the hosting pallet, with a model registry that is a set
//! of Active model ids in state and a treasury account that does not exist until it is paid.

mod bonding_tests;
mod reward_tests;
mod serving_tests;
mod slashing_tests;

use alloc::collections::BTreeSet;
use frame_support::{assert_ok, derive_impl, parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

use crate::{self as pallet_hosting, ModelId};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Hosting: pallet_hosting,
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

/// Above 1, so that a slash can be too small to create the treasury account.
pub const ED: Balance = 10;
pub const MIN_BOND: Balance = 1_000;
pub const UNBONDING: u64 = 10;
pub const MAX_CHUNKS: u32 = 3;
pub const MAX_MODELS: u32 = 2;
pub const MAX_HOSTS: u32 = 3;
pub const TREASURY: AccountId = 99;

parameter_types! {
	pub const ExistentialDeposit: Balance = ED;
	pub const MinBond: Balance = MIN_BOND;
	pub const UnbondingPeriod: u64 = UNBONDING;
	pub const Treasury: AccountId = TREASURY;
	/// The models the mock registry calls Active.
	pub storage ActiveModels: BTreeSet<ModelId> = BTreeSet::new();
}

/// The model registry: a model is Active when it is in [`ActiveModels`].
pub struct MockModels;

impl pallet_models::ModelRegistry for MockModels {
	fn is_active(model: &ModelId) -> bool {
		ActiveModels::get().contains(model)
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for MockModels {
	fn activate_model(id: ModelId) {
		activate(id);
	}
}

impl pallet_hosting::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = MockModels;
	type MinBond = MinBond;
	type UnbondingPeriod = UnbondingPeriod;
	type MaxUnlockingChunks = ConstU32<MAX_CHUNKS>;
	type MaxModelsPerHost = ConstU32<MAX_MODELS>;
	type MaxHostsPerModel = ConstU32<MAX_HOSTS>;
	type Treasury = Treasury;
	type SlashOrigin = EnsureRoot<AccountId>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockModels;
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
/// Can bond the minimum, but not pay much more.
pub const POOR: AccountId = 5;
pub const ENDOWMENT: Balance = 1_000_000;
pub const POOR_ENDOWMENT: Balance = 1_200;

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(ALICE, ENDOWMENT),
			(BOB, ENDOWMENT),
			(CHARLIE, ENDOWMENT),
			(DAVE, ENDOWMENT),
			(POOR, POOR_ENDOWMENT),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` in a fresh mock chain, then checks the pallet's invariants.
pub fn run(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Hosting::do_try_state().expect("the pallet's invariants hold");
	});
}

/// Model `n`, not yet Active.
pub fn model(n: u8) -> ModelId {
	ModelId::repeat_byte(n)
}

/// Makes `id` Active in the mock registry.
pub fn activate(id: ModelId) {
	let mut active = ActiveModels::get();
	active.insert(id);
	ActiveModels::set(&active);
}

/// Model `n`, Active.
pub fn active_model(n: u8) -> ModelId {
	let id = model(n);
	activate(id);
	id
}

pub fn bond(who: AccountId, amount: Balance) {
	assert_ok!(Hosting::bond(RuntimeOrigin::signed(who), amount));
}

pub fn serve(who: AccountId, model: ModelId) {
	assert_ok!(Hosting::serve(RuntimeOrigin::signed(who), model));
}

pub fn unbond(who: AccountId, amount: Balance) {
	assert_ok!(Hosting::unbond(RuntimeOrigin::signed(who), amount));
}

/// Free and held balance of `who`.
pub fn balances(who: AccountId) -> (Balance, Balance) {
	use frame_support::traits::fungible::{Inspect, InspectHold};
	(Balances::balance(&who), Balances::total_balance_on_hold(&who))
}

pub fn total_issuance() -> Balance {
	Balances::total_issuance()
}

/// The root of all state, to show that something changed nothing.
pub fn state_root() -> Vec<u8> {
	sp_io::storage::root(sp_runtime::StateVersion::V1)
}

/// The events of the hosting pallet so far.
pub fn hosting_events() -> Vec<pallet_hosting::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Hosting(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The hosts of `model`, as stored.
pub fn hosts_of(model: ModelId) -> Vec<AccountId> {
	crate::ModelHosts::<Test>::get(model).into_inner()
}

/// The models `who` serves, as stored.
pub fn models_of(who: AccountId) -> Vec<ModelId> {
	crate::Hosts::<Test>::get(who).map(|host| host.models.into_inner()).unwrap_or_default()
}
