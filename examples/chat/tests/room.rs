//! The room's logic over real sockets: members played by volley clients and by a raw
//! WebSocket speaking hand-written JSON-RPC.

mod common;

use std::time::Duration;

use common::{Answer, Guest, Pushed, code, start, t};
use example_chat::{ChatError, KickOutcome, Options, codes};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn join_returns_the_members_and_the_history() {
    let running = start(Options::default()).await;
    let mut ada = Guest::join(&running, "ada").await;
    t(ada.room.say("hello".into())).await.expect("say");
    ada.message("hello").await;

    let bob = Guest::connect(&running).await;
    let joined = t(bob.room.join("  bob ".into(), None)).await.expect("join");
    assert_eq!(joined.you, "bob", "the name is trimmed");
    assert_eq!(joined.members, ["ada", "bob"]);
    let lines: Vec<(Option<&str>, &str)> = joined
        .history
        .iter()
        .map(|m| (m.from.as_deref(), m.text.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (None, "ada joined"),
            (Some("ada"), "hello"),
            (None, "bob joined")
        ]
    );
    assert!(joined.history.windows(2).all(|w| w[0].at <= w[1].at));

    // ada hears about bob.
    let announced = ada.message("bob joined").await;
    assert_eq!(announced.from, None);
    ada.members(&["ada", "bob"]).await;
    bob.close().await;
    ada.close().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn say_reaches_every_member_in_the_same_order() {
    let running = start(Options::default()).await;
    let mut ada = Guest::join(&running, "ada").await;
    let mut bob = Guest::join(&running, "bob").await;
    ada.members(&["ada", "bob"]).await;

    for i in 0..20 {
        let (who, text) = if i % 2 == 0 {
            (&ada, format!("ada {i}"))
        } else {
            (&bob, format!("bob {i}"))
        };
        t(who.room.say(text)).await.expect("say");
    }
    let mut seen = [Vec::new(), Vec::new()];
    for (guest, seen) in [&mut ada, &mut bob].into_iter().zip(seen.iter_mut()) {
        t(async {
            while seen.len() < 20 {
                if let Pushed::Message(m) = guest.next().await
                    && let Some(from) = m.from
                {
                    seen.push((from, m.text));
                }
            }
        })
        .await;
    }
    assert_eq!(seen[0], seen[1], "both members saw the same conversation");
    assert_eq!(seen[0][0], ("ada".to_owned(), "ada 0".to_owned()));
    assert_eq!(seen[0][19], ("bob".to_owned(), "bob 19".to_owned()));
    ada.close().await;
    bob.close().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_confirmed_kick_removes_the_member_and_is_announced() {
    let running = start(Options::default()).await;
    let mut ada = Guest::join(&running, "ada").await;
    let mut bob = Guest::join(&running, "bob").await;
    let mut cy = Guest::join(&running, "cy").await;
    bob.answer(Answer::Yes);

    let outcome = t(ada.room.kick("BOB".into())).await.expect("kick");
    assert_eq!(outcome, KickOutcome::Accepted);
    assert_eq!(bob.asked().await, "ada", "bob was asked, and told by whom");
    for guest in [&mut ada, &mut cy] {
        guest.message("ada asked bob to leave the room").await;
        guest
            .message("bob agreed to leave and was removed by ada")
            .await;
        guest.members(&["ada", "cy"]).await;
    }
    assert_eq!(
        code(t(bob.room.say("still here?".into())).await),
        codes::NOT_JOINED
    );
    // bob may come back.
    let joined = t(bob.room.join("bob".into(), None))
        .await
        .expect("join again");
    assert_eq!(joined.members, ["ada", "cy", "bob"]);
    for guest in [ada, bob, cy] {
        guest.close().await;
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_refused_kick_keeps_the_member() {
    let running = start(Options::default()).await;
    let mut ada = Guest::join(&running, "ada").await;
    let mut bob = Guest::join(&running, "bob").await;
    bob.answer(Answer::No);

    let outcome = t(ada.room.kick("bob".into())).await.expect("kick");
    assert_eq!(outcome, KickOutcome::Refused);
    assert_eq!(bob.asked().await, "ada");
    ada.message("bob refused to leave").await;
    bob.message("bob refused to leave").await;
    t(bob.room.say("still here".into())).await.expect("say");
    ada.message("still here").await;
    ada.close().await;
    bob.close().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn an_unanswered_kick_times_out_and_one_kick_at_a_time() {
    let options = Options::default().kick_timeout(Duration::from_millis(300));
    let running = start(options).await;
    let mut ada = Guest::join(&running, "ada").await;
    let mut bob = Guest::join(&running, "bob").await;
    let cy = Guest::join(&running, "cy").await;
    bob.answer(Answer::Never);

    let kick = tokio::spawn({
        let room = ada.room.clone();
        async move { room.kick("bob".into()).await }
    });
    bob.asked().await;
    assert_eq!(
        code(t(cy.room.kick("bob".into())).await),
        codes::KICK_PENDING,
        "bob is being asked already"
    );
    let outcome = t(kick).await.expect("task").expect("kick");
    assert_eq!(outcome, KickOutcome::Unanswered);
    ada.message("bob did not answer and stays").await;

    // Once answered (or not), bob can be asked again.
    bob.answer(Answer::No);
    let outcome = t(cy.room.kick("bob".into())).await.expect("kick");
    assert_eq!(outcome, KickOutcome::Refused);
    for guest in [ada, bob, cy] {
        guest.close().await;
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn bad_input_gets_the_room_s_error_codes() {
    let running = start(Options::default()).await;
    let ada = Guest::connect(&running).await;
    let room = &ada.room;

    assert_eq!(code(t(room.say("hi".into())).await), codes::NOT_JOINED);
    assert_eq!(code(t(room.kick("x".into())).await), codes::NOT_JOINED);
    assert_eq!(code(t(room.leave()).await), codes::NOT_JOINED);
    for bad in ["", "   ", "a\u{7}b", &"x".repeat(25)] {
        assert_eq!(
            code(t(room.join(bad.into(), None)).await),
            codes::INVALID_NAME,
            "{bad:?}"
        );
    }
    t(room.join("Ada".into(), None)).await.expect("join");
    assert_eq!(
        code(t(room.join("other".into(), None)).await),
        codes::ALREADY_JOINED
    );

    let bob = Guest::connect(&running).await;
    // The stub decodes the room's error; re-encoded, it is what the server sent.
    match t(bob.room.join("aDA".into(), None)).await {
        Err(volley::CallError::App(e)) => {
            assert_eq!(e, ChatError::NameTaken { name: "Ada".into() });
            let e = volley::ErrorObject::from(e);
            assert_eq!(e.code(), codes::NAME_TAKEN);
            assert_eq!(e.message(), "Someone called Ada is already here.");
            let data: Value = serde_json::from_str(e.data().expect("data").get()).expect("json");
            assert_eq!(data, json!({"name": "Ada"}));
        }
        other => panic!("expected NAME_TAKEN, got {other:?}"),
    }

    assert_eq!(code(t(room.say(" \n ".into())).await), codes::EMPTY_TEXT);
    match t(room.say("é".repeat(501))).await {
        Err(volley::CallError::App(e)) => {
            assert_eq!(
                e.to_string(),
                "The message is too long (501 characters; at most 500)."
            );
            let e = volley::ErrorObject::from(e);
            assert_eq!(e.code(), codes::TEXT_TOO_LONG);
            let data: Value = serde_json::from_str(e.data().expect("data").get()).expect("json");
            assert_eq!(data, json!({"max": 500, "length": 501}));
        }
        other => panic!("expected TEXT_TOO_LONG, got {other:?}"),
    }
    t(room.say("é".repeat(500)))
        .await
        .expect("500 characters are fine, however many bytes");
    assert_eq!(
        code(t(room.kick("nobody".into())).await),
        codes::NO_SUCH_MEMBER
    );
    assert_eq!(
        code(t(room.kick("ada".into())).await),
        codes::CANNOT_KICK_YOURSELF
    );
    ada.close().await;
    bob.close().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_member_who_disconnects_or_leaves_is_forgotten() {
    let running = start(Options::default()).await;
    let mut ada = Guest::join(&running, "ada").await;
    let bob = Guest::join(&running, "bob").await;
    ada.members(&["ada", "bob"]).await;

    bob.close().await;
    ada.message("bob left").await;
    ada.members(&["ada"]).await;
    let bob = Guest::join(&running, "bob").await;
    ada.members(&["ada", "bob"]).await;

    t(bob.room.leave()).await.expect("leave");
    ada.message("bob left").await;
    ada.members(&["ada"]).await;
    assert_eq!(
        code(t(bob.room.say("hello?".into())).await),
        codes::NOT_JOINED
    );

    // A member whose connection drops without a close frame is forgotten too.
    let (mut cy, _) = t(tokio_tungstenite::connect_async(running.ws_url()))
        .await
        .expect("connect");
    send(
        &mut cy,
        json!({"jsonrpc": "2.0", "id": 1, "method": "join", "params": {"name": "cy"}}),
    )
    .await;
    ada.members(&["ada", "cy"]).await;
    drop(cy);
    ada.message("cy left").await;
    ada.members(&["ada"]).await;
    ada.close().await;
    bob.close().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn the_history_keeps_the_latest_messages() {
    let running = start(Options::default().history(3)).await;
    let ada = Guest::join(&running, "ada").await;
    for text in ["one", "two", "three", "four"] {
        t(ada.room.say(text.into())).await.expect("say");
    }
    let bob = Guest::connect(&running).await;
    let joined = t(bob.room.join("bob".into(), None)).await.expect("join");
    let texts: Vec<&str> = joined.history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["three", "four", "bob joined"]);
    ada.close().await;
    bob.close().await;
    t(running.shutdown()).await;
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn send(ws: &mut Ws, frame: Value) {
    t(ws.send(Message::Text(frame.to_string().into())))
        .await
        .expect("send");
}

async fn recv(ws: &mut Ws) -> Value {
    t(async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text).expect("json");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    })
    .await
}

/// The next message that is not a `message` or `members` notification.
async fn recv_skipping_pushes(ws: &mut Ws) -> Value {
    t(async {
        loop {
            let frame = recv(ws).await;
            if frame["method"] != "message" && frame["method"] != "members" {
                return frame;
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_raw_json_rpc_client_can_take_part() {
    let running = start(Options::default()).await;
    let (mut ws, _) = t(tokio_tungstenite::connect_async(running.ws_url()))
        .await
        .expect("connect");

    // Params by position work as well as by name.
    send(
        &mut ws,
        json!({"jsonrpc": "2.0", "id": 1, "method": "join", "params": ["raw"]}),
    )
    .await;
    let joined = t(async {
        loop {
            let frame = recv(&mut ws).await;
            if frame["id"] == 1 {
                break frame;
            }
        }
    })
    .await;
    assert_eq!(joined["result"]["you"], "raw");
    assert_eq!(joined["result"]["members"], json!(["raw"]));

    send(
        &mut ws,
        json!({"jsonrpc": "2.0", "id": 2, "method": "say", "params": {"text": "hi"}}),
    )
    .await;
    let mut said = None;
    let mut answered = false;
    t(async {
        while said.is_none() || !answered {
            let frame = recv(&mut ws).await;
            if frame["id"] == 2 {
                assert_eq!(frame, json!({"jsonrpc": "2.0", "id": 2, "result": null}));
                answered = true;
            } else if frame["method"] == "message" && frame["params"]["text"] == "hi" {
                said = Some(frame);
            }
        }
    })
    .await;
    let said = said.unwrap();
    assert!(said.get("id").is_none(), "a notification: {said}");
    assert_eq!(said["params"]["from"], "raw");
    assert!(said["params"]["at"].is_u64(), "{said}");

    send(
        &mut ws,
        json!({"jsonrpc": "2.0", "id": 3, "method": "say", "params": {"text": ""}}),
    )
    .await;
    let refused = recv_skipping_pushes(&mut ws).await;
    assert_eq!(refused["id"], 3);
    assert_eq!(refused["error"]["code"], codes::EMPTY_TEXT);
    assert_eq!(refused["error"]["message"], "The message is empty.");

    // Another member asks the raw client to leave; it answers by hand.
    let ada = Guest::join(&running, "ada").await;
    let kick = tokio::spawn({
        let room = ada.room.clone();
        async move { room.kick("raw".into()).await }
    });
    let asked = recv_skipping_pushes(&mut ws).await;
    assert_eq!(asked["method"], "confirmKick");
    assert_eq!(asked["params"], json!({"by": "ada"}));
    send(
        &mut ws,
        json!({"jsonrpc": "2.0", "id": asked["id"], "result": true}),
    )
    .await;
    let outcome = t(kick).await.expect("task").expect("kick");
    assert_eq!(outcome, KickOutcome::Accepted);

    t(ws.close(None)).await.expect("close");
    ada.close().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn root_serves_the_page_which_uses_volley_js() {
    let running = start(Options::default()).await;
    let mut tcp = t(TcpStream::connect(running.local_addr()))
        .await
        .expect("connect");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        running.local_addr()
    );
    t(tcp.write_all(request.as_bytes())).await.expect("write");
    let mut response = String::new();
    t(tcp.read_to_string(&mut response)).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, example_chat::INDEX_HTML);
    for needle in [
        r#"<script type="module">"#,
        "from '/volley.js'",
        "connect('/ws'",
        "confirmKick",
        "peer.call('join'",
        "peer.call('say'",
        "peer.call('kick'",
        "peer.call('leave', {})",
        "peer.call('rollCall'",
        "here:",
    ] {
        assert!(body.contains(needle), "the page lacks `{needle}`");
    }
    t(running.shutdown()).await;
}
