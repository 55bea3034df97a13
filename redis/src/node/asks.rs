//! What a node asks of the others: the [`Backplane`] the registry calls (sends, calls to one
//! peer or to many, membership changes, queries), and the withdrawal of a call its caller
//! dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use volley_core::fanout::{Backplane, Forward, Recipients, RemoteReply};
use volley_core::{Error, NodeId, PeerId};

use super::{Each, Find, Node, finish};
use crate::wire::Message;

/// Withdraws a call (or a call to many) on the nodes serving it when the caller drops it.
struct Withdraw {
    node: Arc<Node>,
    call: u64,
    to: Option<NodeId>,
    done: bool,
}

impl Drop for Withdraw {
    fn drop(&mut self) {
        let mut state = self.node.state();
        let waiting =
            state.calls.remove(&self.call).is_some() | state.each.remove(&self.call).is_some();
        drop(state);
        if waiting && !self.done {
            let cancel = Message::Cancel { call: self.call };
            match self.to {
                Some(to) => self.node.send_to(to, &cancel, None),
                None => self.node.send_all(&cancel, None),
            }
        }
    }
}

/// The backplane is the node, behind an `Arc`.
#[derive(Debug, Clone)]
pub(crate) struct Handle(pub(crate) Arc<Node>);

impl Backplane for Handle {
    fn notify(&self, to: &Recipients, except: &[PeerId], frame: Bytes) {
        let node = &self.0;
        let message = Message::Notify {
            to: to.clone(),
            except: except.to_vec(),
        };
        node.send_all(&message, Some(&frame));
    }

    fn call(
        &self,
        id: PeerId,
        call: Forward,
    ) -> BoxFuture<'static, volley_core::Result<Box<RawValue>>> {
        let node = self.0.clone();
        Box::pin(async move {
            let to = id.node();
            let timeout = node.timeout(&call);
            let number = node.number();
            let (tx, rx) = oneshot::channel();
            // Checked and entered under one lock: a node forgotten after the check finds the
            // call in the table and fails it (`forget`), rather than leaving it to its
            // deadline.
            let live = {
                let mut state = node.state();
                let live = state.live.contains_key(&to);
                if live {
                    state.calls.insert(number, (to, tx));
                }
                live
            };
            if !live {
                return Err(Error::Unreachable {
                    node: to,
                    reason: node.not_live(to),
                });
            }
            let mut withdraw = Withdraw {
                node: node.clone(),
                call: number,
                to: Some(to),
                done: false,
            };
            let message = Message::Call {
                peer: id,
                request: node.request(number, &call, timeout),
            };
            if let Err(why) = node.try_send_to(to, &message, None) {
                // Never sent: nothing to withdraw on the other node.
                withdraw.done = true;
                return Err(Error::Unreachable {
                    node: to,
                    reason: why.into(),
                });
            }
            let outcome = tokio::time::timeout(timeout, rx).await;
            withdraw.done = matches!(outcome, Ok(Ok(_)));
            match outcome {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(Error::Unreachable {
                    node: to,
                    reason: "the backplane stopped".into(),
                }),
                Err(_) => Err(Error::Timeout(timeout)),
            }
        })
    }

    fn call_each(
        &self,
        to: &Recipients,
        except: &[PeerId],
        call: Forward,
    ) -> BoxStream<'static, RemoteReply> {
        let node = self.0.clone();
        let waiting = node.live();
        if waiting.is_empty() {
            return futures_util::stream::empty().boxed();
        }
        let timeout = node.timeout(&call);
        let number = node.number();
        let (tx, rx) = mpsc::unbounded_channel();
        node.state().each.insert(
            number,
            Each {
                replies: tx,
                waiting,
                unanswered: HashMap::new(),
                until: Instant::now() + timeout + node.options.node_timeout,
            },
        );
        let message = Message::CallEach {
            to: to.clone(),
            except: except.to_vec(),
            request: node.request(number, &call, timeout),
        };
        if node.try_send_all(&message, None).is_err() {
            // Never sent: the other nodes' recipients are not known, and none will answer.
            node.state().each.remove(&number);
            return futures_util::stream::empty().boxed();
        }
        let withdraw = Withdraw {
            node,
            call: number,
            to: None,
            done: false,
        };
        futures_util::stream::unfold((rx, withdraw), |(mut rx, withdraw)| async move {
            let reply = rx.recv().await?;
            Some((reply, (rx, withdraw)))
        })
        .boxed()
    }

    fn membership(&self, id: PeerId, group: &str, join: bool) {
        let message = Message::Membership {
            peer: id,
            group: group.to_owned(),
            join,
        };
        self.0.send_to(id.node(), &message, None);
    }

    fn find(&self, to: &Recipients) -> BoxFuture<'static, Vec<PeerId>> {
        let node = self.0.clone();
        let to = to.clone();
        Box::pin(async move {
            let waiting = node.live();
            if waiting.is_empty() {
                return Vec::new();
            }
            let query = node.number();
            let (tx, rx) = oneshot::channel();
            node.state().finds.insert(
                query,
                Find {
                    ids: Vec::new(),
                    waiting,
                    done: Some(tx),
                    until: Instant::now() + node.options.node_timeout,
                },
            );
            let sent = node.try_send_all(&Message::Find { query, to }, None);
            if sent.is_err()
                && let Some(find) = node.state().finds.remove(&query)
            {
                finish(find);
            }
            rx.await.unwrap_or_default()
        })
    }
}
