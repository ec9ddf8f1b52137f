//! Every engine call runs under deterministic limits: fuel (Wasm operators) and linear memory.
//! What a call uses is a function of the engine, the model and the call's arguments alone, so the
//! chain can charge it and every validator stops a call that exceeds its limits at the same point.

mod common;

use common::engine;
use verinfer_executor::engine::{declared_as, EngineBlob};
use verinfer_fixtures::{corpus, CorpusModel};
use verinfer_primitives::{
	engine::{EngineError, Limits, Usage},
	Tensor,
};
use verinfer_synthetic as synthetic;

fn mlp() -> CorpusModel {
	corpus().into_iter().find(|m| m.name == "mlp").unwrap()
}

/// Another input of the same spec as `input`: its bytes rotated.
fn other_input(input: &Tensor, shift: usize) -> Tensor {
	let mut data = input.data.clone();
	data.rotate_left(shift * input.dtype.size());
	Tensor { data, ..input.clone() }
}

#[test]
fn a_run_uses_the_same_fuel_and_memory_whatever_the_loaded_model_ran_before() {
	for model in corpus().into_iter().filter(|m| !m.inputs.is_empty()) {
		let declared = declared_as(&model.inputs);
		let loaded = engine().load(&model.model, &declared, Limits::LOAD).unwrap().result.unwrap();
		let first = loaded.run(&model.inputs, Limits::CALL).unwrap();
		assert!(first.result.is_ok(), "{}: {:?}", model.name, first.result);
		assert!(first.usage.fuel > 0 && first.usage.memory > 0, "{}", model.name);
		// Other calls, one of them failing, in between.
		for shift in 1..3 {
			let inputs: Vec<_> = model.inputs.iter().map(|t| other_input(t, shift)).collect();
			loaded.run(&inputs, Limits::CALL).unwrap();
		}
		loaded.run(&[], Limits::CALL).unwrap().result.unwrap_err();
		let again = loaded.run(&model.inputs, Limits::CALL).unwrap();
		assert_eq!(again, first, "{}: a reused model", model.name);
		// A model loaded afresh, in another thread's instance.
		let fresh = engine().run(&model.model, &model.inputs, Limits::CALL).unwrap();
		assert_eq!(fresh, first, "{}: a fresh load", model.name);
	}
}

#[test]
fn loading_and_analysing_use_the_same_fuel_every_time() {
	let mlp = mlp();
	let load = || engine().load(&mlp.model, &[], Limits::LOAD).unwrap();
	let (first, second) = (load(), load());
	assert_eq!(first.usage, second.usage);
	assert!(first.usage.fuel > 0);
	let analyse = || engine().analyse(&mlp.model, &[], Limits::LOAD).unwrap();
	assert_eq!(analyse(), analyse());
	// Loading optimises the graph besides analysing it.
	assert!(first.usage.fuel > analyse().usage.fuel);
}

#[test]
fn a_call_short_of_fuel_fails_with_out_of_fuel_and_uses_all_it_was_given() {
	let mlp = mlp();
	let loaded = engine().load(&mlp.model, &[], Limits::LOAD).unwrap().result.unwrap();
	let needed = loaded.run(&mlp.inputs, Limits::CALL).unwrap().usage;

	let exact = Limits { fuel: needed.fuel, ..Limits::CALL };
	assert_eq!(loaded.run(&mlp.inputs, exact).unwrap().usage, needed);

	for fuel in [needed.fuel / 2, needed.fuel / 10, 1, 0] {
		let short = Limits { fuel, ..Limits::CALL };
		let ran = loaded.run(&mlp.inputs, short).unwrap();
		assert_eq!(ran.result, Err(EngineError::OutOfFuel { limit: fuel }), "fuel {fuel}");
		assert_eq!(ran.usage.fuel, fuel);
		// Stopped at the same point every time: the memory it had reached is the same too.
		assert_eq!(loaded.run(&mlp.inputs, short).unwrap(), ran, "fuel {fuel}");
	}

	// wasmtime checks fuel on entering a function and at loop heads, so a call may overdraw by
	// the straight-line code after its last check: it then succeeds, charged all of its limit.
	// Where that line falls is the same on every machine.
	let mut outcomes = Vec::new();
	for fuel in needed.fuel - 64..needed.fuel {
		let ran = loaded.run(&mlp.inputs, Limits { fuel, ..Limits::CALL }).unwrap();
		assert_eq!(ran.usage.fuel, fuel);
		outcomes.push(ran.result.is_ok());
	}
	// Out of fuel up to a point, then enough: never the other way round.
	assert!(outcomes.windows(2).all(|pair| pair[0] <= pair[1]), "{outcomes:?}");
}

#[test]
fn loading_short_of_fuel_fails_with_out_of_fuel() {
	let mlp = mlp();
	let needed = engine().load(&mlp.model, &[], Limits::LOAD).unwrap().usage;
	let short = Limits { fuel: needed.fuel / 3, ..Limits::LOAD };
	let loaded = engine().load(&mlp.model, &[], short).unwrap();
	assert!(matches!(loaded.result, Err(EngineError::OutOfFuel { limit }) if limit == short.fuel));
	let analysed = engine().analyse(&mlp.model, &[], short).unwrap();
	assert_eq!(analysed.result, Err(EngineError::OutOfFuel { limit: short.fuel }));
}

#[test]
fn a_call_short_of_memory_fails_with_the_memory_limit_and_leaves_the_model_as_it_was() {
	// A model whose run allocates far more than its image: a broadcast to 4 M elements (16 MiB).
	let model = synthetic::elementwise(1 << 22, 1);
	let loaded = engine().load(&model, &[], Limits::LOAD).unwrap().result.unwrap();
	let inputs = synthetic::inputs(&loaded.analysis().inputs, 1);
	let ran = loaded.run(&inputs, Limits::CALL).unwrap();
	assert!(ran.result.is_ok(), "{:?}", ran.result);
	let image = loaded.image_bytes() as u64;

	// Not even room for the image.
	let tiny = Limits { memory: image - 1, ..Limits::CALL };
	let refused = loaded.run(&inputs, tiny).unwrap();
	assert_eq!(refused.result, Err(EngineError::MemoryLimitExceeded { limit: image - 1 }));
	// Refused before the engine ran: nothing used.
	assert_eq!(refused.usage, Usage::default());

	// Room for the image and a little more: the engine's allocator fails inside the run.
	let short = Limits { memory: image + (1 << 20), ..Limits::CALL };
	assert!(ran.usage.memory > image + (16 << 20), "{:?}", ran.usage);
	let stopped = loaded.run(&inputs, short).unwrap();
	assert_eq!(stopped.result, Err(EngineError::MemoryLimitExceeded { limit: short.memory }));
	assert!(stopped.usage.memory <= short.memory && stopped.usage.fuel < ran.usage.fuel);
	assert_eq!(loaded.run(&inputs, short).unwrap(), stopped);
	// And the model runs as before.
	assert_eq!(loaded.run(&inputs, Limits::CALL).unwrap(), ran);
}

#[test]
fn a_blob_with_bulk_memory_operations_is_not_an_engine() {
	// (module (memory 1) (func (memory.copy (i32.const 0) (i32.const 0) (i32.const 0))))
	let wasm: &[u8] = &[
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
		0x03, 0x02, 0x01, 0x00, // function section
		0x05, 0x03, 0x01, 0x00, 0x01, // memory section: min 1
		0x0a, 0x0f, 0x01, 0x0d, 0x00, // code section, one body of 13 bytes, no locals
		0x41, 0x00, 0x41, 0x00, 0x41, 0x00, // three i32.const 0
		0xfc, 0x0a, 0x00, 0x00, // memory.copy 0 0
		0x0b, // end
	];
	let Err(reason) = EngineBlob::check(wasm) else {
		panic!("a blob with bulk memory was accepted")
	};
	assert!(reason.contains("bulk memory"), "{reason}");
	// The engine blob itself is built without them, or the engine could not compile it.
	assert!(EngineBlob::check(verinfer_executor::ENGINE_BLOB.unwrap()).is_ok());
}
