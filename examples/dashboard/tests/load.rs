//! The `subscribe_load` stream over real sockets: typed through the generated stub, and
//! by hand on the wire, with its interval checked at its limits.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use volley::{Client, RunningServer};

use example_dashboard::{DashboardClient, INVALID_INTERVAL, MAX_INTERVAL_MS, MIN_INTERVAL_MS};

async fn t<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

async fn start() -> RunningServer {
    let server = example_dashboard::server();
    t(server.listen_with("127.0.0.1:0", example_dashboard::app(&server)))
        .await
        .expect("listen")
}

async fn client(running: &RunningServer) -> Client {
    t(Client::builder().reconnect(None).connect(&running.ws_url()))
        .await
        .expect("connect")
}

#[tokio::test]
async fn samples_arrive_in_order_and_count_the_connections() {
    let running = start().await;
    let first = client(&running).await;
    let mut load = t(DashboardClient::new(first.peer()).subscribe_load(MIN_INTERVAL_MS))
        .await
        .unwrap();
    let a = t(load.next()).await.unwrap().unwrap();
    let b = t(load.next()).await.unwrap().unwrap();
    assert!(b.t >= a.t + MIN_INTERVAL_MS - 5, "{a:?} then {b:?}");
    assert!(a.cpu >= 0.0);
    if cfg!(target_os = "linux") {
        assert!(a.rss_kib > 1024, "{a:?}");
    }
    assert_eq!(a.connections, 1);
    // A second page counts as a connection in the next samples.
    let second = client(&running).await;
    let counted = t(async {
        loop {
            let s = load.next().await.unwrap().unwrap();
            if s.connections == 2 {
                return s;
            }
        }
    })
    .await;
    assert_eq!(counted.connections, 2);
    assert!(t(load.unsubscribe()).await.unwrap());
    drop(second);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn the_interval_is_checked_at_its_limits() {
    let running = start().await;
    let client = client(&running).await;
    let dashboard = DashboardClient::new(client.peer());
    for bad in [0, MIN_INTERVAL_MS - 1, MAX_INTERVAL_MS + 1] {
        match t(dashboard.subscribe_load(bad)).await {
            Err(volley::Error::Remote(e)) => {
                assert_eq!(e.code(), INVALID_INTERVAL);
                let data: Value = serde_json::from_str(e.data().unwrap().get()).unwrap();
                assert_eq!(data, json!({"min": 100, "max": 60000}));
            }
            other => panic!("interval_ms {bad}: expected a refusal, got {other:?}"),
        }
    }
    for good in [MIN_INTERVAL_MS, MAX_INTERVAL_MS] {
        let load = t(dashboard.subscribe_load(good)).await;
        assert!(load.is_ok(), "interval_ms {good}: {load:?}");
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn on_the_wire_each_sample_is_a_load_notification() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let running = start().await;
    let (mut ws, _) = t(tokio_tungstenite::connect_async(running.ws_url()))
        .await
        .unwrap();
    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "subscribe_load", "params": {"interval_ms": 100}});
    t(ws.send(Message::Text(subscribe.to_string().into())))
        .await
        .unwrap();
    let mut frames = Vec::new();
    t(async {
        while frames.len() < 2 {
            if let Some(Ok(Message::Text(text))) = ws.next().await {
                frames.push(serde_json::from_str::<Value>(&text).unwrap());
            }
        }
    })
    .await;
    let id = &frames[0]["result"];
    assert!(id.is_u64(), "{}", frames[0]);
    let item = &frames[1];
    assert_eq!(item["method"], "load");
    assert_eq!(&item["params"]["subscription"], id);
    let sample = item["params"]["result"].as_object().unwrap();
    let mut keys: Vec<&str> = sample.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["connections", "cpu", "rss_kib", "t"]);
    assert!(sample["t"].is_u64() && sample["rss_kib"].is_u64() && sample["connections"].is_u64());
    assert!(sample["cpu"].is_number());
    t(running.shutdown()).await;
}
