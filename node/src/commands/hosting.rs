//! A host's commands: `verinfer host bond|unbond|withdraw|serve|stop-serving|set-metadata|show`.
//!
//! A host bonds VINF (held, slashable) and serves models; each call of a served model pays the
//! model's hosts a stake-weighted share of its fee. Unbonded stake stays held for the unbonding
//! period before `withdraw` releases it. Every command that signs waits until its block is final
//! and prints what changed; every error is one line and exit status 1.

use sp_core::{crypto::Ss58Codec, Pair, H256};
use verinfer_executor::digest::hex;
use verinfer_runtime::{AccountId, Runtime, RuntimeCall, RuntimeEvent, SLOT_DURATION};

use super::{
	args::{Amount, NodeArgs, SignerArgs, Tokens, FINAL_TIMEOUT},
	finish_async,
};
use verinfer_client::{Client, ClientError, Included};

/// `verinfer host …`
#[derive(Debug, clap::Subcommand)]
pub enum HostCmd {
	/// Bond stake (the first time, at least the chain's minimum), or add to it.
	Bond(AmountCmd),
	/// Start unbonding stake: it stays held, and slashable, for the unbonding period.
	Unbond(AmountCmd),
	/// Release the unbonded stake whose unbonding period is over.
	Withdraw(SignedCmd),
	/// Serve a model: earn a share of each of its calls' fees.
	Serve(ServeCmd),
	/// Stop serving a model.
	StopServing(ServeCmd),
	/// Say where clients reach this host, and its display name.
	SetMetadata(MetadataCmd),
	/// A host's stake, unbonding chunks, endpoint and models.
	Show(HostShowCmd),
}

/// `verinfer host bond|unbond`
#[derive(Debug, clap::Args)]
pub struct AmountCmd {
	/// How much: plancks, or VINF as `10VINF`.
	pub amount: Amount,
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// A command with nothing but a signer.
#[derive(Debug, clap::Args)]
pub struct SignedCmd {
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// `verinfer host serve|stop-serving`
#[derive(Debug, clap::Args)]
pub struct ServeCmd {
	/// The model's id (0x…).
	pub model: H256,
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// `verinfer host set-metadata`
#[derive(Debug, clap::Args)]
pub struct MetadataCmd {
	/// Where clients reach the host, such as `https://host.example:9944` (at most 256 bytes).
	#[arg(long, default_value = "")]
	pub endpoint: String,
	/// A display name (at most 64 bytes).
	#[arg(long, default_value = "")]
	pub name: String,
	#[command(flatten)]
	pub signer: SignerArgs,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// `verinfer host show`
#[derive(Debug, clap::Args)]
pub struct HostShowCmd {
	/// The host's account (SS58); or give `--suri`.
	#[arg(required_unless_present = "suri", conflicts_with = "suri")]
	pub account: Option<String>,
	/// The host's secret URI, instead of its account.
	#[arg(long, value_name = "SURI")]
	pub suri: Option<String>,
	#[command(flatten)]
	pub node: NodeArgs,
}

/// Runs a `verinfer host` command.
pub fn run(cmd: &HostCmd) -> sc_cli::Result<()> {
	finish_async(async {
		match cmd {
			HostCmd::Bond(cmd) => bond(cmd).await,
			HostCmd::Unbond(cmd) => unbond(cmd).await,
			HostCmd::Withdraw(cmd) => withdraw(cmd).await,
			HostCmd::Serve(cmd) => serve(cmd, true).await,
			HostCmd::StopServing(cmd) => serve(cmd, false).await,
			HostCmd::SetMetadata(cmd) => set_metadata(cmd).await,
			HostCmd::Show(cmd) => show(cmd).await,
		}
	})
}

/// The host record of `account`, if it has bonded.
async fn host(
	node: &Client,
	account: &AccountId,
) -> Result<Option<pallet_hosting::Host<Runtime>>, ClientError> {
	node.decoded(&pallet_hosting::Hosts::<Runtime>::hashed_key_for(account), None).await
}

/// The signer's key pair and account, and a connection to the node.
async fn connect(
	signer: &SignerArgs,
	node: &NodeArgs,
) -> Result<(Client, sp_core::sr25519::Pair, AccountId), ClientError> {
	let pair = signer.pair()?;
	let account = pair.public().into();
	Ok((Client::connect(&node.url).await?, pair, account))
}

/// Signs and submits a hosting call; prints its final block.
async fn submit(
	node: &Client,
	pair: &sp_core::sr25519::Pair,
	call: pallet_hosting::Call<Runtime>,
) -> Result<Included, ClientError> {
	let included = node.submit(pair, RuntimeCall::Hosting(call), FINAL_TIMEOUT).await?;
	println!("block       {}", hex(&included.block.0));
	Ok(included)
}

/// The host's stake after a change.
async fn print_stake(node: &Client, account: &AccountId) -> Result<(), ClientError> {
	match host(node, account).await? {
		Some(host) => {
			println!("bonded      {}", Tokens(host.active));
			println!("unbonding   {}", Tokens(host.unlocking_total()));
		},
		None => println!("bonded      nothing: {} is no longer a host", account.to_ss58check()),
	}
	Ok(())
}

async fn bond(cmd: &AmountCmd) -> Result<(), ClientError> {
	let (node, pair, account) = connect(&cmd.signer, &cmd.node).await?;
	let amount = cmd.amount.0;
	let call = if host(&node, &account).await?.is_some() {
		pallet_hosting::Call::bond_extra { amount }
	} else {
		pallet_hosting::Call::bond { amount }
	};
	submit(&node, &pair, call).await?;
	print_stake(&node, &account).await
}

async fn unbond(cmd: &AmountCmd) -> Result<(), ClientError> {
	let (node, pair, account) = connect(&cmd.signer, &cmd.node).await?;
	submit(&node, &pair, pallet_hosting::Call::unbond { amount: cmd.amount.0 }).await?;
	print_stake(&node, &account).await
}

async fn withdraw(cmd: &SignedCmd) -> Result<(), ClientError> {
	let (node, pair, account) = connect(&cmd.signer, &cmd.node).await?;
	// Say when, rather than the chain's bare `NothingToWithdraw`.
	let Some(record) = host(&node, &account).await? else {
		return Err(ClientError(format!("{} is not a host", account.to_ss58check())));
	};
	let next = node.best_number().await? + 1;
	if let Some(first) = record.unlocking.iter().map(|chunk| chunk.at).min() {
		if first > next {
			return Err(ClientError(format!(
				"nothing to withdraw yet: the first of {} unbonding is released at block #{first} \
				 (in about {})",
				Tokens(record.unlocking_total()),
				duration(first - next)
			)));
		}
	}
	let included = submit(&node, &pair, pallet_hosting::Call::withdraw_unbonded {}).await?;
	for event in &included.events {
		if let RuntimeEvent::Hosting(pallet_hosting::Event::Withdrawn { amount, .. }) = event {
			println!("withdrawn   {}", Tokens(*amount));
		}
	}
	print_stake(&node, &account).await
}

async fn serve(cmd: &ServeCmd, serve: bool) -> Result<(), ClientError> {
	let call = if serve {
		pallet_hosting::Call::serve { model: cmd.model }
	} else {
		pallet_hosting::Call::stop_serving { model: cmd.model }
	};
	let (node, pair, _) = connect(&cmd.signer, &cmd.node).await?;
	submit(&node, &pair, call).await?;
	let model = hex(&cmd.model.0);
	if serve {
		println!("serving     {model}");
	} else {
		println!("no longer serving {model}");
	}
	Ok(())
}

async fn set_metadata(cmd: &MetadataCmd) -> Result<(), ClientError> {
	let too_long = |what: &str| ClientError(format!("the {what} is too long"));
	let call = pallet_hosting::Call::set_metadata {
		endpoint: cmd.endpoint.as_bytes().to_vec().try_into().map_err(|_| too_long("endpoint"))?,
		name: cmd.name.as_bytes().to_vec().try_into().map_err(|_| too_long("name"))?,
	};
	let (node, pair, _) = connect(&cmd.signer, &cmd.node).await?;
	submit(&node, &pair, call).await?;
	println!("endpoint    {}", cmd.endpoint);
	println!("name        {}", cmd.name);
	Ok(())
}

/// About how long `blocks` take at one block a slot.
fn duration(blocks: u32) -> String {
	let minutes = (blocks as u64 * SLOT_DURATION).div_ceil(60_000);
	match minutes {
		0..=1 => "a minute".into(),
		2..=119 => format!("{minutes} minutes"),
		120..=2879 => format!("{} hours", (minutes + 30) / 60),
		_ => format!("{} days", (minutes + 720) / 1440),
	}
}

async fn show(cmd: &HostShowCmd) -> Result<(), ClientError> {
	let account: AccountId = match (&cmd.account, &cmd.suri) {
		(Some(account), _) => AccountId::from_ss58check(account)
			.map_err(|e| ClientError(format!("{account:?} is not an SS58 account: {e:?}")))?,
		(None, Some(suri)) => verinfer_client::pair(suri)?.public().into(),
		(None, None) => return Err(ClientError("give an account or --suri".into())),
	};
	let node = Client::connect(&cmd.node.url).await?;
	let Some(record) = host(&node, &account).await? else {
		return Err(ClientError(format!("{} is not a host", account.to_ss58check())));
	};
	let now = node.best_number().await?;
	println!("host        {}", account.to_ss58check());
	for (label, text) in
		[("name", &record.metadata.name[..]), ("endpoint", &record.metadata.endpoint)]
	{
		if !text.is_empty() {
			println!("{label:<12}{}", String::from_utf8_lossy(text));
		}
	}
	println!("bonded      {}", Tokens(record.active));
	for chunk in &record.unlocking {
		let when = if chunk.at <= now + 1 {
			"withdrawable now".to_string()
		} else {
			format!("released at block #{} (in about {})", chunk.at, duration(chunk.at - now - 1))
		};
		println!("unbonding   {} {when}", Tokens(chunk.amount));
	}
	if record.models.is_empty() {
		println!("serves      no models");
	}
	for model in &record.models {
		let name = node.model(*model).await?.map(|info| info.name);
		println!("serves      {} {}", hex(&model.0), name.as_deref().unwrap_or("(removed)"));
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn durations_read_as_a_person_would_say_them() {
		// 6 s blocks: 10 a minute.
		assert_eq!(duration(3), "a minute");
		assert_eq!(duration(50), "5 minutes");
		assert_eq!(duration(1200), "2 hours");
		assert_eq!(duration(7 * 14_400), "7 days");
		// Three blocks short of 7 days is still about 7 days.
		assert_eq!(duration(7 * 14_400 - 3), "7 days");
		assert_eq!(duration(1), "a minute");
	}
}
