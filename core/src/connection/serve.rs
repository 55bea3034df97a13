//! Serving what the peer asks: each admitted request or notification runs in place, in the
//! reader, for as long as it needs no waiting (most handlers answer at their first poll), and
//! moves into a task of its own the first time it waits. A served stream's items are
//! forwarded once its subscribe answer is queued.

use std::borrow::Cow;
use std::sync::Arc;
use std::task::Poll;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::Instrument;

use super::{Conn, Gate};
use crate::admission::Admitted;
use crate::context::Context;
use crate::dispatch::{self, Begun, Incoming, Pending, Reply, Target};
use crate::error::{codes, error_object};
use crate::frame::Frame;
use crate::message;
use crate::observe::{self, Direction};
use crate::params::CallParams;
use crate::peer::Kind;
use crate::running::CallCancel;

/// A running slot taken from [`Conn::slots`] and forgotten, so a task can hold it; given
/// back when dropped.
struct Slot(Arc<Conn>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.slots.add_permits(1);
    }
}

impl Incoming<'_> {
    /// Tracks a request for `rpc.cancel` (a notification needs none); done before the reader
    /// reads on while it runs, so an `rpc.cancel` right behind it always finds it.
    pub(super) fn tracked(mut self, conn: &Conn) -> Self {
        if let (Some(id), None) = (&self.request, &self.tracked) {
            self.tracked = Some(conn.running.track(id));
        }
        self
    }
}

impl Conn {
    fn context(&self, cancel: CallCancel) -> Context {
        Context::new(self.peer.clone(), cancel)
    }

    /// Starts a call on this connection (see [`dispatch::start`]).
    fn start(
        &self,
        target: Target<'_>,
        params: CallParams<'_>,
        id: Option<&str>,
        cx: impl FnOnce() -> Context,
    ) -> Begun {
        dispatch::start(
            &self.service,
            self.conn_id,
            &self.streams,
            target,
            params,
            id,
            cx,
        )
    }

    fn span(&self, item: &Incoming<'_>) -> tracing::Span {
        tracing::debug_span!(
            "rpc",
            direction = "incoming",
            peer = %self.peer.id(),
            method = item.target.name(),
            id = item.request.as_deref(),
        )
    }

    /// Serves one admitted request or notification (a single frame's), from the reader. It
    /// runs here while it needs no waiting: a handler that is ready at its first poll is
    /// answered without a task. One that waits (or finds every running slot taken) goes on
    /// in a task of its own, tracked for `rpc.cancel` first. `permit` is its admission,
    /// held until it is answered.
    pub(super) fn serve(
        self: &Arc<Self>,
        item: Incoming<'_>,
        generation: u64,
        permit: Admitted,
    ) -> impl Future<Output = ()> {
        // Everything happens within one poll (a handler that waits moves to a task), so the
        // reader's future holds only the arguments, not the call's whole state (nor, this not
        // being an `async fn`, two copies of them).
        let mut args = Some((item, permit));
        std::future::poll_fn(move |task| {
            if let Some((item, permit)) = args.take() {
                self.serve_now(item, generation, permit, task);
            }
            Poll::Ready(())
        })
    }

    /// [`Conn::serve`] within the caller's poll (`task`), for a reader that is already in
    /// one.
    pub(super) fn serve_now(
        self: &Arc<Self>,
        item: Incoming<'_>,
        generation: u64,
        permit: Admitted,
        task: &mut std::task::Context<'_>,
    ) {
        // A call answered within this poll never runs beside another, so it takes a running
        // slot only once it has to wait. With none free (or calls queued for one), it queues
        // too.
        if self.slots.available_permits() == 0 {
            let item = item.into_owned().tracked(self);
            let conn = self.clone();
            tokio::spawn(async move {
                if let Some((frame, gate)) = conn.run(item, generation).await {
                    conn.send(frame, generation).await;
                    drop(gate);
                }
                drop(permit);
            });
            return;
        }
        let span = self.span(&item);
        // In the call's span for all of this poll (only when something records it: entering
        // a span nobody records still costs a few checks).
        let _entered = (!span.is_disabled()).then(|| span.enter());
        let Incoming {
            request,
            tracked: _,
            target,
            params,
        } = item;
        let method = target.name();
        let started = observe::Started::now();
        // The call's cancellation, made with its context when something needs that: a
        // method that does not take it and answers at once never needs either.
        let mut token: Option<CallCancel> = None;
        let begun = self.start(target, params, request.as_deref(), || {
            let made = CallCancel::new();
            let cx = self.context(made.clone());
            token = Some(made);
            cx
        });
        let polled: Result<Reply, Pending> = match begun {
            Begun::Done(reply) => Ok(reply),
            Begun::Running(mut pending) => match dispatch::poll_once(method, &mut pending, task) {
                Poll::Ready(reply) => Ok(reply),
                Poll::Pending => Err(pending),
            },
        };
        match polled {
            Ok(reply) => {
                // Cancellation wins over a result that is ready at the same moment.
                let cancelled = self.shared().is_closed()
                    || token.as_ref().is_some_and(CallCancel::was_cancelled);
                let outcome = (!cancelled).then_some(reply);
                let answer = self.conclude(request, None, outcome, method, started, generation);
                match answer {
                    Some((frame, gate)) => {
                        self.send_from_reader(frame, generation, (gate, permit));
                    }
                    None => drop(permit),
                }
            }
            Err(pending) => {
                // Nobody holds the call's cancellation yet when its method took no context.
                let token = token.unwrap_or_default();
                // The slot seen free above; on a runtime with several threads, a queued call
                // may have taken it meanwhile, and then this one waits for the next before it
                // goes on.
                let slot = match self.slots.try_acquire() {
                    Ok(slot) => {
                        slot.forget();
                        Some(Slot(self.clone()))
                    }
                    Err(_) => None,
                };
                let seq = request
                    .as_deref()
                    .map(|id| self.running.track_token(id, token.clone()));
                let deadline = self
                    .service
                    .deadline(method)
                    .map(|d| (d, Instant::now() + d));
                let conn = self.clone();
                let request = request.map(|id| Cow::Owned(id.into_owned()));
                let waiting = async move {
                    let slot = match slot {
                        Some(slot) => slot,
                        None => {
                            if let Ok(slot) = conn.slots.acquire().await {
                                slot.forget();
                            }
                            Slot(conn.clone())
                        }
                    };
                    let outcome = conn
                        .wait(Begun::Running(pending), &token, deadline, method)
                        .await;
                    drop(slot);
                    if let Some((frame, gate)) =
                        conn.conclude(request, seq, outcome, method, started, generation)
                    {
                        conn.send(frame, generation).await;
                        drop(gate);
                    }
                    drop(permit);
                };
                // Without a subscriber for the span the future is spawned as it is, not
                // moved into an instrumented one first (it is most of the task).
                if span.is_disabled() {
                    tokio::spawn(waiting);
                } else {
                    tokio::spawn(waiting.instrument(span.clone()));
                }
            }
        }
    }

    /// Runs an incoming request or notification from start to end (a batch's element, or one
    /// that waited for a running slot); `Some` is the frame to answer with, and for a stream,
    /// the gate that holds its items until that frame is queued.
    pub(super) async fn run(
        self: &Arc<Self>,
        item: Incoming<'static>,
        generation: u64,
    ) -> Option<(Frame, Option<Gate>)> {
        let span = self.span(&item);
        self.run_inner(item, generation).instrument(span).await
    }

    async fn run_inner(
        self: &Arc<Self>,
        item: Incoming<'static>,
        generation: u64,
    ) -> Option<(Frame, Option<Gate>)> {
        let Incoming {
            request,
            tracked,
            target,
            params,
        } = item;
        let method = target.name();
        let started = observe::Started::now();
        let (seq, token) = match (&request, tracked) {
            (Some(_), Some((seq, token))) => (Some(seq), token),
            (Some(id), None) => {
                let (seq, token) = self.running.track(id);
                (Some(seq), token)
            }
            (None, _) => (None, CallCancel::new()),
        };
        let deadline = self.service.deadline(method);
        let begun = async {
            let _slot = self.slots.acquire().await;
            let begun = self.start(target, params, request.as_deref(), || {
                self.context(token.clone())
            });
            let deadline = deadline.map(|d| (d, Instant::now() + d));
            self.wait(begun, &token, deadline, method).await
        };
        let outcome = tokio::select! {
            biased;
            _ = token.token(&self.shared().closed).cancelled() => None,
            outcome = begun => outcome,
        };
        self.conclude(request, seq, outcome, method, started, generation)
    }

    /// Waits for a call's reply, its cancellation (`None`), or its deadline (-32014, the
    /// handler cancelled with whatever it started).
    async fn wait(
        &self,
        begun: Begun,
        token: &CallCancel,
        deadline: Option<(std::time::Duration, Instant)>,
        method: &'static str,
    ) -> Option<Reply> {
        // Cancellation wins over a result that is ready at the same moment: once the
        // connection is closing, a handler's late answer is dropped, not written.
        let Some((d, at)) = deadline else {
            return tokio::select! {
                biased;
                _ = token.token(&self.shared().closed).cancelled() => None,
                reply = dispatch::finish(method, begun) => Some(reply),
            };
        };
        // With a deadline, its timer is boxed: kept in this future it would make every
        // waiting handler's task larger, deadline or not.
        let past_deadline = Box::pin(tokio::time::sleep_until(at));
        tokio::select! {
            biased;
            _ = token.token(&self.shared().closed).cancelled() => None,
            reply = dispatch::finish(method, begun) => Some(reply),
            () = past_deadline => {
                token.cancel();
                let detail = format!("`{method}` did not finish within its deadline of {d:?}; the handler was cancelled");
                Some(Reply::Payload(Err(error_object(codes::TIMED_OUT, detail))))
            }
        }
    }

    /// A call's end: untracked, counted, and its answer (a request's) made: the reply, or
    /// -32800 when it was cancelled while the connection stays up.
    fn conclude(
        self: &Arc<Self>,
        request: Option<Cow<'_, str>>,
        seq: Option<u64>,
        outcome: Option<Reply>,
        method: &'static str,
        started: observe::Started,
        generation: u64,
    ) -> Option<(Frame, Option<Gate>)> {
        let name = outcome.as_ref().map_or("cancelled", Reply::outcome);
        observe::finished(Direction::Incoming, method, name, started);
        let id = request?;
        if let Some(seq) = seq {
            self.running.untrack(&id, seq);
        }
        match outcome {
            Some(mut reply) => {
                let gate = reply
                    .take_items()
                    .map(|items| self.forward(items, generation));
                Some((reply.into_frame(&id), gate))
            }
            None if self.peer.is_connected() => Some((
                message::failure(
                    Some(&id),
                    &error_object(
                        codes::REQUEST_CANCELLED,
                        "cancelled by rpc.cancel".to_owned(),
                    ),
                )
                .into(),
                None,
            )),
            None => None,
        }
    }

    /// Sends a served stream's items once its gate opens (the subscribe answer is queued),
    /// waiting for room in the outgoing queue for each: a producer runs no faster than the
    /// peer reads. Stops when the connection ends, or when the socket `generation` it was
    /// opened on is replaced without resuming (even while the producer is quiet); dropping
    /// the items then ends the producer.
    fn forward(
        self: &Arc<Self>,
        mut items: mpsc::Receiver<Box<RawValue>>,
        generation: u64,
    ) -> Gate {
        let (gate, opened) = oneshot::channel();
        let conn = self.clone();
        let Some(voided) = conn.shared().generation_token(generation) else {
            // The socket it was asked on is gone already: the answer is not written either.
            return gate;
        };
        tokio::spawn(async move {
            let _ = opened.await;
            let shared = conn.shared();
            loop {
                let frame = tokio::select! {
                    biased;
                    _ = shared.closed.cancelled() => return,
                    _ = voided.cancelled() => return,
                    frame = items.recv() => match frame {
                        Some(frame) => frame,
                        None => return,
                    },
                };
                let frame = String::from(Box::<str>::from(frame));
                tokio::select! {
                    biased;
                    _ = voided.cancelled() => return,
                    sent = shared.send(frame, Kind::StreamItem) => if sent.is_err() {
                        return;
                    },
                }
            }
        });
        gate
    }
}
