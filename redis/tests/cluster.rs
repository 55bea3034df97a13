//! Three volley servers joined through a real `redis-server` of the test's own: sends to
//! everyone, to a group and to a user reach the members on every node, and so do queries, an awaited call to a peer on
//! another node comes back, group membership changes on the peer's own node, a call to many
//! gives one outcome per recipient on every node (a node killed mid-call included), a node
//! that dies is noticed within the node timeout, a Redis restart is survived, and so is a
//! Redis that stops answering for a while. A node of another wire version (played by the
//! test, publishing by hand) is known but not read, and calls to its peers say why.
//! Without `redis-server` each test prints `SKIPPED: ...` (fails under
//! `VOLLEY_REQUIRE_ALL=1`).

#[path = "../../tests/common/hall.rs"]
mod hall;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hall::{GuestClient, Hall, Halls, Visitor, why, within as t};
use volley::{NodeId, PeerEvent, PeerId, RunningServer, Server};
use volley_redis::{Options, RedisBackplane};
use volley_testing::redis::RedisServer;

/// One server node and its backplane.
struct Node {
    running: RunningServer,
    backplane: Option<RedisBackplane>,
}

fn options() -> Options {
    Options::default()
        .namespace(format!("test{}", std::process::id()))
        .heartbeat(Duration::from_millis(100))
        .node_timeout(Duration::from_millis(600))
}

/// One server node joined to the cluster at `url`.
async fn node(url: &str, options: Options) -> Node {
    let server = Server::builder()
        .add_service(Halls.into_service())
        .add_remote_service::<GuestClient>()
        .build();
    let backplane = t(RedisBackplane::join(server.peers(), url, options))
        .await
        .expect("join the cluster");
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    Node {
        running,
        backplane: Some(backplane),
    }
}

/// Waits until `visitor`'s census of `room` (taken on its node) is `ids`.
async fn census_becomes(visitor: &Visitor, room: &str, ids: Vec<u64>) {
    t(async {
        while t(visitor.hall().census(room.into())).await.unwrap() != ids {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// Waits for the registry's next `NodeLeft` among `events`, which must be `node`'s.
async fn node_left(events: &mut tokio::sync::broadcast::Receiver<PeerEvent>, node: NodeId) {
    t(async {
        loop {
            match events.recv().await {
                Ok(PeerEvent::NodeLeft { node: left }) => return assert_eq!(left, node),
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
}

/// `n` nodes that all see each other.
async fn cluster(redis: &RedisServer, n: usize, options: Options) -> Vec<Node> {
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(node(&redis.url(), options.clone()).await);
    }
    t(async {
        loop {
            let seen = nodes
                .iter()
                .all(|node| node.backplane.as_ref().expect("joined").nodes().len() == n - 1);
            if seen {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_reach_everyone_and_every_group_member_on_three_nodes() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let nodes = cluster(&redis, 3, options()).await;
    let mut guests = Vec::new();
    for node in &nodes {
        for _ in 0..2 {
            guests.push(Visitor::new(&node.running.ws_url(), true).await);
        }
    }
    let ids: Vec<u64> = guests.iter().map(|g| g.id.node().get().into()).collect();
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[2]);
    assert_ne!(ids[2], ids[4]);
    // To everyone, from the first guest: the five others, on all three nodes.
    t(guests[0].hall().shout(String::new(), "all".into()))
        .await
        .unwrap();
    for guest in &mut guests[1..] {
        assert_eq!(guest.next().await, "all");
    }
    // To a group with a member on each node but the first.
    for i in [1, 3, 5] {
        assert!(t(guests[i].hall().enter("red".into())).await.unwrap());
    }
    t(guests[0].hall().shout("red".into(), "red only".into()))
        .await
        .unwrap();
    for i in [1, 3, 5] {
        assert_eq!(guests[i].next().await, "red only");
    }
    let mut red: Vec<u64> = [1, 3, 5].iter().map(|i| guests[*i].id.0).collect();
    red.sort_unstable();
    assert_eq!(t(guests[2].hall().census("red".into())).await.unwrap(), red);
    // Nothing else arrived: the sends after the group's reached its members through
    // every node, and nobody outside red heard it.
    t(guests[0].hall().shout("red".into(), "last".into()))
        .await
        .unwrap();
    for i in [1, 3, 5] {
        assert_eq!(guests[i].next().await, "last");
    }
    for i in [0, 2, 4] {
        assert_eq!(guests[i].heard.try_recv().ok(), None, "guest {i}");
    }
    // A user with a connection on the first node and one on the third: told from the
    // second, both hear it; asked from any node, both are found.
    for i in [0, 4] {
        assert!(t(guests[i].hall().sign_in("ann".into())).await.unwrap());
    }
    t(guests[2].hall().tell("ann".into(), "for ann".into()))
        .await
        .unwrap();
    for i in [0, 4] {
        assert_eq!(guests[i].next().await, "for ann");
    }
    let mut ann = vec![guests[0].id.0, guests[4].id.0];
    ann.sort_unstable();
    for i in [1, 3] {
        let mut found = t(guests[i].hall().sessions("ann".into())).await.unwrap();
        found.sort_unstable();
        assert_eq!(found, ann);
    }
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_cross_nodes_and_a_dead_node_is_noticed() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let mut nodes = cluster(&redis, 3, options()).await;
    let ann = Visitor::new(&nodes[0].running.ws_url(), true).await;
    let bob = Visitor::new(&nodes[1].running.ws_url(), false).await;
    let cid = Visitor::new(&nodes[2].running.ws_url(), true).await;
    // An awaited call by id, across.
    assert!(!t(ann.hall().ask(bob.id.0)).await.unwrap());
    assert!(t(bob.hall().ask(cid.id.0)).await.unwrap());
    assert!(t(cid.hall().ask(ann.id.0)).await.unwrap());
    // A call to many: one outcome per recipient, on every node.
    for v in [&ann, &bob, &cid] {
        assert!(t(v.hall().enter("blue".into())).await.unwrap());
    }
    let mut all = vec![
        (ann.id.0, "true".to_owned()),
        (bob.id.0, "false".to_owned()),
        (cid.id.0, "true".to_owned()),
    ];
    all.sort();
    assert_eq!(t(bob.hall().roll("blue".into())).await.unwrap(), all);
    // Group membership of a peer on another node: changed on its node. The node that asked
    // for the change sees it in its next query (both travel to that node in order); another
    // node sees it once the change has reached the peer's node.
    t(ann.hall().put(cid.id.0, "green".into(), true))
        .await
        .unwrap();
    assert_eq!(
        t(ann.hall().census("green".into())).await.unwrap(),
        vec![cid.id.0]
    );
    census_becomes(&bob, "green", vec![cid.id.0]).await;
    t(bob.hall().put(cid.id.0, "green".into(), false))
        .await
        .unwrap();
    assert!(
        t(bob.hall().census("green".into()))
            .await
            .unwrap()
            .is_empty()
    );
    census_becomes(&ann, "green", Vec::new()).await;
    // Node 3 dies (its backplane stops without a word): the others notice within the node
    // timeout; calls to its peers fail with a clear error, calls to many leave it out.
    let dead = nodes.pop().expect("a third node");
    let dead_node = cid.id.node();
    drop(dead.backplane);
    t(async {
        while nodes[0]
            .backplane
            .as_ref()
            .unwrap()
            .nodes()
            .contains(&dead_node)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let error = t(ann.hall().ask(cid.id.0)).await.unwrap_err();
    assert!(
        why(&error).starts_with(&format!("node {dead_node} cannot be reached: ")),
        "{error}"
    );
    let mut two = vec![
        (ann.id.0, "true".to_owned()),
        (bob.id.0, "false".to_owned()),
    ];
    two.sort();
    assert_eq!(t(ann.hall().roll("blue".into())).await.unwrap(), two);
    // Its peers are in no group anywhere: the others no longer find them.
    let mut blue = vec![ann.id.0, bob.id.0];
    blue.sort_unstable();
    assert_eq!(t(bob.hall().census("blue".into())).await.unwrap(), blue);
    t(dead.running.shutdown()).await;
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_call_leaves_no_recipient_unresolved() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let mut nodes = cluster(&redis, 3, options()).await;
    let mut events = nodes[0].running.server().peers().subscribe();
    let ann = Visitor::new(&nodes[0].running.ws_url(), true).await;
    let bob = Visitor::new(&nodes[1].running.ws_url(), false).await;
    let mut cid = Visitor::mute(&nodes[2].running.ws_url()).await;
    for v in [&ann, &bob, &cid] {
        assert!(t(v.hall().enter("blue".into())).await.unwrap());
    }
    // A call to everyone in blue, with cid (node 3) never answering; node 3 dies while
    // the call waits on it (its backplane stops without a word).
    let roll = tokio::spawn({
        let hall = ann.hall();
        async move { t(hall.roll("blue".into())).await }
    });
    assert_eq!(cid.next().await, "asked");
    let dead = nodes.pop().expect("a third node");
    let dead_node = cid.id.node();
    drop(dead.backplane);
    // Every recipient has an outcome: the answers from the nodes alive, and for cid that
    // its node is gone (not the roll's own 5 s deadline).
    let outcomes = t(roll).await.expect("the roll task").unwrap();
    let mut expected = vec![
        (ann.id.0, "true".to_owned()),
        (bob.id.0, "false".to_owned()),
        (
            cid.id.0,
            format!(
                "node {dead_node} cannot be reached: the node is gone: no heartbeat within \
                 the node timeout"
            ),
        ),
    ];
    expected.sort();
    assert_eq!(outcomes, expected);
    // The registry's subscribers heard that the node left.
    node_left(&mut events, dead_node).await;
    t(dead.running.shutdown()).await;
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

/// Waits until a call from `from` to `to` (on another node) is answered again. A call
/// published while a node was still re-subscribing is lost and waits for its deadline
/// (pub/sub delivers at most once): each try has a short one.
async fn calls_cross_again(from: &Visitor, to: &Visitor) {
    t(async {
        loop {
            let hall = from.hall().with_timeout(Duration::from_secs(2));
            match hall.ask(to.id.0).await {
                Ok(here) => return assert!(here),
                Err(e) => assert!(e.is_timeout() || e.remote().is_some(), "{e}"),
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let nodes = cluster(&redis, 2, options()).await;
    let ann = Visitor::new(&nodes[0].running.ws_url(), true).await;
    let mut bob = Visitor::new(&nodes[1].running.ws_url(), true).await;
    let mut cid = Visitor::mute(&nodes[1].running.ws_url()).await;
    t(ann.hall().shout(String::new(), "before".into()))
        .await
        .unwrap();
    assert_eq!(bob.next().await, "before");
    assert_eq!(cid.next().await, "before");
    // A call across that waits (cid never answers) when Redis goes: it fails with a clear
    // error, not at its deadline (30 s by default), whatever happens to its answer.
    let waiting = tokio::spawn({
        let hall = ann.hall();
        let cid = cid.id.0;
        async move { t(hall.ask(cid)).await }
    });
    assert_eq!(cid.next().await, "asked");
    t(redis.restart()).await;
    let error = t(waiting).await.expect("the call task").unwrap_err();
    assert!(
        why(&error).starts_with(&format!("node {} cannot be reached: ", cid.id.node())),
        "{error}"
    );
    // Sends go on locally; once Redis is back and the nodes hear each other again, they
    // cross again.
    t(async {
        loop {
            let _ = ann.hall().shout(String::new(), "after".into()).await;
            if let Ok(Some(text)) =
                tokio::time::timeout(Duration::from_millis(200), bob.heard.recv()).await
            {
                assert_eq!(text, "after");
                return;
            }
        }
    })
    .await;
    // A call crosses again too.
    calls_cross_again(&ann, &bob).await;
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_stops_answering_is_noticed_and_its_return_too() {
    // Redis is frozen with SIGSTOP through the `kill` program.
    if !volley_testing::tools::require(&[volley_testing::tools::kill_available()]) {
        return;
    }
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let options = options();
    let nodes = cluster(&redis, 2, options.clone()).await;
    let ann = Visitor::new(&nodes[0].running.ws_url(), true).await;
    let mut bob = Visitor::new(&nodes[1].running.ws_url(), true).await;
    let mut cid = Visitor::mute(&nodes[1].running.ws_url()).await;
    // A call across that waits (cid never answers) when Redis stops answering: within the
    // node timeout the caller's node takes the subscription as lost (its PING unanswered)
    // or the peer's node as gone (no heartbeat), and the call fails with a clear error then,
    // not at its deadline (30 s by default).
    let waiting = tokio::spawn({
        let hall = ann.hall();
        let cid = cid.id.0;
        async move { t(hall.ask(cid)).await }
    });
    assert_eq!(cid.next().await, "asked");
    redis.pause();
    let paused = std::time::Instant::now();
    let error = t(waiting).await.expect("the call task").unwrap_err();
    let after = paused.elapsed();
    assert!(
        why(&error).starts_with(&format!("node {} cannot be reached: ", cid.id.node())),
        "{error}"
    );
    // The node timeout, plus at most a heartbeat for the read that notices it.
    let bound = options.node_timeout + options.heartbeat * 2;
    assert!(
        after < bound,
        "noticed after {after:?}, more than {bound:?}"
    );
    redis.resume();
    // Once Redis answers again the nodes hear each other and calls cross again.
    calls_cross_again(&ann, &bob).await;
    t(ann.hall().shout(String::new(), "back".into()))
        .await
        .unwrap();
    assert_eq!(bob.next().await, "back");
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

/// One thread: the node's publisher cannot run while the test's own poll goes on.
#[tokio::test(flavor = "current_thread")]
async fn a_call_whose_message_cannot_be_queued_fails_at_once() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let nodes = cluster(&redis, 2, options().queue(1)).await;
    let bob = Visitor::new(&nodes[1].running.ws_url(), true).await;
    let peers = nodes[0].running.server().peers().clone();
    // Three calls from node A to bob on node B, made within one poll: the first fills the
    // queue of one, the other two cannot be queued and fail at once (not at their 30 s
    // deadline); the first is answered.
    let calls = (0..3).map(|_| peers.request(bob.id, "here", None, None));
    let outcomes = t(futures_util::future::join_all(calls)).await;
    let answered: Vec<bool> = outcomes.iter().map(Result::is_ok).collect();
    assert_eq!(answered, [true, false, false], "{outcomes:?}");
    for outcome in &outcomes[1..] {
        match outcome {
            Err(volley::Error::Unreachable { node, reason }) => {
                assert_eq!(*node, bob.id.node());
                assert!(reason.contains("publish queue is full"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // With room again, calls cross as before.
    assert!(t(peers.request(bob.id, "here", None, None)).await.is_ok());
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_with_a_password_or_a_user_is_joined() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    // The password for the default user, and a user of its own for the second node.
    let client = redis::Client::open(redis.url()).expect("a client");
    let mut admin = t(client.get_multiplexed_async_connection())
        .await
        .expect("connect");
    let created: String = t(redis::cmd("ACL")
        .arg(&["SETUSER", "volley", "on", ">node-pw", "~*", "&*", "+@all"])
        .query_async(&mut admin))
    .await
    .expect("ACL SETUSER");
    assert_eq!(created, "OK");
    let set: String = t(redis::cmd("CONFIG")
        .arg(&["SET", "requirepass", "s3cret"])
        .query_async(&mut admin))
    .await
    .expect("CONFIG SET");
    assert_eq!(set, "OK");
    let port = redis.port();
    let urls = [
        format!("redis://:s3cret@127.0.0.1:{port}/"),
        format!("redis://volley:node-pw@127.0.0.1:{port}/"),
    ];
    let mut nodes = Vec::new();
    for url in &urls {
        nodes.push(node(url, options()).await);
    }
    t(async {
        while nodes
            .iter()
            .any(|n| n.backplane.as_ref().expect("joined").nodes().len() != 1)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    // Sends and calls cross both ways: both nodes publish with their credentials.
    let ann = Visitor::new(&nodes[0].running.ws_url(), true).await;
    let mut bob = Visitor::new(&nodes[1].running.ws_url(), false).await;
    t(ann.hall().shout(String::new(), "hello".into()))
        .await
        .unwrap();
    assert_eq!(bob.next().await, "hello");
    assert!(!t(ann.hall().ask(bob.id.0)).await.unwrap());
    assert!(t(bob.hall().ask(ann.id.0)).await.unwrap());
    // A wrong password is refused at once, with Redis's reason.
    let server = Server::builder().build();
    let wrong = format!("redis://:wrong@127.0.0.1:{port}/");
    let error = t(RedisBackplane::join(server.peers(), &wrong, options()))
        .await
        .expect_err("a wrong password");
    assert!(error.to_string().contains("WRONGPASS"), "{error}");
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

/// Publishes `payload` on `channel` of the Redis at `url`, as a node of any version would.
async fn publish(url: &str, channel: &str, payload: String) {
    let client = redis::Client::open(url).expect("a client");
    let mut conn = t(client.get_multiplexed_async_connection())
        .await
        .expect("connect");
    let _: i64 = t(redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async(&mut conn))
    .await
    .expect("PUBLISH");
}

/// The reason a call from `peers` to `id` (on another node) cannot be made.
async fn unreachable_why(peers: &volley::Peers, id: PeerId) -> String {
    match t(peers.request(id, "here", None, None)).await {
        Err(volley::Error::Unreachable { node, reason }) => {
            assert_eq!(node, id.node());
            reason
        }
        other => panic!("{other:?}"),
    }
}

/// A heartbeat of node `n` in format version `version`, as published.
fn heartbeat(n: u16, version: u32) -> String {
    format!("v{version} {n}\n\"heartbeat\"")
}

/// Heartbeats of node `n` in format version `version` on the cluster channel, every 50 ms
/// (a node of another release, played by the test), until [`Beats::stop`].
struct Beats {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Beats {
    fn start(url: String, namespace: &str, n: u16, version: u32) -> Self {
        let channel = format!("{namespace}:cluster");
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                while !stop.load(Ordering::Relaxed) {
                    publish(&url, &channel, heartbeat(n, version)).await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
        Self { stop, task }
    }

    /// Stops them; every heartbeat published has been answered by Redis when this returns
    /// (none arrives after what the test publishes next).
    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        t(self.task).await.expect("the heartbeats' task");
    }
}

/// A node number that none of `nodes` has.
fn unused_number(nodes: &[Node]) -> u16 {
    let taken: Vec<u16> = nodes
        .iter()
        .map(|n| n.backplane.as_ref().expect("joined").node().get())
        .collect();
    (1..=NodeId::MAX)
        .rev()
        .find(|n| !taken.contains(n))
        .expect("a free number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_wire_version_is_known_but_not_spoken_to() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let options = options();
    let namespace = options.namespace.clone();
    let nodes = cluster(&redis, 2, options).await;
    let mut ann = Visitor::new(&nodes[0].running.ws_url(), true).await;
    let bob = Visitor::new(&nodes[1].running.ws_url(), true).await;
    let peers = nodes[0].running.server().peers().clone();
    let ours = volley_redis::WIRE_VERSION;
    let next = ours + 1;
    // A node that is none of the test's runs a release of the next version.
    let n = unused_number(&nodes);
    let stranger = NodeId::new(n).expect("a node number");
    let someone = PeerId(u64::from(n) << 40 | 1);
    assert_eq!(someone.node(), stranger);
    assert_eq!(
        unreachable_why(&peers, someone).await,
        "no heartbeat heard from it"
    );
    let beats = Beats::start(redis.url(), &namespace, n, next);
    let versions = format!("it speaks backplane version {next} and this node {ours}");
    t(async {
        while unreachable_why(&peers, someone).await != versions {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    // Known, but not one of the nodes sends and queries go to.
    let backplane = nodes[0].backplane.as_ref().expect("joined");
    assert_eq!(backplane.nodes(), vec![bob.id.node()]);
    // What it sends is not read: a send to everyone in the next version, then the same in
    // this one. Ann hears only the second.
    let send = |version: u32, text: &str| {
        format!(
            "v{version} {n}\n{{\"notify\":{{\"to\":\"all\",\"except\":[]}}}}\n\
             {{\"jsonrpc\":\"2.0\",\"method\":\"heard\",\"params\":{{\"text\":\"{text}\"}}}}"
        )
    };
    let cluster_channel = format!("{namespace}:cluster");
    publish(&redis.url(), &cluster_channel, send(next, "unread")).await;
    publish(&redis.url(), &cluster_channel, send(ours, "read")).await;
    assert_eq!(ann.next().await, "read");
    // Silent for the node timeout, it is forgotten.
    beats.stop().await;
    t(async {
        while unreachable_why(&peers, someone).await != "no heartbeat heard from it" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_comes_back_in_another_wire_version_is_gone_at_once() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    // A node timeout longer than the test's own: a node can only be gone by its version.
    let options = options().node_timeout(Duration::from_secs(60));
    let namespace = options.namespace.clone();
    let mut nodes = cluster(&redis, 2, options).await;
    let mut events = nodes[0].running.server().peers().subscribe();
    let ann = Visitor::new(&nodes[0].running.ws_url(), true).await;
    let bob = Visitor::new(&nodes[1].running.ws_url(), true).await;
    let peers = nodes[0].running.server().peers().clone();
    assert!(t(ann.hall().ask(bob.id.0)).await.unwrap());
    // Bob's node stops without a word, and its number speaks the next version (upgraded
    // in place): it is gone at once, and calls to bob say why.
    let upgraded = bob.id.node();
    let mut old = nodes.pop().expect("bob's node");
    drop(old.backplane.take());
    let next = volley_redis::WIRE_VERSION + 1;
    let beats = Beats::start(redis.url(), &namespace, upgraded.get(), next);
    node_left(&mut events, upgraded).await;
    let ours = volley_redis::WIRE_VERSION;
    assert_eq!(
        unreachable_why(&peers, bob.id).await,
        format!("it speaks backplane version {next} and this node {ours}")
    );
    // Back in this node's version (downgraded again): live, and no longer taken as of the
    // other version. Gone again by its goodbye, it is one not heard from, not one of
    // another version (the node timeout, 60 s, has not swept anything).
    beats.stop().await;
    let cluster_channel = format!("{namespace}:cluster");
    let n = upgraded.get();
    publish(&redis.url(), &cluster_channel, heartbeat(n, ours)).await;
    let backplane = nodes[0].backplane.as_ref().expect("joined");
    t(async {
        while !backplane.nodes().contains(&upgraded) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let goodbye = format!("v{ours} {n}\n\"leaving\"");
    publish(&redis.url(), &cluster_channel, goodbye).await;
    t(async {
        while backplane.nodes().contains(&upgraded) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        unreachable_why(&peers, bob.id).await,
        "no heartbeat heard from it"
    );
    t(old.running.shutdown()).await;
    for node in nodes {
        t(node.running.shutdown()).await;
    }
}
