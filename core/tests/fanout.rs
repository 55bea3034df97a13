//! The registry and fan-out over connections whose socket never takes a write: the overflow
//! policy at the outgoing queue's exact length, audiences resolving again at each send,
//! registration by the engine, and the registry's limits.

use std::sync::Arc;

use tokio::sync::Notify;
use volley_core::fanout::{MAX_GROUPS_PER_PEER, MAX_NAME_BYTES, Peers};
use volley_core::transport::{BoxError, Frame, Inbound, Transport};
use volley_core::{CloseReason, Overflow, Peer, PeerConfig, Service, connection};

/// A socket whose first write never completes: the writer holds one frame, and the
/// outgoing queue fills behind it.
struct Stuck(Arc<Notify>);

impl Transport for Stuck {
    async fn feed(&mut self, _text: Frame) -> std::result::Result<(), BoxError> {
        self.0.notify_one();
        std::future::pending().await
    }
    async fn flush(&mut self) -> std::result::Result<(), BoxError> {
        Ok(())
    }
    async fn close(&mut self, _reason: CloseReason) {}
}

/// A registry with one connection whose writer is stuck, its queue `queue` frames long.
async fn stuck(queue: usize, overflow: Overflow) -> (Peers, Peer, Arc<Notify>) {
    let writing = Arc::new(Notify::new());
    let config = PeerConfig::default()
        .outbound_queue(queue)
        .overflow(overflow)
        .ping_interval(None);
    let incoming = futures_util::stream::pending::<std::result::Result<Inbound, BoxError>>();
    let peers = Peers::default();
    let mut extensions = http::Extensions::new();
    peers.link(&mut extensions);
    let peer = connection::spawn(
        incoming,
        Stuck(writing.clone()),
        Service::new(),
        config,
        extensions,
    );
    peers.register(&peer, None);
    (peers, peer, writing)
}

#[tokio::test]
async fn a_full_queue_overflows_one_frame_past_its_length() {
    for overflow in [Overflow::Skip, Overflow::Close] {
        let queue = 4;
        let (peers, peer, writing) = stuck(queue, overflow).await;
        let all = peers.all();
        // The writer takes the first frame and is stuck writing it...
        assert_eq!(all.notify_raw("n", None).queued, 1);
        tokio::time::timeout(std::time::Duration::from_secs(10), writing.notified())
            .await
            .expect("the writer took the first frame");
        // ...then exactly `queue` more fit (one below and at the length)...
        for _ in 0..queue {
            let d = all.notify_raw("n", None);
            assert_eq!((d.queued, d.overflowed.len()), (1, 0));
        }
        // ...and one more overflows.
        let d = all.notify_raw("n", None);
        assert_eq!((d.queued, d.overflowed.as_slice()), (0, &[peer.id()][..]));
        assert_eq!(peer.is_connected(), overflow == Overflow::Skip);
        if overflow == Overflow::Close {
            let d = all.notify_raw("n", None);
            assert_eq!((d.queued, d.gone.as_slice()), (0, &[peer.id()][..]));
        }
        peer.close();
    }
}

#[tokio::test]
async fn groups_users_and_exceptions_resolve_per_send() {
    let (peers, a, _) = stuck(8, Overflow::Skip).await;
    let b = {
        let (_, b, _) = stuck(8, Overflow::Skip).await;
        peers.register(&b, Some("bob"));
        b
    };
    assert!(peers.join(a.id(), "g") && peers.join(b.id(), "g"));
    assert!(!peers.join(a.id(), "g"), "already a member");
    let group = peers.group("g");
    assert_eq!(group.len(), 2);
    assert_eq!(group.clone().except(a.id()).resolve()[0].id(), b.id());
    assert_eq!(peers.user("bob").len(), 1);
    assert!(peers.leave(b.id(), "g"));
    assert_eq!(group.len(), 1, "an audience resolves again at each send");
    peers.unregister(
        a.id(),
        CloseReason {
            code: 1000,
            reason: String::new(),
        },
    );
    assert!(group.is_empty());
    assert_eq!(peers.groups(), Vec::<(String, usize)>::new());
    a.close();
    b.close();
}

#[tokio::test]
async fn a_linked_connection_is_registered_before_it_runs_and_registering_again_keeps_it() {
    let (peers, a, _) = stuck(8, Overflow::Skip).await;
    // Linked: registered by the engine as it started.
    assert!(peers.get(a.id()).is_some());
    assert!(peers.join(a.id(), "g"));
    peers.register(&a, Some("ada"));
    assert_eq!(
        peers.groups_of(a.id()),
        ["g"],
        "registering again keeps the groups"
    );
    assert_eq!(peers.user_of(a.id()).as_deref(), Some("ada"));
    a.close();
}

#[tokio::test]
async fn group_names_and_counts_are_limited() {
    let (peers, a, _) = stuck(8, Overflow::Skip).await;
    assert!(peers.join(a.id(), &"n".repeat(MAX_NAME_BYTES)));
    assert!(!peers.join(a.id(), &"n".repeat(MAX_NAME_BYTES + 1)));
    assert!(!peers.set_user(a.id(), Some(&"u".repeat(MAX_NAME_BYTES + 1))));
    for i in 1..MAX_GROUPS_PER_PEER {
        assert!(peers.join(a.id(), &format!("g{i}")), "group {i}");
    }
    assert_eq!(peers.groups_of(a.id()).len(), MAX_GROUPS_PER_PEER);
    assert!(!peers.join(a.id(), "one too many"));
    assert!(peers.leave(a.id(), "g1"));
    assert!(peers.join(a.id(), "one too many"));
    a.close();
}
