//! The ceiling of pre-execution on this machine, for `scripts/bench.sh`:
//! `engine-scaling CALLS MULTIPLY_ADDS...`.
//!
//! For each size, the chain benchmark's synthetic model (`synthetic::combined`, compute-bound) is
//! loaded into one engine instance per thread, and CALLS calls with distinct inputs are made on
//! one thread, then split over as many threads as the machine has CPUs. The speed-up is what the
//! engine alone gains from the cores, with no chain around it: block import with pre-execution can
//! approach it, not pass it. Prints one JSON line per size.

use std::time::Instant;

use verinfer_executor::{engine::Engine, ENGINE_BLOB};
use verinfer_primitives::engine::Limits;
use verinfer_synthetic::{self as synthetic, Targets};

fn main() {
	let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
	let (calls, sizes) = args.split_first().expect("CALLS MULTIPLY_ADDS...");
	let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
	let engine = Engine::new(ENGINE_BLOB.expect("built with the engine blob")).unwrap();
	for &multiply_adds in sizes {
		let targets =
			Targets { multiply_adds, elements_touched: 0, input_bytes: 4, output_bytes: 4 };
		let model = synthetic::combined(targets, multiply_adds);
		let load = || engine.load(&model, &[], Limits::LOAD).unwrap().result.unwrap();
		let specs = load().analysis().inputs.clone();
		let inputs: Vec<_> = (0..*calls).map(|call| synthetic::inputs(&specs, call)).collect();

		let one = load();
		one.run(&inputs[0], Limits::CALL).unwrap().result.unwrap();
		let start = Instant::now();
		for input in &inputs {
			one.run(input, Limits::CALL).unwrap().result.unwrap();
		}
		let one_ms = start.elapsed().as_secs_f64() * 1e3;

		let mut instances: Vec<_> = (0..threads).map(|_| load()).collect();
		for instance in &mut instances {
			instance.run(&inputs[0], Limits::CALL).unwrap().result.unwrap();
		}
		let start = Instant::now();
		std::thread::scope(|scope| {
			for (index, instance) in instances.iter_mut().enumerate() {
				let inputs = &inputs;
				scope.spawn(move || {
					for input in inputs.iter().skip(index).step_by(threads) {
						instance.run(input, Limits::CALL).unwrap().result.unwrap();
					}
				});
			}
		});
		let all_ms = start.elapsed().as_secs_f64() * 1e3;
		println!(
			"{{\"multiply_adds\": {multiply_adds}, \"calls\": {calls}, \"threads\": {threads}, \
			 \"one_thread_ms\": {one_ms:.1}, \"all_threads_ms\": {all_ms:.1}, \
			 \"speedup\": {:.3}}}",
			one_ms / all_ms
		);
	}
}
