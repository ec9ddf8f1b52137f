//! The ONNX front end the engine parses models with: tract-onnx's, with the operators it gets
//! wrong replaced by ours (registered under the same names, which replaces tract's).
//!
//! And one setting: the graph's `value_info` (the shapes an exporter or `onnx.shape_inference`
//! wrote for intermediate tensors) is ignored. tract turns each symbolic dimension there
//! (`batch`, `height`) into a symbol that the declared input shapes never bind, so a model
//! exported with open shapes could not be made concrete ("Impossible to unify Sym(batch) with
//! Val(1)"). Without it tract infers every intermediate shape from the concrete inputs, through
//! `Shape`→`Gather`→`Concat`→`Reshape`/`Resize` chains too.

mod ml;
mod prelu;

use tract_onnx::model::Onnx;

/// tract-onnx's parser with the engine's operators and settings.
pub fn onnx() -> Onnx {
	let mut onnx = tract_onnx::onnx().with_ignore_value_info(true);
	onnx.op_register.insert("PRelu", prelu::prelu);
	ml::register(&mut onnx);
	onnx
}

/// The operators' shared imports.
mod prelude {
	pub use tract_onnx::{
		model::ParsingContext,
		pb::NodeProto,
		tract_hir::{internal::*, ops::expandable::expand},
	};
}
