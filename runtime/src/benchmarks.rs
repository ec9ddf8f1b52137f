//! The pallets benchmarked by `verinfer benchmark pallet` (node built with `runtime-benchmarks`).

use alloc::{string::String, vec::Vec};
use frame_benchmarking::{BenchmarkBatch, BenchmarkConfig, BenchmarkList};
use frame_support::traits::StorageInfo;

use super::*;

impl frame_system_benchmarking::Config for Runtime {}
impl frame_benchmarking::baseline::Config for Runtime {}

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_engine, Engine]
	[pallet_models, Models]
	[pallet_inference, Inference]
	[pallet_hosting, Hosting]
);

pub fn benchmark_metadata(extra: bool) -> (Vec<BenchmarkList>, Vec<StorageInfo>) {
	use frame_benchmarking::{baseline::Pallet as BaselineBench, BenchmarkList};
	use frame_support::traits::StorageInfoTrait;
	use frame_system_benchmarking::Pallet as SystemBench;

	let mut list = Vec::<BenchmarkList>::new();
	list_benchmarks!(list, extra);
	let storage_info = AllPalletsWithSystem::storage_info();
	(list, storage_info)
}

pub fn dispatch_benchmark(config: BenchmarkConfig) -> Result<Vec<BenchmarkBatch>, String> {
	use frame_benchmarking::{baseline::Pallet as BaselineBench, BenchmarkBatch};
	use frame_support::traits::{TrackedStorageKey, WhitelistedStorageKeys};
	use frame_system_benchmarking::Pallet as SystemBench;

	let whitelist: Vec<TrackedStorageKey> = AllPalletsWithSystem::whitelisted_storage_keys();
	let mut batches = Vec::<BenchmarkBatch>::new();
	let params = (&config, &whitelist);
	add_benchmarks!(params, batches);
	Ok(batches)
}
