//! The `client` binary's logic, [`example_callbacks::run_client`], against the server.

mod common;

use std::time::Duration;

use common::{TestServer, t};
use example_callbacks::{ClientOptions, run_client};
use volley::PeerEvent;

fn options(answer: bool) -> ClientOptions {
    ClientOptions {
        question: "ready?".to_owned(),
        answer,
        ticks: 3,
        tick_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn the_client_adds_gets_its_own_answer_back_counts_ticks_and_closes() {
    let server = TestServer::start(Duration::from_millis(20)).await;
    let mut events = server.running.server().peers().subscribe();

    for answer in [true, false] {
        let summary = t(run_client(&server.url(), &options(answer)))
            .await
            .expect("run_client");
        assert_eq!(summary.sum, 3);
        assert_eq!(summary.confirmed, answer);
        assert_eq!(summary.ticks.len(), 3, "{summary:?}");
        assert!(
            summary.ticks.windows(2).all(|w| w[1] == w[0] + 1),
            "ticks count up one by one: {summary:?}"
        );

        let Ok(PeerEvent::Connected(peer)) = t(events.recv()).await else {
            panic!("expected the client to connect")
        };
        match t(events.recv()).await {
            Ok(PeerEvent::Disconnected { id, reason }) => {
                assert_eq!(id, peer.id());
                assert_eq!(reason.code, 1000, "a clean close: {reason:?}");
            }
            other => panic!("expected the client to disconnect, got {other:?}"),
        }
    }
    assert!(server.running.server().peers().is_empty());

    server.stop().await;
}

#[tokio::test]
async fn the_client_reports_a_server_that_is_not_there() {
    let listener = t(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .expect("bind");
    let url = format!("ws://{}/ws", listener.local_addr().expect("addr"));
    drop(listener);
    let error = t(run_client(&url, &options(true)))
        .await
        .expect_err("nothing listens there");
    // The connect itself failed, refused by the closed port (not some later step).
    assert!(
        matches!(
            error.downcast_ref::<volley::ConnectError>(),
            Some(volley::ConnectError::WebSocket(_))
        ),
        "{error:?}"
    );
    let refused = std::iter::successors(Some(&*error as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .filter_map(|e| e.downcast_ref::<std::io::Error>())
    .any(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
    assert!(refused, "not a refused connection: {error:?}");
}
