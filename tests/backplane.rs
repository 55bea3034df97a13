//! The backplane seam with two server nodes in one process: a test backplane hands each
//! node's fan-out straight to the other node's registry (what a Redis backplane does over
//! the network). A group send reaches members on both nodes, a call by id crosses to the
//! peer's node and back, a call to many gives one outcome per recipient on either node, and
//! queries see both nodes. Without a backplane, nothing leaves the node.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::t;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use volley::fanout::{Backplane, Forward, Recipients, RemoteReply};
use volley::{
    CallOptions, Client, Context, Error, NodeId, PeerConfig, PeerId, Peers, RunningServer, Server,
};

/// What the servers offer.
#[volley::rpc]
pub trait Hall {
    /// The caller's id.
    async fn whoami(&self, cx: &Context) -> volley::Result<u64>;
    /// Puts the caller in `room`.
    async fn enter(&self, cx: &Context, room: String) -> volley::Result<bool>;
    /// Tells everyone in `room` but the caller; how many were queued on this node.
    async fn shout(&self, cx: &Context, room: String, text: String) -> volley::Result<usize>;
    /// Asks everyone in `room` whether they are here: (id, answer or error) by id.
    async fn roll(&self, cx: &Context, room: String) -> volley::Result<Vec<(u64, String)>>;
    /// Asks the peer `id`, wherever it is connected, whether it is here.
    async fn ask(&self, cx: &Context, id: u64) -> volley::Result<bool>;
    /// The ids in `room`, on every node.
    async fn census(&self, cx: &Context, room: String) -> volley::Result<Vec<u64>>;
}

/// What every member offers.
#[volley::rpc]
pub trait Guest {
    /// Something was said.
    #[rpc(notification)]
    async fn heard(&self, text: String);
    /// Whether the guest is here.
    async fn here(&self) -> volley::Result<bool>;
}

struct Halls;

impl Hall for Halls {
    async fn whoami(&self, cx: &Context) -> volley::Result<u64> {
        Ok(cx.peer_id().0)
    }
    async fn enter(&self, cx: &Context, room: String) -> volley::Result<bool> {
        Ok(cx.join(&room))
    }
    async fn shout(&self, cx: &Context, room: String, text: String) -> volley::Result<usize> {
        let others = cx.peers().group(&room).except(cx.peer_id());
        Ok(GuestFanout::new(others).heard(text)?.queued)
    }
    async fn roll(&self, cx: &Context, room: String) -> volley::Result<Vec<(u64, String)>> {
        let replies = GuestFanout::new(cx.peers().group(&room))
            .with_timeout(Duration::from_millis(500))
            .here()?;
        let outcomes = replies.await;
        Ok(outcomes
            .iter()
            .map(|r| {
                let answer = match &r.result {
                    Ok(here) => here.to_string(),
                    Err(e) => e.to_string(),
                };
                (r.id().0, answer)
            })
            .collect())
    }
    async fn ask(&self, cx: &Context, id: u64) -> volley::Result<bool> {
        let raw = cx.peers().request(PeerId(id), "here", None, None).await?;
        serde_json::from_str(raw.get()).map_err(Error::InvalidResult)
    }
    async fn census(&self, cx: &Context, room: String) -> volley::Result<Vec<u64>> {
        let ids = cx.peers().group(&room).find().await;
        Ok(ids.into_iter().map(|id| id.0).collect())
    }
}

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

struct Someone {
    here: bool,
    heard: mpsc::UnboundedSender<String>,
}

impl Guest for Someone {
    async fn heard(&self, text: String) {
        let _ = self.heard.send(text);
    }
    async fn here(&self) -> volley::Result<bool> {
        Ok(self.here)
    }
}

/// One guest connected to `running`: its client, its id, what it hears.
struct Visitor {
    client: Client,
    id: PeerId,
    heard: mpsc::UnboundedReceiver<String>,
}

impl Visitor {
    async fn new(running: &RunningServer, here: bool) -> Self {
        let (tx, heard) = mpsc::unbounded_channel();
        let client = t(Client::builder()
            .add_service(Someone { here, heard: tx }.into_service())
            .reconnect(None)
            .connect(&running.ws_url()))
        .await
        .expect("connect");
        let id = PeerId(t(HallClient::new(client.peer()).whoami()).await.unwrap());
        Self { client, id, heard }
    }

    fn hall(&self) -> HallClient {
        HallClient::new(self.client.peer())
    }

    async fn next(&mut self) -> String {
        t(self.heard.recv()).await.expect("heard something")
    }
}

/// The local reason a server's call failed, as its handler passed it on (-32011 with the
/// reason as `data`).
fn why(error: &Error) -> String {
    let data = error
        .remote()
        .and_then(|e| e.data())
        .expect("an error with data");
    serde_json::from_str(data.get()).expect("a string")
}

#[tokio::test]
async fn a_group_send_reaches_the_members_on_every_node() {
    let (a, b) = cluster().await;
    let mut ann = Visitor::new(&a, true).await;
    let mut bob = Visitor::new(&b, true).await;
    let mut cid = Visitor::new(&b, true).await;
    let dot = Visitor::new(&a, true).await;
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
    let ann = Visitor::new(&a, true).await;
    let bob = Visitor::new(&b, false).await;
    let cid = Visitor::new(&b, true).await;
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
    let ann = Visitor::new(&a, true).await;
    let mut bob = Visitor::new(&b, true).await;
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
