//! The one way the federation takes its locks.
//!
//! Every lock here guards in-memory state that each writer changes in one step under the
//! lock (a keyring swapped, a trust-list entry inserted, a map of clients replaced, a
//! set of ids updated) with nothing that can panic half-way through. A lock poisoned by a
//! panic elsewhere in the holding thread therefore still guards consistent data, and is
//! taken as it stands: no caller picks its own answer (a default, an error, a guess) for
//! a case that cannot leave the data wrong.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Reads `lock`.
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Writes `lock`.
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// Locks `mutex`.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
