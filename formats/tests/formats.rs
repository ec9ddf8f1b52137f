//! Tensor files as other tools write them: ONNX `TensorProto` (.pb) files from the onnx package,
//! read to the same tensor as NumPy's .npy of the same array.

use std::path::{Path, PathBuf};

use verinfer_formats::{read_tensor, write_tensor};

/// `fixtures/tensors/<name>`.
fn tensor_file(name: &str) -> PathBuf {
	// At run time: cargo may reuse this test's build from another checkout of the workspace.
	let package = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo");
	Path::new(&package).join("../fixtures/tensors").join(name)
}

#[test]
fn every_tensor_proto_fixture_reads_as_its_numpy_twin() {
	let dir = tensor_file("");
	let mut checked = 0;
	for entry in std::fs::read_dir(&dir).unwrap() {
		let path = entry.unwrap().path();
		if path.extension().is_some_and(|e| e == "pb") {
			let twin = path.with_extension("npy");
			assert_eq!(
				read_tensor(&path).unwrap(),
				read_tensor(&twin).unwrap(),
				"{}",
				path.display()
			);
			checked += 1;
		}
	}
	assert!(checked >= 10, "only {checked} .pb fixtures in {}", dir.display());
}

#[test]
fn tensors_written_as_json_or_npy_read_back_identical() {
	let dir = std::env::temp_dir().join(format!("verinfer-formats-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let tensor = read_tensor(&tensor_file("f32_typed.pb")).unwrap();
	for name in ["t.json", "t.npy"] {
		write_tensor(&dir.join(name), &tensor).unwrap();
		assert_eq!(read_tensor(&dir.join(name)).unwrap(), tensor, "{name}");
	}
	let error = write_tensor(&dir.join("t.pb"), &tensor).unwrap_err().to_string();
	assert!(error.contains("use .json or .npy"), "{error}");
	std::fs::remove_dir_all(&dir).unwrap();
}
