//! What the client subcommands (`infer`, `result`, `model register|list|…`, `host …`) share: where
//! the node is, who signs, amounts of VINF, declared input shapes.

use std::{fmt, str::FromStr, time::Duration};

use sp_core::Get;
use verinfer_primitives::DeclaredShapes;

use verinfer_runtime::{Balance, TOKEN_DECIMALS, TOKEN_SYMBOL};

use verinfer_client::ClientError;

/// How long a command waits for its transaction to be in a final block.
pub const FINAL_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the node is.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
	/// The node's JSON-RPC endpoint.
	#[arg(long, value_name = "URL", default_value = "ws://127.0.0.1:9944")]
	pub url: String,
}

/// Who signs.
#[derive(Debug, Clone, clap::Args)]
pub struct SignerArgs {
	/// The signer's secret URI (`//Alice`, a mnemonic, a 0x seed).
	#[arg(long, value_name = "SURI")]
	pub suri: String,
}

impl SignerArgs {
	pub fn pair(&self) -> Result<sp_core::sr25519::Pair, ClientError> {
		verinfer_client::pair(&self.suri)
	}
}

/// An amount of the chain's token: plancks as a whole number (`1000000000`), or tokens with the
/// symbol (`0.001VINF`, `10 VINF`, case-insensitive), exact to the planck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Balance);

impl FromStr for Amount {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		let usage = || {
			format!(
				"`{s}`: expected plancks (1000000000) or {TOKEN_SYMBOL} with up to {TOKEN_DECIMALS} \
				 decimals (0.001{TOKEN_SYMBOL})"
			)
		};
		let text = s.trim();
		let upper = text.to_ascii_uppercase();
		let Some(tokens) = upper.strip_suffix(TOKEN_SYMBOL) else {
			return text.parse().map(Amount).map_err(|_| usage());
		};
		let tokens = tokens.trim_end();
		let (whole, fraction) = tokens.split_once('.').unwrap_or((tokens, ""));
		let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
		if whole.is_empty() && fraction.is_empty()
			|| !digits(whole)
			|| !digits(fraction)
			|| fraction.len() > TOKEN_DECIMALS as usize
		{
			return Err(usage());
		}
		let padded = format!("{whole}{fraction:0<width$}", width = TOKEN_DECIMALS as usize);
		padded.parse().map(Amount).map_err(|_| usage())
	}
}

/// A balance in tokens, exact: `0.001 VINF`, `10 VINF`.
pub struct Tokens(pub Balance);

impl fmt::Display for Tokens {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let unit = 10u128.pow(TOKEN_DECIMALS as u32);
		let (whole, fraction) = (self.0 / unit, self.0 % unit);
		if fraction == 0 {
			return write!(f, "{whole} {TOKEN_SYMBOL}");
		}
		let fraction = format!("{fraction:0>width$}", width = TOKEN_DECIMALS as usize);
		write!(f, "{whole}.{} {TOKEN_SYMBOL}", fraction.trim_end_matches('0'))
	}
}

/// `--shape INDEX=D0,D1,…`: the shape declared for one input.
#[derive(Debug, Clone)]
pub struct ShapeArg {
	pub index: usize,
	pub dims: Vec<u32>,
}

impl FromStr for ShapeArg {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		let usage = || format!("`{s}`: expected INDEX=D0,D1,… such as 0=1,3,224,224");
		let (index, dims) = s.split_once('=').ok_or_else(usage)?;
		let index: usize = index.trim().parse().map_err(|_| usage())?;
		let dims: Vec<u32> = dims
			.split(',')
			.map(|d| d.trim().parse::<u32>())
			.collect::<Result<_, _>>()
			.map_err(|_| usage())?;
		// The chain's bounds, checked here so that a typo is one line, not an allocation.
		let inputs = <pallet_models::MaxDeclaredInputs as Get<u32>>::get() as usize;
		if index >= inputs {
			return Err(format!("`{s}`: shapes can be declared for inputs 0 to {}", inputs - 1));
		}
		let rank = <pallet_models::MaxDeclaredRank as Get<u32>>::get() as usize;
		if dims.len() > rank {
			return Err(format!("`{s}`: a declared shape has at most {rank} dimensions"));
		}
		Ok(ShapeArg { index, dims })
	}
}

/// The declared shapes `shapes` give, one per input up to the last one named; the inputs between
/// keep the model's own, and a later `--shape` of an input replaces an earlier one. (The engine
/// wants a shape for every input when any is declared: it refuses a shorter list.)
pub fn declared(shapes: &[ShapeArg]) -> DeclaredShapes {
	let count = shapes.iter().map(|shape| shape.index + 1).max().unwrap_or(0);
	let mut declared = vec![None; count];
	for shape in shapes {
		declared[shape.index] = Some(shape.dims.clone());
	}
	declared
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_are_plancks_or_tokens_exact_to_the_planck() {
		let parse = |s: &str| s.parse::<Amount>().map(|a| a.0);
		assert_eq!(parse("1000000000"), Ok(1_000_000_000));
		assert_eq!(parse("0.001VINF"), Ok(1_000_000_000));
		assert_eq!(parse("10 vinf"), Ok(10_000_000_000_000));
		assert_eq!(parse("1.5VINF"), Ok(1_500_000_000_000));
		assert_eq!(parse(".5VINF"), Ok(500_000_000_000));
		assert_eq!(parse("0.000000000001VINF"), Ok(1));
		for bad in ["", "VINF", ".VINF", "1.5", "-1", "0.0000000000001VINF", "1e3VINF", "1 DOT"] {
			assert!(parse(bad).unwrap_err().contains("expected plancks"), "{bad}");
		}
	}

	#[test]
	fn balances_print_in_tokens_without_losing_a_planck() {
		assert_eq!(Tokens(10_000_000_000_000).to_string(), "10 VINF");
		assert_eq!(Tokens(1_000_000_000).to_string(), "0.001 VINF");
		assert_eq!(Tokens(1).to_string(), "0.000000000001 VINF");
		assert_eq!(Tokens(0).to_string(), "0 VINF");
		for planck in [1, 999, 1_000_000_000, 123_456_789_012_345] {
			assert_eq!(Tokens(planck).to_string().replace(' ', "").parse(), Ok(Amount(planck)));
		}
	}

	#[test]
	fn shape_arguments_beyond_the_chains_bounds_are_one_line_errors() {
		let shape: ShapeArg = "1=1, 3,32,32".parse().expect("a valid shape");
		assert_eq!((shape.index, shape.dims), (1, vec![1, 3, 32, 32]));
		let inputs = "16=1".parse::<ShapeArg>().unwrap_err();
		assert!(inputs.contains("inputs 0 to 15"), "{inputs}");
		// Once `index + 1` overflowed, and a large index allocated a list of that length.
		assert!("18446744073709551615=1".parse::<ShapeArg>().is_err());
		assert!("1000000000=1".parse::<ShapeArg>().is_err());
		let rank = "0=1,1,1,1,1,1,1,1,1".parse::<ShapeArg>().unwrap_err();
		assert!(rank.contains("at most 8 dimensions"), "{rank}");
		assert!("0=1,x".parse::<ShapeArg>().unwrap_err().contains("expected INDEX=D0,D1"));
	}

	#[test]
	fn declared_shapes_fill_the_inputs_up_to_the_last_named_and_a_later_one_wins() {
		let shapes: Vec<ShapeArg> =
			["2=4", "0=1,2", "2=5"].iter().map(|s| s.parse().expect("valid")).collect();
		assert_eq!(declared(&shapes), vec![Some(vec![1, 2]), None, Some(vec![5])]);
		assert_eq!(declared(&[]), DeclaredShapes::new());
	}
}
