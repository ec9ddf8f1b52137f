//! Operators used in ways the engine does not run, refused by name at the protobuf stage with
//! what to change: allowed operators whose attributes tract 0.23.9 would silently ignore (it
//! would compute another function than the specification's), and `ZipMap`, whose maps the chain
//! cannot store.

use tract_onnx::pb::{self, attribute_proto::AttributeType};

/// Why the engine does not run `node` of a model whose default-domain opset is `opset`, if it
/// does not.
pub fn unsupported(node: &pb::NodeProto, opset: i64) -> Option<String> {
	if node.domain == "ai.onnx.ml" && node.op_type == "ZipMap" {
		return Some(
			"ZipMap turns a classifier's probabilities into a sequence of maps, which the chain \
			 cannot store: convert the model without it (skl2onnx: \
			 options={id(model): {'zipmap': False}}; onnxmltools: zipmap=False), which gives the \
			 probabilities as a tensor"
				.into(),
		);
	}
	if !matches!(node.domain.as_str(), "" | "ai.onnx") {
		return None;
	}
	match node.op_type.as_str() {
		"LSTM" => recurrent(node, &["Sigmoid", "Tanh", "Tanh"]),
		"GRU" => recurrent(node, &["Sigmoid", "Tanh"]),
		"RNN" => recurrent(node, &["Tanh"]),
		// Scan-8 has a batch axis and a sequence_lens input that Scan-9 dropped; tract reads
		// every Scan as Scan-9.
		"Scan" if opset < 9 => Some(format!(
			"Scan of opset {opset} (before 9) is not supported: export at opset 9 or later"
		)),
		_ => None,
	}
}

/// The recurrent operators' attributes tract ignores: it always runs the default activations,
/// takes the direction from the weights (forward or both), and has no clip and no coupled
/// input-forget gate. `defaults` are one direction's default activations.
fn recurrent(node: &pb::NodeProto, defaults: &[&str]) -> Option<String> {
	let direction = string(node, "direction");
	let direction = direction.as_deref().unwrap_or("forward");
	if direction == "reverse" {
		return Some("direction `reverse` is not supported: use `forward` on the reversed sequence, or `bidirectional`".into());
	}
	if let Some(activations) = attribute(node, "activations") {
		let directions = if direction == "bidirectional" { 2 } else { 1 };
		let expected: Vec<&[u8]> = defaults
			.iter()
			.cycle()
			.take(defaults.len() * directions)
			.map(|a| a.as_bytes())
			.collect();
		if !activations.strings.iter().map(Vec::as_slice).eq(expected) {
			return Some(format!(
				"activations other than the defaults ({}) are not supported",
				defaults.join(", ")
			));
		}
	}
	for name in ["activation_alpha", "activation_beta", "clip"] {
		if attribute(node, name).is_some() {
			return Some(format!("attribute `{name}` is not supported"));
		}
	}
	if attribute(node, "input_forget").is_some_and(|a| a.i != 0) {
		return Some("a coupled input-forget gate (`input_forget` = 1) is not supported".into());
	}
	if direction == "bidirectional" && attribute(node, "layout").is_some_and(|a| a.i != 0) {
		return Some(
			"`layout` = 1 (batch first) is not supported for a bidirectional layer".into(),
		);
	}
	None
}

fn attribute<'a>(node: &'a pb::NodeProto, name: &str) -> Option<&'a pb::AttributeProto> {
	node.attribute.iter().find(|attribute| attribute.name == name)
}

fn string(node: &pb::NodeProto, name: &str) -> Option<String> {
	let attribute = attribute(node, name)?;
	(attribute.r#type == AttributeType::String as i32 || !attribute.s.is_empty())
		.then(|| String::from_utf8_lossy(&attribute.s).into_owned())
}
