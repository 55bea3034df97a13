//! [`Signal`]: a flag set once that tasks can wait for, like a cancellation token without a
//! parent, children or an allocation of its own (a connection keeps a few, and each token
//! costs an idle connection about 110 bytes). [`Registered`]: a loop's wait on such flags
//! that costs an atomic load per wake-up once it is set up.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

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

/// The waker a loop's end-of-life waits were last polled with.
///
/// A connection's reader and writer wait for their socket, and beside it for the events that
/// end them (the session closed, the socket lost): futures pinned for the whole loop, each
/// of which wakes the waker it was last polled with when its event happens, and each of
/// which takes a lock whenever it is polled. Every event is also told by a flag, set before
/// the wake. So once the waits have been polled with the task's waker, a wake-up (most are
/// the socket's) reads the flags and leaves the waits alone; they are polled again only
/// when the waker changes.
#[derive(Debug, Default)]
pub(crate) struct Registered(Option<Waker>);

impl Registered {
    /// `Ready` with what `happened` reads once an event has happened (checked first, on every
    /// poll); otherwise polls the waits through `register` when they have not yet seen this
    /// waker. `happened` must read flags that are set before the waits' wakes.
    pub(crate) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        happened: impl FnOnce() -> Option<T>,
        register: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        if let Some(event) = happened() {
            return Poll::Ready(event);
        }
        if self.0.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        let polled = register(cx);
        if polled.is_pending() {
            self.0 = Some(cx.waker().clone());
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Poll;
    use std::time::Duration;

    use super::{Registered, Signal};

    /// A signal's wait that counts how often it is polled.
    async fn counted(signal: &Signal, polls: &AtomicUsize) {
        let wait = signal.wait();
        tokio::pin!(wait);
        std::future::poll_fn(|cx| {
            polls.fetch_add(1, Ordering::Relaxed);
            wait.as_mut().poll(cx)
        })
        .await
    }

    #[tokio::test]
    async fn a_registered_wait_is_polled_once_per_waker_and_still_sees_its_event() {
        let signal = Arc::new(Signal::default());
        let polls = AtomicUsize::new(0);
        let mut registered = Registered::default();
        let wait = counted(&signal, &polls);
        tokio::pin!(wait);
        let mut poll = |cx: &mut std::task::Context<'_>| {
            registered.poll(
                cx,
                || signal.is_set().then_some(()),
                |cx| wait.as_mut().poll(cx),
            )
        };
        // Polled three times with the same waker, as a loop woken by its socket would be:
        // the wait itself is polled once.
        let woken = std::future::poll_fn(|cx| {
            for _ in 0..3 {
                assert!(poll(cx).is_pending());
            }
            Poll::Ready(())
        });
        tokio::time::timeout(Duration::from_secs(10), woken)
            .await
            .expect("polled");
        assert_eq!(polls.load(Ordering::Relaxed), 1);
        // The event, set from another task, wakes the loop and is read from the flag.
        let setter = {
            let signal = signal.clone();
            tokio::spawn(async move { signal.set() })
        };
        tokio::time::timeout(Duration::from_secs(10), std::future::poll_fn(&mut poll))
            .await
            .expect("the event wakes the registered waker");
        assert_eq!(polls.load(Ordering::Relaxed), 1, "read from the flag");
        tokio::time::timeout(Duration::from_secs(10), setter)
            .await
            .expect("set")
            .unwrap();
    }

    #[tokio::test]
    async fn a_new_waker_polls_the_wait_again() {
        let signal = Signal::default();
        let polls = AtomicUsize::new(0);
        let mut registered = Registered::default();
        let wait = counted(&signal, &polls);
        tokio::pin!(wait);
        let mut poll = |cx: &mut std::task::Context<'_>| {
            registered.poll(
                cx,
                || signal.is_set().then_some(()),
                |cx| wait.as_mut().poll(cx),
            )
        };
        let noop = std::task::Waker::noop();
        assert!(poll(&mut std::task::Context::from_waker(noop)).is_pending());
        // A different waker (the loop moved to another task): registered again.
        let probe = std::future::poll_fn(|cx| {
            assert!(!cx.waker().will_wake(noop));
            Poll::Ready(poll(cx))
        });
        let polled = tokio::time::timeout(Duration::from_secs(10), probe)
            .await
            .expect("polled");
        assert!(polled.is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), 2);
    }

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
