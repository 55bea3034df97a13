//! What a node does for the others: the calls they forward to its peers, each in a task of
//! its own on record (so that a cancel can end it), with the outcomes sent back.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::value::RawValue;
use volley_core::fanout::Recipients;
use volley_core::{CallOptions, Error, NodeId, PeerId, Peers};

use super::Node;
use crate::wire::{Message, Outcome, Request};

impl Node {
    /// Calls this node's `peer` for node `from`, and sends the reply back.
    pub(super) fn serve_call(
        self: &Arc<Self>,
        peers: &Peers,
        from: NodeId,
        peer: PeerId,
        request: Request,
    ) {
        let peer = peers.get(peer);
        let call = request.call;
        self.serve(from, call, |node| async move {
            let result = match peer {
                Some(peer) => {
                    let timeout = Some(request.timeout());
                    peer.request_raw(&request.method, request.params, timeout)
                        .await
                }
                None => Err(Error::Disconnected),
            };
            let outcome = Outcome::of(result);
            node.send_to(from, &Message::Reply { call, outcome }, None);
        });
    }

    /// Calls this node's recipients `to` less `except` for node `from`, and sends each
    /// outcome back, then that this node is done.
    pub(super) fn serve_each(
        self: &Arc<Self>,
        peers: &Peers,
        from: NodeId,
        to: &Recipients,
        except: Vec<PeerId>,
        request: Request,
    ) {
        let options = CallOptions::default().timeout(request.timeout());
        let call = request.call;
        let mut replies = peers
            .audience(to)
            .local()
            .except_all(except)
            .call_with::<Box<RawValue>>(&request.method, request.params, options);
        let recipients = Message::EachRecipients {
            call,
            peers: replies.recipients().iter().map(|p| p.id()).collect(),
        };
        self.send_to(from, &recipients, None);
        self.serve(from, call, |node| async move {
            while let Some(reply) = replies.next().await {
                let message = Message::EachReply {
                    call,
                    peer: reply.id,
                    outcome: Outcome::of(reply.result),
                };
                node.send_to(from, &message, None);
            }
            node.send_to(from, &Message::EachDone { call }, None);
        });
    }

    /// Runs `work` for node `from`'s call `call` in a task of its own, on record (so a
    /// `Cancel` can abort it) until it ends.
    fn serve<F, Fut>(self: &Arc<Self>, from: NodeId, call: u64, work: F)
    where
        F: FnOnce(Arc<Self>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let node = self.clone();
        // Boxed: a forwarded call's future is large, and the runtime would otherwise copy all
        // of it into the task when it is spawned, and write as much again when it ends.
        let work = Box::pin(work(self.clone()));
        // Held until the task is on record: the task's own removal, when it ends, waits
        // for it, so a finished call never stays on record.
        let mut state = self.state();
        let task = tokio::spawn(async move {
            work.await;
            node.state().serving.remove(&(from, call));
        });
        state.serving.insert((from, call), task.abort_handle());
    }
}
