//! Models as converters and exporters write them, registered and called on a dev chain: an
//! XGBoost classifier (an `ai.onnx.ml` tree ensemble, converted by onnxmltools) and an LSTM. The
//! chain records what `verinfer model run` computes, which is onnxruntime's output within
//! tolerance. The cases are copies of two of the converter zoo's (scripts/zoo.sh), which
//! scripts/conformance.sh keeps equal to what the zoo generates.

mod common;

use std::path::PathBuf;

use common::{fixture, verinfer, Node};
use verinfer_executor::{
	digest::{hex, sha256},
	engine::Engine,
	local,
};
use verinfer_formats::{
	compare::{compare, Tolerance},
	read_tensor,
};

#[tokio::test]
async fn an_xgboost_classifier_and_an_lstm_run_on_chain_as_model_run_computes() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let url = node.rpc_url.clone();
	let engine = Engine::built_in().unwrap();
	for case in ["xgboost_classifier_binary", "onnx_lstm_forward"] {
		let dir = PathBuf::from(fixture(&format!("zoo/e2e/{case}")));
		let file = dir.join("model.onnx").display().to_string();
		let bytes = std::fs::read(&file).unwrap();
		let data = |kind: &str| -> Vec<PathBuf> {
			(0..)
				.map(|i| dir.join(format!("test_data_set_0/{kind}_{i}.pb")))
				.take_while(|path| path.exists())
				.collect()
		};
		let (inputs, references) = (data("input"), data("output"));
		let tensors: Vec<_> = inputs.iter().map(|path| read_tensor(path).unwrap()).collect();
		let expected = local::run(&engine, &bytes, &tensors).unwrap();
		assert_eq!(expected.outputs.len(), references.len(), "{case}");
		for (output, reference) in expected.outputs.iter().zip(&references) {
			let reference = read_tensor(reference).unwrap();
			let tolerance = Tolerance { rtol: 1e-3, atol: 1e-5 };
			compare(output, &reference, tolerance).unwrap_or_else(|e| panic!("{case}: {e}"));
		}

		// The model leaves its batch (and sequence) dimensions open: declared as the inputs'.
		let shapes: Vec<String> = tensors
			.iter()
			.enumerate()
			.map(|(index, tensor)| {
				let dims: Vec<String> = tensor.shape.iter().map(u32::to_string).collect();
				format!("{index}={}", dims.join(","))
			})
			.collect();
		let mut register =
			vec!["model", "register", &file, "--name", case, "--suri", "//Bob", "--url", &url];
		for shape in &shapes {
			register.extend(["--shape", shape]);
		}
		let (code, stdout, stderr) = verinfer(&register);
		assert_eq!(code, 0, "{case}: {stdout}{stderr}");

		let model = hex(&sha256(&bytes));
		let paths: Vec<String> = inputs.iter().map(|path| path.display().to_string()).collect();
		let mut infer =
			vec!["infer", "--model", &model, "--wait", "--suri", "//Alice", "--url", &url];
		infer.push("--input");
		infer.extend(paths.iter().map(String::as_str));
		let (code, stdout, stderr) = verinfer(&infer);
		assert_eq!(code, 0, "{case}: {stderr}");
		let hash = format!("outputs sha256 {}", hex(&expected.outputs_hash));
		assert!(stdout.contains(&hash), "{case}: {stdout}");
	}
	assert!(node.stop().success());
}
