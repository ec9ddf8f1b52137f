//! Compiles this crate to Wasm with substrate-wasm-builder; the blob is embedded as `WASM_BINARY` and
//! becomes the chain's `:code` at genesis. `SKIP_WASM_BUILD=1` skips it for crates that only need the
//! native types.
fn main() {
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
