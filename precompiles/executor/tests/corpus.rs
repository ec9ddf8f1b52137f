//! The fixture corpus, run through the engine blob in wasmtime exactly as the node runs it.

mod common;

use std::ops::Range;

use common::{differences, engine, floats};
use verinfer_executor::engine::declared_as;
use verinfer_fixtures::corpus;
use verinfer_formats::json_npy::to_npy;
use verinfer_primitives::{analysis::MAX_NODES, engine::Limits};

/// Where the engine knowingly departs from the ONNX reference, element by element, with the value
/// it gives instead (checked exactly, so a change of behaviour is caught). Each is tract's
/// semantics, identical on every CPU; none is a rounding matter.
const DEVIATIONS: &[(&str, usize, Range<usize>, f64, &str)] = &[
	("activations", 5, 16..17, 0.0, "Relu(NaN) is 0: tract computes max(x, 0)"),
	(
		"activations",
		9,
		50..64,
		f64::NEG_INFINITY,
		"LogSoftmax of a row holding f32::MAX: tract takes the log of exp(x - max), which \
		 underflows to log(0); the exact value is x - max ≈ -f32::MAX",
	),
	("special_inputs", 1, 0..8, 0.0, "Relu(NaN) is 0, for the NaN rows of the MatMul"),
	(
		"special_inputs",
		3,
		0..1,
		3.0,
		"ReduceMax skips NaN (onnxruntime does too: microsoft/onnxruntime#10514)",
	),
];

#[test]
fn every_corpus_model_matches_its_onnxruntime_reference_within_tolerance() {
	let mut failures = Vec::new();
	for model in corpus() {
		let outputs = match engine().run(&model.model, &model.inputs, Limits::CALL).unwrap().result
		{
			Ok(outputs) => outputs,
			Err(error) => {
				failures.push(format!("{}: {error}", model.name));
				continue;
			},
		};
		assert_eq!(outputs.len(), model.expected.len(), "{}: output count", model.name);
		for (index, (got, want)) in outputs.iter().zip(&model.expected).enumerate() {
			let deviations: Vec<_> = DEVIATIONS
				.iter()
				.filter(|(name, output, ..)| *name == model.name && *output == index)
				.collect();
			let got_values = floats(got);
			for (_, _, elements, value, why) in &deviations {
				for element in elements.clone() {
					if got_values[element].to_bits() != value.to_bits() {
						failures.push(format!(
							"{} output {index} element {element}: {} instead of {value} ({why})",
							model.name, got_values[element]
						));
					}
				}
			}
			for (element, difference) in differences(got, want, model.abs, model.rel) {
				if !deviations.iter().any(|(_, _, elements, ..)| elements.contains(&element)) {
					failures.push(format!("{} output {index}: {difference}", model.name));
				}
			}
		}
	}
	assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_corpus_model_is_accepted_with_its_operators_and_a_nonzero_cost() {
	for model in corpus() {
		let analysis = engine().analyse(&model.model, &[], Limits::LOAD).unwrap().result.unwrap();
		assert!(analysis.is_accepted(), "{}: {:?}", model.name, analysis.refusals);
		let operators: Vec<String> = analysis
			.operators
			.iter()
			.map(|o| String::from_utf8(o.operator.clone()).unwrap())
			.collect();
		assert_eq!(operators, model.operators, "{}", model.name);
		assert_eq!(analysis.inputs.len(), model.inputs.len(), "{}", model.name);
		for (spec, input) in analysis.inputs.iter().zip(&model.inputs) {
			assert_eq!((spec.dtype, &spec.shape), (input.dtype, &input.shape), "{}", model.name);
		}
		for (spec, output) in analysis.outputs.iter().zip(&model.expected) {
			assert_eq!((spec.dtype, &spec.shape), (output.dtype, &output.shape), "{}", model.name);
		}
		assert!(analysis.nodes > 0 && analysis.nodes <= MAX_NODES, "{}", model.name);
		assert!(analysis.cost.elements_touched > 0, "{}", model.name);
		assert!(analysis.cost.intermediate_bytes > 0, "{}", model.name);
	}
}

#[test]
fn linear_models_are_priced_by_their_multiply_adds() {
	let corpus = corpus();
	let mlp = corpus.iter().find(|m| m.name == "mlp").unwrap();
	let analysis = engine().analyse(&mlp.model, &[], Limits::LOAD).unwrap().result.unwrap();
	// [1,4]·[4,8] + [1,8]·[8,3]
	assert_eq!(analysis.cost.multiply_adds, 4 * 8 + 8 * 3);
	assert_eq!(analysis.parameters, 4 * 8 + 8 + 8 * 3 + 3);
	assert_eq!(analysis.cost.parameter_bytes, 4 * (4 * 8 + 8 + 8 * 3 + 3));
	let cnn = corpus.iter().find(|m| m.name == "cnn").unwrap();
	let cnn = engine().analyse(&cnn.model, &[], Limits::LOAD).unwrap().result.unwrap();
	assert!(cnn.cost.multiply_adds > 100_000, "{:?}", cnn.cost);
}

#[test]
fn a_loaded_model_gives_the_same_bytes_on_every_run_and_as_a_fresh_load() {
	for model in corpus() {
		let fresh =
			engine().run(&model.model, &model.inputs, Limits::CALL).unwrap().result.unwrap();
		let loaded = engine()
			.load(&model.model, &declared_as(&model.inputs), Limits::LOAD)
			.unwrap()
			.result
			.unwrap();
		for _ in 0..3 {
			let again = loaded.run(&model.inputs, Limits::CALL).unwrap().result.unwrap();
			let bytes = |outputs: &[verinfer_primitives::Tensor]| {
				outputs.iter().map(to_npy).collect::<Vec<_>>()
			};
			assert_eq!(bytes(&again), bytes(&fresh), "{}", model.name);
		}
	}
}
