//! Benchmarks of the models pallet's calls.
//!
//! Models come from [`verinfer_synthetic`]: [`synthetic::sized`] builds a valid model
//! of any exact size whose weight fills it, so that the engine's analysis in `finalize` and
//! `register` handles as many bytes of weights as a real model of that size. Every call is
//! measured in its worst case: the longest metadata and declared shapes, the fullest expiry
//! list, an owner whose deposit must be held or released.
//!
//! The node compiles the engine blob the first time a process uses it (seconds): the benchmarks
//! that reach the engine register a tiny model in their setup first, so that no timed call pays
//! for the compilation.

use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::{Inspect, InspectHold, Mutate};
use frame_system::RawOrigin;
use verinfer_synthetic as synthetic;

use super::*;

/// Largest model `finalize` is measured with: 8 MiB. The analysis is linear in the model's bytes
/// (decoding and copying the weights), so the weight's fit extrapolates to [`MAX_MODEL_BYTES`];
/// larger models would make each repetition take seconds. Also bounds the chunks of
/// `cancel_upload` and `remove`.
const MAX_BENCHMARKED_BYTES: u32 = 8 << 20;

/// Most chunks of a benchmarked model, at the configured chunk size.
fn max_chunks<T: Config>() -> u32 {
	MAX_BENCHMARKED_BYTES.div_ceil(T::ChunkSize::get())
}

/// An account that can hold the deposit of a model of `bytes` bytes, twice over.
fn funded<T: Config>(who: &T::AccountId, bytes: u32)
where
	T::Currency: Mutate<T::AccountId>,
{
	let deposit = Pallet::<T>::deposit_for(bytes);
	let spare = T::Currency::minimum_balance().saturating_mul(1_000u32.into());
	T::Currency::set_balance(who, deposit.saturating_add(deposit).saturating_add(spare));
}

/// The longest metadata: the most the calls that store it read, check and write.
fn metadata() -> ModelMetadata {
	let filled = |byte: u8, len: u32| vec![byte; len as usize];
	// `1.0.0-` and a pre-release identifier: a semantic version of the longest length.
	let mut version = b"1.0.0-".to_vec();
	version.resize(<MaxVersionLen as Get<u32>>::get() as usize, b'a');
	ModelMetadata {
		name: filled(b'n', <MaxNameLen as Get<u32>>::get()).try_into().expect("at the bound"),
		version: version.try_into().expect("at the bound"),
		description: filled(b'd', <MaxDescriptionLen as Get<u32>>::get())
			.try_into()
			.expect("at the bound"),
	}
}

/// The longest declared shapes, for the calls that only store them (the engine would refuse
/// them for a real model).
fn longest_declared() -> StoredShapes {
	let shape: BoundedVec<u32, MaxDeclaredRank> =
		vec![1; <MaxDeclaredRank as Get<u32>>::get() as usize].try_into().expect("at the bound");
	vec![Some(shape); <MaxDeclaredInputs as Get<u32>>::get() as usize]
		.try_into()
		.expect("at the bound")
}

/// A model id holding `n` (ids that are no model's, to fill lists).
fn numbered_id(n: u64) -> ModelId {
	let mut bytes = [0u8; 32];
	bytes[24..].copy_from_slice(&n.to_be_bytes());
	ModelId::from(bytes)
}

fn id_of(bytes: &[u8]) -> ModelId {
	verinfer_primitives::model_id(bytes, sp_io::hashing::sha2_256)
}

/// Opens the upload of `bytes` as `owner` and uploads every chunk, leaving it to be finalised.
fn upload<T: Config>(owner: &T::AccountId, bytes: &[u8], declared: StoredShapes) -> ModelId {
	let id = id_of(bytes);
	let origin = || RawOrigin::Signed(owner.clone()).into();
	Pallet::<T>::begin_upload(
		origin(),
		id,
		bytes.len() as u32,
		metadata(),
		7u32.into(),
		declared,
		DEFAULT_HEADROOM_PERCENT,
	)
	.expect("the owner can pay the deposit");
	for (index, chunk) in bytes.chunks(T::ChunkSize::get() as usize).enumerate() {
		let chunk = chunk.to_vec().try_into().expect("chunks() yields at most the chunk size");
		Pallet::<T>::upload_chunk(origin(), id, index as u32, chunk).expect("the upload is open");
	}
	id
}

/// Registers `bytes` as `owner` through the chunked upload; the engine must accept it.
fn register_model<T: Config>(owner: &T::AccountId, bytes: &[u8]) -> ModelId {
	let id = upload::<T>(owner, bytes, Default::default());
	Pallet::<T>::finalize(RawOrigin::Signed(owner.clone()).into(), id).expect("complete");
	assert_eq!(Models::<T>::get(id).map(|model| model.status), Some(ModelStatus::Active));
	id
}

/// Has the node compile the engine blob, by registering a tiny model as `owner`.
fn compile_engine<T: Config>(owner: &T::AccountId) {
	register_model::<T>(owner, &synthetic::sized(synthetic::MIN_SIZED_BYTES, u64::MAX));
}

/// The engine pallet's probe models: registered as any model is, by an owner who can pay.
impl<T: Config> pallet_engine::BenchmarkHelper for Pallet<T>
where
	T::Currency: Mutate<T::AccountId>,
{
	fn probe(size: u32) -> ModelId {
		let owner: T::AccountId = account("probe owner", 0, 0);
		funded::<T>(&owner, size);
		register_model::<T>(&owner, &synthetic::sized(size, size as u64))
	}
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn begin_upload() {
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller, MAX_BENCHMARKED_BYTES);
		let id = ModelId::repeat_byte(1);
		// The expiry list of the upload's last block, full but for this upload. (Timed calls run
		// in block 1 at least.)
		let now = frame_system::Pallet::<T>::block_number().max(1u32.into());
		let expiring: Vec<ModelId> =
			(1..T::MaxExpiringPerBlock::get()).map(|n| numbered_id(n as u64)).collect();
		Expiries::<T>::insert(
			now.saturating_add(T::UploadLifetime::get()),
			BoundedVec::try_from(expiring).expect("one below the bound"),
		);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			id,
			MAX_BENCHMARKED_BYTES,
			metadata(),
			7u32.into(),
			longest_declared(),
			DEFAULT_HEADROOM_PERCENT,
		);

		let deposit = Pallet::<T>::deposit_for(MAX_BENCHMARKED_BYTES);
		frame_system::Pallet::<T>::assert_last_event(
			Event::<T>::UploadStarted { id, owner: caller, size: MAX_BENCHMARKED_BYTES, deposit }
				.into(),
		);
	}

	/// Chunk 0 of `b` bytes of a model of `b` bytes: its one and last chunk.
	#[benchmark]
	fn upload_chunk(b: Linear<1, { T::ChunkSize::get() }>) {
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller, b);
		let bytes = vec![0x5a; b as usize];
		let id = id_of(&bytes);
		Pallet::<T>::begin_upload(
			RawOrigin::Signed(caller.clone()).into(),
			id,
			b,
			metadata(),
			7u32.into(),
			longest_declared(),
			DEFAULT_HEADROOM_PERCENT,
		)
		.expect("the caller can pay the deposit");
		let chunk: BoundedVec<u8, T::ChunkSize> = bytes.try_into().expect("at most a chunk");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, 0, chunk);

		assert_eq!(Chunks::<T>::get(id, 0).map(|chunk| chunk.len() as u32), Some(b));
	}

	/// The engine's analysis of a model of `b` bytes, accepted. A refused model instead has its
	/// chunks removed, which `cancel_upload` measures.
	#[benchmark]
	fn finalize(b: Linear<{ synthetic::MIN_SIZED_BYTES }, MAX_BENCHMARKED_BYTES>) {
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller, b.saturating_add(synthetic::MIN_SIZED_BYTES));
		compile_engine::<T>(&caller);
		let id = upload::<T>(&caller, &synthetic::sized(b, b as u64), Default::default());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert_eq!(Models::<T>::get(id).map(|model| model.status), Some(ModelStatus::Active));
		assert!(Analyses::<T>::contains_key(id));
	}

	#[benchmark]
	fn register(b: Linear<{ synthetic::MIN_SIZED_BYTES }, { T::ChunkSize::get() }>) {
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller, b.saturating_add(synthetic::MIN_SIZED_BYTES));
		compile_engine::<T>(&caller);
		let bytes = synthetic::sized(b, b as u64);
		let id = id_of(&bytes);
		let bytes: BoundedVec<u8, T::ChunkSize> = bytes.try_into().expect("at most a chunk");

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller),
			metadata(),
			7u32.into(),
			Default::default(),
			DEFAULT_HEADROOM_PERCENT,
			bytes,
		);

		assert_eq!(Models::<T>::get(id).map(|model| model.status), Some(ModelStatus::Active));
	}

	/// An upload of `c` full chunks, all uploaded.
	#[benchmark]
	fn cancel_upload(c: Linear<1, { max_chunks::<T>() }>) {
		let caller: T::AccountId = whitelisted_caller();
		let size = c * T::ChunkSize::get();
		funded::<T>(&caller, size);
		let id = upload::<T>(&caller, &vec![0x5a; size as usize], longest_declared());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), id);

		assert!(!Models::<T>::contains_key(id));
		assert_eq!(Chunks::<T>::iter_prefix(id).count(), 0);
		assert_eq!(T::Currency::total_balance_on_hold(&caller), 0u32.into());
	}

	#[benchmark]
	fn set_fee() {
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller, synthetic::MIN_SIZED_BYTES);
		let id = register_model::<T>(&caller, &synthetic::sized(synthetic::MIN_SIZED_BYTES, 0));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, 42u32.into());

		assert_eq!(Models::<T>::get(id).map(|model| model.fee), Some(42u32.into()));
	}

	#[benchmark]
	fn deprecate() {
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller, synthetic::MIN_SIZED_BYTES);
		let id = register_model::<T>(&caller, &synthetic::sized(synthetic::MIN_SIZED_BYTES, 0));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert_eq!(Models::<T>::get(id).map(|model| model.status), Some(ModelStatus::Deprecated));
	}

	/// The deposit moves on hold to an account that already exists.
	#[benchmark]
	fn transfer() {
		let caller: T::AccountId = whitelisted_caller();
		let to: T::AccountId = account("recipient", 0, 0);
		funded::<T>(&caller, synthetic::MIN_SIZED_BYTES);
		funded::<T>(&to, 0);
		let id = register_model::<T>(&caller, &synthetic::sized(synthetic::MIN_SIZED_BYTES, 0));
		let deposit = Pallet::<T>::deposit_for(synthetic::MIN_SIZED_BYTES);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, to.clone());

		assert_eq!(Models::<T>::get(id).map(|model| model.owner), Some(to.clone()));
		assert_eq!(T::Currency::total_balance_on_hold(&to), deposit);
	}

	/// A Deprecated model of `c` full chunks, with its analysis.
	#[benchmark]
	fn remove(c: Linear<1, { max_chunks::<T>() }>) {
		let caller: T::AccountId = whitelisted_caller();
		let size = c * T::ChunkSize::get();
		funded::<T>(&caller, size);
		let id = register_model::<T>(&caller, &synthetic::sized(size, size as u64));
		Pallet::<T>::deprecate(RawOrigin::Signed(caller.clone()).into(), id)
			.expect("the owner deprecates an Active model");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), id);

		assert!(!Models::<T>::contains_key(id) && !Analyses::<T>::contains_key(id));
		assert_eq!(Chunks::<T>::iter_prefix(id).count(), 0);
		assert_eq!(T::Currency::total_balance_on_hold(&caller), 0u32.into());
	}

	impl_benchmark_test_suite!(Pallet, crate::tests::new_test_ext(), crate::tests::Test);
}
