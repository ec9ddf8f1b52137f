//! `verinfer model test`: ONNX test cases run through the chain's engine and compared with their
//! expected outputs within a tolerance, against a list of expected failures: the conformance
//! harness (`scripts/conformance.sh`) and a model owner's check of an exported model.
//!
//! A test case is ONNX's backend-test layout, which `onnx.backend.test`'s own cases, exporters
//! and `fixtures/zoo` write: a directory with `model.onnx` and `test_data_set_N/` folders holding
//! `input_K.pb` and `output_K.pb` (`TensorProto`s, numbered in the graph's order).
//!
//! Each case ends in one [`Outcome`]. A case whose model uses an operator off the allowlist is
//! out of scope, not a failure: the chain refuses it by design, and the summary counts those
//! apart, by operator. Every other case must pass unless the expectations file lists it, with the
//! outcome it ends in and why; a listed case that passes, or ends otherwise, is unexpected too,
//! so the list cannot go stale.

use std::{
	collections::BTreeMap,
	fmt,
	path::{Path, PathBuf},
};

use verinfer_executor::{
	engine::{declared_as, Engine},
	local::LocalError,
};
use verinfer_formats::{
	compare::{compare, Tolerance},
	proto, read_file,
	test_case::{self, DataSet, TestCase},
};
use verinfer_primitives::{
	analysis::Refusal,
	engine::{EngineError, Limits},
	Tensor,
};

use super::{model::engine, Failure};

/// `verinfer model test`
#[derive(Debug, clap::Args)]
pub struct TestCmd {
	/// Test case directories, each with `model.onnx` and `test_data_set_N/input_K.pb` and
	/// `output_K.pb` (ONNX's backend-test layout).
	#[arg(required = true, num_args = 1..)]
	pub cases: Vec<PathBuf>,
	/// The expected failures: one case a line, `CASE OUTCOME WHY`, where OUTCOME is `refused`,
	/// `failed`, `mismatch` or `unreadable`; `#` starts a comment.
	#[arg(long, value_name = "FILE")]
	pub expect: Option<PathBuf>,
	/// Relative tolerance of a float output: |got − expected| ≤ atol + rtol·|expected|.
	#[arg(long, default_value_t = 1e-3)]
	pub rtol: f64,
	/// Absolute tolerance of a float output.
	#[arg(long, default_value_t = 1e-7)]
	pub atol: f64,
	/// Print every case, not only those that did not end as expected.
	#[arg(long)]
	pub verbose: bool,
	/// An engine blob to use instead of the one built into this binary.
	#[arg(long, value_name = "FILE")]
	pub engine: Option<PathBuf>,
}

/// How one test case ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
	/// Every output of every data set within tolerance.
	Pass,
	/// Refused as it is, but passes with its inputs after the first made constants of the model
	/// (`verinfer model freeze`): the parameters (axes, shapes, scales) ONNX's generated tests feed
	/// as graph inputs and exporters write as constants. Named.
	PassFrozen(Vec<String>),
	/// The model uses operators off the allowlist: out of scope.
	NotAllowed(Vec<String>),
	/// The engine refused the model for another reason: every reason.
	Refused(String),
	/// The model loaded but a run failed.
	Failed(String),
	/// An output differs from the expected one beyond the tolerance.
	Mismatch(String),
	/// The case's files are not a model and tensors we read (sequences, strings, optionals).
	Unreadable(String),
}

impl Outcome {
	/// The outcome's name in an expectations file.
	pub fn kind(&self) -> &'static str {
		match self {
			Outcome::Pass => "pass",
			Outcome::PassFrozen(_) => "pass-frozen",
			Outcome::NotAllowed(_) => "not-allowed",
			Outcome::Refused(_) => "refused",
			Outcome::Failed(_) => "failed",
			Outcome::Mismatch(_) => "mismatch",
			Outcome::Unreadable(_) => "unreadable",
		}
	}
}

impl fmt::Display for Outcome {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Outcome::Pass => f.write_str("pass"),
			Outcome::PassFrozen(inputs) => write!(f, "pass-frozen  {}", inputs.join(", ")),
			Outcome::NotAllowed(operators) => {
				write!(f, "not-allowed  {}", operators.join(", "))
			},
			Outcome::Refused(why)
			| Outcome::Failed(why)
			| Outcome::Mismatch(why)
			| Outcome::Unreadable(why) => write!(f, "{:<12} {why}", self.kind()),
		}
	}
}

/// Runs `verinfer model test`.
pub fn test(cmd: &TestCmd) -> Result<(), Failure> {
	let expected = match &cmd.expect {
		Some(path) => {
			let text = String::from_utf8(read_file(path)?)
				.map_err(|_| Failure::Failed(format!("{}: not UTF-8", path.display())))?;
			parse_expectations(&text)
				.map_err(|error| Failure::Failed(format!("{}: {error}", path.display())))?
		},
		None => BTreeMap::new(),
	};
	let engine = engine(&cmd.engine)?;
	let tolerance = Tolerance { rtol: cmd.rtol, atol: cmd.atol };
	let mut summary = Summary::default();
	for dir in &cmd.cases {
		let name = test_case::name(dir);
		let outcome = run_case(&engine, dir, tolerance)?;
		let expectation = expected.get(&name).map(|e| e.outcome.as_str());
		let unexpected = match (expectation, &outcome) {
			(None, Outcome::Pass | Outcome::PassFrozen(_) | Outcome::NotAllowed(_)) => false,
			(Some(kind), outcome) => kind != outcome.kind(),
			(None, _) => true,
		};
		if cmd.verbose || unexpected {
			let mark = if unexpected { "UNEXPECTED " } else { "" };
			println!("{mark}{name:<48} {outcome}");
		}
		summary.add(&name, &outcome, unexpected, expectation.is_some());
	}
	print!("{summary}");
	match summary.unexpected.len() {
		0 => Ok(()),
		n => Err(Failure::Failed(format!(
			"{n} case(s) did not end as expected: {}{}",
			summary.unexpected.join(", "),
			match &cmd.expect {
				Some(path) => format!(" (expectations: {})", path.display()),
				None => " (no --expect file: every case in scope must pass)".into(),
			}
		))),
	}
}

/// One line of an expectations file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
	pub outcome: String,
	pub why: String,
}

/// Reads an expectations file: `CASE OUTCOME WHY` a line, `#` comments, blank lines.
pub fn parse_expectations<'a>(text: &'a str) -> Result<BTreeMap<String, Expectation>, String> {
	let mut expected = BTreeMap::new();
	for (number, line) in text.lines().enumerate() {
		let line = line.split_once('#').map_or(line, |(before, _)| before).trim();
		if line.is_empty() {
			continue;
		}
		let word = |text: &'a str| {
			let text = text.trim_start();
			text.split_once(char::is_whitespace).unwrap_or((text, ""))
		};
		let (case, rest) = word(line);
		let (outcome, why) = word(rest);
		if outcome.is_empty() {
			return Err(format!("line {}: expected `CASE OUTCOME WHY`", number + 1));
		}
		if !["refused", "failed", "mismatch", "unreadable"].contains(&outcome) {
			return Err(format!(
				"line {}: outcome `{outcome}` is none of refused, failed, mismatch, unreadable",
				number + 1
			));
		}
		let why = why.trim().to_string();
		if why.is_empty() {
			return Err(format!("line {}: `{case}` says not why it fails", number + 1));
		}
		let expectation = Expectation { outcome: outcome.to_string(), why };
		if expected.insert(case.to_string(), expectation).is_some() {
			return Err(format!("line {}: `{case}` is listed twice", number + 1));
		}
	}
	Ok(expected)
}

/// Reads, loads and runs one case; if the engine refuses it as it is, again with its inputs
/// after the first frozen. `Err` only when the engine cannot run on this machine.
fn run_case(engine: &Engine, dir: &Path, tolerance: Tolerance) -> Result<Outcome, Failure> {
	let case = match test_case::read(dir) {
		Ok(case) => case,
		Err(why) => return unreadable(engine, dir, why),
	};
	let outcome = attempt(engine, &case.model, &case.data_sets, tolerance)?;
	if !matches!(outcome, Outcome::Refused(_)) {
		return Ok(outcome);
	}
	let Some(frozen) = frozen(&case) else { return Ok(outcome) };
	let names: Vec<String> = frozen.1.iter().map(|(name, _)| name.clone()).collect();
	let note = |why: String| format!("{why} (with {} frozen)", names.join(", "));
	Ok(match attempt(engine, &frozen.0, &frozen.2, tolerance)? {
		Outcome::Pass => Outcome::PassFrozen(names),
		// Loaded once frozen: how its runs ended says more than the first refusal.
		Outcome::Mismatch(why) => Outcome::Mismatch(note(why)),
		Outcome::Failed(why) => Outcome::Failed(note(why)),
		_ => outcome,
	})
}

/// The case's model with every input after the first frozen to its value, the frozen values,
/// and the data sets cut to their first input; `None` when there is nothing to freeze or the
/// data sets disagree on a value to freeze.
fn frozen(case: &TestCase) -> Option<(Vec<u8>, Vec<(String, Tensor)>, Vec<DataSet>)> {
	let names = proto::model_inputs(&case.model).ok()?;
	let first = case.data_sets.first()?;
	if names.len() < 2 || first.inputs.len() != names.len() {
		return None;
	}
	let values: Vec<(String, Tensor)> =
		names[1..].iter().cloned().zip(first.inputs[1..].iter().cloned()).collect();
	if case.data_sets.iter().any(|set| set.inputs.get(1..) != first.inputs.get(1..)) {
		return None;
	}
	let model = proto::freeze(&case.model, &values).ok()?;
	let data_sets = case
		.data_sets
		.iter()
		.map(|set| DataSet { inputs: set.inputs[..1].to_vec(), outputs: set.outputs.clone() })
		.collect();
	Some((model, values, data_sets))
}

/// Loads `model` for the first data set's shapes and runs every data set.
fn attempt(
	engine: &Engine,
	model: &[u8],
	data_sets: &[DataSet],
	tolerance: Tolerance,
) -> Result<Outcome, Failure> {
	let Some(first) = data_sets.first() else {
		return Ok(Outcome::Unreadable("no test_data_set_N folder".into()));
	};
	let load = engine.load(model, &declared_as(&first.inputs), Limits::LOAD)?;
	let loaded = match load.result {
		Ok(loaded) => loaded,
		Err(error) => return Ok(refusal(error)),
	};
	for (index, DataSet { inputs, outputs: expected }) in data_sets.iter().enumerate() {
		let outputs = match loaded.run(inputs, Limits::CALL)?.result {
			Ok(outputs) => outputs,
			Err(error) => return Ok(Outcome::Failed(format!("data set {index}: {error}"))),
		};
		if outputs.len() != expected.len() {
			return Ok(Outcome::Mismatch(format!(
				"data set {index}: {} outputs, {} expected",
				outputs.len(),
				expected.len()
			)));
		}
		for (output, (got, want)) in outputs.iter().zip(expected).enumerate() {
			if let Err(why) = compare(got, want, tolerance) {
				return Ok(Outcome::Mismatch(format!("data set {index}, output {output}: {why}")));
			}
		}
	}
	Ok(Outcome::Pass)
}

/// A case whose tensors we cannot read: what the engine says of its model where it refuses it
/// (analysed for the inputs' shapes where those can be read, else for the model's own), else
/// unreadable.
fn unreadable(engine: &Engine, dir: &Path, why: String) -> Result<Outcome, Failure> {
	let Ok(model) = read_file(&dir.join("model.onnx")) else { return Ok(Outcome::Unreadable(why)) };
	let declared = match test_case::read_inputs(dir) {
		Ok(case) => case.data_sets.first().map(|set| declared_as(&set.inputs)).unwrap_or_default(),
		Err(_) => Vec::new(),
	};
	Ok(match engine.analyse(&model, &declared, Limits::LOAD)?.result {
		Ok(analysis) if !analysis.is_accepted() => refusal(EngineError::Refused(analysis.refusals)),
		_ => Outcome::Unreadable(why),
	})
}

/// What a load's error says about the case.
fn refusal(error: EngineError) -> Outcome {
	if let EngineError::Refused(refusals) = &error {
		let off_list: Vec<String> = refusals
			.iter()
			.filter_map(|refusal| match refusal {
				Refusal::OperatorNotAllowed(op) => Some(String::from_utf8_lossy(op).into_owned()),
				_ => None,
			})
			.collect();
		if !off_list.is_empty() {
			return Outcome::NotAllowed(off_list);
		}
	}
	Outcome::Refused(LocalError::Engine(error).to_string())
}

/// The counts `model test` ends with.
#[derive(Default)]
struct Summary {
	cases: usize,
	/// Cases whose operators are all allowed, by outcome.
	in_scope: BTreeMap<&'static str, usize>,
	/// Cases out of scope, by the operator off the list (a case may count under several).
	not_allowed: BTreeMap<String, usize>,
	not_allowed_cases: usize,
	listed: usize,
	unexpected: Vec<String>,
}

impl Summary {
	fn add(&mut self, name: &str, outcome: &Outcome, unexpected: bool, listed: bool) {
		self.cases += 1;
		if let Outcome::NotAllowed(operators) = outcome {
			self.not_allowed_cases += 1;
			for operator in operators {
				*self.not_allowed.entry(operator.clone()).or_default() += 1;
			}
		} else {
			*self.in_scope.entry(outcome.kind()).or_default() += 1;
		}
		self.listed += usize::from(listed);
		if unexpected {
			self.unexpected.push(name.to_string());
		}
	}
}

impl fmt::Display for Summary {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let in_scope: usize = self.in_scope.values().sum();
		let count = |kind: &str| self.in_scope.get(kind).copied().unwrap_or(0);
		let (passed, frozen) = (count("pass"), count("pass-frozen"));
		let percent =
			|n: usize, of: usize| if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 };
		writeln!(f, "\ncases                 {}", self.cases)?;
		writeln!(f, "operators all allowed {in_scope}")?;
		writeln!(f, "  pass                {passed} ({:.1} %)", percent(passed, in_scope))?;
		writeln!(
			f,
			"  pass-frozen         {frozen} (inputs after the first made constants; with pass: \
			 {:.1} %)",
			percent(passed + frozen, in_scope)
		)?;
		for (kind, count) in
			self.in_scope.iter().filter(|(kind, _)| !matches!(**kind, "pass" | "pass-frozen"))
		{
			writeln!(f, "  {kind:<19} {count}")?;
		}
		writeln!(f, "listed as expected    {}", self.listed)?;
		let mut by_count: Vec<_> = self.not_allowed.iter().collect();
		by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
		let operators: Vec<String> =
			by_count.iter().map(|(operator, count)| format!("{operator} {count}")).collect();
		writeln!(
			f,
			"operators not allowed {} cases: {}",
			self.not_allowed_cases,
			operators.join(", ")
		)?;
		writeln!(f, "unexpected            {}", self.unexpected.len())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn expectations_name_an_outcome_and_why_once_per_case() {
		let text =
			"# header\n\ntest_a  refused  tract cannot type it # note\ntest_b mismatch f16\n";
		let parsed = parse_expectations(text).unwrap();
		assert_eq!(parsed["test_a"].outcome, "refused");
		assert_eq!(parsed["test_a"].why, "tract cannot type it");
		assert_eq!(parsed.len(), 2);
		assert!(parse_expectations("test_a refused\n").unwrap_err().contains("not why"));
		assert!(parse_expectations("test_a pass ok\n").unwrap_err().contains("none of"));
		assert!(parse_expectations("a refused x\na failed y\n").unwrap_err().contains("twice"));
	}
}
