//! A connection's outgoing queue: many senders (the peer's handles, fan-out, the reader's
//! answers), one receiver (the writer), a bound in frames with the same API as tokio's
//! bounded channel. It keeps its frames in a `VecDeque` that holds no slots while empty,
//! where tokio's channel allocates a 32-slot block for every connection up front (2 KB of an
//! idle connection's memory).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use tokio::sync::Semaphore;
pub(crate) use tokio::sync::mpsc::error::{SendError, TryRecvError, TrySendError};

/// Slots an emptied queue keeps rather than releasing them: none, so that an idle connection
/// holds no queue at all. (A connection with one frame in flight at a time allocates its
/// slots again for each; measured with `example-bench instructions`, it does not show.)
const KEEP: usize = 0;

struct State<T> {
    items: VecDeque<T>,
    senders: usize,
    receiver_gone: bool,
    waker: Option<Waker>,
}

struct Chan<T> {
    state: Mutex<State<T>>,
    /// Free slots; closed when the receiver goes.
    room: Semaphore,
}

impl<T> Chan<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a value in a slot already taken from `room`.
    fn push(&self, value: T) {
        let waker = {
            let mut state = self.lock();
            if state.receiver_gone {
                return;
            }
            state.items.push_back(value);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Creates a queue of `bound` frames (at least one).
pub(crate) fn channel<T>(bound: usize) -> (Sender<T>, Receiver<T>) {
    let bound = bound.clamp(1, Semaphore::MAX_PERMITS);
    let chan = Arc::new(Chan {
        state: Mutex::new(State {
            items: VecDeque::new(),
            senders: 1,
            receiver_gone: false,
            waker: None,
        }),
        room: Semaphore::new(bound),
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The sending side; clone it for more senders.
pub(crate) struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.lock().senders += 1;
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.chan.lock();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("room", &self.chan.room.available_permits())
            .finish()
    }
}

impl<T> Sender<T> {
    /// Queues `value` if there is room now.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.room.try_acquire() {
            Ok(permit) => {
                permit.forget();
                self.chan.push(value);
                Ok(())
            }
            Err(tokio::sync::TryAcquireError::NoPermits) => Err(TrySendError::Full(value)),
            Err(tokio::sync::TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Waits for room, then queues `value`; `Err` when the receiver is gone.
    pub(crate) async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.room.acquire().await {
            Ok(permit) => {
                permit.forget();
                self.chan.push(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Waits for room and holds it for one value.
    pub(crate) async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.chan.room.acquire().await {
            Ok(permit) => {
                permit.forget();
                Ok(Permit {
                    chan: &self.chan,
                    used: false,
                })
            }
            Err(_) => Err(SendError(())),
        }
    }
}

/// Room for one value, from [`Sender::reserve`]; given back if dropped unused.
pub(crate) struct Permit<'a, T> {
    chan: &'a Chan<T>,
    used: bool,
}

impl<T> Permit<'_, T> {
    /// Queues `value` in the room held.
    pub(crate) fn send(mut self, value: T) {
        self.used = true;
        self.chan.push(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        if !self.used {
            self.chan.room.add_permits(1);
        }
    }
}

/// The receiving side.
pub(crate) struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    fn pop(state: &mut State<T>) -> Option<T> {
        let value = state.items.pop_front()?;
        if state.items.is_empty() && state.items.capacity() > KEEP {
            state.items = VecDeque::new();
        }
        Some(value)
    }

    /// The next value; `None` once every sender is gone and the queue is empty.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.chan.lock();
            if let Some(value) = Self::pop(&mut state) {
                drop(state);
                self.chan.room.add_permits(1);
                return Poll::Ready(Some(value));
            }
            if state.senders == 0 {
                return Poll::Ready(None);
            }
            match &state.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => state.waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    /// The next value if one is queued.
    pub(crate) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.chan.lock();
        match Self::pop(&mut state) {
            Some(value) => {
                drop(state);
                self.chan.room.add_permits(1);
                Ok(value)
            }
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.room.close();
        let items = {
            let mut state = self.chan.lock();
            state.receiver_gone = true;
            std::mem::take(&mut state.items)
        };
        drop(items);
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
