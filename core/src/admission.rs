//! [`Admission`]: how many of a connection's incoming requests are admitted at once (those
//! running and those waiting for a running slot). The reader takes admissions, one per
//! request (or a batch's worth at once); a request gives its back when answered; `drain`
//! waits until all are back.
//!
//! Admissions are taken and given back with one atomic operation each, and without a lock
//! while nobody waits: a connection does both for every call. (tokio's semaphore takes a
//! lock to give permits back, about a hundred instructions a call.) Unlike tokio's, it
//! serves waiters in no particular order: its only waiters are the reader, which takes
//! admissions, and `drain`, which takes none and only waits until none are out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// The free admissions are the low half of [`Admission::state`]; the tasks waiting, the high.
const FREE: u64 = u32::MAX as u64;
/// One waiting task, in [`Admission::state`].
const WAITER: u64 = 1 << 32;

/// A connection's admissions.
#[derive(Debug)]
pub(crate) struct Admission {
    /// The admissions not taken (low 32 bits) and the tasks inside
    /// [`Admission::acquire`] or [`Admission::all_back`] (high 32 bits), in one word: giving
    /// back learns in the same operation whether anyone waits.
    state: AtomicU64,
    /// How many there are.
    limit: u32,
    /// Woken when admissions are given back while someone waits.
    freed: Notify,
}

/// Admissions taken; given back when dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    admission: Arc<Admission>,
    n: u32,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.admission.give_back(self.n);
    }
}

impl Admission {
    /// `limit` admissions (at least one, at most `u32::MAX`).
    pub(crate) fn new(limit: usize) -> Self {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX).max(1);
        Self {
            state: AtomicU64::new(u64::from(limit)),
            limit,
            freed: Notify::new(),
        }
    }

    /// Takes `n` admissions if they are free now (never more than the limit: `n` is cut to
    /// it); `None` when they are not.
    pub(crate) fn try_acquire(self: &Arc<Self>, n: usize) -> Option<Admitted> {
        let n = u32::try_from(n).unwrap_or(u32::MAX).min(self.limit);
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & FREE < u64::from(n) {
                return None;
            }
            match self.state.compare_exchange_weak(
                state,
                state - u64::from(n),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Admitted {
                        admission: self.clone(),
                        n,
                    });
                }
                Err(now) => state = now,
            }
        }
    }

    /// Waits until `n` admissions (cut to the limit) are free and takes them.
    pub(crate) async fn acquire(self: &Arc<Self>, n: usize) -> Admitted {
        if let Some(admitted) = self.try_acquire(n) {
            return admitted;
        }
        self.wait_until(|| self.try_acquire(n)).await
    }

    /// Waits until every admission is back (nothing admitted runs or waits).
    pub(crate) async fn all_back(&self) {
        let limit = u64::from(self.limit);
        self.wait_until(|| (self.state.load(Ordering::Acquire) & FREE == limit).then_some(()))
            .await;
    }

    /// Waits until `check` gives a value, checking it again whenever admissions come back.
    async fn wait_until<T>(&self, mut check: impl FnMut() -> Option<T>) -> T {
        /// Counts this task among the waiters while it waits (a dropped wait included).
        struct Waiting<'a>(&'a AtomicU64);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(WAITER, Ordering::AcqRel);
            }
        }
        self.state.fetch_add(WAITER, Ordering::AcqRel);
        let _waiting = Waiting(&self.state);
        loop {
            let freed = self.freed.notified();
            let mut freed = std::pin::pin!(freed);
            // Registered before the check: admissions given back after the check wake this
            // wait, and those given back before it are seen by it.
            freed.as_mut().enable();
            if let Some(value) = check() {
                return value;
            }
            freed.await;
        }
    }

    fn give_back(&self, n: u32) {
        let before = self.state.fetch_add(u64::from(n), Ordering::AcqRel);
        if before >= WAITER {
            self.freed.notify_waiters();
        }
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
