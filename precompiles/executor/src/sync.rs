//! Locks that survive a panic of another thread. Every structure the node keeps behind these
//! locks (caches, pre-execution results and queues) is consistent after each single update, so a
//! thread that panicked while holding one leaves it usable: the lock is taken, not poisoned.

use std::sync::{Condvar, Mutex, MutexGuard};

/// Locks `mutex`, also after a panic of another thread that held it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
	mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits on `condvar` with `guard`, also after a panic of another thread that held its mutex.
pub fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
	condvar.wait(guard).unwrap_or_else(|poisoned| poisoned.into_inner())
}
