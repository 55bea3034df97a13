//! Two chat servers with the same Redis form one chat: the same rooms, members and history
//! on both, `say` reaching every member on either, `rollCall` reporting every member by
//! name, `kick` reaching a member on the other server, names unique across them, and the
//! members of a server that dies leaving their rooms. Against a `redis-server` of the
//! test's own; without one each test prints `SKIPPED: ...` (fails under
//! `VOLLEY_REQUIRE_ALL=1`).

mod common;

use std::time::Duration;

use common::{Answer, Guest, code, t};
use example_chat::{KickOutcome, Options, RollCall, RoomInfo, codes};
use volley::RunningServer;
use volley_redis::RedisBackplane;
use volley_testing::redis::RedisServer;

/// One chat server joined to the chat at `redis`.
async fn node(redis: &RedisServer) -> (RunningServer, RedisBackplane) {
    let cluster = volley_redis::Options::default()
        .heartbeat(Duration::from_millis(100))
        .node_timeout(Duration::from_millis(600));
    let (server, backplane) = t(example_chat::cluster_server(
        Options::default().kick_timeout(Duration::from_secs(5)),
        &redis.url(),
        cluster,
    ))
    .await
    .expect("join the chat");
    let running = t(server.listen_with("127.0.0.1:0", example_chat::app(&server)))
        .await
        .expect("listen");
    (running, backplane)
}

/// Two servers that see each other.
async fn two(redis: &RedisServer) -> [(RunningServer, RedisBackplane); 2] {
    let (a, b) = (node(redis).await, node(redis).await);
    t(async {
        while a.1.nodes() != [b.1.node()] || b.1.nodes() != [a.1.node()] {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    [a, b]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_form_one_chat() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let [(a, _keep_a), (b, _keep_b)] = two(&redis).await;
    // ada on the first server, bob on the second: one room, one member list.
    let mut ada = Guest::join(&a, "ada").await;
    let mut bob = Guest::connect(&b).await;
    let joined = t(bob.room.join("bob".into(), None)).await.unwrap();
    assert_eq!(joined.members, ["ada", "bob"]);
    let said: Vec<&str> = joined.history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(said, ["ada joined", "bob joined"]);
    ada.members(&["ada", "bob"]).await;
    // Names are unique across the servers (regardless of case).
    let cy = Guest::connect(&b).await;
    assert_eq!(
        code(t(cy.room.join("ADA".into(), None)).await),
        codes::NAME_TAKEN
    );
    // What either says reaches the other, in order, and stays in the shared history.
    t(ada.room.say("hello from a".into())).await.unwrap();
    assert_eq!(
        bob.message("hello from a").await.from.as_deref(),
        Some("ada")
    );
    t(bob.room.say("hello from b".into())).await.unwrap();
    assert_eq!(
        ada.message("hello from b").await.from.as_deref(),
        Some("bob")
    );
    let cy = Guest::connect(&a).await;
    let joined = t(cy.room.join("cy".into(), None)).await.unwrap();
    let said: Vec<&str> = joined.history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        said,
        [
            "ada joined",
            "bob joined",
            "hello from a",
            "hello from b",
            "cy joined"
        ]
    );
    let rooms = t(bob.room.rooms()).await.unwrap();
    assert_eq!(
        rooms,
        [RoomInfo {
            name: "lobby".into(),
            members: 3
        }]
    );
    // A roll call asks the members on both servers and names each.
    bob.answer_here(Answer::No);
    let call = t(cy.room.roll_call(5_000)).await.unwrap();
    assert_eq!(
        call,
        RollCall {
            present: vec!["ada".into(), "cy".into()],
            away: vec!["bob".into()],
            silent: vec![],
        }
    );
    // A kick reaches its target on the other server; agreeing takes them out of the room
    // (and its group, on their server).
    bob.answer(Answer::Yes);
    let kick = tokio::spawn({
        let room = ada.room.clone();
        async move { t(room.kick("Bob".into())).await }
    });
    assert_eq!(bob.asked().await, "ada");
    assert_eq!(
        t(kick).await.expect("the kick task").unwrap(),
        KickOutcome::Accepted
    );
    ada.members(&["ada", "cy"]).await;
    t(async {
        while !b.server().peers().groups().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(
        code(t(bob.room.say("still here?".into())).await),
        codes::NOT_JOINED
    );
    // bob comes back, and leaves by closing his page: announced on the other server.
    t(bob.room.join("bob".into(), None)).await.unwrap();
    ada.members(&["ada", "cy", "bob"]).await;
    bob.close().await;
    ada.message("bob left").await;
    ada.members(&["ada", "cy"]).await;
    for running in [a, b] {
        t(running.shutdown()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_of_a_server_that_dies_leave_their_rooms() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let [(a, _keep_a), (b, backplane_b)] = two(&redis).await;
    let mut ada = Guest::join(&a, "ada").await;
    let _bob = Guest::join(&b, "bob").await;
    let _cy = Guest::join_room(&b, "cy", "den").await;
    ada.members(&["ada", "bob"]).await;
    // The second server stops answering (its backplane stops without a word; its pages
    // stay connected to it): within the node timeout, the first takes its members out.
    drop(backplane_b);
    ada.message("bob left (their server is gone)").await;
    ada.members(&["ada"]).await;
    let rooms = t(ada.room.rooms()).await.unwrap();
    assert_eq!(
        rooms,
        [RoomInfo {
            name: "lobby".into(),
            members: 1
        }]
    );
    // The name is free again.
    let bob = Guest::connect(&a).await;
    t(bob.room.join("bob".into(), None)).await.unwrap();
    for running in [a, b] {
        t(running.shutdown()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_starts_clears_what_dead_servers_left() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    // A lone server with a member dies with nobody else to notice.
    let (a, backplane_a) = node(&redis).await;
    let _ada = Guest::join(&a, "ada").await;
    drop(backplane_a);
    // Once its claim has expired, a server that starts clears its members away.
    t(async {
        loop {
            let (b, _keep) = node(&redis).await;
            let bob = Guest::connect(&b).await;
            let rooms = t(bob.room.rooms()).await.unwrap();
            t(b.shutdown()).await;
            if rooms.is_empty() {
                return;
            }
            // Its claim lives for the node timeout after its last heartbeat.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    t(a.shutdown()).await;
}
