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
use std::sync::atomic::{AtomicUsize, Ordering, fence};

use tokio::sync::Notify;

/// A connection's admissions.
#[derive(Debug)]
pub(crate) struct Admission {
    /// Admissions not taken.
    free: AtomicUsize,
    /// How many there are.
    limit: usize,
    /// Tasks inside [`Admission::acquire`] or [`Admission::all_back`]: only then does giving
    /// back wake anyone.
    waiting: AtomicUsize,
    /// Woken when admissions are given back while someone waits.
    freed: Notify,
}

/// Admissions taken; given back when dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    admission: Arc<Admission>,
    n: usize,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.admission.give_back(self.n);
    }
}

impl Admission {
    /// `limit` admissions (at least one).
    pub(crate) fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            free: AtomicUsize::new(limit),
            limit,
            waiting: AtomicUsize::new(0),
            freed: Notify::new(),
        }
    }

    /// Takes `n` admissions if they are free now (never more than the limit: `n` is cut to
    /// it); `None` when they are not.
    pub(crate) fn try_acquire(self: &Arc<Self>, n: usize) -> Option<Admitted> {
        let n = n.min(self.limit);
        let mut free = self.free.load(Ordering::Acquire);
        loop {
            if free < n {
                return None;
            }
            match self.free.compare_exchange_weak(
                free,
                free - n,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Admitted {
                        admission: self.clone(),
                        n,
                    });
                }
                Err(now) => free = now,
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
        self.wait_until(|| (self.free.load(Ordering::Acquire) == self.limit).then_some(()))
            .await;
    }

    /// Waits until `check` gives a value, checking it again whenever admissions come back.
    async fn wait_until<T>(&self, mut check: impl FnMut() -> Option<T>) -> T {
        /// Counts this task among the waiters while it waits (a dropped wait included).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        loop {
            let freed = self.freed.notified();
            let mut freed = std::pin::pin!(freed);
            // Registered before the check: admissions given back after it wake this wait.
            freed.as_mut().enable();
            fence(Ordering::SeqCst);
            if let Some(value) = check() {
                return value;
            }
            freed.await;
        }
    }

    fn give_back(&self, n: usize) {
        // A waiter counts itself, then (past a fence) checks `free`; this adds to `free`,
        // then reads the count, all SeqCst: one of the two sees the other's write.
        self.free.fetch_add(n, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.freed.notify_waiters();
        }
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
