//! [`Signal`]: a flag set once that tasks can wait for, like a cancellation token without a
//! parent, children or an allocation of its own (a connection keeps a few, and each token
//! costs an idle connection about 110 bytes).

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// A flag set once and never cleared; [`Signal::wait`] resolves once it is set.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    set: AtomicBool,
    notify: Notify,
}

impl Signal {
    /// Sets the flag and wakes every waiter; setting it again does nothing.
    pub(crate) fn set(&self) {
        if !self.set.swap(true, Ordering::AcqRel) {
            self.notify.notify_waiters();
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Resolves once the flag is set (at once if it is).
    pub(crate) async fn wait(&self) {
        let mut notified = pin!(self.notify.notified());
        // Registered before the flag is read, so a `set` in between still wakes this waiter.
        notified.as_mut().enable();
        if self.is_set() {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::Signal;

    #[tokio::test]
    async fn waiters_before_and_after_the_flag_is_set_all_resolve() {
        let signal = Arc::new(Signal::default());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let signal = signal.clone();
                tokio::spawn(async move { signal.wait().await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert!(!signal.is_set());
        signal.set();
        signal.set();
        for waiter in waiters {
            tokio::time::timeout(Duration::from_secs(10), waiter)
                .await
                .expect("woken")
                .unwrap();
        }
        tokio::time::timeout(Duration::from_secs(10), signal.wait())
            .await
            .expect("resolves at once once set");
    }
}
