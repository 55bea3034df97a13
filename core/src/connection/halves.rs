//! A socket's reader and writer, run in the connection's one task: each half is polled only
//! when its own waker was woken, the reader first, so the answers it queues are written in
//! the same poll, without a second task to wake (decision 30). A half that gives way (wakes
//! itself) makes the task yield after its round; when both halves were woken before a poll,
//! the writer goes first once, so that what other tasks queued goes out before the reader
//! reads on (decision 31).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// The reader was woken.
const READER: u8 = 1;
/// The writer was woken.
const WRITER: u8 = 2;
/// The task is polling its halves: a wake-up now is seen before the poll ends, so the task
/// itself is not woken.
const POLLING: u8 = 4;

/// Rounds of one poll: a half woken by the other (most often the writer, by an answer the
/// reader queued) is polled again in the same poll, and halves that keep waking each other
/// yield after these. A half that wakes itself (it gives way) yields after its round.
const ROUNDS: usize = 4;

/// What the two halves' wakers share: which half was woken, and the task's own waker.
struct Wakes {
    state: AtomicU8,
    task: Mutex<Option<Waker>>,
}

impl Wakes {
    /// Marks `half` woken; wakes the task unless it is polling or was woken already (a set
    /// bit outside a poll means the task was woken for it).
    fn woken(&self, half: u8) {
        let before = self.state.fetch_or(half, Ordering::AcqRel);
        if before & (POLLING | half) == 0
            && let Some(task) = self.lock().as_ref()
        {
            task.wake_by_ref();
        }
    }

    /// Whether `half` was woken since it was last polled; clears the mark.
    fn take(&self, half: u8) -> bool {
        self.state.fetch_and(!half, Ordering::AcqRel) & half != 0
    }

    /// Whether `half` is marked woken (without clearing the mark).
    fn marked(&self, half: u8) -> bool {
        self.state.load(Ordering::Acquire) & half != 0
    }

    /// Keeps `waker` as the task's, unless the one kept wakes the same task.
    fn register(&self, waker: &Waker) {
        let mut task = self.lock();
        if !task.as_ref().is_some_and(|t| t.will_wake(waker)) {
            *task = Some(waker.clone());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Waker>> {
        self.task.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The writer's waker.
impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.woken(WRITER);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken(WRITER);
    }
}

/// The reader's waker.
struct ReaderWake(Arc<Wakes>);

impl Wake for ReaderWake {
    fn wake(self: Arc<Self>) {
        self.0.woken(READER);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.woken(READER);
    }
}

/// Runs `reader` and `writer` until both have finished, and returns the writer's output.
/// Each is polled only when its own waker was woken; on a poll the reader goes first (after
/// the writer, once, when both were woken before it). (Taken pinned where the caller keeps
/// them: futures passed by value to an `async fn` are kept twice in its state, and these two
/// are most of a connection's.)
pub(super) async fn join<R, W>(mut reader: Pin<&mut R>, mut writer: Pin<&mut W>) -> W::Output
where
    R: Future<Output = ()>,
    W: Future,
{
    let wakes = Arc::new(Wakes {
        state: AtomicU8::new(READER | WRITER),
        task: Mutex::new(None),
    });
    let reader_waker = Waker::from(Arc::new(ReaderWake(wakes.clone())));
    let writer_waker = Waker::from(wakes.clone());
    let mut reading = true;
    let mut written = None;
    poll_fn(|cx| {
        wakes.register(cx.waker());
        wakes.state.fetch_or(POLLING, Ordering::AcqRel);
        // What the runtime's other tasks queued since the last poll (their calls and
        // notifications) goes out before the reader reads on.
        if wakes.marked(WRITER) && wakes.marked(READER) && written.is_none() {
            wakes.take(WRITER);
            if let Poll::Ready(out) = writer
                .as_mut()
                .poll(&mut Context::from_waker(&writer_waker))
            {
                written = Some(out);
            }
        }
        for _ in 0..ROUNDS {
            // A half that woke itself while it was polled (it gave way: the reader after a
            // burst of frames) has the task yield once this round is over, so that the
            // runtime's other tasks run first. (tokio's budget defers its wake-up until after
            // the task's poll, which wakes the task anyway.)
            let mut gave_way = false;
            // Both marks are taken whether or not their half still runs, so that a late wake
            // of a finished half does not keep the task busy.
            if wakes.take(READER) && reading {
                if reader
                    .as_mut()
                    .poll(&mut Context::from_waker(&reader_waker))
                    .is_ready()
                {
                    reading = false;
                } else {
                    gave_way |= wakes.marked(READER);
                }
            }
            if wakes.take(WRITER) && written.is_none() {
                match writer
                    .as_mut()
                    .poll(&mut Context::from_waker(&writer_waker))
                {
                    Poll::Ready(out) => written = Some(out),
                    Poll::Pending => gave_way |= wakes.marked(WRITER),
                }
            }
            if !reading && let Some(out) = written.take() {
                return Poll::Ready(out);
            }
            if gave_way {
                break;
            }
            // Done unless a half was woken meanwhile (by the other half).
            if wakes
                .state
                .compare_exchange(POLLING, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Poll::Pending;
            }
        }
        // A half gave way, or the halves still wake each other after every round: the
        // runtime's other tasks run first.
        wakes.state.fetch_and(!POLLING, Ordering::AcqRel);
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Poll;
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::join;

    /// A future that counts its polls and finishes once `notify` has been notified `wakes`
    /// times.
    async fn counted(notify: &Notify, wakes: usize, polls: &AtomicUsize) {
        for _ in 0..wakes {
            let mut notified = pin!(notify.notified());
            poll_fn(|cx| {
                polls.fetch_add(1, Ordering::Relaxed);
                notified.as_mut().poll(cx)
            })
            .await;
        }
    }

    /// Polls `both` until it finishes (within 10 s); how many polls that took.
    async fn polls_to_finish(both: impl Future<Output = ()>) -> usize {
        let mut polls = 0;
        let mut both = pin!(both);
        let polled = poll_fn(|cx| {
            polls += 1;
            both.as_mut().poll(cx)
        });
        tokio::time::timeout(Duration::from_secs(10), polled)
            .await
            .expect("both halves finish");
        polls
    }

    #[tokio::test]
    async fn each_half_is_polled_only_when_its_own_waker_is_woken() {
        let (reader_go, writer_go) = (Notify::new(), Notify::new());
        let (reader_polls, writer_polls) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let reader = pin!(counted(&reader_go, 3, &reader_polls));
        let writer = pin!(async {
            counted(&writer_go, 1, &writer_polls).await;
            7
        });
        let both = join(reader, writer);
        let wakes = async {
            for _ in 0..3 {
                tokio::task::yield_now().await;
                reader_go.notify_one();
            }
            tokio::task::yield_now().await;
            writer_go.notify_one();
        };
        // (futures' `join!` polls in order, `both` first: each wait is set up before the
        // next notification.)
        let (out, ()) = tokio::time::timeout(Duration::from_secs(10), async {
            futures_util::join!(both, wakes)
        })
        .await
        .expect("both halves finish");
        assert_eq!(out, 7);
        // One poll to start each wait and one per wake-up: the reader's three wake-ups did not
        // poll the writer, nor the writer's the reader.
        assert_eq!(reader_polls.load(Ordering::Relaxed), 3 + 3);
        assert_eq!(writer_polls.load(Ordering::Relaxed), 1 + 1);
    }

    #[tokio::test]
    async fn a_half_woken_by_the_other_runs_in_the_same_poll() {
        let (reader_go, writer_go) = (Notify::new(), Notify::new());
        let (reader_polls, writer_polls) = (AtomicUsize::new(0), AtomicUsize::new(0));
        // The reader waits, then wakes the writer; the writer waits.
        let reader = pin!(async {
            counted(&reader_go, 1, &reader_polls).await;
            writer_go.notify_one();
        });
        let writer = pin!(counted(&writer_go, 1, &writer_polls));
        let mut both = pin!(join(reader, writer));
        assert!(futures_util::poll!(both.as_mut()).is_pending());
        // Only the reader is woken: it runs, wakes the writer, and the writer finishes after
        // it within the same poll of the task.
        reader_go.notify_one();
        assert!(futures_util::poll!(both.as_mut()).is_ready());
        assert_eq!(reader_polls.load(Ordering::Relaxed), 2);
        assert_eq!(writer_polls.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_half_that_wakes_itself_yields_to_the_runtime_after_the_other_ran() {
        let (spins, writer_polls) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let go = Notify::new();
        // The reader wakes the writer, then gives way (wakes itself) 20 times.
        let spinner = poll_fn(|cx| {
            if spins.fetch_add(1, Ordering::Relaxed) == 0 {
                go.notify_one();
            }
            if spins.load(Ordering::Relaxed) <= 20 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        let (reader, writer) = (pin!(spinner), pin!(counted(&go, 1, &writer_polls)));
        let mut both = pin!(join(reader, writer));
        // The first poll: the writer (first, both start woken) waits; the reader wakes it and
        // gives way; the writer runs again in that same round and finishes.
        assert!(futures_util::poll!(both.as_mut()).is_pending());
        assert_eq!(writer_polls.load(Ordering::Relaxed), 2);
        // Each time the reader gives way the task yields: 21 polls of the reader take 21 of
        // the task.
        assert_eq!(polls_to_finish(both).await, 20);
        assert_eq!(spins.load(Ordering::Relaxed), 21);
        assert_eq!(writer_polls.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn halves_that_keep_waking_each_other_yield_after_four_rounds() {
        let (reader_go, writer_go) = (Notify::new(), Notify::new());
        let (reader_polls, writer_polls) = (AtomicUsize::new(0), AtomicUsize::new(0));
        // Each wakes the other, ten times, and waits for the other's wake.
        let reader = pin!(async {
            for _ in 0..10 {
                writer_go.notify_one();
                counted(&reader_go, 1, &reader_polls).await;
            }
        });
        let writer = pin!(async {
            for _ in 0..10 {
                counted(&writer_go, 1, &writer_polls).await;
                reader_go.notify_one();
            }
        });
        // One round per exchange and four rounds per poll of the task: 11 rounds take 3 polls.
        assert_eq!(polls_to_finish(join(reader, writer)).await, 3);
    }

    #[tokio::test]
    async fn the_writer_goes_first_when_both_were_woken_before_the_poll() {
        let order = std::sync::Mutex::new(Vec::new());
        let (reader_go, writer_go) = (Notify::new(), Notify::new());
        let log = |half: &'static str| order.lock().unwrap().push(half);
        let reader = pin!(async {
            log("reader");
            reader_go.notified().await;
            log("reader");
        });
        let writer = pin!(async {
            log("writer");
            writer_go.notified().await;
            log("writer");
        });
        let mut both = pin!(join(reader, writer));
        // The first poll: both halves start marked, the writer first; then each waits.
        assert!(futures_util::poll!(both.as_mut()).is_pending());
        // Both woken between polls (the writer by another task's frame): the writer first.
        reader_go.notify_one();
        writer_go.notify_one();
        tokio::time::timeout(Duration::from_secs(10), both)
            .await
            .expect("both halves finish");
        assert_eq!(
            *order.lock().unwrap(),
            ["writer", "reader", "writer", "reader"]
        );
    }
}
