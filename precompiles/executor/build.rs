//! Builds the engine blob: `../engine` (tract-onnx) compiled to `wasm32-unknown-unknown` with
//! simd128 and without relaxed SIMD, in release, against the engine's own `Cargo.lock`, into
//! `<target>/engine-wasm`, then copied to `$OUT_DIR/verinfer_engine.wasm` for `ENGINE_BLOB`.
//!
//! **No bulk memory.** The blob must be meterable: wasmtime charges one unit of fuel per Wasm
//! operator, and `memory.copy`/`memory.fill` move up to gigabytes for that one unit. So the blob
//! (standard library included, rebuilt with `-Zbuild-std`) is compiled for the MVP feature set
//! plus simd128, sign extension, saturating float-to-int and mutable globals: every copy is then a
//! loop of ordinary loads and stores, whose fuel grows with the bytes moved. The host's wasmtime
//! configuration refuses bulk memory, so a blob built otherwise cannot be activated.
//!
//! Like substrate-wasm-builder for the runtime: the nested cargo shares the outer build's jobserver
//! and its output is cached in the target directory. `SKIP_WASM_BUILD=1` skips it (no blob).
//!
//! The blob is reproducible: the same sources and toolchain give the same bytes in any checkout on
//! any machine (registry, toolchain and checkout paths never reach it; see `fixed_build_path`).

use std::{
	env,
	path::{Path, PathBuf},
	process::Command,
};

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
	let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
	let blob = out_dir.join("verinfer_engine.wasm");
	println!("cargo:rerun-if-env-changed=SKIP_WASM_BUILD");
	if env::var_os("SKIP_WASM_BUILD").is_some_and(|v| !v.is_empty()) {
		std::fs::write(&blob, []).expect("write an empty engine blob");
		return;
	}

	let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
	let checkout = manifest_dir.join("../..").canonicalize().expect("the checkout exists");
	let engine_dir = checkout.join("precompiles/engine");
	for path in ["src", "Cargo.toml", "Cargo.lock"] {
		println!("cargo:rerun-if-changed={}", engine_dir.join(path).display());
	}
	// The engine depends on the shared types, which inherit the workspace's dependencies.
	for path in ["primitives/src", "primitives/Cargo.toml", "Cargo.toml"] {
		println!("cargo:rerun-if-changed={}", checkout.join(path).display());
	}

	// OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out: the engine gets <target>/engine-wasm.
	let target_dir = out_dir.ancestors().nth(4).expect("OUT_DIR is inside the target dir");
	let engine_target = target_dir.join("engine-wasm");
	let cargo_home = env::var("CARGO_HOME")
		.map(PathBuf::from)
		.unwrap_or_else(|_| PathBuf::from(env::var("HOME").unwrap_or_default()).join(".cargo"));

	let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
	let sysroot = Command::new(&rustc)
		.args(["--print", "sysroot"])
		.output()
		.ok()
		.filter(|out| out.status.success())
		.map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
		.expect("rustc --print sysroot");
	let rustflags = [
		// See the module documentation: MVP, without bulk memory (and reference types, which
		// wasmtime only accepts with it), plus the features that add no unmetered work.
		"-C target-cpu=mvp".to_string(),
		"-C target-feature=+simd128,+sign-ext,+nontrapping-fptoint,+mutable-globals".to_string(),
		// getrandom 0.4 (tract-onnx-opl → rand) needs a backend; the engine never draws entropy.
		"--cfg getrandom_backend=\"unsupported\"".to_string(),
		// Paths of the build machine must not end up in the blob (panic locations): the registry,
		// and the toolchain's (std's generic code inlined into the blob names its sources there).
		// The checkout's own path never reaches the compiler: see `fixed_build_path`.
		format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
		format!("--remap-path-prefix={sysroot}=/rust"),
	];
	// Held until the engine is built: the fixed path must not be re-pointed meanwhile by a build of
	// another checkout.
	let (_lock, manifest) = fixed_build_path(&checkout);
	let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
	// This script's feature flags belong to the outer build.
	for (key, _) in env::vars_os() {
		if key.to_string_lossy().starts_with("CARGO_FEATURE_") {
			command.env_remove(key);
		}
	}
	let status = command
		.current_dir(&engine_dir)
		.args(["build", "--release", "--locked", "--lib", "--target", TARGET])
		// The standard library is rebuilt with the flags above: the prebuilt one uses bulk
		// memory. `-Zbuild-std` on the pinned stable toolchain, as substrate-wasm-builder does for
		// the runtime; `compiler-builtins-mem` provides memcpy and memset as Wasm loops.
		.args(["-Zbuild-std=std,panic_abort", "-Zbuild-std-features=compiler-builtins-mem"])
		.env("RUSTC_BOOTSTRAP", "1")
		.arg("--manifest-path")
		.arg(&manifest)
		.arg("--target-dir")
		.arg(&engine_target)
		// The outer build's flags and target must not leak in.
		.env_remove("CARGO_ENCODED_RUSTFLAGS")
		.env_remove("RUSTFLAGS")
		.env_remove("CARGO_BUILD_TARGET")
		.env_remove("CARGO_TARGET_DIR")
		.env_remove("RUSTC_WORKSPACE_WRAPPER")
		.env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\x1f").replace(' ', "\x1f"))
		.status()
		.expect("run cargo to build the engine blob");
	assert!(status.success(), "building the engine blob (precompiles/engine) failed");

	let built = engine_target.join(TARGET).join("release").join("verinfer_engine.wasm");
	copy_if_changed(&built, &blob);
}

/// Where the engine is built from: a fixed path, a symlink to this checkout (whose root manifest
/// `verinfer-primitives` inherits from).
///
/// Cargo names a path package by its path (it does not resolve symlinks), and that name feeds the
/// crate hashes that end up in the blob (type ids, the order of functions). Built through the same
/// path, every checkout on every machine gives the same bytes, as srtool's fixed `/build` does for
/// runtimes.
const FIXED_CHECKOUT: &str = "/tmp/verinfer-build/checkout";

/// Points [`FIXED_CHECKOUT`] at `checkout` under an exclusive lock, which the caller holds while it
/// builds; returns the lock and the engine's manifest through the fixed path.
#[cfg(unix)]
fn fixed_build_path(checkout: &Path) -> (std::fs::File, PathBuf) {
	let fixed = Path::new(FIXED_CHECKOUT);
	let parent = fixed.parent().expect("the fixed path has a parent");
	std::fs::create_dir_all(parent).expect("create /tmp/verinfer-build");
	let lock = std::fs::File::create(parent.join(".lock")).expect("create the build lock");
	lock.lock().expect("take the build lock");
	// A fresh link renamed over the old one: the switch is atomic.
	let fresh = parent.join(format!(".checkout-{}", std::process::id()));
	let _ = std::fs::remove_file(&fresh);
	std::os::unix::fs::symlink(checkout, &fresh).expect("create the build symlink");
	std::fs::rename(&fresh, fixed).expect("point the fixed build path at this checkout");
	(lock, fixed.join("precompiles/engine/Cargo.toml"))
}

/// Elsewhere the engine is built in place (its bytes then depend on the checkout's path).
#[cfg(not(unix))]
fn fixed_build_path(checkout: &Path) -> (std::fs::File, PathBuf) {
	let manifest = checkout.join("precompiles/engine/Cargo.toml");
	(std::fs::File::open(&manifest).expect("the engine manifest"), manifest)
}

fn copy_if_changed(from: &Path, to: &Path) {
	let bytes = std::fs::read(from).expect("the engine blob was built");
	if std::fs::read(to).ok().as_deref() != Some(&bytes[..]) {
		std::fs::write(to, bytes).expect("copy the engine blob into OUT_DIR");
	}
}
