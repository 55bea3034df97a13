//! Rooms (volley groups) and the roll call, over real sockets.

mod common;

use common::{Answer, Guest, Pushed, code, start, t};
use example_chat::{ChatError, Options, RollCall, RoomInfo, codes};

/// Proves `guest` was not sent anything more: a line said in its own room arrives after
/// anything queued for it before (one ordered socket), and nothing else came first.
async fn nothing_before(guest: &mut Guest, line: &str) {
    t(guest.room.say(line.to_owned())).await.expect("say");
    loop {
        match guest.next().await {
            Pushed::Message(m) if m.text == line => return,
            Pushed::Message(m) if m.from.is_none() => continue,
            Pushed::Members(_) => continue,
            other => panic!("expected nothing before {line:?}, got {other:?}"),
        }
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn rooms_are_separate_and_a_member_can_switch() {
    let running = start(Options::default()).await;
    let mut ada = Guest::join(&running, "ada").await;
    let mut bob = Guest::join_room(&running, "bob", "lobby").await;
    let mut cy = Guest::join_room(&running, "cy", " kitchen ").await;
    // Names are unique per room only.
    let ada_too = Guest::join_room(&running, "ADA", "kitchen").await;

    t(ada.room.say("in the lobby".into())).await.unwrap();
    ada.message("in the lobby").await;
    bob.message("in the lobby").await;
    t(cy.room.say("in the kitchen".into())).await.unwrap();
    cy.message("in the kitchen").await;
    // Nothing from the lobby reached the kitchen, and nothing from the kitchen the lobby.
    nothing_before(&mut cy, "kitchen check").await;
    nothing_before(&mut bob, "lobby check").await;

    let rooms = t(ada.room.rooms()).await.unwrap();
    let expected = [("kitchen", 2), ("lobby", 2)].map(|(name, members)| RoomInfo {
        name: name.into(),
        members,
    });
    assert_eq!(rooms, expected);

    // Switching: leave, then join another room; the lobby is told, the kitchen greets.
    assert_eq!(
        code(t(bob.room.join("bob".into(), Some("kitchen".into()))).await),
        codes::ALREADY_JOINED
    );
    t(bob.room.leave()).await.unwrap();
    ada.message("bob left").await;
    ada.members(&["ada"]).await;
    let joined = t(bob.room.join("bob".into(), Some("kitchen".into())))
        .await
        .unwrap();
    assert_eq!(joined.room, "kitchen");
    assert_eq!(joined.members, ["cy", "ADA", "bob"]);
    let kitchen_lines: Vec<&str> = joined.history.iter().map(|m| m.text.as_str()).collect();
    assert!(kitchen_lines.contains(&"in the kitchen"));
    assert!(!kitchen_lines.contains(&"in the lobby"));
    cy.members(&["cy", "ADA", "bob"]).await;
    t(bob.room.say("hi kitchen".into())).await.unwrap();
    cy.message("hi kitchen").await;
    nothing_before(&mut ada, "lobby again").await;

    // The last member out forgets the room.
    t(ada.room.leave()).await.unwrap();
    let rooms = t(cy.room.rooms()).await.unwrap();
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].name, "kitchen");
    for guest in [ada, bob, cy, ada_too] {
        guest.close().await;
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn room_names_are_checked_at_their_limits() {
    let running = start(Options::default()).await;
    let guest = Guest::connect(&running).await;
    let room = &guest.room;
    for bad in ["", "   ", "a\u{7}b", &"r".repeat(33)] {
        assert_eq!(
            code(t(room.join("ada".into(), Some(bad.to_owned()))).await),
            codes::INVALID_ROOM,
            "{bad:?}"
        );
    }
    let joined = t(room.join("ada".into(), Some("r".repeat(32)))).await;
    assert_eq!(joined.unwrap().room, "r".repeat(32));
    guest.close().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_roll_call_asks_the_callers_room_at_once_and_reports_each_member_by_name() {
    let running = start(Options::default()).await;
    let mut ada = Guest::join(&running, "ada").await;
    let mut bob = Guest::join(&running, "bob").await;
    let mut cy = Guest::join(&running, "cy").await;
    let mut dee = Guest::join_room(&running, "dee", "kitchen").await;
    bob.answer_here(Answer::No);
    cy.answer_here(Answer::Never);

    let call = t(ada.room.roll_call(2_000)).await.unwrap();
    assert_eq!(
        call,
        RollCall {
            present: names(&["ada"]),
            away: names(&["bob"]),
            silent: names(&["cy"]),
        }
    );
    // Everyone in the lobby was asked, the caller too; nobody in the kitchen.
    for guest in [&mut ada, &mut bob, &mut cy] {
        t(async { while guest.next().await != Pushed::RollCalled {} }).await;
    }
    nothing_before(&mut dee, "still in the kitchen").await;

    // A member whose connection ends while asked is reported silent at once, not when the
    // deadline passes (a minute here, far beyond the test's own limit).
    let pending = tokio::spawn({
        let room = bob.room.clone();
        async move { room.roll_call(60_000).await }
    });
    t(async { while cy.next().await != Pushed::RollCalled {} }).await;
    cy.close().await;
    let call = t(pending).await.unwrap().unwrap();
    assert_eq!(call.present, names(&["ada"]));
    assert_eq!(call.away, names(&["bob"]));
    assert_eq!(call.silent, names(&["cy"]));

    // Only members may call the roll.
    let stranger = Guest::connect(&running).await;
    assert_eq!(
        code(t(stranger.room.roll_call(100)).await),
        codes::NOT_JOINED
    );
    for guest in [ada, bob, dee, stranger] {
        guest.close().await;
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_roll_calls_timeout_is_checked_at_its_limits() {
    let running = start(Options::default()).await;
    let ada = Guest::join(&running, "ada").await;
    for bad in [0, 60_001, u64::MAX] {
        match t(ada.room.roll_call(bad)).await {
            Err(volley::CallError::App(e)) => {
                assert_eq!(e.code(), codes::INVALID_TIMEOUT);
                assert_eq!(
                    e,
                    ChatError::InvalidTimeout {
                        ms: bad,
                        min: 1,
                        max: 60_000
                    }
                );
            }
            other => panic!("timeoutMs {bad}: expected an error, got {other:?}"),
        }
    }
    // At 1 ms the answer may or may not make it; either way ada is reported.
    let call = t(ada.room.roll_call(1)).await.unwrap();
    assert_eq!(call.present.len() + call.silent.len(), 1);
    let call = t(ada.room.roll_call(60_000)).await.unwrap();
    assert_eq!(call.present, names(&["ada"]));
    ada.close().await;
    t(running.shutdown()).await;
}
