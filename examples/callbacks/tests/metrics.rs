//! `/metrics`: volley's counters and histograms through the `metrics` facade, rendered by the
//! Prometheus exporter on a route of the same axum app. (One test: the recorder is global to
//! the process, and both ends of the connection run in it, so each counts its own side.)

mod common;

use common::t;
use example_callbacks::{Browser, CalculatorClient, Console};
use volley::{Client, PeerEvent};
use volley_testing::http;

#[tokio::test]
async fn calls_connections_and_bytes_are_counted_by_method_direction_and_outcome() {
    let server = example_callbacks::server();
    let app = example_callbacks::with_metrics(server.router()).expect("the only recorder");
    let mut events = server.peers().subscribe();
    let running = t(server.listen_with("127.0.0.1:0", app))
        .await
        .expect("listen");
    let (ticks, _ticks_rx) = tokio::sync::mpsc::unbounded_channel();
    let client = t(Client::builder()
        .add_service(
            Console {
                answer: true,
                ticks,
                quiet: true,
            }
            .into_service(),
        )
        .connect(&running.ws_url()))
    .await
    .expect("connect");
    let calc = CalculatorClient::new(client.peer());
    for _ in 0..2 {
        assert_eq!(t(calc.add(1, 2)).await.expect("add"), 3);
    }
    assert!(t(calc.ask("counted?".into())).await.expect("ask"));

    let page = http::get(running.local_addr(), "/metrics").await;
    assert_eq!(page.status, 200);
    let text = page.body;
    for line in [
        // The server's side.
        r#"volley_calls_total{direction="incoming",method="add",outcome="ok"} 2"#,
        r#"volley_calls_total{direction="incoming",method="ask",outcome="ok"} 1"#,
        r#"volley_calls_total{direction="outgoing",method="confirm",outcome="ok"} 1"#,
        // The client's side.
        r#"volley_calls_total{direction="outgoing",method="add",outcome="ok"} 2"#,
        r#"volley_calls_total{direction="incoming",method="confirm",outcome="ok"} 1"#,
        // Both ends of the one connection.
        "volley_connections_open 2",
        "volley_connections_opened_total 2",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    assert!(
        text.contains(r#"volley_call_duration_seconds_count{direction="incoming",method="add"} 2"#),
        "{text}"
    );
    for counter in ["volley_bytes_received_total", "volley_bytes_sent_total"] {
        let value: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix(counter)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {counter} in\n{text}"));
        assert!(value > 0, "{counter} {value}");
    }

    client.close();
    t(client.closed()).await;
    t(async { while !matches!(events.recv().await, Ok(PeerEvent::Disconnected { .. })) {} }).await;
    let text = http::get(running.local_addr(), "/metrics").await.body;
    for line in [
        "volley_connections_open 0",
        r#"volley_connections_closed_total{code="1000"} 2"#,
        // The resumable session's frames were kept until acknowledged, and released at the end.
        "volley_replay_buffer_bytes 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    t(running.shutdown()).await;
}
