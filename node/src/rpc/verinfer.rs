//! Verinfer's JSON-RPC methods: models, inference and hosts, for model owners and dApps that do
//! not speak SCALE.
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
//! | `inference_dryRun(model, inputs, at?)` | the outputs, weight, fee and result deposit a call would have, changing nothing (within the call's limits; on a public RPC one at a time per [`PUBLIC_DRY_RUNS`]) |
//! | `inference_result(requestId, at?)` | a stored result, or `null` |
//! | `hosts_list(model?, at?)` | the hosts of a model, or every host |

use std::{
	marker::PhantomData,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
};

use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned, Extensions};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, Bytes, H256};
use verinfer_executor::{
	cache::InferenceCache,
	digest::{hex, sha256},
};
use verinfer_formats::json_npy;
use verinfer_primitives::DeclaredShapes;
use verinfer_primitives::{
	analysis::{Analysis, TensorSpec},
	tensor::Tensor,
};
use verinfer_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Runtime};

use pallet_hosting::runtime_api::HostingApi as HostingRuntimeApi;
use pallet_inference::runtime_api::InferenceApi as InferenceRuntimeApi;

/// Errors, by JSON-RPC error code.
mod code {
	/// The runtime could not be called at that block (unknown block, runtime error).
	pub const RUNTIME: i32 = 9000;
	/// `infer` would be refused before running (unknown model, mismatched inputs…).
	pub const REFUSED: i32 = 9001;
	/// The engine ran and failed.
	pub const FAILED: i32 = 9002;
	/// Bad parameters (a tensor that is not a tensor).
	pub const INVALID_PARAMS: i32 = -32602;
	/// The node cannot run the engine.
	pub const NODE: i32 = 9003;
	/// The node is making as many dry runs for public callers as it may: try again.
	pub const BUSY: i32 = 9004;
}

/// Dry runs a public (safe-methods-only) RPC makes at once. Each is metered within its model's
/// call limits, at most an extrinsic's share of a block; this bounds what public callers, who pay
/// nothing, can take of the node at any moment: one core. A node's own (unsafe) RPC is unbounded.
pub const PUBLIC_DRY_RUNS: usize = 1;

fn error(code: i32, message: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.to_string(), None::<()>)
}

#[rpc(server, namespace = "models")]
pub trait ModelsApi {
	/// Every model, in any state, ordered by id.
	#[method(name = "list", blocking)]
	fn list(&self, at: Option<H256>) -> RpcResult<Vec<Value>>;

	/// One model, or `null`.
	#[method(name = "get", blocking)]
	fn get(&self, id: H256, at: Option<H256>) -> RpcResult<Option<Value>>;

	/// What the chain's engine says about `bytes` (an ONNX file) with the `declared` input shapes,
	/// and what one call would weigh: everything `finalize` would decide, without registering.
	#[method(name = "inspect", blocking, with_extensions)]
	fn inspect(
		&self,
		bytes: Bytes,
		declared: Option<DeclaredShapes>,
		at: Option<H256>,
	) -> RpcResult<Value>;
}

#[rpc(server, namespace = "inference")]
pub trait InferenceApi {
	/// Runs `model` on `inputs` as `inference.infer` would, without a transaction.
	#[method(name = "dryRun", blocking, with_extensions)]
	fn dry_run(&self, model: H256, inputs: Vec<Value>, at: Option<H256>) -> RpcResult<Value>;

	/// The result stored under `request_id`, or `null` once pruned (or never made).
	#[method(name = "result", blocking)]
	fn result(&self, request_id: u64, at: Option<H256>) -> RpcResult<Option<Value>>;
}

#[rpc(server, namespace = "hosts")]
pub trait HostsApi {
	/// The hosts serving `model`, or every host; ordered by account.
	#[method(name = "list", blocking)]
	fn list(&self, model: Option<H256>, at: Option<H256>) -> RpcResult<Vec<Value>>;
}

/// The methods' implementation, over the client `C` with backend `B`.
pub struct Verinfer<C, B> {
	client: Arc<C>,
	cache: Arc<InferenceCache>,
	/// Dry runs being made for public callers.
	public_dry_runs: Arc<AtomicUsize>,
	_backend: PhantomData<fn() -> B>,
}

impl<C, B> Clone for Verinfer<C, B> {
	fn clone(&self) -> Self {
		Verinfer {
			client: self.client.clone(),
			cache: self.cache.clone(),
			public_dry_runs: self.public_dry_runs.clone(),
			_backend: PhantomData,
		}
	}
}

impl<C, B> Verinfer<C, B> {
	pub fn new(client: Arc<C>, cache: Arc<InferenceCache>) -> Self {
		Verinfer { client, cache, public_dry_runs: Default::default(), _backend: PhantomData }
	}
}

/// A public dry run's place among [`PUBLIC_DRY_RUNS`], given back when dropped.
struct DryRunSlot<'a>(&'a AtomicUsize);

impl<'a> DryRunSlot<'a> {
	fn take(running: &'a AtomicUsize) -> Option<Self> {
		running
			.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
				(n < PUBLIC_DRY_RUNS).then_some(n + 1)
			})
			.ok()
			.map(|_| DryRunSlot(running))
	}
}

impl Drop for DryRunSlot<'_> {
	fn drop(&mut self) {
		self.0.fetch_sub(1, Ordering::AcqRel);
	}
}

impl<C, B> Verinfer<C, B>
where
	C: HeaderBackend<Block>,
{
	fn at(&self, at: Option<H256>) -> H256 {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}
}

fn runtime_error(failure: impl std::fmt::Display) -> ErrorObjectOwned {
	error(code::RUNTIME, format!("runtime call failed: {failure}"))
}

fn utf8(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

fn spec_json(spec: &TensorSpec) -> Value {
	json!({ "name": utf8(&spec.name), "dtype": spec.dtype.name(), "shape": spec.shape })
}

fn analysis_json(analysis: &Analysis) -> Value {
	let cost = &analysis.cost;
	json!({
		"inputs": analysis.inputs.iter().map(spec_json).collect::<Vec<_>>(),
		"outputs": analysis.outputs.iter().map(spec_json).collect::<Vec<_>>(),
		"operators": analysis.operators.iter()
			.map(|o| json!({ "operator": utf8(&o.operator), "count": o.count }))
			.collect::<Vec<_>>(),
		"nodes": analysis.nodes,
		"parameters": analysis.parameters,
		"cost": {
			"multiplyAdds": cost.multiply_adds,
			"elementsTouched": cost.elements_touched,
			"intermediateBytes": cost.intermediate_bytes,
			"parameterBytes": cost.parameter_bytes,
		},
		"refusals": analysis.refusals.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
	})
}

fn weight_json(weight: sp_runtime::Weight) -> Value {
	json!({ "refTime": weight.ref_time(), "proofSize": weight.proof_size() })
}

fn model_json(info: pallet_inference::ModelInfoOf<Runtime>) -> Value {
	let model = &info.model;
	let status = match &model.status {
		pallet_models::ModelStatus::Uploading { received, expires_at } => {
			json!({ "uploading": { "received": received, "expiresAt": expires_at } })
		},
		pallet_models::ModelStatus::Active => json!("active"),
		pallet_models::ModelStatus::Deprecated => json!("deprecated"),
	};
	json!({
		"id": hex(&info.id.0),
		"owner": model.owner.to_ss58check(),
		"name": utf8(&model.metadata.name),
		"version": utf8(&model.metadata.version),
		"description": utf8(&model.metadata.description),
		"fee": model.fee.to_string(),
		"size": model.size,
		"chunks": model.chunks,
		"declared": model.declared.iter()
			.map(|shape| shape.as_ref().map(|dims| dims.to_vec()))
			.collect::<Vec<_>>(),
		"status": status,
		"deposit": model.deposit.to_string(),
		"createdAt": model.created_at,
		"analysis": info.analysis.as_ref().map(analysis_json),
		"callWeight": info.call_weight.map(weight_json),
	})
}

fn tensor_json(tensor: &Tensor) -> Result<Value, ErrorObjectOwned> {
	let text = json_npy::to_json(tensor).map_err(|e| error(code::NODE, e))?;
	serde_json::from_str(&text).map_err(|e| error(code::NODE, e))
}

fn tensors_json(tensors: &[Tensor]) -> Result<Vec<Value>, ErrorObjectOwned> {
	tensors.iter().map(tensor_json).collect()
}

impl<C, B> ModelsApiServer for Verinfer<C, B>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ sc_client_api::StorageProvider<Block, B>
		+ Send
		+ Sync
		+ 'static,
	C::Api: InferenceRuntimeApi<Block, AccountId, Balance, BlockNumber>,
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
{
	fn list(&self, at: Option<H256>) -> RpcResult<Vec<Value>> {
		let models = self.client.runtime_api().models(self.at(at)).map_err(runtime_error)?;
		Ok(models.into_iter().map(model_json).collect())
	}

	fn get(&self, id: H256, at: Option<H256>) -> RpcResult<Option<Value>> {
		let model = self.client.runtime_api().model(self.at(at), id).map_err(runtime_error)?;
		Ok(model.map(model_json))
	}

	fn inspect(
		&self,
		ext: &Extensions,
		bytes: Bytes,
		declared: Option<DeclaredShapes>,
		at: Option<H256>,
	) -> RpcResult<Value> {
		sc_rpc_api::check_if_safe(ext)?;
		let at = self.at(at);
		let api = self.client.runtime_api();
		let stored = api
			.engine(at)
			.map_err(runtime_error)?
			.ok_or_else(|| error(code::RUNTIME, "the chain has no engine blob"))?;
		let mut read = |key: &[u8]| {
			let key = sc_client_api::StorageKey(key.to_vec());
			self.client.storage(at, &key).ok().flatten().map(|data| data.0)
		};
		let engine = match self.cache.engine(&stored, &mut read) {
			Ok(Ok(engine)) => engine,
			Ok(Err(chain)) => return Err(error(code::FAILED, chain)),
			Err(host) => return Err(error(code::NODE, host)),
		};
		let declared = declared.unwrap_or_default();
		let mut report = json!({ "id": hex(&sha256(&bytes)), "size": bytes.len() });
		// Measured as registration measures it: one load, within the registration's limits. A
		// model refused, or failing on its probe inputs, is analysed instead, for its reasons.
		let registration =
			<verinfer_runtime::Runtime as pallet_models::Config>::RegistrationLimits::get();
		let measured = engine.measure(&bytes, &declared, registration);
		let measurement = match measured.map_err(|e| error(code::NODE, e))?.result {
			Ok(measured) => measured.measurement,
			Err(failed) => {
				report["verdict"] = json!("refused");
				report["reasons"] = json!([failed.to_string()]);
				// Within the registration's limits too: no more work than a registration.
				let analysed = engine.analyse(&bytes, &declared, registration);
				if let Ok(analysis) = analysed.map_err(|e| error(code::NODE, e))?.result {
					report["analysis"] = analysis_json(&analysis);
					if !analysis.is_accepted() {
						report["reasons"] = report["analysis"]["refusals"].clone();
					}
				}
				return Ok(report);
			},
		};
		let analysis = measurement.analysis.clone();
		report["analysis"] = analysis_json(&analysis);
		if !analysis.is_accepted() {
			report["verdict"] = json!("refused");
			report["reasons"] = report["analysis"]["refusals"].clone();
			return Ok(report);
		}
		// With the default headroom.
		let cost =
			pallet_models::ModelCost::new(&measurement, pallet_models::DEFAULT_HEADROOM_PERCENT);
		report["fuel"] = json!({
			"load": measurement.load.fuel,
			"probe": measurement.probe.fuel,
			"call": cost.call.fuel,
		});
		let size = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
		let call = api.call_info(at, analysis, cost, size).map_err(runtime_error)?;
		report["callWeight"] = json!({
			"run": weight_json(call.run),
			"load": weight_json(call.load),
			"used": weight_json(call.used),
		});
		report["callsPerBlock"] = json!(call.calls_per_block);
		match call.admitted {
			Ok(()) => report["verdict"] = json!("accepted"),
			Err(reason) => {
				report["verdict"] = json!("refused");
				report["reasons"] = json!([utf8(&reason)]);
			},
		}
		Ok(report)
	}
}

impl<C, B> InferenceApiServer for Verinfer<C, B>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: InferenceRuntimeApi<Block, AccountId, Balance, BlockNumber>,
	B: Send + Sync + 'static,
{
	fn dry_run(
		&self,
		ext: &Extensions,
		model: H256,
		inputs: Vec<Value>,
		at: Option<H256>,
	) -> RpcResult<Value> {
		// A public caller waits for no one: a busy node says so at once.
		let _slot = match sc_rpc_api::check_if_safe(ext) {
			Ok(()) => None,
			Err(_) => Some(DryRunSlot::take(&self.public_dry_runs).ok_or_else(|| {
				error(
					code::BUSY,
					format!(
						"the node is making {PUBLIC_DRY_RUNS} dry run(s) for public callers, the \
						 most it makes at once; try again"
					),
				)
			})?),
		};
		let inputs = inputs
			.iter()
			.enumerate()
			.map(|(index, value)| {
				json_npy::from_json(&value.to_string())
					.map_err(|e| error(code::INVALID_PARAMS, format!("input {index}: {e}")))
			})
			.collect::<Result<Vec<_>, _>>()?;
		let outcome =
			self.client.runtime_api().dry_run(self.at(at), model, inputs).map_err(runtime_error)?;
		match outcome {
			Ok(dry) => Ok(json!({
				"outputs": tensors_json(&dry.outputs)?,
				"outputHash": hex(&dry.output_hash.0),
				"weight": weight_json(dry.weight),
				"fee": dry.fee.to_string(),
				"deposit": dry.deposit.to_string(),
			})),
			Err(pallet_inference::DryRunError::Refused(dispatch)) => Err(error(
				code::REFUSED,
				format!("refused: {}", verinfer_runtime::describe_error(dispatch)),
			)),
			Err(pallet_inference::DryRunError::Failed(failure)) => {
				Err(error(code::FAILED, format!("inference failed: {failure}")))
			},
		}
	}

	fn result(&self, request_id: u64, at: Option<H256>) -> RpcResult<Option<Value>> {
		let result =
			self.client.runtime_api().result(self.at(at), request_id).map_err(runtime_error)?;
		result
			.map(|result| {
				Ok(json!({
					"requestId": request_id,
					"model": hex(&result.model.0),
					"caller": result.caller.to_ss58check(),
					"at": result.at,
					"fee": result.fee.to_string(),
					"deposit": result.deposit.to_string(),
					"outputHash": hex(&result.output_hash.0),
					"outputs": tensors_json(&result.outputs)?,
				}))
			})
			.transpose()
	}
}

impl<C, B> HostsApiServer for Verinfer<C, B>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: HostingRuntimeApi<Block, AccountId, Balance>,
	B: Send + Sync + 'static,
{
	fn list(&self, model: Option<H256>, at: Option<H256>) -> RpcResult<Vec<Value>> {
		let api = self.client.runtime_api();
		let at = self.at(at);
		let hosts = match model {
			Some(model) => api.hosts(at, model),
			None => api.all(at),
		}
		.map_err(runtime_error)?;
		Ok(hosts
			.into_iter()
			.map(|host| {
				json!({
					"account": host.account.to_ss58check(),
					"active": host.active.to_string(),
					"unlocking": host.unlocking.to_string(),
					"endpoint": utf8(&host.metadata.endpoint),
					"name": utf8(&host.metadata.name),
					"models": host.models.iter().map(|m| hex(&m.0)).collect::<Vec<_>>(),
				})
			})
			.collect())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn public_dry_runs_are_bounded_and_a_finished_one_frees_its_place() {
		let running = AtomicUsize::new(0);
		let slots: Vec<_> = (0..PUBLIC_DRY_RUNS).map(|_| DryRunSlot::take(&running)).collect();
		assert!(slots.iter().all(Option::is_some));
		assert!(DryRunSlot::take(&running).is_none(), "one more than the bound");
		drop(slots);
		assert_eq!(running.load(Ordering::Acquire), 0);
		assert!(DryRunSlot::take(&running).is_some());
	}
}
