//! Hostile input, frame by frame over real sockets. Each case checks that the server
//! survives, answers or closes as PROTOCOL.md says, and that a bystander on another
//! connection, calling all along, is undisturbed.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::services::{Calc, Calculator, CalculatorClient};
use common::{Raw, raw_connect, t};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use volley::{Client, PeerConfig, RunningServer, Server};
use volley_testing::proxy::Proxy;

async fn start(config: PeerConfig) -> RunningServer {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .peer_config(config)
        .build();
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

/// A client on its own connection calling `add` in a loop while the hostile peer works.
struct Bystander {
    client: Client,
    stop: Arc<AtomicBool>,
    calls: JoinHandle<u64>,
}

impl Bystander {
    async fn start(running: &RunningServer) -> Bystander {
        let client = t(Client::connect(&running.ws_url()))
            .await
            .expect("connect");
        let stop = Arc::new(AtomicBool::new(false));
        let calc = CalculatorClient::new(client.peer());
        let calls = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let k = i64::try_from(n).unwrap();
                    let sum = calc.add(k, 1).await.expect("the bystander's call");
                    assert_eq!(sum, k + 1);
                    n += 1;
                    tokio::task::yield_now().await;
                }
                n
            }
        });
        Bystander {
            client,
            stop,
            calls,
        }
    }

    /// Stops the loop: every call it made succeeded, and it made some.
    async fn undisturbed(self) {
        let calc = CalculatorClient::new(self.client.peer());
        assert_eq!(t(calc.add(2, 2)).await.expect("a call after"), 4);
        self.stop.store(true, Ordering::Release);
        let made = t(self.calls)
            .await
            .expect("the bystander's calls all succeeded");
        assert!(made > 0);
        self.client.close();
    }
}

/// The raw peer still answers a ping: the connection is usable.
async fn usable<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(raw: &mut Raw<S>) {
    assert!(
        raw.send_and_collect("[]").await.len() == 1,
        "[] gets one error"
    );
}

fn code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error in {v}"))
}

#[tokio::test]
async fn invalid_json_invalid_utf8_and_binary_frames() {
    let running = start(PeerConfig::default()).await;
    let bystander = Bystander::start(&running).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    for junk in [
        "{not json",
        "",
        "\u{0}",
        "nul",
        "[1,2",
        "{\"jsonrpc\":\"2.0\",\"id\":1",
    ] {
        let seen = raw.send_and_collect(junk).await;
        assert_eq!(seen.len(), 1, "{junk:?}: {seen:?}");
        assert!(
            [-32700, -32600].contains(&code(&seen[0])),
            "{junk:?}: {seen:?}"
        );
    }
    // Bytes that are not UTF-8, in a binary frame: a parse error, the connection lives.
    t(raw.ws.send(Message::Binary(vec![0xff, 0xfe, 0x7b].into())))
        .await
        .unwrap();
    assert_eq!(code(&raw.recv().await), -32700);
    // A valid request in a binary frame is served like a text one.
    let request = json!({"jsonrpc":"2.0","id":5,"method":"add","params":[2,3]}).to_string();
    t(raw.ws.send(Message::Binary(request.into_bytes().into())))
        .await
        .unwrap();
    assert_eq!(raw.recv().await["result"], 5);
    usable(&mut raw).await;
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn deep_nesting_huge_numbers_and_huge_strings() {
    let running = start(PeerConfig::default()).await;
    let bystander = Bystander::start(&running).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    // 100,000 levels of nesting, as a frame and inside params: refused, no stack overflow.
    // As a frame it is a batch of one element that is not a request object.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let seen = raw.send_and_collect(&deep).await;
    assert_eq!(seen.len(), 1);
    let refusal = seen[0].as_array().map_or(&seen[0], |batch| &batch[0]);
    assert!([-32700, -32600].contains(&code(refusal)), "{seen:?}");
    let deep_params = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"echo","params":[{}{}]}}"#,
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    let seen = raw.send_and_collect(&deep_params).await;
    assert_eq!(seen.len(), 1);
    assert!([-32700, -32602].contains(&code(&seen[0])), "{seen:?}");
    // Numbers past f64 and u64, as ids (echoed byte for byte) and as params.
    raw.send(r#"{"jsonrpc":"2.0","id":1e400,"method":"rpc.ping"}"#)
        .await;
    let text = raw.recv_text().await;
    assert!(text.contains(r#""id":1e400"#), "{text}");
    raw.send(r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"add","params":[1e400,1]}"#)
        .await;
    let text = raw.recv_text().await;
    assert!(
        text.contains(r#""id":123456789012345678901234567890"#),
        "{text}"
    );
    assert!(text.contains("-32602"), "not an i64: {text}");
    // An 8 MB string (under the 16 MiB limit) goes through and back whole.
    let big = "x".repeat(8 * 1024 * 1024);
    raw.send_json(&json!({"jsonrpc":"2.0","id":2,"method":"echo","params":[big]}))
        .await;
    let answer = raw.recv().await;
    assert_eq!(answer["result"].as_str().map(str::len), Some(big.len()));
    usable(&mut raw).await;
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn an_oversized_frame_closes_only_its_own_connection() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .max_message_size(64 * 1024)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let bystander = Bystander::start(&running).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    raw.send(&format!(
        r#"{{"jsonrpc":"2.0","method":"log","params":["{}"]}}"#,
        "y".repeat(65 * 1024)
    ))
    .await;
    let close = t(async {
        loop {
            match raw.ws.next().await {
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(close, Some(1009));
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_ten_thousand_element_batch_gets_one_error() {
    let running = start(PeerConfig::default()).await;
    let bystander = Bystander::start(&running).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    let element = r#"{"jsonrpc":"2.0","id":1,"method":"add","params":[1,1]}"#;
    let batch = format!("[{}]", vec![element; 10_000].join(","));
    let seen = raw.send_and_collect(&batch).await;
    assert_eq!(seen.len(), 1, "one answer");
    assert_eq!(code(&seen[0]), -32010);
    assert_eq!(seen[0]["id"], Value::Null);
    usable(&mut raw).await;
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn responses_to_unknown_ids_and_duplicate_ids_in_flight() {
    let running = start(PeerConfig::default()).await;
    let bystander = Bystander::start(&running).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    // A thousand answers to calls the server never made: dropped, nothing comes back.
    for i in 0..1000 {
        let frame = match i % 3 {
            0 => json!({"jsonrpc":"2.0","id":i,"result":i}),
            1 => json!({"jsonrpc":"2.0","id":format!("x{i}"),"error":{"code":1,"message":"m"}}),
            _ => json!({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"m"}}),
        };
        raw.send_json(&frame).await;
    }
    assert!(raw.send_and_collect("1").await.len() == 1);
    // Two requests with the same id in flight at once: both run, both are answered.
    raw.send(r#"{"jsonrpc":"2.0","id":7,"method":"wait","params":[71]}"#)
        .await;
    raw.send(r#"{"jsonrpc":"2.0","id":7,"method":"wait","params":[72]}"#)
        .await;
    raw.send(r#"{"jsonrpc":"2.0","id":"r1","method":"release","params":[71]}"#)
        .await;
    raw.send(r#"{"jsonrpc":"2.0","id":"r2","method":"release","params":[72]}"#)
        .await;
    let mut answers: Vec<Value> = Vec::new();
    while answers.len() < 4 {
        answers.push(raw.recv().await);
    }
    let mut waited: Vec<i64> = answers
        .iter()
        .filter(|a| a["id"] == 7)
        .map(|a| a["result"].as_i64().unwrap())
        .collect();
    waited.sort();
    assert_eq!(waited, [71, 72]);
    usable(&mut raw).await;
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_ping_flood_is_answered_without_holding_anyone_up() {
    let running = start(PeerConfig::default()).await;
    let bystander = Bystander::start(&running).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    for _ in 0..10_000 {
        t(raw.ws.feed(Message::Ping(b"flood".to_vec().into())))
            .await
            .unwrap();
    }
    t(raw.ws.flush()).await.unwrap();
    raw.send(r#"{"jsonrpc":"2.0","id":"after","method":"rpc.ping"}"#)
        .await;
    let pongs = t(async {
        let mut pongs = 0;
        loop {
            match raw.ws.next().await {
                Some(Ok(Message::Pong(_))) => pongs += 1,
                Some(Ok(Message::Text(text))) if text.contains("\"after\"") => break pongs,
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    assert!(pongs > 0, "pings are answered");
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_closed_as_dead_while_others_get_their_pushes() {
    let every = Duration::from_millis(200);
    let running = start(PeerConfig::default().ping_interval(Some(every))).await;
    let bystander = Bystander::start(&running).await;
    // A raw client that reads nothing: no frames, no pongs.
    let raw = raw_connect(&running.ws_url()).await;
    let peers = running.server().peers();
    t(async {
        while peers.len() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // The raw client connected last.
    let stalled = peers.list().pop().expect("the stalled peer");
    // The server pushes to everyone without waiting: the stalled peer's queue fills (its
    // pushes are refused with Busy), the others' do not.
    let pushed = Arc::new(AtomicU64::new(0));
    let mut busy = false;
    // 16 KiB each: past the socket buffers and the queue well before 100,000.
    let payload = serde_json::value::to_raw_value(&["z".repeat(16 * 1024)]).unwrap();
    for i in 0..100_000u64 {
        match stalled.try_notify_raw("tick", Some(payload.clone())) {
            Ok(()) => {
                pushed.fetch_add(1, Ordering::Relaxed);
            }
            Err(volley::Error::Busy) => {
                busy = true;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
        if i % 256 == 0 {
            tokio::task::yield_now().await;
        }
    }
    assert!(
        busy,
        "the queue is bounded: {} pushed",
        pushed.load(Ordering::Relaxed)
    );
    let reason = t(stalled.closed()).await;
    assert_eq!(reason.code, 1006, "{reason:?}");
    assert!(reason.reason.contains("nothing arrived"), "{reason:?}");
    drop(raw);
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_half_open_connection_after_the_upgrade_is_closed_by_keepalive() {
    let every = Duration::from_millis(200);
    let running = start(PeerConfig::default().ping_interval(Some(every))).await;
    let bystander = Bystander::start(&running).await;
    let proxy = Proxy::start(running.local_addr()).await;
    let mut events = running.server().peers().subscribe();
    let _raw = raw_connect(&proxy.ws_url("ws")).await;
    let peer = loop {
        if let volley::PeerEvent::Connected(p) = t(events.recv()).await.expect("event") {
            break p;
        }
    };
    // The path goes dead without a FIN or RST: nothing flows either way.
    proxy.freeze(true);
    let reason = t(peer.closed()).await;
    assert_eq!(reason.code, 1006);
    assert!(reason.reason.contains("nothing arrived"), "{reason:?}");
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_slow_handshake_is_cut_off_at_the_handshake_timeout() {
    let limit = Duration::from_millis(600);
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .handshake_timeout(limit)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let bystander = Bystander::start(&running).await;
    let upgrade = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        running.local_addr()
    );
    // Under the limit: the head trickles in over about a third of it and is upgraded.
    let mut tcp = t(tokio::net::TcpStream::connect(running.local_addr()))
        .await
        .unwrap();
    for chunk in upgrade.as_bytes().chunks(upgrade.len() / 4 + 1) {
        t(tcp.write_all(chunk)).await.unwrap();
        tokio::time::sleep(limit / 12).await;
    }
    let mut buf = [0u8; 256];
    let n = t(tcp.read(&mut buf)).await.unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    // Half a request line, then silence (slowloris): cut at the limit.
    let mut tcp = t(tokio::net::TcpStream::connect(running.local_addr()))
        .await
        .unwrap();
    t(tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n"))
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let n = t(tcp.read(&mut buf)).await.unwrap_or(0);
    let waited = started.elapsed();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        waited >= limit - Duration::from_millis(50) && waited < limit * 4,
        "{waited:?}"
    );
    // A connection that sends nothing at all is cut the same way.
    let mut idle = t(tokio::net::TcpStream::connect(running.local_addr()))
        .await
        .unwrap();
    let n = t(idle.read(&mut buf)).await.unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    let running = start(PeerConfig::default()).await;
    let bystander = Bystander::start(&running).await;
    let mut tcp = t(tokio::net::TcpStream::connect(running.local_addr()))
        .await
        .unwrap();
    let upgrade = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        running.local_addr()
    );
    t(tcp.write_all(upgrade.as_bytes())).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        t(tcp.read_exact(&mut byte)).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    // A final text frame, masked with a zero key, whose three bytes are not UTF-8.
    t(tcp.write_all(&[0x81, 0x83, 0, 0, 0, 0, 0xff, 0xfe, 0xfd]))
        .await
        .unwrap();
    let mut frame = [0u8; 4];
    t(tcp.read_exact(&mut frame)).await.unwrap();
    assert_eq!(frame[0], 0x88, "a close frame: {frame:?}");
    assert_eq!(u16::from_be_bytes([frame[2], frame[3]]), 1007);
    bystander.undisturbed().await;
    t(running.shutdown()).await;
}
