//! `models_list`, `models_get` and `models_inspect`.

use jsonrpsee::{core::RpcResult, Extensions};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{Bytes, H256};
use verinfer_client::api::{
	code, AnalysisInfo, CallWeightInfo, FuelInfo, Inspection, ModelInfo, ModelsApiServer, Verdict,
};
use verinfer_executor::digest::model_id;
use verinfer_primitives::DeclaredShapes;
use verinfer_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Runtime};

use pallet_inference::runtime_api::InferenceApi as InferenceRuntimeApi;

use super::verinfer::{error, runtime_error, Verinfer};

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
	fn list(&self, at: Option<H256>) -> RpcResult<Vec<ModelInfo>> {
		let models = self.client.runtime_api().models(self.at(at)).map_err(runtime_error)?;
		Ok(models.into_iter().map(ModelInfo::from).collect())
	}

	fn get(&self, id: H256, at: Option<H256>) -> RpcResult<Option<ModelInfo>> {
		let model = self.client.runtime_api().model(self.at(at), id).map_err(runtime_error)?;
		Ok(model.map(ModelInfo::from))
	}

	fn inspect(
		&self,
		ext: &Extensions,
		bytes: Bytes,
		declared: Option<DeclaredShapes>,
		at: Option<H256>,
	) -> RpcResult<Inspection> {
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
		let mut report = Inspection {
			id: model_id(&bytes),
			size: bytes.len() as u64,
			verdict: Verdict::Refused,
			reasons: None,
			analysis: None,
			fuel: None,
			call_weight: None,
			calls_per_block: None,
		};
		// Measured as registration measures it: one load, within the registration's limits. A
		// model refused, or failing on its probe inputs, is analysed instead, for its reasons.
		let registration = <Runtime as pallet_models::Config>::RegistrationLimits::get();
		let measured = engine.measure(&bytes, &declared, registration);
		let measurement = match measured.map_err(|e| error(code::NODE, e))?.result {
			Ok(measured) => measured.measurement,
			Err(failed) => {
				report.reasons = Some(vec![failed.to_string()]);
				// Within the registration's limits too: no more work than a registration.
				let analysed = engine.analyse(&bytes, &declared, registration);
				if let Ok(analysis) = analysed.map_err(|e| error(code::NODE, e))?.result {
					let analysis = AnalysisInfo::from(&analysis);
					if !analysis.refusals.is_empty() {
						report.reasons = Some(analysis.refusals.clone());
					}
					report.analysis = Some(analysis);
				}
				return Ok(report);
			},
		};
		let analysis = measurement.analysis.clone();
		let info = AnalysisInfo::from(&analysis);
		if !analysis.is_accepted() {
			report.reasons = Some(info.refusals.clone());
			report.analysis = Some(info);
			return Ok(report);
		}
		report.analysis = Some(info);
		// With the default headroom.
		let cost =
			pallet_models::ModelCost::new(&measurement, pallet_models::DEFAULT_HEADROOM_PERCENT);
		report.fuel = Some(FuelInfo {
			load: measurement.load.fuel,
			probe: measurement.probe.fuel,
			call: cost.call.fuel,
		});
		let size = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
		let call = api.call_info(at, analysis, cost, size).map_err(runtime_error)?;
		report.call_weight = Some(CallWeightInfo {
			run: call.run.into(),
			load: call.load.into(),
			used: call.used.into(),
		});
		report.calls_per_block = Some(call.calls_per_block);
		match call.admitted {
			Ok(()) => report.verdict = Verdict::Accepted,
			Err(reason) => report.reasons = Some(vec![String::from_utf8_lossy(&reason).into()]),
		}
		Ok(report)
	}
}
