//! Benchmarks of the engine pallet's calls.
//!
//! `activate` is measured with a probe model of every size the registry benchmarks
//! ([`verinfer_synthetic::sized`], made a model the chain runs by the runtime's
//! [`BenchmarkHelper`]), and a replacement that runs exactly as the current engine: the current
//! blob with a Wasm custom section appended, so that the probe's analysis is a real one.

use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use verinfer_synthetic::MIN_SIZED_BYTES;

use super::*;

/// Largest probe model `activate` is measured with: 8 MiB, as the registry's `finalize`. The
/// analysis is linear in the model's bytes, so the fit extrapolates. Also bounds the chunks of
/// `cancel_upload`.
const MAX_BENCHMARKED_BYTES: u32 = 8 << 20;

/// Most chunks of a benchmarked blob, at the configured chunk size.
fn max_chunks<T: Config>() -> u32 {
	MAX_BENCHMARKED_BYTES.div_ceil(T::ChunkSize::get())
}

/// Another engine blob that runs exactly as the current one: the current blob, read from state,
/// with a Wasm custom section appended (id 0, its name, any bytes), which Wasm semantics ignore.
fn another_engine<T: Config>() -> Vec<u8> {
	let engine = Engine::<T>::get().expect("the benchmarks' genesis has the engine");
	let mut blob = Vec::with_capacity(engine.size as usize + 32);
	for index in 0..engine.chunks {
		blob.extend(EngineChunks::<T>::get(engine.sha256, index).expect("stored at genesis"));
	}
	let name = b"verinfer-benchmark";
	blob.extend([0, 1 + name.len() as u8, name.len() as u8]);
	blob.extend(name);
	blob
}

/// Stores `blob` as the pending replacement engine, every chunk uploaded.
fn pending_engine<T: Config>(blob: &[u8]) -> H256 {
	let EngineInfo { sha256, size, chunks } = Pallet::<T>::store_chunks(blob);
	PendingEngine::<T>::put(EngineUpload { sha256, size, chunks, received: chunks });
	sha256
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn begin_upload() -> Result<(), BenchmarkError> {
		let origin =
			T::EngineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let sha256 = H256::repeat_byte(9);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, sha256, MAX_ENGINE_BYTES);

		assert_eq!(PendingEngine::<T>::get().map(|upload| upload.sha256), Some(sha256));
		Ok(())
	}

	#[benchmark]
	fn upload_chunk(b: Linear<1, { T::ChunkSize::get() }>) -> Result<(), BenchmarkError> {
		let origin =
			T::EngineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let sha256 = H256::repeat_byte(9);
		Pallet::<T>::begin_upload(origin.clone(), sha256, b)
			.map_err(|_| BenchmarkError::Stop("begin_upload"))?;
		let chunk: BoundedVec<u8, T::ChunkSize> =
			vec![7u8; b as usize].try_into().expect("at most the chunk size");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 0, chunk);

		assert!(EngineChunks::<T>::contains_key(sha256, 0));
		Ok(())
	}

	/// The probe model of `p` bytes is analysed by the new engine; the old engine's chunks are
	/// deleted. The node compiles a new engine once, outside any weight (the pallet docs): the
	/// setup has it compiled before the timed call.
	#[benchmark]
	fn activate(p: Linear<MIN_SIZED_BYTES, MAX_BENCHMARKED_BYTES>) -> Result<(), BenchmarkError> {
		let origin =
			T::EngineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let probe = T::BenchmarkHelper::probe(p);
		let sha256 = pending_engine::<T>(&another_engine::<T>());
		let upload = PendingEngine::<T>::get().expect("pending");
		let accepted = T::Probe::accepts(&probe, Pallet::<T>::bytes_at(sha256, upload.chunks));
		assert_eq!(accepted, Ok(true), "the replacement runs as the current engine");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, probe);

		assert_eq!(Engine::<T>::get().map(|engine| engine.sha256), Some(sha256));
		Ok(())
	}

	#[benchmark]
	fn cancel_upload(c: Linear<1, { max_chunks::<T>() }>) -> Result<(), BenchmarkError> {
		let origin =
			T::EngineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let blob = vec![7u8; (c * T::ChunkSize::get()) as usize];
		pending_engine::<T>(&blob);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin);

		assert!(PendingEngine::<T>::get().is_none());
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::tests::new_test_ext(), crate::tests::Test);
}
