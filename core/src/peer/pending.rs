//! The pending-call table: the calls this side made that wait for an answer. Each entry
//! holds the task to wake when its answer comes and then the answer itself, until its caller
//! takes it ([`Answered`]): no channel, allocation or reference count per call, only the
//! table's lock, which the reader takes anyway to find the call.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::time::Instant;

use super::Returned;
use super::deadline::{Deadline, IdHasher};
use super::streams::PendingStream;
use crate::error::{Error, Result};

/// What a waiting caller is handed: the result, [`Error::Remote`], or the local reason no
/// answer will come.
pub(crate) type Answer = Result<Returned>;

/// One call in the table.
pub(super) struct Waiter {
    pub(super) reply: Reply,
    /// When it times out; `None` for a batch's calls (the batch keeps its own timer).
    pub(super) deadline: Option<Deadline>,
    /// What only some calls have, boxed so that every entry stays small (entries are moved
    /// in and out of the table).
    pub(super) extra: Option<Box<Extra>>,
}

/// What an idempotent call or a subscribe call keeps besides.
pub(super) struct Extra {
    /// An idempotent call's request frame and how many more times it may be re-sent on a new
    /// connection (never on a resumed one: resumption delivers it exactly once).
    pub(super) resend: Option<(Box<str>, u32)>,
    /// A subscribe call: where the stream's items go once its id is known.
    pub(super) stream: Option<PendingStream>,
}

impl Waiter {
    /// A waiting call's entry.
    pub(super) fn new(
        waker: Option<Waker>,
        deadline: Option<Deadline>,
        resend: Option<(Box<str>, u32)>,
        stream: Option<PendingStream>,
    ) -> Self {
        let extra =
            (resend.is_some() || stream.is_some()).then(|| Box::new(Extra { resend, stream }));
        Self {
            reply: Reply::Waiting(waker),
            deadline,
            extra,
        }
    }

    /// An idempotent call's re-send frame and the re-sends left.
    pub(super) fn resend(&mut self) -> Option<&mut (Box<str>, u32)> {
        self.extra.as_mut()?.resend.as_mut()
    }

    /// Whether it may still be re-sent on a new connection.
    pub(super) fn may_resend(&self) -> bool {
        self.extra
            .as_ref()
            .and_then(|e| e.resend.as_ref())
            .is_some_and(|(_, left)| *left > 0)
    }

    /// A subscribe call's route for its items, taken.
    pub(super) fn take_stream(&mut self) -> Option<PendingStream> {
        self.extra.as_mut()?.stream.take()
    }

    /// Whether the call still waits for its answer.
    pub(super) fn waits(&self) -> bool {
        matches!(self.reply, Reply::Waiting(_))
    }
}

/// Where a call stands.
pub(super) enum Reply {
    /// No answer yet: the caller's task, woken when it comes (`None` until first polled).
    Waiting(Option<Waker>),
    /// The answer (or why none will come), kept until the caller takes it.
    Answered(Answer),
}

/// The table, kept under a lock by the state every clone of a peer shares.
pub(super) struct Pending {
    pub(super) open: bool,
    pub(super) calls: HashMap<u64, Waiter, BuildHasherDefault<IdHasher>>,
    /// Entries answered whose callers have not taken the answer yet.
    answered: usize,
    /// When the deadline sweeper wakes next (no call times out before it); `None` while it
    /// waits for a call.
    pub(super) wake_at: Option<Instant>,
    /// Batches with calls still waiting: how many elements each had, and its call ids.
    pub(super) batches: Vec<(usize, Vec<u64>)>,
}

impl Pending {
    pub(super) fn new() -> Self {
        Self {
            open: true,
            calls: HashMap::default(),
            answered: 0,
            wake_at: None,
            batches: Vec::new(),
        }
    }

    /// Calls still waiting for their answers.
    pub(super) fn waiting(&self) -> usize {
        self.calls.len() - self.answered
    }

    /// Answers `w` (a waiting call's entry) with `answer`; the task to wake once the lock is
    /// released. `None` when it was answered already.
    fn settle(answered: &mut usize, w: &mut Waiter, answer: Answer) -> Option<Option<Waker>> {
        match std::mem::replace(&mut w.reply, Reply::Answered(answer)) {
            Reply::Waiting(waker) => {
                *answered += 1;
                w.extra = None;
                w.deadline = None;
                Some(waker)
            }
            earlier @ Reply::Answered(_) => {
                w.reply = earlier;
                None
            }
        }
    }

    /// Answers the waiting call `id`: its entry, and its task to wake once the lock is
    /// released. `None` when no call `id` waits (unknown, or answered already).
    pub(super) fn answer(
        &mut self,
        id: u64,
        answer: Answer,
        route: impl FnOnce(&mut Waiter, &Answer),
    ) -> Option<Option<Waker>> {
        let w = self.calls.get_mut(&id).filter(|w| w.waits())?;
        route(w, &answer);
        Self::settle(&mut self.answered, w, answer)
    }

    /// Answers every waiting call `pick` chooses with `answer(&waiter)`; the tasks to wake
    /// once the lock is released, with the ids answered.
    pub(super) fn answer_all(
        &mut self,
        mut pick: impl FnMut(u64, &Waiter) -> bool,
        answer: impl Fn(&Waiter) -> Answer,
    ) -> Vec<(u64, Option<Waker>)> {
        let mut woken = Vec::new();
        for (&id, w) in &mut self.calls {
            if w.waits() && pick(id, w) {
                let a = answer(w);
                if let Some(waker) = Self::settle(&mut self.answered, w, a) {
                    woken.push((id, waker));
                }
            }
        }
        woken
    }

    /// Removes call `id` (its caller is gone); whether it was still waiting.
    pub(super) fn forget(&mut self, id: u64) -> bool {
        match self.calls.remove(&id) {
            Some(w) if w.waits() => true,
            Some(_) => {
                self.answered -= 1;
                false
            }
            None => false,
        }
    }

    /// The earliest deadline of the calls still waiting.
    pub(super) fn earliest_deadline(&self) -> Option<Instant> {
        self.calls
            .values()
            .filter(|w| w.waits())
            .filter_map(|w| w.deadline)
            .map(|d| d.at)
            .min()
    }

    /// Takes call `id`'s answer if it has come; otherwise keeps `waker` to wake when it does.
    /// An entry that is gone (never the case while its caller waits) reads as `Disconnected`.
    pub(super) fn poll_answer(&mut self, id: u64, waker: &Waker) -> Poll<Answer> {
        match self.calls.entry(id) {
            Entry::Vacant(_) => Poll::Ready(Err(Error::Disconnected)),
            Entry::Occupied(mut entry) => {
                if let Reply::Waiting(kept) = &mut entry.get_mut().reply {
                    if !kept.as_ref().is_some_and(|k| k.will_wake(waker)) {
                        *kept = Some(waker.clone());
                    }
                    return Poll::Pending;
                }
                self.answered -= 1;
                match entry.remove().reply {
                    Reply::Answered(answer) => Poll::Ready(answer),
                    Reply::Waiting(_) => Poll::Ready(Err(Error::Disconnected)),
                }
            }
        }
    }
}

/// Wakes the tasks [`Pending::answer_all`] chose.
pub(super) fn wake_all(woken: Vec<(u64, Option<Waker>)>) {
    for waker in woken.into_iter().filter_map(|(_, w)| w) {
        waker.wake();
    }
}

/// The answer to one registered call, taken from the table when it comes.
pub(super) struct Answered<'a> {
    pending: &'a Mutex<Pending>,
    id: u64,
    /// Set when the call was registered with the waker of the poll that makes this future
    /// and polls it first: that first poll needs no look (the answer wakes that task).
    registered: bool,
}

impl<'a> Answered<'a> {
    /// The answer to call `id`; `registered` when the call was registered with the waker
    /// of the very poll that goes on to poll this future first.
    pub(super) fn new(pending: &'a Mutex<Pending>, id: u64, registered: bool) -> Self {
        Self {
            pending,
            id,
            registered,
        }
    }
}

impl Future for Answered<'_> {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        let this = self.get_mut();
        if std::mem::take(&mut this.registered) {
            return Poll::Pending;
        }
        this.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .poll_answer(this.id, cx.waker())
    }
}
