//! `PRelu`: `x` where `x > 0`, else `slope · x`.
//!
//! From opset 7 the slope broadcasts to `x` as numpy does (aligned on the last axis), which is
//! what tract implements. Opset 6 and earlier have no broadcasting: a slope of shape `[C]` is one
//! slope per channel, axis 1 of `x` (pytorch's exports of `nn.PReLU(C)` at those opsets). tract
//! aligns it on the last axis instead and cannot type the graph; here it is reshaped to
//! `[C, 1, …, 1]` first.

use super::prelude::*;

/// Builds the node's operator.
pub fn prelu(
	ctx: &ParsingContext,
	_node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let per_channel = ctx.onnx_operator_set_version < 7;
	Ok((expand(Prelu { per_channel }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct Prelu {
	/// A rank-1 slope of `x`'s channel count goes along axis 1 (opset < 7).
	per_channel: bool,
}

impl Expansion for Prelu {
	fn name(&self) -> StaticName {
		"Prelu".into()
	}

	fn rules<'r, 'p: 'r, 's: 'r>(
		&'s self,
		s: &mut Solver<'r>,
		inputs: &'p [TensorProxy],
		outputs: &'p [TensorProxy],
	) -> InferenceResult {
		check_input_arity(inputs, 2)?;
		check_output_arity(outputs, 1)?;
		s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
		s.equals(&inputs[0].shape, &outputs[0].shape)?;
		Ok(())
	}

	fn wire(
		&self,
		name: &str,
		model: &mut TypedModel,
		inputs: &[OutletId],
	) -> TractResult<TVec<OutletId>> {
		let x = inputs[0];
		let mut slope = inputs[1];
		let x_fact = model.outlet_fact(x)?.clone();
		let rank = x_fact.rank();
		let slope_shape = model.outlet_fact(slope)?.shape.clone();
		if self.per_channel
			&& rank >= 3
			&& slope_shape.rank() == 1
			&& slope_shape[0] == x_fact.shape[1]
		{
			// [C] → [C, 1, …, 1]: one slope per channel whatever the spatial axes.
			while model.outlet_fact(slope)?.rank() < rank - 1 {
				let axis = model.outlet_fact(slope)?.rank();
				slope = model.wire_node(
					format!("{name}.channel-axis-{axis}"),
					AxisOp::Add(axis),
					&[slope],
				)?[0];
			}
		}
		while model.outlet_fact(slope)?.rank() < rank {
			let axis = model.outlet_fact(slope)?.rank();
			slope =
				model.wire_node(format!("{name}.add-axis-{axis}"), AxisOp::Add(0), &[slope])?[0];
		}
		let zero =
			tensor0(0.0).cast_to_dt(x_fact.datum_type)?.into_owned().broadcast_into_rank(rank)?;
		let scaled = model.wire_node(
			format!("{name}.mul"),
			tract_onnx::tract_hir::ops::math::mul(),
			&[x, slope],
		)?[0];
		let zero = model.add_const(format!("{name}.zero"), zero)?;
		let positive = model.wire_node(
			format!("{name}.test"),
			tract_onnx::tract_core::ops::binary::TypedBinOp(
				tract_onnx::tract_core::ops::logic::comp_gt(),
				None,
			),
			&[zero, x],
		)?;
		model.wire_node(
			format!("{name}.iff"),
			tract_onnx::tract_core::ops::logic::Iff,
			&[positive[0], scaled, x],
		)
	}
}
