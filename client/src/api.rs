//! Verinfer's JSON-RPC methods, typed: the `models_*`, `inference_*` and `hosts_*` namespaces as
//! one set of traits, which the node serves (`…ApiServer`) and clients call (`…ApiClient`), and the
//! JSON they answer in, for model owners and dApps that do not speak SCALE.
//!
//! Every method reads the chain at the best block unless `at` names another. In JSON, tensors are
//! `{"dtype": "f32", "shape": [1, 4], "data": [...]}` as `verinfer model run` writes them (NaN and
//! infinities as strings, so every bit survives); balances are decimal strings (they overflow
//! JavaScript numbers); ids and hashes are `0x` hex; accounts are SS58.
//!
//! | method | what |
//! |---|---|
//! | `models_list(at?)` | every model, ordered by id |
//! | `models_get(id, at?)` | one model, or `null` |
//! | `models_inspect(bytes, declared?, at?)` | the chain's engine's analysis of a model not registered: specs, operators, cost, verdict, call weight (unsafe: it runs the engine on any bytes) |
//! | `inference_dryRun(model, inputs, at?)` | the outputs, weight, fee and result deposit a call would have, changing nothing |
//! | `inference_result(requestId, at?)` | a stored result, or `null` |
//! | `hosts_list(model?, at?)` | the hosts of a model, or every host |

use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use serde::{de::Error as _, ser::Error as _, Deserialize, Deserializer, Serialize, Serializer};
use sp_core::{Bytes, H256};
use verinfer_formats::json_npy;
use verinfer_primitives::{
	analysis::{Analysis, TensorSpec},
	tensor::Tensor,
	DeclaredShapes,
};
use verinfer_runtime::{AccountId, Balance, BlockNumber, Runtime};

/// The methods' errors, by JSON-RPC error code.
pub mod code {
	/// The runtime could not be called at that block (unknown block, runtime error).
	pub const RUNTIME: i32 = 9000;
	/// `infer` would be refused before running (unknown model, mismatched inputs…).
	pub const REFUSED: i32 = 9001;
	/// The engine ran and failed.
	pub const FAILED: i32 = 9002;
	/// The node cannot run the engine.
	pub const NODE: i32 = 9003;
	/// The node is making as many dry runs for public callers as it may: try again.
	pub const BUSY: i32 = 9004;
}

#[rpc(client, server, namespace = "models")]
pub trait ModelsApi {
	/// Every model, in any state, ordered by id.
	#[method(name = "list", blocking)]
	fn list(&self, at: Option<H256>) -> RpcResult<Vec<ModelInfo>>;

	/// One model, or `null`.
	#[method(name = "get", blocking)]
	fn get(&self, id: H256, at: Option<H256>) -> RpcResult<Option<ModelInfo>>;

	/// What the chain's engine says about `bytes` (an ONNX file) with the `declared` input shapes,
	/// and what one call would weigh: everything `finalize` would decide, without registering.
	#[method(name = "inspect", blocking, with_extensions)]
	fn inspect(
		&self,
		bytes: Bytes,
		declared: Option<DeclaredShapes>,
		at: Option<H256>,
	) -> RpcResult<Inspection>;
}

#[rpc(client, server, namespace = "inference")]
pub trait InferenceApi {
	/// Runs `model` on `inputs` as `inference.infer` would, without a transaction.
	#[method(name = "dryRun", blocking, with_extensions)]
	fn dry_run(&self, model: H256, inputs: Vec<JsonTensor>, at: Option<H256>) -> RpcResult<DryRun>;

	/// The result stored under `request_id`, or `null` once pruned (or never made).
	#[method(name = "result", blocking)]
	fn result(&self, request_id: u64, at: Option<H256>) -> RpcResult<Option<StoredResult>>;
}

#[rpc(client, server, namespace = "hosts")]
pub trait HostsApi {
	/// The hosts serving `model`, or every host; ordered by account.
	#[method(name = "list", blocking)]
	fn list(&self, model: Option<H256>, at: Option<H256>) -> RpcResult<Vec<HostInfo>>;
}

/// Balances as decimal strings: JavaScript numbers would round them.
mod decimal {
	use super::*;

	pub fn serialize<S: Serializer>(value: &Balance, serializer: S) -> Result<S::Ok, S::Error> {
		serializer.collect_str(value)
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Balance, D::Error> {
		let text = String::deserialize(deserializer)?;
		text.parse().map_err(|_| D::Error::custom(format!("not a balance: {text:?}")))
	}
}

fn utf8(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// A tensor in JSON, as `verinfer model run` writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonTensor(pub Tensor);

impl Serialize for JsonTensor {
	fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
		let text = json_npy::to_json(&self.0).map_err(S::Error::custom)?;
		let value: serde_json::Value = serde_json::from_str(&text).map_err(S::Error::custom)?;
		value.serialize(serializer)
	}
}

impl<'de> Deserialize<'de> for JsonTensor {
	fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
		let value = serde_json::Value::deserialize(deserializer)?;
		json_npy::from_json(&value.to_string()).map(JsonTensor).map_err(D::Error::custom)
	}
}

/// `tensors` as JSON tensors.
pub fn json_tensors(tensors: Vec<Tensor>) -> Vec<JsonTensor> {
	tensors.into_iter().map(JsonTensor).collect()
}

/// JSON tensors as tensors.
pub fn tensors(tensors: Vec<JsonTensor>) -> Vec<Tensor> {
	tensors.into_iter().map(|JsonTensor(tensor)| tensor).collect()
}

/// A weight: picoseconds of execution and bytes of proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightInfo {
	pub ref_time: u64,
	pub proof_size: u64,
}

impl From<sp_runtime::Weight> for WeightInfo {
	fn from(weight: sp_runtime::Weight) -> Self {
		WeightInfo { ref_time: weight.ref_time(), proof_size: weight.proof_size() }
	}
}

/// An input or output of a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecInfo {
	pub name: String,
	/// `f32`, `i64`, …
	pub dtype: String,
	pub shape: Vec<u32>,
}

impl From<&TensorSpec> for SpecInfo {
	fn from(spec: &TensorSpec) -> Self {
		SpecInfo {
			name: utf8(&spec.name),
			dtype: spec.dtype.name().into(),
			shape: spec.shape.clone(),
		}
	}
}

/// How many nodes of one operator type a model holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorInfo {
	pub operator: String,
	pub count: u32,
}

/// The static cost of one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostInfo {
	pub multiply_adds: u64,
	pub elements_touched: u64,
	pub intermediate_bytes: u64,
	pub parameter_bytes: u64,
}

/// What the chain's engine found in a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisInfo {
	pub inputs: Vec<SpecInfo>,
	pub outputs: Vec<SpecInfo>,
	/// Sorted by name.
	pub operators: Vec<OperatorInfo>,
	pub nodes: u64,
	pub parameters: u64,
	pub cost: CostInfo,
	/// Why the chain will not run the model; empty when it will.
	pub refusals: Vec<String>,
}

impl From<&Analysis> for AnalysisInfo {
	fn from(analysis: &Analysis) -> Self {
		let cost = &analysis.cost;
		AnalysisInfo {
			inputs: analysis.inputs.iter().map(SpecInfo::from).collect(),
			outputs: analysis.outputs.iter().map(SpecInfo::from).collect(),
			operators: analysis
				.operators
				.iter()
				.map(|o| OperatorInfo { operator: utf8(&o.operator), count: o.count })
				.collect(),
			nodes: analysis.nodes,
			parameters: analysis.parameters,
			cost: CostInfo {
				multiply_adds: cost.multiply_adds,
				elements_touched: cost.elements_touched,
				intermediate_bytes: cost.intermediate_bytes,
				parameter_bytes: cost.parameter_bytes,
			},
			refusals: analysis.refusals.iter().map(|r| r.to_string()).collect(),
		}
	}
}

/// Where a model is in its life: `"active"`, `"deprecated"`, or
/// `{"uploading": {"received", "expiresAt"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ModelState {
	Uploading { received: u32, expires_at: BlockNumber },
	Active,
	Deprecated,
}

/// A registered model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
	pub id: H256,
	pub owner: AccountId,
	pub name: String,
	pub version: String,
	pub description: String,
	#[serde(with = "decimal")]
	pub fee: Balance,
	pub size: u32,
	pub chunks: u32,
	pub declared: DeclaredShapes,
	pub status: ModelState,
	#[serde(with = "decimal")]
	pub deposit: Balance,
	pub created_at: BlockNumber,
	/// Once the engine accepted it.
	pub analysis: Option<AnalysisInfo>,
	/// What `infer` is charged up front: running it and loading it.
	pub call_weight: Option<WeightInfo>,
}

impl From<pallet_inference::ModelInfoOf<Runtime>> for ModelInfo {
	fn from(info: pallet_inference::ModelInfoOf<Runtime>) -> Self {
		let model = info.model;
		let status = match model.status {
			pallet_models::ModelStatus::Uploading { received, expires_at } => {
				ModelState::Uploading { received, expires_at }
			},
			pallet_models::ModelStatus::Active => ModelState::Active,
			pallet_models::ModelStatus::Deprecated => ModelState::Deprecated,
		};
		ModelInfo {
			id: info.id,
			owner: model.owner,
			name: utf8(&model.metadata.name),
			version: utf8(&model.metadata.version),
			description: utf8(&model.metadata.description),
			fee: model.fee,
			size: model.size,
			chunks: model.chunks,
			declared: pallet_models::Pallet::<Runtime>::declared_shapes(&model.declared),
			status,
			deposit: model.deposit,
			created_at: model.created_at,
			analysis: info.analysis.as_ref().map(AnalysisInfo::from),
			call_weight: info.call_weight.map(WeightInfo::from),
		}
	}
}

/// The chain's verdict on a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
	Accepted,
	Refused,
}

/// The fuel a registration measured: loading the model, its costliest probe, and what a call may
/// use (the probe's with the default headroom).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuelInfo {
	pub load: u64,
	pub probe: u64,
	pub call: u64,
}

/// What one call would weigh: running the loaded model at its limit, loading it, and what a call
/// like the probes is left charged after its refund.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallWeightInfo {
	pub run: WeightInfo,
	pub load: WeightInfo,
	pub used: WeightInfo,
}

/// `models_inspect`'s report: what registering the model would decide.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
	/// The model id the bytes would register under.
	pub id: H256,
	pub size: u64,
	pub verdict: Verdict,
	/// Why it would be refused.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub reasons: Option<Vec<String>>,
	/// Absent when the engine could not analyse the bytes at all.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub analysis: Option<AnalysisInfo>,
	/// Once measured, for a model the engine accepts.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub fuel: Option<FuelInfo>,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub call_weight: Option<CallWeightInfo>,
	/// Calls of the model on inputs like the probes' that fit in one block.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub calls_per_block: Option<u64>,
}

/// What a call would give and cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
	pub outputs: Vec<JsonTensor>,
	/// SHA-256 of the outputs, as results and events carry it.
	pub output_hash: H256,
	/// What `infer` is charged up front.
	pub weight: WeightInfo,
	/// The model's per-call fee.
	#[serde(with = "decimal")]
	pub fee: Balance,
	/// What the result would hold from the caller until it is pruned.
	#[serde(with = "decimal")]
	pub deposit: Balance,
}

impl From<pallet_inference::DryRun<Balance>> for DryRun {
	fn from(dry: pallet_inference::DryRun<Balance>) -> Self {
		DryRun {
			outputs: json_tensors(dry.outputs),
			output_hash: dry.output_hash,
			weight: dry.weight.into(),
			fee: dry.fee,
			deposit: dry.deposit,
		}
	}
}

/// A call's stored result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredResult {
	pub request_id: u64,
	pub model: H256,
	pub caller: AccountId,
	/// The block that made it.
	pub at: BlockNumber,
	#[serde(with = "decimal")]
	pub fee: Balance,
	#[serde(with = "decimal")]
	pub deposit: Balance,
	pub output_hash: H256,
	pub outputs: Vec<JsonTensor>,
}

/// A host and what it serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
	pub account: AccountId,
	/// The stake that backs serving and earns rewards.
	#[serde(with = "decimal")]
	pub active: Balance,
	/// Stake on its way out, still held and slashable.
	#[serde(with = "decimal")]
	pub unlocking: Balance,
	pub endpoint: String,
	pub name: String,
	/// In the order it started serving them.
	pub models: Vec<H256>,
}

impl From<pallet_hosting::HostInfo<AccountId, Balance>> for HostInfo {
	fn from(host: pallet_hosting::HostInfo<AccountId, Balance>) -> Self {
		HostInfo {
			account: host.account,
			active: host.active,
			unlocking: host.unlocking,
			endpoint: utf8(&host.metadata.endpoint),
			name: utf8(&host.metadata.name),
			models: host.models,
		}
	}
}

impl StoredResult {
	/// The result stored under `request_id`.
	pub fn new(
		request_id: u64,
		result: pallet_inference::InferenceResult<AccountId, Balance, BlockNumber>,
	) -> Self {
		StoredResult {
			request_id,
			model: result.model,
			caller: result.caller,
			at: result.at,
			fee: result.fee,
			deposit: result.deposit,
			output_hash: result.output_hash,
			outputs: json_tensors(result.outputs),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn a_models_state_is_a_word_or_its_upload_progress() {
		assert_eq!(serde_json::to_value(ModelState::Active).unwrap(), json!("active"));
		assert_eq!(serde_json::to_value(ModelState::Deprecated).unwrap(), json!("deprecated"));
		let uploading = ModelState::Uploading { received: 2, expires_at: 600 };
		let json = json!({ "uploading": { "received": 2, "expiresAt": 600 } });
		assert_eq!(serde_json::to_value(&uploading).unwrap(), json);
		assert_eq!(serde_json::from_value::<ModelState>(json).unwrap(), uploading);
	}

	#[test]
	fn balances_are_exact_decimal_strings_and_nothing_else() {
		let host = |active: serde_json::Value| {
			serde_json::from_value::<HostInfo>(json!({
				"account": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
				"active": active, "unlocking": "0", "endpoint": "", "name": "", "models": [],
			}))
		};
		// Above 2^53, where a JavaScript number would round.
		let exact = 340_282_366_920_938_463_463_374_607_431_768_211_455u128;
		assert_eq!(host(json!(exact.to_string())).unwrap().active, exact);
		assert_eq!(serde_json::to_value(host(json!("10")).unwrap()).unwrap()["active"], "10");
		for bad in [json!(10), json!("1e3"), json!("-1"), json!("0x10")] {
			assert!(host(bad.clone()).is_err(), "{bad}");
		}
	}

	#[test]
	fn tensors_keep_every_bit_through_json() {
		let values = [f32::NAN, f32::INFINITY, -0.0, 1.0e-45, 0.1];
		let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
		let tensor = Tensor::new(verinfer_primitives::tensor::DType::F32, vec![5], data).unwrap();
		let json = serde_json::to_string(&JsonTensor(tensor.clone())).unwrap();
		assert_eq!(serde_json::from_str::<JsonTensor>(&json).unwrap(), JsonTensor(tensor));
		assert!(serde_json::from_str::<JsonTensor>(r#"{"dtype": "f32", "shape": [2]}"#).is_err());
	}
}
