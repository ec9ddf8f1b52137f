//! Benchmarks of the inference pallet: a call's run, a model's load, and pruning a result.
//!
//! Models come from [`verinfer_synthetic`] and are registered through the models
//! pallet's chunked upload, analysed by the real engine as any model is. What the node does
//! differs with its cache of loaded models, so each benchmark says what state that cache is in.
//!
//! Registering a model needs the registry itself, so the benchmarks (only they) ask the runtime
//! for `pallet_models` with the same currency ([`Registry`]).

use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::{Inspect, InspectHold, Mutate, MutateHold};
use frame_system::RawOrigin;
use pallet_models::{ModelMetadata, Pallet as ModelsPallet};
use verinfer_primitives::{analysis::TensorSpec, tensor::DType};
use verinfer_synthetic as synthetic;

use super::*;

/// A runtime whose model registry is `pallet_models`, paid in the same currency: what registering
/// the benchmarks' models takes.
pub trait Registry: Config + pallet_models::Config<Currency = <Self as Config>::Currency> {}
impl<T: Config + pallet_models::Config<Currency = <T as Config>::Currency>> Registry for T {}

/// An account with plenty to pay deposits and fees with: a million existential deposits, and the
/// deposit of 64 MiB of models, more than any benchmark registers.
fn funded<T: Registry>(who: &T::AccountId) {
	let plenty = <T as Config>::Currency::minimum_balance()
		.saturating_mul(1_000_000u32.into())
		.saturating_add(pallet_models::Pallet::<T>::deposit_for(64 << 20));
	<T as Config>::Currency::set_balance(who, plenty);
}

/// The fee of the benchmarks' models: the caller pays it to the owner, as a paid call does.
fn fee<T: Config>() -> BalanceOf<T> {
	<T as Config>::Currency::minimum_balance().saturating_mul(10u32.into())
}

/// Registers `bytes` (any size) as `owner` through the chunked upload, the path every large model
/// takes; the engine must accept the model.
fn register<T: Registry>(owner: &T::AccountId, bytes: &[u8]) -> ModelId {
	let id = verinfer_primitives::model_id(bytes, sp_io::hashing::sha2_256);
	let origin = || RawOrigin::Signed(owner.clone()).into();
	let metadata = ModelMetadata {
		name: b"synthetic".to_vec().try_into().expect("short"),
		version: b"1.0.0".to_vec().try_into().expect("short"),
		description: Default::default(),
	};
	ModelsPallet::<T>::begin_upload(
		origin(),
		id,
		bytes.len() as u32,
		metadata,
		fee::<T>(),
		Default::default(),
		pallet_models::DEFAULT_HEADROOM_PERCENT,
	)
	.expect("the owner can pay the deposit");
	let chunk_size = <T as pallet_models::Config>::ChunkSize::get() as usize;
	for (index, chunk) in bytes.chunks(chunk_size).enumerate() {
		let chunk = chunk.to_vec().try_into().expect("chunks() yields at most the chunk size");
		ModelsPallet::<T>::upload_chunk(origin(), id, index as u32, chunk)
			.expect("the upload is open");
	}
	ModelsPallet::<T>::finalize(origin(), id).expect("the upload is complete");
	assert!(
		pallet_models::Analyses::<T>::contains_key(id),
		"the engine or the admission refused the model: {:?}",
		frame_system::Pallet::<T>::events().last().map(|record| record.event.clone())
	);
	id
}

/// Bytes of the inputs and outputs of a model with these specs.
fn io_bytes(specs: &[TensorSpec]) -> u64 {
	specs.iter().fold(0, |bytes, spec| bytes.saturating_add(spec.byte_len()))
}

#[benchmarks(where T: Registry)]
mod benchmarks {
	use super::*;

	/// One call of a loaded model with `b` KiB of inputs and outputs whose engine run is the
	/// least a model can do: everything a call costs besides the engine's work, which its fuel
	/// prices (see [`Pallet::call_weight`]). A [`synthetic::io`] model, one element-wise
	/// operator, takes half of the bytes in, the other half out.
	///
	/// The model is loaded in the node's cache before the call (a dry run in the setup), so the
	/// call measures the run alone: the checks, the host call (the inputs' encoding and copy into
	/// the image, the outputs' copy back), the engine's few operators, the output's hash and
	/// storage, the result's deposit, the fee's payment. The engine's work is thus counted twice,
	/// here and in its fuel, on the safe side and small: the model's fuel is a few per cent of
	/// this. Up to 64 KiB: the weight is linear in the bytes beyond.
	#[benchmark]
	fn infer(b: Linear<2, 64>) -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, 0);
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&owner);
		funded::<T>(&caller);
		let model = register::<T>(&owner, &synthetic::io(b.div_ceil(2), b / 2, 0));
		let analysis = T::Models::analysis(&model).expect("accepted");
		let inputs = synthetic::inputs(&analysis.inputs, 1);
		Pallet::<T>::dry_run(model, inputs.clone())
			.map_err(|_| BenchmarkError::Stop("the model does not run"))?;
		let request_id = NextRequestId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), model, inputs, fee::<T>());

		let analysed_io = io_bytes(&analysis.inputs).saturating_add(io_bytes(&analysis.outputs));
		assert_eq!(units(analysed_io, 10), b, "the model moves the benchmarked bytes");
		assert_eq!(NextRequestId::<T>::get(), request_id + 1);
		let result = Results::<T>::get(request_id).expect("the result is stored");
		assert_eq!((result.model, result.caller), (model, caller));
		Ok(())
	}

	/// Loading a model of `k` KiB that the node has not loaded: reading its chunks from state,
	/// checking their SHA-256, then decoding, analysing and optimising it, for a
	/// [`synthetic::sized`] model whose weight fills its bytes and whose run is trivial.
	///
	/// What is timed is the host call alone, not the extrinsic: a cold call of `infer` costs
	/// `infer(m, e, b)` + `load_model(k)` + the measured load's fuel, and the rest of the
	/// extrinsic is already in the first term. Registration keeps a model loaded, so the call
	/// timed is `inference::measure`, which always loads afresh: the load, and two trivial probe
	/// runs on the safe side. The load's work is also charged by its fuel, so this term is
	/// conservative twice over until the calibration of the engine's prices replaces it by the
	/// reading and hashing alone.
	///
	/// Up to 8 MiB, as the models pallet's `finalize` is measured: the load is linear in the bytes
	/// beyond.
	#[benchmark]
	fn load_model(k: Linear<1, 8192>) -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, 0);
		funded::<T>(&owner);
		let model = register::<T>(&owner, &synthetic::sized(k << 10, k as u64));
		let record = T::Models::model(&model).expect("registered");
		let engine = <T as Config>::Engine::engine().expect("an engine");
		let (stored, declared) = T::Models::stored(&model, &record);
		let limits = <T as pallet_models::Config>::RegistrationLimits::get();
		let measured;

		#[block]
		{
			measured = verinfer_interface::inference::measure(engine, stored, declared, limits);
		}

		measured.result.map_err(|_| BenchmarkError::Stop("the model does not load"))?;
		assert_eq!(units(record.size as u64, 10), k);
		Ok(())
	}

	/// `on_idle` removing one expired result, of the largest outputs a result may hold (the
	/// pruning reads each result to learn its age), and releasing its deposit. Includes reading the two cursors and writing
	/// one back, which `on_idle` does once however many results it removes.
	#[benchmark]
	fn prune_result() {
		let at: BlockNumberFor<T> = 1u32.into();
		let now = at.saturating_add(T::ResultRetention::get()).saturating_add(1u32.into());
		let data = vec![0; (T::MaxResultBytes::get() as usize).saturating_sub(64)];
		let output = Tensor { dtype: DType::U8, shape: vec![data.len() as u32], data };
		// The caller holds the result's deposit, which pruning releases.
		let caller: T::AccountId = account("caller", 0, 0);
		funded::<T>(&caller);
		let deposit = Pallet::<T>::result_deposit(vec![output.clone()].encode().len() as u64);
		<T as Config>::Currency::hold(&HoldReason::ResultStorage.into(), &caller, deposit)
			.expect("funded");
		Results::<T>::insert(
			0,
			InferenceResult {
				model: ModelId::repeat_byte(1),
				caller: caller.clone(),
				at,
				fee: 0u32.into(),
				deposit,
				output_hash: H256::repeat_byte(2),
				outputs: vec![output],
			},
		);
		NextRequestId::<T>::put(1);
		OldestResult::<T>::put(0);

		#[block]
		{
			Pallet::<T>::on_idle(now, Weight::MAX);
		}

		assert!(!Results::<T>::contains_key(0));
		assert_eq!(OldestResult::<T>::get(), 1);
		assert!(<T as Config>::Currency::balance_on_hold(
			&HoldReason::ResultStorage.into(),
			&caller
		)
		.is_zero());
	}

	impl_benchmark_test_suite!(Pallet, crate::tests::new_test_ext(), crate::tests::Test);
}
