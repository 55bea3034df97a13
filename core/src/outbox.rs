//! A connection's outgoing queue: many senders (the peer's handles, fan-out, the reader's
//! answers), one receiver (the writer), a bound in frames with the same API as tokio's
//! bounded channel. It keeps its frames in a `VecDeque` that holds no slots while empty,
//! where tokio's channel allocates a 32-slot block for every connection up front (2 KB of an
//! idle connection's memory). The room is counted under the same lock as the frames, so a
//! send and a receive take one lock each and nothing else; senders that wait for room are
//! served first come first served, as tokio's semaphore would.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

pub(crate) use tokio::sync::mpsc::error::{SendError, TryRecvError, TrySendError};

/// Slots an emptied queue keeps rather than releasing them: none, so that an idle connection
/// holds no queue at all. (A connection with one frame in flight at a time allocates its
/// slots again for each; measured with `example-bench instructions`, it does not show.)
const KEEP: usize = 0;

struct State<T> {
    items: VecDeque<T>,
    /// Room for this many more values (taken values plus room make the bound). The first
    /// `room` senders in line are owed a slot each; room beyond the line is anyone's.
    room: usize,
    /// Senders waiting for room, first come first served: a freed slot goes to one of
    /// them, never to a sender that came later.
    waiting: VecDeque<Turn>,
    /// The number the next waiting sender gets.
    next_turn: u64,
    senders: usize,
    receiver_gone: bool,
    waker: Option<Waker>,
}

/// One waiting sender: its number, and how to wake it.
struct Turn {
    number: u64,
    waker: Waker,
}

impl<T> State<T> {
    /// One slot is free again: the waiting sender it is owed to (if any) is woken to take it.
    fn free_one(&mut self) -> Option<Waker> {
        self.room += 1;
        self.owed_waker(self.room - 1)
    }

    /// Whether a sender not in line may take a slot: only room beyond what is owed.
    fn spare(&self) -> bool {
        self.room > self.waiting.len()
    }

    /// The waker of the sender at place `at` in line, when it is owed a slot.
    fn owed_waker(&self, at: usize) -> Option<Waker> {
        (at < self.room)
            .then(|| self.waiting.get(at))
            .flatten()
            .map(|turn| turn.waker.clone())
    }
}

struct Chan<T> {
    /// The values, the room, and who waits for what; one lock for all, taken once per send
    /// and once per receive.
    state: Mutex<State<T>>,
}

impl<T> Chan<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a value in a slot already taken.
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

    /// Gives a slot taken back unused.
    fn give_back(&self) {
        let next = self.lock().free_one();
        if let Some(next) = next {
            next.wake();
        }
    }

    /// Waits for a slot and takes it (first come first served); `false` when the receiver
    /// is gone.
    async fn take_room(&self) -> bool {
        /// A place in the line, left when the wait ends or is dropped.
        struct InLine<'a, T> {
            chan: &'a Chan<T>,
            number: Option<u64>,
        }
        impl<T> Drop for InLine<'_, T> {
            fn drop(&mut self) {
                let Some(number) = self.number.take() else {
                    return;
                };
                let next = {
                    let mut state = self.chan.lock();
                    match state.waiting.iter().position(|t| t.number == number) {
                        Some(at) => {
                            state.waiting.remove(at);
                            // Owed a slot and leaving: the slot goes to the next one owed.
                            if at < state.room {
                                state.owed_waker(state.room - 1)
                            } else {
                                None
                            }
                        }
                        None => None,
                    }
                };
                if let Some(next) = next {
                    next.wake();
                }
            }
        }
        let mut line = InLine {
            chan: self,
            number: None,
        };
        poll_fn(|cx| {
            let mut state = self.lock();
            if state.receiver_gone {
                return Poll::Ready(false);
            }
            // In line: owed a slot when among the first `room`; new: only spare room.
            let place = line
                .number
                .and_then(|number| state.waiting.iter().position(|t| t.number == number));
            let takes = match place {
                Some(at) => at < state.room,
                None => state.spare(),
            };
            if takes {
                state.room -= 1;
                if let Some(at) = place {
                    state.waiting.remove(at);
                    line.number = None;
                }
                // Those behind move up, and the slots owed to them stay owed: nobody new is
                // owed one, so nobody else needs waking.
                return Poll::Ready(true);
            }
            match line.number {
                None => {
                    let number = state.next_turn;
                    state.next_turn += 1;
                    state.waiting.push_back(Turn {
                        number,
                        waker: cx.waker().clone(),
                    });
                    line.number = Some(number);
                }
                Some(number) => {
                    if let Some(turn) = state.waiting.iter_mut().find(|t| t.number == number)
                        && !turn.waker.will_wake(cx.waker())
                    {
                        turn.waker = cx.waker().clone();
                    }
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// Creates a queue of `bound` frames (at least one).
pub(crate) fn channel<T>(bound: usize) -> (Sender<T>, Receiver<T>) {
    let bound = bound.max(1);
    let chan = Arc::new(Chan {
        state: Mutex::new(State {
            items: VecDeque::new(),
            room: bound,
            waiting: VecDeque::new(),
            next_turn: 0,
            senders: 1,
            receiver_gone: false,
            waker: None,
        }),
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
            .field("room", &self.chan.lock().room)
            .finish()
    }
}

impl<T> Sender<T> {
    /// Queues `value` if there is room now and no sender waits for it.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut state = self.chan.lock();
            if state.receiver_gone {
                return Err(TrySendError::Closed(value));
            }
            if !state.spare() {
                return Err(TrySendError::Full(value));
            }
            state.room -= 1;
            state.items.push_back(value);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Waits for room (after the senders that waited first), then queues `value`; `Err` when
    /// the receiver is gone.
    pub(crate) async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.chan.take_room().await {
            self.chan.push(value);
            Ok(())
        } else {
            Err(SendError(value))
        }
    }

    /// Waits for room (after the senders that waited first) and holds it for one value.
    pub(crate) async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        if self.chan.take_room().await {
            Ok(Permit {
                chan: &self.chan,
                used: false,
            })
        } else {
            Err(SendError(()))
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
            self.chan.give_back();
        }
    }
}

/// The receiving side.
pub(crate) struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// The first value, with the waiting sender to wake for the slot it freed.
    fn pop(state: &mut State<T>) -> Option<(T, Option<Waker>)> {
        let value = state.items.pop_front()?;
        if state.items.is_empty() && state.items.capacity() > KEEP {
            state.items = VecDeque::new();
        }
        Some((value, state.free_one()))
    }

    /// The next value; `None` once every sender is gone and the queue is empty.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.chan.lock();
            if let Some((value, next)) = Self::pop(&mut state) {
                drop(state);
                if let Some(next) = next {
                    next.wake();
                }
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
            Some((value, next)) => {
                drop(state);
                if let Some(next) = next {
                    next.wake();
                }
                Ok(value)
            }
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (items, waiting) = {
            let mut state = self.chan.lock();
            state.receiver_gone = true;
            (
                std::mem::take(&mut state.items),
                std::mem::take(&mut state.waiting),
            )
        };
        // Every waiting sender learns the receiver is gone.
        for turn in waiting {
            turn.waker.wake();
        }
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
