//! The `Config` of every pallet and the chain-wide parameters they share.

use frame_support::PalletId;
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{AccountIdConversion, One},
	Perbill,
};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Engine, Hash, Hosting, Inference,
	Models, Nonce, PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, System, DAYS, EXISTENTIAL_DEPOSIT, HOURS,
	MICRO_UNIT, SLOT_DURATION, SS58_PREFIX, UNIT, VERSION,
};

/// Share of a block's weight and length that ordinary (non-operational) extrinsics may use; the rest
/// is kept for operational ones (e.g. root calls) so governance can always act on a full chain.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Maximum block length. 5 MiB carries a model upload chunk with room to spare, and is what the
/// network layer and the RPC's request limit are sized for.
pub const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

/// Compute per block: 2 s of reference hardware time, a third of the slot, leaving the rest for
/// propagation and import on slower validators.
pub const MAX_BLOCK_REF_TIME: u64 = 2 * WEIGHT_REF_TIME_PER_SECOND;

/// Proof size is unbounded on a solochain (no relay chain validates PoVs).
pub const MAX_BLOCK_PROOF_SIZE: u64 = u64::MAX;

parameter_types! {
	/// Block hashes kept for `CheckEra` mortality and `block_hash` lookups: about 4 hours.
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(MAX_BLOCK_REF_TIME, MAX_BLOCK_PROOF_SIZE),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// The node runs ParityDB only.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	// Enough for balances holds/freezes plus the pallets that will reference accounts.
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	/// Upper bound on validators; storage is sized for it.
	type MaxAuthorities = ConstU32<32>;
	/// One block per slot: a second block in the same slot would be an equivocation.
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	// No nominated staking on this chain.
	type MaxNominators = ConstU32<0>;
	// No session pallet, so no historical session data to keep.
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	// Reserves are deprecated in favour of holds; nothing here uses them.
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Fees do not rise with congestion: inference demand is priced by the model's own fee.
	pub FeeMultiplier: Multiplier = Multiplier::one();
	/// Price of one byte of extrinsic: 1 µUNIT, so a 1 MiB model chunk costs about 1 UNIT to submit.
	pub const TransactionByteFee: Balance = MICRO_UNIT;
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	/// Operational extrinsics pay 5× their weight fee as priority tip.
	type OperationalFeeMultiplier = ConstU8<5>;
	/// One planck per picosecond of reference time: a full block's compute costs 2 UNIT.
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = frame_support::weights::ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Held for every model: 1 UNIT.
	pub const ModelDepositBase: Balance = UNIT;
	/// Held per byte of a model: 1 µUNIT, so ResNet-50 (98 MiB) holds about 103 UNIT.
	pub const ModelDepositPerByte: Balance = MICRO_UNIT;
	/// An upload not finalised within an hour is removed and its deposit returned.
	pub const ModelUploadLifetime: BlockNumber = HOURS;
}

parameter_types! {
	/// What the engine's work weighs, calibrated by `scripts/bench-prices.sh` on an optimised
	/// build (AMD EPYC, 2 cores, a virtual machine) over the fixture corpus and the hostile-cost
	/// corpus (pooling windows, transposed convolutions, broadcasts, gathers, int64 division,
	/// float64 square roots, subnormal matrix products, long chains, bulk copies): the costliest
	/// unit of fuel measured is 0.46 ns (a subnormal matrix product), and a fresh instance costs
	/// up to 0.9 ns a byte of its memory beyond that (copying the image, page faults, the
	/// engine's constructors on a load). Priced at 1 ns a unit of fuel and 0.5 ns a byte, every
	/// registration, load and call of both corpora takes at most 0.78 of what it is charged
	/// after its refund (0.61–0.78 over three runs): a margin for slower machines and busy ones.
	pub const EngineCost: pallet_engine::EngineCost =
		pallet_engine::EngineCost { ps_per_fuel: 1_000, ps_per_memory_byte: 500 };
	/// Measuring a model at registration may use 2^29 ≈ 537 M units of fuel and 128 MiB of
	/// engine memory ([`Limits::REGISTRATION`](verinfer_primitives::engine::Limits::REGISTRATION)):
	/// with three instances' memory (a load, two probes) about 1.1 s of weight, inside one
	/// extrinsic's 1.5 s.
	pub const ModelRegistrationLimits: verinfer_primitives::engine::Limits =
		verinfer_primitives::engine::Limits::REGISTRATION;
}

/// 1 MiB chunks, for models and the engine blob alike: with the call's other arguments, far
/// inside one extrinsic's share of a block (5 MiB, 75 % for normal extrinsics); ResNet-50
/// uploads in 98 chunks, the engine blob in 15.
type ChunkSize = ConstU32<{ 1 << 20 }>;

impl pallet_engine::Config for Runtime {
	type ChunkSize = ChunkSize;
	type EngineCost = EngineCost;
	/// Root (sudo on this chain) replaces the engine: a change of numerics for every model.
	type EngineOrigin = EnsureRoot<AccountId>;
	/// A replacement must analyse and accept an Active model of the registry.
	type Probe = Models;
	type WeightInfo = pallet_engine::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Models;
}

impl pallet_models::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ChunkSize = ChunkSize;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type UploadLifetime = ModelUploadLifetime;
	/// Uploads are opened at most a few per block; 64 expiring in one block is far beyond that.
	type MaxExpiringPerBlock = ConstU32<64>;
	/// One call of the model must fit one extrinsic's share of a block.
	type CallAdmission = Inference;
	type Engine = Engine;
	type RegistrationLimits = ModelRegistrationLimits;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Hosts serving a model share 30 % of its per-call fee; its owner keeps 70 %.
	pub const InferenceHostShare: Perbill = Perbill::from_percent(30);
	/// Results stay a day: long enough for any client to read them after its call is included.
	pub const InferenceResultRetention: BlockNumber = DAYS;
	pub const InferenceResultDepositBase: Balance = 100 * MICRO_UNIT;
}

impl pallet_inference::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Engine = Engine;
	type Hosts = Hosting;
	type HostShare = InferenceHostShare;
	type ResultRetention = InferenceResultRetention;
	/// 256 KiB of outputs per call: a 50,000-class f32 logit vector fits.
	type MaxResultBytes = ConstU32<{ 256 * 1024 }>;
	/// Outputs up to 4 KiB (a 1,000-class f32 vector) ride in the event, so a client needs no
	/// second query.
	type MaxEventOutputBytes = ConstU32<{ 4 * 1024 }>;
	/// 512 KiB of results per block (two of the largest, thousands of classifier outputs): with
	/// a day's retention, results take at most 7 GiB of state, every byte under a deposit.
	type MaxResultBytesPerBlock = ConstU32<{ 512 * 1024 }>;
	/// A result's storage item (its key and record besides the outputs, about 100 bytes) and
	/// each byte of its outputs hold what a model's bytes hold: 1 µUNIT a byte, so the largest
	/// result holds 0.26 UNIT for a day.
	type ResultDepositBase = InferenceResultDepositBase;
	type ResultDepositPerByte = ModelDepositPerByte;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A host serves with at least 10 UNIT at stake: enough that a slash hurts, little enough that
	/// anyone with a GPU-less server can take part.
	pub const HostMinBond: Balance = 10 * UNIT;
	/// Unbonded stake stays held, and slashable, for a week: time for a fault to be found and
	/// judged by governance before the stake can leave.
	pub const HostUnbondingPeriod: BlockNumber = 7 * DAYS;
	/// Slashed stake goes to the treasury account (no treasury pallet yet: governance spends it by
	/// root call).
	pub TreasuryAccount: AccountId = PalletId(*b"vi/trsry").into_account_truncating();
}

impl pallet_hosting::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type MinBond = HostMinBond;
	type UnbondingPeriod = HostUnbondingPeriod;
	/// A host unbonding once a day through the unbonding period needs 7; 32 leaves room.
	type MaxUnlockingChunks = ConstU32<32>;
	/// One host serves at most 32 models: each is one more model its machine keeps loaded.
	type MaxModelsPerHost = ConstU32<32>;
	/// At most 16 hosts share a model's fees. Every call pays each host with a transfer and is
	/// weighed for the most hosts a model may have (0.56 ms a host, benchmarked): 16 keep that
	/// under 10 ms a call.
	type MaxHostsPerModel = ConstU32<16>;
	type Treasury = TreasuryAccount;
	type SlashOrigin = EnsureRoot<AccountId>;
	type WeightInfo = pallet_hosting::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ActivateModel;
}

/// Makes a model Active in the registry for the hosting pallet's benchmarks, without uploading one.
#[cfg(feature = "runtime-benchmarks")]
pub struct ActivateModel;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_hosting::BenchmarkHelper for ActivateModel {
	fn activate_model(id: pallet_models::ModelId) {
		pallet_models::Models::<Runtime>::insert(
			id,
			pallet_models::Model {
				owner: TreasuryAccount::get(),
				metadata: pallet_models::ModelMetadata {
					name: Default::default(),
					version: Default::default(),
					description: Default::default(),
				},
				fee: 0,
				size: 0,
				chunks: 0,
				declared: Default::default(),
				headroom_percent: verinfer_primitives::engine::DEFAULT_HEADROOM_PERCENT,
				status: pallet_models::ModelStatus::Active,
				deposit: 0,
				created_at: 0,
			},
		);
	}
}
