//! The backplane seam: what a server's fan-out asks of the other nodes of a cluster, and what
//! a backplane asks of its own node when another node's message arrives.
//!
//! A server on its own has no backplane and pays nothing for the seam: every send, call and
//! query stays local. With one ([`Peers::set_backplane`]), the registry also
//!
//! - hands every fan-out notification to [`Backplane::notify`], once, as the frame's bytes,
//!   for the other nodes to queue for their own members (never encoded again);
//! - sends a call to a peer whose id names another node ([`PeerId::node`]) through
//!   [`Backplane::call`];
//! - merges the other nodes' replies to a call made to many ([`Backplane::call_each`]) into
//!   the same [`Replies`](super::Replies);
//! - answers cross-node queries ([`Audience::find`](super::Audience::find)) through
//!   [`Backplane::find`].
//!
//! On the receiving side a backplane delivers with [`Peers::deliver`] (a notification from
//! another node), [`Peers::audience`] with [`Audience::local`](super::Audience::local) (a
//! call to many, or a query, for this node's members only) and [`Peers::get`] (a call to one
//! of this node's peers).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Peers, Target};
use crate::error::{Error, Result};
use crate::peer::PeerId;

/// Whom a fan-out names, as it travels between the nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipients {
    /// Every connection.
    All,
    /// The members of a group.
    Group(String),
    /// The connections of a user.
    User(String),
    /// These connections.
    Only(Vec<PeerId>),
}

impl Recipients {
    pub(super) fn target(&self) -> Target {
        match self {
            Recipients::All => Target::All,
            Recipients::Group(name) => Target::Group(name.as_str().into()),
            Recipients::User(name) => Target::User(name.as_str().into()),
            Recipients::Only(ids) => Target::Only(ids.iter().copied().collect()),
        }
    }
}

impl Target {
    pub(super) fn recipients(&self) -> Recipients {
        match self {
            Target::All => Recipients::All,
            Target::Group(name) => Recipients::Group(name.to_string()),
            Target::User(name) => Recipients::User(name.to_string()),
            Target::Only(ids) => Recipients::Only(ids.iter().copied().collect()),
        }
    }
}

/// A call for peers on other nodes: the method, its params as encoded, and how long the
/// caller waits (the caller's own deadline decides; the other node's is a backstop).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Forward {
    /// The method called.
    pub method: Arc<str>,
    /// Its params, as encoded once for every recipient.
    pub params: Option<Arc<RawValue>>,
    /// How long the caller waits for each answer; `None` for the connection's default.
    pub timeout: Option<Duration>,
}

impl Forward {
    /// A call of `method` with `params`, waiting `timeout`.
    pub fn new(
        method: impl Into<Arc<str>>,
        params: Option<Arc<RawValue>>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            method: method.into(),
            params,
            timeout,
        }
    }
}

/// One recipient's outcome on another node: its id and the raw result or the error.
pub type RemoteReply = (PeerId, Result<Box<RawValue>>);

/// The other nodes of a cluster, as one node's registry sees them. Implemented by a
/// backplane crate (`volley-redis`); none is needed for a server on its own.
///
/// With one set ([`Peers::set_backplane`]), the registry hands every fan-out notification
/// to [`notify`](Backplane::notify) once, as the frame's bytes; sends a call to a peer whose
/// id names another node ([`PeerId::node`]) through [`call`](Backplane::call); merges the
/// other nodes' replies to a call made to many ([`call_each`](Backplane::call_each)) into
/// the same [`Replies`](super::Replies); and answers
/// [`Audience::find`](super::Audience::find) with [`find`](Backplane::find). What another
/// node sends is delivered with [`Peers::deliver`], [`Peers::audience`] and
/// [`Audience::local`](super::Audience::local), and [`Peers::get`].
///
/// Every method is called without any of the registry's locks held. A backplane that cannot
/// reach the other nodes degrades to this node: `notify` drops the message (and says so in
/// its logs), and calls fail with [`Error::Unreachable`](crate::Error::Unreachable).
pub trait Backplane: Send + Sync + fmt::Debug + 'static {
    /// Queues the notification `frame` (one JSON-RPC notification, as written) for the
    /// recipients `to` on the other nodes, less `except`. Returns at once.
    fn notify(&self, to: &Recipients, except: &[PeerId], frame: Bytes);

    /// Calls the peer `id` on its node (another one) and gives its answer: its result, its
    /// error, or a local error when the node is gone or unreachable, the peer is not there,
    /// or the call timed out. Dropping the future withdraws the call.
    fn call(&self, id: PeerId, call: Forward) -> BoxFuture<'static, Result<Box<RawValue>>>;

    /// Calls every recipient `to` on the other nodes, less `except`, each under the call's
    /// deadline; one [`RemoteReply`] per recipient as it comes. The stream ends when every
    /// node the backplane knows to be alive has answered for all its recipients, or is gone.
    /// Dropping it withdraws the calls still waiting.
    fn call_each(
        &self,
        to: &Recipients,
        except: &[PeerId],
        call: Forward,
    ) -> BoxStream<'static, RemoteReply>;

    /// The ids of the recipients `to` on the other nodes now.
    fn find(&self, to: &Recipients) -> BoxFuture<'static, Vec<PeerId>>;

    /// Adds the peer `id`, on another node, to `group` there (`join`), or removes it
    /// (`!join`), as [`Peers::join`] and [`Peers::leave`] do on this node. Returns at once.
    /// Nothing this node sends that node later (a [`Backplane::find`] included) may overtake
    /// the change, so that a node reads its own changes.
    fn membership(&self, id: PeerId, group: &str, join: bool);
}

impl Peers {
    /// Makes this registry one node of a cluster: from now on its fan-out also reaches the
    /// other nodes through `backplane` (see [`Backplane`]). Set once, before the server
    /// accepts connections; a second call is ignored and returns false.
    pub fn set_backplane(&self, backplane: Arc<dyn Backplane>) -> bool {
        self.inner.backplane.set(backplane).is_ok()
    }

    /// The backplane to the other nodes, when this registry has one.
    pub fn backplane(&self) -> Option<&Arc<dyn Backplane>> {
        self.inner.backplane.get()
    }

    /// A membership change for a peer this node does not have: sent to its node when it
    /// names another and there is a backplane, else nothing to do (it has gone).
    pub(super) fn elsewhere(&self, id: PeerId, group: &str, join: bool) {
        if id.node() != self.node()
            && let Some(backplane) = self.backplane()
        {
            backplane.membership(id, group, join);
        }
    }

    /// The audience `to` names, on this node and (through its backplane) the others.
    pub fn audience(&self, to: &Recipients) -> super::Audience {
        super::Audience::new(self.clone(), to.target())
    }

    /// Calls `method` on the peer `id` wherever it is connected: on this node directly, on
    /// another node through the backplane. A peer that is not on this node fails with
    /// [`Error::Disconnected`] when its id names this node (it has gone), and with
    /// [`Error::Unreachable`] when it names another and there is no backplane.
    pub async fn request(
        &self,
        id: PeerId,
        method: &str,
        params: Option<Box<RawValue>>,
        timeout: Option<Duration>,
    ) -> Result<Box<RawValue>> {
        if let Some(peer) = self.get(id) {
            return peer.request_raw(method, params, timeout).await;
        }
        if id.node() == self.node() {
            return Err(Error::Disconnected);
        }
        match self.backplane() {
            Some(backplane) => {
                let call = Forward::new(method, params.map(Arc::from), timeout);
                backplane.call(id, call).await
            }
            None => Err(Error::Unreachable {
                node: id.node(),
                reason: "this server has no backplane".into(),
            }),
        }
    }

    /// Queues the notification `frame`, which another node sent, for this node's recipients
    /// `to` less `except`: the same bytes for each, never encoded again. `None` when `frame`
    /// is not UTF-8 text.
    pub fn deliver(
        &self,
        to: &Recipients,
        except: &[PeerId],
        frame: Bytes,
    ) -> Option<super::Delivery> {
        let frame = crate::frame::Frame::from_utf8(frame)?;
        let audience = self.audience(to).local().except_all(except.iter().copied());
        Some(audience.queue(&frame))
    }
}
