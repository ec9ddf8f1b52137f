//! Prints the digests of the fixture corpus and of the depth limit (see
//! `verinfer_determinism`) on this machine:
//! `corpus-digests [--engine BLOB] [--skip FILE|stack-depth]… [--cases DIR]… FIXTURES_DIR`,
//! where each `--cases` folder holds ONNX test cases (the converter zoo). `scripts/determinism.sh`
//! runs it on several CPUs and compares.

use std::path::PathBuf;

use verinfer_determinism::{case_digests, corpus_digests, depth_digests};
use verinfer_executor::{
	digest::{hex, sha256},
	engine::{deterministic_config, Engine},
	ENGINE_BLOB,
};

fn main() {
	let mut args = std::env::args().skip(1);
	let mut blob = ENGINE_BLOB.map(<[u8]>::to_vec);
	let mut fixtures = None;
	let mut skip = Vec::new();
	let mut cases = Vec::new();
	while let Some(arg) = args.next() {
		match arg.as_str() {
			"--skip" => skip.push(args.next().unwrap_or_else(|| fail("--skip needs a file name"))),
			"--cases" => cases
				.push(PathBuf::from(args.next().unwrap_or_else(|| fail("--cases needs a folder")))),
			"--engine" => {
				let path = args.next().unwrap_or_else(|| fail("--engine needs a file"));
				blob = Some(std::fs::read(&path).unwrap_or_else(|e| fail(&format!("{path}: {e}"))));
			},
			_ => fixtures = Some(PathBuf::from(arg)),
		}
	}
	let fixtures = fixtures.unwrap_or_else(|| {
		fail("usage: corpus-digests [--engine BLOB] [--skip FILE]… [--cases DIR]… DIR")
	});
	let blob = blob.unwrap_or_else(|| fail("built without the engine blob: pass --engine"));
	let engine = Engine::new(&blob).unwrap_or_else(|e| fail(&e.to_string()));
	println!("{:<32} {}", "engine", hex(&sha256(&blob)));
	println!("{:<32} {}", "cpu", cpu());
	let digests = corpus_digests(&engine, &fixtures, &skip);
	for digest in digests.unwrap_or_else(|e| fail(&e.to_string())) {
		println!("{digest}");
	}
	for dir in &cases {
		for digest in case_digests(&engine, dir).unwrap_or_else(|e| fail(&e.to_string())) {
			println!("{digest}");
		}
	}
	// The depth limit (a trap: qemu-x86_64 cannot run it, see scripts/determinism.sh).
	if !skip.iter().any(|skipped| skipped == "stack-depth") {
		for line in depth_digests(&deterministic_config()).unwrap_or_else(|e| fail(&e)) {
			println!("{line}");
		}
	}
}

/// The architecture and the CPU features that change the code wasmtime generates.
fn cpu() -> String {
	#[cfg(target_arch = "x86_64")]
	{
		let features = [
			("sse4.2", std::is_x86_feature_detected!("sse4.2")),
			("avx", std::is_x86_feature_detected!("avx")),
			("avx2", std::is_x86_feature_detected!("avx2")),
			("fma", std::is_x86_feature_detected!("fma")),
			("avx512f", std::is_x86_feature_detected!("avx512f")),
		];
		let on: Vec<&str> = features.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect();
		format!("x86_64 [{}]", on.join(" "))
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		std::env::consts::ARCH.to_string()
	}
}

fn fail(message: &str) -> ! {
	eprintln!("error: {message}");
	std::process::exit(1)
}
