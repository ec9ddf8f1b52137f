//! `hosts_list`.

use jsonrpsee::core::RpcResult;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::H256;
use verinfer_client::api::{HostInfo, HostsApiServer};
use verinfer_runtime::{opaque::Block, AccountId, Balance};

use pallet_hosting::runtime_api::HostingApi as HostingRuntimeApi;

use super::verinfer::{runtime_error, Verinfer};

impl<C, B> HostsApiServer for Verinfer<C, B>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: HostingRuntimeApi<Block, AccountId, Balance>,
	B: Send + Sync + 'static,
{
	fn list(&self, model: Option<H256>, at: Option<H256>) -> RpcResult<Vec<HostInfo>> {
		let api = self.client.runtime_api();
		let at = self.at(at);
		let hosts = match model {
			Some(model) => api.hosts(at, model),
			None => api.all(at),
		}
		.map_err(runtime_error)?;
		Ok(hosts.into_iter().map(HostInfo::from).collect())
	}
}
