//! The backplane seam with two server nodes in one process: a test backplane hands each
//! node's fan-out straight to the other node's registry (what a Redis backplane does over
//! the network). A group send reaches members on both nodes, a call by id crosses to the
//! peer's node and back, a call to many gives one outcome per recipient on either node, and
//! queries see both nodes. Without a backplane, nothing leaves the node.

mod common;

#[path = "common/hall.rs"]
mod hall;

use std::sync::{Arc, Mutex};

use common::t;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use hall::{GuestClient, Hall, Halls, Visitor, why};
use serde_json::value::RawValue;
use volley::fanout::{Backplane, Forward, Recipients, RemoteReply};
use volley::{CallOptions, Error, NodeId, PeerConfig, PeerId, Peers, RunningServer, Server};

/// A backplane to the other nodes of this process: their registries, reached directly.
#[derive(Debug, Default)]
struct InProcess {
    others: Mutex<Vec<Peers>>,
}

impl InProcess {
    fn others(&self) -> Vec<Peers> {
        self.others.lock().unwrap().clone()
    }
}

impl Backplane for InProcess {
    fn notify(&self, to: &Recipients, except: &[PeerId], frame: bytes::Bytes) {
        for other in self.others() {
            other
                .deliver(to, except, frame.clone())
                .expect("a notification is text");
        }
    }

    fn call(&self, id: PeerId, call: Forward) -> BoxFuture<'static, volley::Result<Box<RawValue>>> {
        let node = self.others().into_iter().find(|p| p.node() == id.node());
        Box::pin(async move {
            let Some(node) = node else {
                return Err(Error::Unreachable {
                    node: id.node(),
                    reason: "no such node".into(),
                });
            };
            let params = call.params.as_deref().map(ToOwned::to_owned);
            match node.get(id) {
                Some(peer) => peer.request_raw(&call.method, params, call.timeout).await,
                None => Err(Error::Disconnected),
            }
        })
    }

    fn call_each(
        &self,
        to: &Recipients,
        except: &[PeerId],
        call: Forward,
    ) -> BoxStream<'static, RemoteReply> {
        let each = self.others().into_iter().map(|other| {
            let mut options = CallOptions::default();
            options.timeout = call.timeout;
            let params = call.params.as_deref().map(ToOwned::to_owned);
            other
                .audience(to)
                .local()
                .except_all(except.iter().copied())
                .call_with::<Box<RawValue>>(&call.method, params, options)
                .map(|reply| (reply.id, reply.result))
                .boxed()
        });
        stream::select_all(each).boxed()
    }

    fn membership(&self, id: PeerId, group: &str, join: bool) {
        if let Some(node) = self.others().into_iter().find(|p| p.node() == id.node()) {
            if join {
                node.join(id, group);
            } else {
                node.leave(id, group);
            }
        }
    }

    fn find(&self, to: &Recipients) -> BoxFuture<'static, Vec<PeerId>> {
        let ids = self
            .others()
            .iter()
            .flat_map(|other| other.audience(to).local().resolve())
            .map(|peer| peer.id())
            .collect();
        Box::pin(async move { ids })
    }
}

async fn node(n: u16) -> RunningServer {
    let server = Server::builder()
        .add_service(Halls.into_service())
        .add_remote_service::<GuestClient>()
        .peer_config(PeerConfig::default())
        .build();
    server
        .peers()
        .set_node(NodeId::new(n).expect("a node number"));
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

/// Two nodes joined by in-process backplanes.
async fn cluster() -> (RunningServer, RunningServer) {
    let (a, b) = (node(1).await, node(2).await);
    let (to_b, to_a) = (
        Arc::new(InProcess::default()),
        Arc::new(InProcess::default()),
    );
    to_b.others.lock().unwrap().push(b.server().peers().clone());
    to_a.others.lock().unwrap().push(a.server().peers().clone());
    assert!(a.server().peers().set_backplane(to_b.clone()));
    assert!(b.server().peers().set_backplane(to_a));
    assert!(!a.server().peers().set_backplane(to_b), "set once");
    (a, b)
}

#[tokio::test]
async fn a_group_send_reaches_the_members_on_every_node() {
    let (a, b) = cluster().await;
    let mut ann = Visitor::new(&a.ws_url(), true).await;
    let mut bob = Visitor::new(&b.ws_url(), true).await;
    let mut cid = Visitor::new(&b.ws_url(), true).await;
    let dot = Visitor::new(&a.ws_url(), true).await;
    assert_eq!((ann.id.node().get(), bob.id.node().get()), (1, 2));
    for v in [&ann, &bob, &cid] {
        assert!(t(v.hall().enter("red".into())).await.unwrap());
    }
    // From node 1: ann hears nothing of her own, bob and cid on node 2 hear it.
    let queued = t(ann.hall().shout("red".into(), "hi from a".into())).await;
    assert_eq!(queued.unwrap(), 0, "nobody else in red on node 1");
    assert_eq!(bob.next().await, "hi from a");
    assert_eq!(cid.next().await, "hi from a");
    // From node 2: ann hears it across, cid beside bob, bob not his own.
    t(bob.hall().shout("red".into(), "hi from b".into()))
        .await
        .unwrap();
    assert_eq!(ann.next().await, "hi from b");
    assert_eq!(cid.next().await, "hi from b");
    // Everyone in red is seen from either node; dot is in no room.
    let mut red = vec![ann.id.0, bob.id.0, cid.id.0];
    red.sort_unstable();
    assert_eq!(t(dot.hall().census("red".into())).await.unwrap(), red);
    assert_eq!(t(bob.hall().census("red".into())).await.unwrap(), red);
    // A round trip after the sends: anything else sent to bob would have arrived.
    t(bob.hall().whoami()).await.unwrap();
    assert_eq!(bob.heard.try_recv().ok(), None);
    t(a.shutdown()).await;
    t(b.shutdown()).await;
}

#[tokio::test]
async fn calls_cross_to_the_peers_node_and_back() {
    let (a, b) = cluster().await;
    let ann = Visitor::new(&a.ws_url(), true).await;
    let bob = Visitor::new(&b.ws_url(), false).await;
    let cid = Visitor::new(&b.ws_url(), true).await;
    // By id, across: ann asks bob (node 2) through node 1.
    assert!(!t(ann.hall().ask(bob.id.0)).await.unwrap());
    assert!(t(ann.hall().ask(cid.id.0)).await.unwrap());
    assert!(t(bob.hall().ask(ann.id.0)).await.unwrap());
    // A peer that left its node: disconnected; a node nobody runs: unreachable.
    let gone = cid.id.0;
    cid.client.close();
    t(cid.client.closed()).await;
    let error = t(ann.hall().ask(gone)).await.unwrap_err();
    assert_eq!(why(&error), "peer disconnected");
    let nowhere = PeerId(u64::from(NodeId::MAX) << 40 | 1);
    let error = t(ann.hall().ask(nowhere.0)).await.unwrap_err();
    assert_eq!(why(&error), "node 8191 cannot be reached: no such node");
    // Group membership of a peer on the other node: changed on its node.
    t(ann.hall().put(bob.id.0, "green".into(), true))
        .await
        .unwrap();
    assert_eq!(
        t(ann.hall().census("green".into())).await.unwrap(),
        vec![bob.id.0]
    );
    t(ann.hall().put(bob.id.0, "green".into(), false))
        .await
        .unwrap();
    assert!(
        t(bob.hall().census("green".into()))
            .await
            .unwrap()
            .is_empty()
    );
    // To many: one outcome per recipient, on both nodes.
    for v in [&ann, &bob] {
        assert!(t(v.hall().enter("blue".into())).await.unwrap());
    }
    let mut expected = vec![
        (ann.id.0, "true".to_owned()),
        (bob.id.0, "false".to_owned()),
    ];
    expected.sort();
    assert_eq!(t(ann.hall().roll("blue".into())).await.unwrap(), expected);
    assert_eq!(t(bob.hall().roll("blue".into())).await.unwrap(), expected);
    t(a.shutdown()).await;
    t(b.shutdown()).await;
}

#[tokio::test]
async fn without_a_backplane_nothing_leaves_the_node() {
    let (a, b) = (node(1).await, node(2).await);
    let ann = Visitor::new(&a.ws_url(), true).await;
    let mut bob = Visitor::new(&b.ws_url(), true).await;
    for v in [&ann, &bob] {
        assert!(t(v.hall().enter("red".into())).await.unwrap());
    }
    t(ann.hall().shout("red".into(), "only here".into()))
        .await
        .unwrap();
    assert_eq!(
        t(ann.hall().census("red".into())).await.unwrap(),
        [ann.id.0]
    );
    let error = t(ann.hall().ask(bob.id.0)).await.unwrap_err();
    assert_eq!(
        why(&error),
        "node 2 cannot be reached: this server has no backplane"
    );
    assert_eq!(
        t(ann.hall().roll("red".into())).await.unwrap(),
        [(ann.id.0, "true".to_owned())]
    );
    t(bob.hall().whoami()).await.unwrap();
    assert_eq!(bob.heard.try_recv().ok(), None);
    t(a.shutdown()).await;
    t(b.shutdown()).await;
}
