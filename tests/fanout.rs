//! Fan-out: groups joined from handlers and from the registry, typed sends to every kind of
//! audience, leaving on disconnect, calls to many with one outcome per recipient, one
//! encoding per broadcast, and the overflow policy.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{raw_connect_small, t};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use volley::{
    Client, Context, Error, Handshake, NodeId, Overflow, PeerConfig, PeerEvent, PeerId, Peers,
    Refusal, RunningServer, Server,
};

/// What the server offers: rooms.
#[volley::rpc]
pub trait Lobby {
    /// The caller's id on the server.
    async fn whoami(&self, cx: &Context) -> volley::Result<u64>;
    /// Puts the caller in `room`.
    async fn enter(&self, cx: &Context, room: String) -> volley::Result<bool>;
    /// Takes the caller out of `room`.
    async fn exit(&self, cx: &Context, room: String) -> volley::Result<bool>;
    /// Tells everyone else in `room`.
    async fn shout(&self, cx: &Context, room: String, text: String) -> volley::Result<usize>;
}

/// What every member offers the server.
#[volley::rpc]
pub trait Member {
    /// Something was said.
    #[rpc(notification)]
    async fn heard(&self, text: String);
    /// Whether the member is here.
    async fn here(&self) -> volley::Result<bool>;
}

struct Rooms;

impl Lobby for Rooms {
    async fn whoami(&self, cx: &Context) -> volley::Result<u64> {
        Ok(cx.peer_id().0)
    }
    async fn enter(&self, cx: &Context, room: String) -> volley::Result<bool> {
        Ok(cx.join(&room))
    }
    async fn exit(&self, cx: &Context, room: String) -> volley::Result<bool> {
        Ok(cx.leave(&room))
    }
    async fn shout(&self, cx: &Context, room: String, text: String) -> volley::Result<usize> {
        let others = cx.peers().group(&room).except(cx.peer_id());
        Ok(MemberFanout::new(others).heard(text)?.queued)
    }
}

/// How a member answers `here`.
#[derive(Clone, Copy)]
enum Answer {
    Yes,
    No,
    /// Never answers (until the call is cancelled).
    Stall,
}

struct Someone {
    answer: Answer,
    heard: mpsc::UnboundedSender<String>,
}

impl Member for Someone {
    async fn heard(&self, text: String) {
        let _ = self.heard.send(text);
    }
    async fn here(&self) -> volley::Result<bool> {
        match self.answer {
            Answer::Yes => Ok(true),
            Answer::No => Ok(false),
            Answer::Stall => std::future::pending().await,
        }
    }
}

#[derive(Clone)]
struct User(String);

async fn start(config: PeerConfig) -> RunningServer {
    let server = Server::builder()
        .add_service(Rooms.into_service())
        .add_remote_service::<MemberClient>()
        .peer_config(config)
        .authenticate(|h: Handshake| async move {
            h.query("user")
                .map(User)
                .ok_or_else(|| Refusal::unauthorized("who are you?"))
        })
        .identify(|user: &User| (user.0 != "anonymous").then(|| user.0.clone()))
        .build();
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

/// One connected member: its client, its id on the server, what it hears.
struct Person {
    client: Client,
    id: PeerId,
    heard: mpsc::UnboundedReceiver<String>,
}

impl Person {
    fn lobby(&self) -> LobbyClient {
        LobbyClient::new(self.client.peer())
    }

    /// The next thing heard.
    async fn next(&mut self) -> String {
        t(self.heard.recv()).await.expect("heard something")
    }

    /// Proves nothing more was heard: a round trip after which anything sent before it
    /// would have arrived (the server queues a notification before answering the call that
    /// sent it, on one ordered socket).
    async fn heard_nothing(&mut self) {
        t(self.lobby().whoami()).await.unwrap();
        assert_eq!(self.heard.try_recv().ok(), None);
    }
}

async fn person(running: &RunningServer, user: &str, answer: Answer) -> Person {
    let (tx, heard) = mpsc::unbounded_channel();
    let someone = Someone { answer, heard: tx };
    let url = format!("{}?user={user}", running.ws_url());
    let client = t(Client::builder()
        .add_service(someone.into_service())
        .reconnect(None)
        .connect(&url))
    .await
    .expect("connect");
    let id = PeerId(t(LobbyClient::new(client.peer()).whoami()).await.unwrap());
    Person { client, id, heard }
}

fn peers(running: &RunningServer) -> &Peers {
    running.server().peers()
}

#[tokio::test]
async fn every_kind_of_audience_reaches_exactly_its_members() {
    let running = start(PeerConfig::default()).await;
    let mut alice = person(&running, "alice", Answer::Yes).await;
    let mut alice_phone = person(&running, "alice", Answer::Yes).await;
    let mut bob = person(&running, "bob", Answer::Yes).await;
    let mut anon = person(&running, "anonymous", Answer::Yes).await;
    for p in [&alice, &bob] {
        assert!(t(p.lobby().enter("red".into())).await.unwrap());
    }
    assert!(!t(alice.lobby().enter("red".into())).await.unwrap());
    assert!(peers(&running).join(anon.id, "blue"));
    assert_eq!(
        peers(&running).groups(),
        [("blue".into(), 1), ("red".into(), 2)]
    );
    assert_eq!(peers(&running).groups_of(alice.id), ["red"]);

    // A group, less the sender, from a handler.
    assert_eq!(
        t(alice.lobby().shout("red".into(), "hi red".into()))
            .await
            .unwrap(),
        1
    );
    assert_eq!(bob.next().await, "hi red");
    alice.heard_nothing().await;
    alice_phone.heard_nothing().await;
    anon.heard_nothing().await;

    // Every connection of one user, named by the claims of its handshake.
    let to_alice = MemberFanout::new(peers(&running).user("alice"));
    assert_eq!(to_alice.heard("for alice".into()).unwrap().queued, 2);
    assert_eq!(alice.next().await, "for alice");
    assert_eq!(alice_phone.next().await, "for alice");
    bob.heard_nothing().await;
    anon.heard_nothing().await;

    // ...or by a key the application sets.
    assert_eq!(peers(&running).user_of(anon.id), None);
    assert!(peers(&running).set_user(anon.id, Some("bob")));
    let delivery = MemberFanout::new(peers(&running).user("bob"))
        .heard("for bob".into())
        .unwrap();
    assert_eq!(delivery.queued, 2);
    assert_eq!(bob.next().await, "for bob");
    assert_eq!(anon.next().await, "for bob");
    assert!(peers(&running).set_user(anon.id, None));
    assert_eq!(peers(&running).user("bob").len(), 1);

    // An explicit list (an id that is not connected is left out).
    let listed = peers(&running).only([alice_phone.id, anon.id, PeerId(u64::MAX)]);
    assert_eq!(
        MemberFanout::new(listed)
            .heard("listed".into())
            .unwrap()
            .queued,
        2
    );
    assert_eq!(alice_phone.next().await, "listed");
    assert_eq!(anon.next().await, "listed");
    alice.heard_nothing().await;
    bob.heard_nothing().await;

    // Everyone, less two.
    let all = peers(&running).all().except_all([alice.id, bob.id]);
    assert_eq!(all.resolve().len(), 2);
    let delivery = all.client::<MemberFanout>().heard("all".into()).unwrap();
    assert_eq!((delivery.queued, delivery.overflowed.len()), (2, 0));
    assert_eq!(alice_phone.next().await, "all");
    assert_eq!(anon.next().await, "all");
    alice.heard_nothing().await;
    bob.heard_nothing().await;

    // Leaving, from a handler and from the registry; an empty group ceases to exist.
    assert!(t(bob.lobby().exit("red".into())).await.unwrap());
    assert!(!t(bob.lobby().exit("red".into())).await.unwrap());
    assert!(peers(&running).leave(anon.id, "blue"));
    assert_eq!(peers(&running).groups(), [("red".into(), 1)]);
    assert_eq!(
        t(alice.lobby().shout("red".into(), "alone".into()))
            .await
            .unwrap(),
        0
    );
    bob.heard_nothing().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn connections_carry_the_node_of_their_server_in_their_id() {
    let alone = start(PeerConfig::default()).await;
    let first = person(&alone, "alice", Answer::Yes).await;
    assert_eq!(peers(&alone).node(), NodeId::default());
    assert_eq!(first.id.node(), NodeId::default());
    let node = NodeId::new(NodeId::MAX).expect("the largest node");
    let in_cluster = start(PeerConfig::default()).await;
    peers(&in_cluster).set_node(node);
    let second = person(&in_cluster, "bob", Answer::Yes).await;
    assert_eq!(second.id.node(), node);
    assert!(
        second.id.0 < 1 << 53,
        "{} is not exact in JavaScript",
        second.id
    );
    assert!(peers(&in_cluster).get(second.id).is_some());
    // The first server's connections keep node 0.
    let third = person(&alone, "carol", Answer::Yes).await;
    assert_eq!(third.id.node(), NodeId::default());
    t(alone.shutdown()).await;
    t(in_cluster.shutdown()).await;
}

#[tokio::test]
async fn a_connection_that_ends_leaves_its_groups_and_its_user() {
    let running = start(PeerConfig::default()).await;
    let mut events = peers(&running).subscribe();
    let alice = person(&running, "alice", Answer::Yes).await;
    let mut bob = person(&running, "bob", Answer::Yes).await;
    for room in ["red", "blue"] {
        assert!(t(alice.lobby().enter(room.into())).await.unwrap());
    }
    assert!(t(bob.lobby().enter("red".into())).await.unwrap());
    let alice_id = alice.id;
    alice.client.close();
    // The disconnect event comes once the registry has forgotten the connection.
    loop {
        if let PeerEvent::Disconnected { id, .. } = t(events.recv()).await.unwrap()
            && id == alice_id
        {
            break;
        }
    }
    assert_eq!(peers(&running).groups(), [("red".into(), 1)]);
    assert_eq!(peers(&running).groups_of(alice_id), Vec::<String>::new());
    assert!(peers(&running).user("alice").is_empty());
    assert!(!peers(&running).join(alice_id, "red"));
    assert_eq!(
        t(bob.lobby().shout("red".into(), "anyone?".into()))
            .await
            .unwrap(),
        0
    );
    bob.heard_nothing().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_call_to_many_gives_one_outcome_per_recipient_each_under_its_own_deadline() {
    let running = start(PeerConfig::default()).await;
    let yes = person(&running, "yes", Answer::Yes).await;
    let no = person(&running, "no", Answer::No).await;
    let stalled = person(&running, "stalled", Answer::Stall).await;
    let gone = person(&running, "gone", Answer::Yes).await;
    let everyone = [yes.id, no.id, stalled.id, gone.id];
    for id in everyone {
        assert!(peers(&running).join(id, "poll"));
    }
    let poll = MemberFanout::new(peers(&running).group("poll"));

    // Collect all: the stalled peer times out on its own deadline; the one that left
    // while asked fails with its own reason; neither hides the others' answers.
    let replies = poll
        .clone()
        .with_timeout(Duration::from_millis(300))
        .here()
        .unwrap();
    assert_eq!(replies.recipients().len(), 4);
    gone.client.close();
    t(gone.client.peer().closed()).await;
    let outcomes = t(replies).await;
    assert_eq!(outcomes.len(), 4);
    assert!(matches!(outcomes.get(yes.id), Some(Ok(true))));
    assert!(matches!(outcomes.get(no.id), Some(Ok(false))));
    assert!(matches!(
        outcomes.get(stalled.id),
        Some(Err(Error::Timeout(_)))
    ));
    assert!(matches!(outcomes.get(gone.id), Some(Err(e)) if e.is_disconnected()));
    let answered: Vec<PeerId> = outcomes.succeeded().map(|(id, _)| id).collect();
    assert_eq!(answered, [yes.id, no.id]);
    assert_eq!(outcomes.failed().count(), 2);

    // As they arrive: both answers come while the stalled peer's deadline (far beyond this
    // test's) has not passed, so a slow peer delays nobody.
    let mut replies = poll.with_timeout(Duration::from_secs(3600)).here().unwrap();
    assert_eq!(replies.recipients().len(), 3);
    let mut arrived = Vec::new();
    for _ in 0..2 {
        let reply = t(replies.next()).await.expect("an answer");
        arrived.push((reply.id(), reply.result.unwrap()));
    }
    arrived.sort();
    assert_eq!(arrived, [(yes.id, true), (no.id, false)]);
    assert_eq!(replies.remaining(), 1);
    // Dropping the rest withdraws the call: the stalled peer is sent `rpc.cancel`, so its
    // pending answer is forgotten on the server's side.
    let stalled_peer = peers(&running).get(stalled.id).unwrap();
    assert_eq!(stalled_peer.pending_calls(), 1);
    drop(replies);
    assert_eq!(stalled_peer.pending_calls(), 0);
    t(running.shutdown()).await;
}

/// Params that count how often they are encoded.
struct Counted(Arc<AtomicUsize>);

impl volley::serde::Serialize for Counted {
    fn serialize<S: volley::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        s.serialize_str("counted")
    }
}

#[tokio::test]
async fn a_broadcast_is_encoded_once_for_every_recipient() {
    let running = start(PeerConfig::default()).await;
    let mut people = Vec::new();
    for i in 0..5 {
        people.push(person(&running, &format!("p{i}"), Answer::Yes).await);
    }
    let encodings = Arc::new(AtomicUsize::new(0));
    let delivery = peers(&running)
        .all()
        .notify("heard", &[Counted(encodings.clone())])
        .unwrap();
    assert_eq!(delivery.queued, 5);
    assert_eq!(encodings.load(Ordering::SeqCst), 1);
    for p in &mut people {
        assert_eq!(p.next().await, "counted");
    }
    // A call to many encodes its params once too.
    let replies = peers(&running)
        .all()
        .call::<_, serde_json::Value>("heard", &[Counted(encodings.clone())])
        .unwrap();
    assert_eq!(encodings.load(Ordering::SeqCst), 2);
    drop(replies);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_recipient_that_stopped_reading_is_skipped_or_closed_by_its_overflow_policy() {
    for overflow in [Overflow::Skip, Overflow::Close] {
        let running = start(PeerConfig::default().outbound_queue(2).overflow(overflow)).await;
        let mut reader = person(&running, "reader", Answer::Yes).await;
        let mut events = peers(&running).subscribe();
        // A raw client that never reads; it is let in with a user name of its own.
        let silent_socket = raw_connect_small(&format!("{}?user=silent", running.ws_url())).await;
        let PeerEvent::Connected(silent) = t(events.recv()).await.unwrap() else {
            panic!("expected a connect event")
        };
        let big = "x".repeat(256 * 1024);
        // Fill its socket buffers and its queue until a broadcast overflows on it; the reader
        // gets every one of them meanwhile.
        let mut sent = 0;
        let overflowed = t(async {
            loop {
                let d = peers(&running).all().notify("heard", &[&big]).unwrap();
                sent += 1;
                assert_eq!(reader.next().await.len(), big.len());
                if !d.overflowed.is_empty() {
                    return d;
                }
            }
        })
        .await;
        assert_eq!(overflowed.overflowed, [silent.id()]);
        assert_eq!(overflowed.queued, 1, "the reader is never held up");
        assert!(sent > 2);
        match overflow {
            Overflow::Skip => {
                assert!(silent.is_connected());
                let d = peers(&running).all().notify("heard", &["small"]).unwrap();
                assert_eq!(d.overflowed, [silent.id()]);
                assert!(silent.is_connected());
            }
            _ => {
                // Closed at once; the reason is the overflow's.
                assert!(!silent.is_connected());
                let d = peers(&running).all().notify("heard", &["small"]).unwrap();
                assert_eq!(d.queued, 1);
            }
        }
        assert_eq!(reader.next().await, "small");
        // The silent client goes away, so its writer's close grace need not run out.
        drop(silent_socket);
        let reason = t(silent.closed()).await;
        if overflow == Overflow::Close {
            assert_eq!(
                (reason.code, reason.reason.as_str()),
                (1008, "too slow: outgoing queue full")
            );
        }
        t(running.shutdown()).await;
    }
}

#[tokio::test]
async fn a_clients_context_has_an_empty_registry() {
    // A client's connection belongs to no registry: joins do nothing, audiences are empty.
    #[volley::rpc]
    trait Probe {
        async fn probe(&self, cx: &Context) -> volley::Result<(bool, usize)>;
    }
    struct P;
    impl Probe for P {
        async fn probe(&self, cx: &Context) -> volley::Result<(bool, usize)> {
            Ok((cx.join("x"), cx.peers().all().len()))
        }
    }
    #[volley::rpc]
    trait Ask {
        async fn ask(&self, cx: &Context) -> volley::Result<(bool, usize)>;
    }
    struct A;
    impl Ask for A {
        async fn ask(&self, cx: &Context) -> volley::Result<(bool, usize)> {
            ProbeClient::new(cx.peer()).probe().await
        }
    }
    let server = Server::builder().add_service(A.into_service()).build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let client = t(Client::builder()
        .add_service(P.into_service())
        .connect(&running.ws_url()))
    .await
    .unwrap();
    assert_eq!(
        t(AskClient::new(client.peer()).ask()).await.unwrap(),
        (false, 0)
    );
    t(running.shutdown()).await;
}
