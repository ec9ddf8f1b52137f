//! Results made ahead of block execution: pre-execution.
//!
//! A block executes its calls one after another, but an inference call is a pure function of the
//! engine's bytes, the model's bytes, the declared input shapes and the inputs, all named by
//! content. So the node makes a block's calls (and those of transactions waiting in its pool) on
//! worker threads ahead of, and while, the block executes, and the host function takes their
//! outcome from here. Each planned call has a slot, keyed by [`ResultKey`]:
//!
//! - **planned**: a worker will make it. If the execution gets there first, it claims the call
//!   and makes it itself, exactly as without pre-execution.
//! - **running**: a worker is making it; the execution waits for it rather than make it twice.
//! - **done**: the outcome, and how long making it took. A hit.
//!
//! **A hit gives the bytes of a miss**: the worker runs the same engine on the same model bytes
//! and inputs through the same [`InferenceCache`](crate::cache::InferenceCache) path as the host
//! function. Only outcomes that are a function of the key are kept: outputs, or the engine's
//! verdict. One that depends on state (bytes missing, or not matching their hash) or on this host
//! (a host failure) is dropped with its slot, and the execution then makes the call itself.
//!
//! Done results stay, oldest evicted first beyond [`MAX_DONE_BYTES`], so a block imported twice
//! (a fork, a re-org) hits again; planned and running slots are at most [`MAX_PLANNED`].

use std::{
	collections::BTreeMap,
	sync::{Condvar, Mutex, MutexGuard},
	time::Duration,
};

use codec::Encode;
use sha2::{Digest, Sha256};

use verinfer_primitives::{
	inference::{Charged, InferenceError, RunRequest},
	tensor::Tensor,
};

use crate::sync::{lock, wait};

/// Planned and running calls at most: 4,096. A block holds at most a few hundred inference calls
/// (each is weighed at ≥ 1.6 ms of a 2 s block); the rest of the room is for the pool's.
pub const MAX_PLANNED: usize = 4096;

/// Encoded outputs done results keep at most: 256 MiB, a thousand results at the chain's largest
/// (256 KiB), or the outputs of several full blocks of typical ones.
pub const MAX_DONE_BYTES: usize = 256 << 20;

/// What identifies a call's outcome: the SHA-256 of the engine's and the model's SHA-256, the
/// declared shapes, the inputs and the limits (each SCALE-encoded, so the concatenation is
/// unambiguous).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResultKey([u8; 32]);

impl ResultKey {
	pub fn of(request: &RunRequest) -> ResultKey {
		let mut hasher = Sha256::new();
		hasher.update(request.engine.sha256);
		hasher.update(request.model.sha256);
		hasher.update(request.declared.encode());
		hasher.update(request.inputs.encode());
		hasher.update(request.limits.encode());
		ResultKey(hasher.finalize().into())
	}
}

/// A call's outcome as the chain sees it, with what it used.
pub type Outcome = Charged<Vec<Tensor>>;

/// A call made ahead: its outcome and how long making it took.
#[derive(Clone, Debug)]
pub struct Done {
	pub outcome: Outcome,
	pub took: Duration,
}

enum Slot {
	Planned,
	Running,
	Done { done: Done, bytes: usize },
}

/// What the execution finds for a call.
#[derive(Debug)]
pub enum Claim {
	/// Made ahead; `waited` is how long the execution waited for a worker to finish it.
	Done { done: Done, waited: Duration },
	/// Planned and not started: the execution makes it and reports it with [`Results::finish`].
	Claimed,
	/// Not planned (or dropped): the execution makes it, as without pre-execution.
	Absent,
}

#[derive(Default)]
struct Slots {
	slots: BTreeMap<ResultKey, Slot>,
	/// Done slots by the order they were done, for eviction.
	done: BTreeMap<u64, ResultKey>,
	done_bytes: usize,
	next_order: u64,
	/// Planned and running slots.
	open: usize,
}

/// The slots of calls made ahead; see the module documentation.
#[derive(Default)]
pub struct Results {
	slots: Mutex<Slots>,
	changed: Condvar,
}

impl Results {
	fn lock(&self) -> MutexGuard<'_, Slots> {
		// Every update below leaves the maps consistent before anything that could panic.
		lock(&self.slots)
	}

	/// Plans a call; false when it already has a slot or [`MAX_PLANNED`] are open.
	pub fn plan(&self, key: ResultKey) -> bool {
		let mut slots = self.lock();
		if slots.open >= MAX_PLANNED || slots.slots.contains_key(&key) {
			return false;
		}
		slots.slots.insert(key, Slot::Planned);
		slots.open += 1;
		true
	}

	/// A worker's claim: true when the call was planned and is now the worker's to make.
	pub fn start(&self, key: &ResultKey) -> bool {
		let mut slots = self.lock();
		match slots.slots.get_mut(key) {
			Some(slot @ Slot::Planned) => {
				*slot = Slot::Running;
				true
			},
			_ => false,
		}
	}

	/// The execution's claim: the outcome if the call was made ahead (waiting while a worker
	/// makes it), else whether it is now the execution's to make.
	pub fn claim(&self, key: &ResultKey) -> Claim {
		let mut slots = self.lock();
		let mut waited = None;
		loop {
			match slots.slots.get_mut(key) {
				None => return Claim::Absent,
				Some(slot @ Slot::Planned) => {
					*slot = Slot::Running;
					return Claim::Claimed;
				},
				Some(Slot::Done { done, .. }) => {
					let waited = waited.map(|since: std::time::Instant| since.elapsed());
					return Claim::Done { done: done.clone(), waited: waited.unwrap_or_default() };
				},
				Some(Slot::Running) => {
					waited.get_or_insert_with(std::time::Instant::now);
					slots = wait(&self.changed, slots);
				},
			}
		}
	}

	/// Ends a claimed call: keeps `done` if its outcome is a function of the key (see the module
	/// documentation), else drops the slot.
	pub fn finish(&self, key: ResultKey, done: Option<Done>) {
		let mut slots = self.lock();
		if !matches!(slots.slots.get(&key), Some(Slot::Running)) {
			return;
		}
		slots.open -= 1;
		match done.filter(|done| is_pure(&done.outcome)) {
			Some(done) => {
				let bytes = match &done.outcome.result {
					Ok(outputs) => outputs.iter().map(|tensor| tensor.data.len()).sum(),
					Err(_) => 0,
				};
				let order = slots.next_order;
				slots.next_order += 1;
				slots.slots.insert(key, Slot::Done { done, bytes });
				slots.done.insert(order, key);
				slots.done_bytes += bytes;
				while slots.done_bytes > MAX_DONE_BYTES {
					let Some((_, oldest)) = slots.done.pop_first() else { break };
					if let Some(Slot::Done { bytes, .. }) = slots.slots.remove(&oldest) {
						slots.done_bytes -= bytes;
					}
				}
			},
			None => {
				slots.slots.remove(&key);
			},
		}
		drop(slots);
		self.changed.notify_all();
	}

	/// Planned and running calls.
	pub fn open(&self) -> usize {
		self.lock().open
	}
}

/// Whether an outcome depends on nothing but the call's key.
fn is_pure(outcome: &Outcome) -> bool {
	matches!(outcome.result, Ok(_) | Err(InferenceError::Engine(_)))
}

/// A claimed call that is dropped with its slot unless [`Claimed::finish`]ed: a panic while making
/// it must not leave the execution waiting forever.
pub struct Claimed<'a> {
	results: &'a Results,
	key: ResultKey,
	finished: bool,
}

impl<'a> Claimed<'a> {
	pub fn new(results: &'a Results, key: ResultKey) -> Claimed<'a> {
		Claimed { results, key, finished: false }
	}

	pub fn finish(mut self, done: Option<Done>) {
		self.finished = true;
		self.results.finish(self.key, done);
	}
}

impl Drop for Claimed<'_> {
	fn drop(&mut self) {
		if !self.finished {
			self.results.finish(self.key, None);
		}
	}
}

#[cfg(test)]
mod tests {
	use std::{sync::Arc, thread};

	use super::*;
	use verinfer_primitives::{
		engine::{EngineError, Usage},
		tensor::DType,
	};

	fn key(n: u8) -> ResultKey {
		ResultKey([n; 32])
	}

	fn outputs(bytes: usize) -> Outcome {
		let tensor = Tensor { dtype: DType::U8, shape: vec![bytes as u32], data: vec![7; bytes] };
		Charged { result: Ok(vec![tensor]), usage: Usage { fuel: 99, memory: 1 << 16 } }
	}

	fn done(outcome: Outcome) -> Option<Done> {
		Some(Done { outcome, took: Duration::from_millis(5) })
	}

	#[test]
	fn a_planned_call_is_made_once_and_then_hits() {
		let results = Results::default();
		assert!(results.plan(key(1)));
		assert!(!results.plan(key(1)), "planned twice");
		assert!(results.start(&key(1)));
		assert!(!results.start(&key(1)), "started twice");
		results.finish(key(1), done(outputs(3)));
		assert_eq!(results.open(), 0);
		for _ in 0..2 {
			match results.claim(&key(1)) {
				Claim::Done { done, .. } => assert_eq!(done.outcome, outputs(3)),
				other => panic!("expected a hit, got {other:?}"),
			}
		}
		assert!(matches!(results.claim(&key(2)), Claim::Absent));
	}

	#[test]
	fn the_execution_claims_a_call_no_worker_started_and_a_worker_then_skips_it() {
		let results = Results::default();
		results.plan(key(1));
		assert!(matches!(results.claim(&key(1)), Claim::Claimed));
		assert!(!results.start(&key(1)));
		let failed = InferenceError::Engine(EngineError::Failed(b"x".to_vec()));
		results.finish(key(1), done(Charged { result: Err(failed), usage: Usage::default() }));
		assert!(matches!(
			results.claim(&key(1)),
			Claim::Done { done: Done { outcome: Charged { result: Err(_), .. }, .. }, .. }
		));
	}

	#[test]
	fn outcomes_that_depend_on_state_or_the_host_are_dropped_not_kept() {
		let results = Results::default();
		for (n, outcome) in [
			(1, Charged::unrun(InferenceError::HashMismatch)),
			(2, Charged::unrun(InferenceError::MissingBytes { key: 0 })),
		] {
			results.plan(key(n));
			results.start(&key(n));
			results.finish(key(n), done(outcome));
			assert!(matches!(results.claim(&key(n)), Claim::Absent));
		}
		// A host failure, or a worker that panicked: no outcome at all.
		results.plan(key(3));
		results.start(&key(3));
		drop(Claimed::new(&results, key(3)));
		assert!(matches!(results.claim(&key(3)), Claim::Absent));
		assert_eq!(results.open(), 0);
	}

	#[test]
	fn the_execution_waits_for_a_running_call_and_gets_its_outcome() {
		let results = Arc::new(Results::default());
		results.plan(key(1));
		assert!(results.start(&key(1)));
		let waiter = {
			let results = results.clone();
			thread::spawn(move || results.claim(&key(1)))
		};
		thread::sleep(Duration::from_millis(50));
		results.finish(key(1), done(outputs(2)));
		match waiter.join().unwrap() {
			Claim::Done { done, waited } => {
				assert_eq!(done.outcome, outputs(2));
				assert!(waited > Duration::ZERO);
			},
			other => panic!("expected the worker's outcome, got {other:?}"),
		}
	}

	#[test]
	fn a_waiting_execution_makes_the_call_itself_when_the_worker_drops_it() {
		let results = Arc::new(Results::default());
		results.plan(key(1));
		results.start(&key(1));
		let waiter = {
			let results = results.clone();
			thread::spawn(move || results.claim(&key(1)))
		};
		thread::sleep(Duration::from_millis(50));
		results.finish(key(1), None);
		assert!(matches!(waiter.join().unwrap(), Claim::Absent));
	}

	#[test]
	fn done_results_beyond_the_budget_go_oldest_first_and_open_slots_are_bounded() {
		let results = Results::default();
		let third = MAX_DONE_BYTES / 3 + 1;
		for n in 1..=3 {
			results.plan(key(n));
			results.start(&key(n));
			results.finish(key(n), done(outputs(third)));
		}
		assert!(matches!(results.claim(&key(1)), Claim::Absent), "the oldest is evicted");
		for n in 2..=3 {
			assert!(matches!(results.claim(&key(n)), Claim::Done { .. }));
		}

		for n in 0..MAX_PLANNED {
			let mut bytes = [0u8; 32];
			bytes[..8].copy_from_slice(&(n as u64).to_le_bytes());
			bytes[31] = 0xff;
			assert!(results.plan(ResultKey(bytes)));
		}
		assert!(!results.plan(key(9)), "no room beyond MAX_PLANNED");
	}
}
