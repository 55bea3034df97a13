//! Limits and failure modes: stalled peers, the request cap with callbacks, oversized messages.

mod common;

use std::time::Duration;

use common::services::*;
use common::{RawClient, raw_connect, t};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use volley::{Client, Error, Peer, PeerConfig, PeerEvent, RunningServer, Server};

/// A server whose peers get `config`, with a client that connected and then never reads.
struct Stalled {
    running: RunningServer,
    /// The server's handle on the silent client.
    peer: Peer,
    /// The server's peer events after the silent client's connect event.
    events: broadcast::Receiver<PeerEvent>,
    /// Never read; bind it (not `..`) to keep the connection open.
    _silent: RawClient,
}

async fn stalled_client(config: PeerConfig) -> Stalled {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .peer_config(config)
        .build();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let silent = raw_connect(&running.ws_url()).await;
    let PeerEvent::Connected(peer) = t(events.recv()).await.unwrap() else {
        panic!("expected a connection")
    };
    Stalled {
        running,
        peer,
        events,
        _silent: silent,
    }
}

#[tokio::test]
async fn closing_a_peer_that_stopped_reading_releases_every_waiting_caller() {
    let Stalled {
        running,
        peer,
        _silent,
        ..
    } = stalled_client(PeerConfig::default().outbound_queue(2)).await;
    // Fill the socket buffers and the outgoing queue with big notifications.
    let big = "x".repeat(256 * 1024);
    t(async {
        loop {
            match peer.try_notify_raw("log", serde_json::value::to_raw_value(&[&big]).ok()) {
                Ok(()) => tokio::task::yield_now().await,
                Err(Error::Busy) => break,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    // These wait for room that never comes...
    let notify = tokio::spawn({
        let peer = peer.clone();
        async move { peer.notify("log", &["late"]).await }
    });
    let call = tokio::spawn({
        let peer = peer.clone();
        async move { peer.call::<_, bool>("confirm", &["still there?"]).await }
    });
    // ...a stub's non-waiting notification does not...
    assert!(matches!(
        BrowserClient::new(&peer).try_tick(1),
        Err(Error::Busy)
    ));
    // ...nor does a broadcast: the stalled peer overflows, and the default policy closes it,
    // which releases the waiting ones at once; the connection ends within its grace.
    let delivery = running
        .server()
        .peers()
        .all()
        .notify("log", &["all"])
        .unwrap();
    assert_eq!(delivery.queued, 0);
    assert_eq!(delivery.overflowed, [peer.id()]);
    assert!(t(notify).await.unwrap().unwrap_err().is_disconnected());
    assert!(t(call).await.unwrap().unwrap_err().is_disconnected());
    assert_eq!(t(peer.closed()).await.code, 1008);
    assert!(matches!(
        BrowserClient::new(&peer).try_tick(2),
        Err(Error::Disconnected)
    ));
    t(running.shutdown()).await;
}

#[tokio::test]
async fn handlers_calling_back_at_the_request_cap_do_not_stall() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .peer_config(
            PeerConfig::default()
                .max_concurrent_requests(1)
                .max_waiting_requests(3)
                .request_timeout(Duration::from_secs(8)),
        )
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let client = t(Client::builder()
        .add_service(TestBrowser::new(true).into_service())
        .connect(&running.ws_url()))
    .await
    .unwrap();
    let calc = CalculatorClient::new(client.peer());
    // Each `ask` calls the client back; with one slot the others wait for the first, whose
    // callback answer must still be read.
    let asks = (0..4).map(|i| calc.ask(format!("q{i}")));
    for answer in t(futures_util::future::join_all(asks)).await {
        assert!(answer.unwrap());
    }

    t(running.shutdown()).await;
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .max_message_size(1000)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut raw = raw_connect(&running.ws_url()).await;
    let params = "1,".repeat(2500);
    raw.send(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"echo","params":[[{params}1]]}}"#
    ))
    .await;
    loop {
        match t(raw.ws.next()).await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1009, "{frame:?}");
                break;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame with 1009, got {other:?}"),
        }
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn rpc_cancel_reaches_every_running_request_with_that_id() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut raw = raw_connect(&running.ws_url()).await;
    // A peer may reuse an id while the first request with it still runs.
    raw.send(r#"{"jsonrpc":"2.0","id":1,"method":"wait","params":[21]}"#)
        .await;
    raw.send(r#"{"jsonrpc":"2.0","id":1,"method":"wait","params":[22]}"#)
        .await;
    raw.send(r#"{"jsonrpc":"2.0","method":"rpc.cancel","params":{"id":1}}"#)
        .await;
    for _ in 0..2 {
        let v = raw.recv().await;
        assert_eq!(v["id"], 1, "{v}");
        assert_eq!(v["error"]["code"], -32800, "{v}");
    }
    t(running.shutdown()).await;
}

fn keepalive(every: Duration) -> PeerConfig {
    PeerConfig::default().ping_interval(Some(every))
}

#[tokio::test]
async fn a_peer_that_answers_nothing_is_closed_as_dead() {
    // The client never reads: no pong ever comes back.
    let Stalled {
        running,
        peer,
        mut events,
        _silent,
    } = stalled_client(keepalive(Duration::from_millis(100))).await;
    let pending = tokio::spawn({
        let peer = peer.clone();
        async move {
            BrowserClient::new(&peer)
                .tick(1)
                .await
                .and(peer.call::<_, bool>("confirm", &["there?"]).await)
        }
    });
    match t(events.recv()).await.unwrap() {
        PeerEvent::Disconnected { id, reason } => {
            assert_eq!(id, peer.id());
            assert!(reason.reason.contains("the peer is gone"), "{reason:?}");
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
    assert!(t(pending).await.unwrap().unwrap_err().is_disconnected());
    t(running.shutdown()).await;
}

#[tokio::test]
async fn an_idle_but_healthy_connection_stays_open() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .peer_config(keepalive(Duration::from_millis(50)))
        .build();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let client = t(Client::builder()
        .peer_config(keepalive(Duration::from_millis(50)))
        .connect(&running.ws_url()))
    .await
    .unwrap();
    let PeerEvent::Connected(peer) = t(events.recv()).await.unwrap() else {
        panic!("expected a connection")
    };
    // Ten keepalive periods with no calls at all: the idle time is what is under test, so it
    // is waited out; pings and pongs must keep both ends alive through it.
    t(tokio::time::sleep(Duration::from_millis(500))).await;
    assert!(client.peer().is_connected());
    assert_eq!(running.server().peers().len(), 1);
    assert_eq!(
        t(CalculatorClient::new(client.peer()).add(2, 3))
            .await
            .unwrap(),
        5
    );
    // The answer came over the first connection: the server never saw it end.
    assert!(peer.is_connected());
    assert!(
        matches!(
            events.try_recv(),
            Err(broadcast::error::TryRecvError::Empty)
        ),
        "no peer event after the connect"
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn calls_past_max_pending_calls_fail_at_once_without_being_sent() {
    let calc = Calc::new();
    let server = Server::builder()
        .add_service(calc.clone().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let limit = 3;
    let client = t(Client::builder()
        .peer_config(PeerConfig::default().max_pending_calls(limit))
        .connect(&running.ws_url()))
    .await
    .unwrap();
    let stub = CalculatorClient::new(client.peer());
    // One below the limit, then at it: both are taken and wait.
    let mut waiting = Vec::new();
    for key in 0..limit as u64 {
        let started = calc.waiting.notified();
        tokio::pin!(started);
        started.as_mut().enable();
        let stub = stub.clone();
        waiting.push(tokio::spawn(async move { stub.wait(key).await }));
        t(started).await;
    }
    assert_eq!(client.peer().pending_calls(), limit);
    // One above: refused at once, locally, and nothing reaches the server.
    match t(stub.add(1, 2)).await {
        Err(Error::TooManyPendingCalls(n)) => assert_eq!(n, limit),
        other => panic!("expected TooManyPendingCalls, got {other:?}"),
    }
    assert!(
        t(client.peer().batch().call("add", &[1, 2]).unwrap().send())
            .await
            .is_err_and(|e| matches!(e, Error::TooManyPendingCalls(_)))
    );
    // Room again once one is answered.
    let released = t(stub.release(0)).await;
    assert!(
        matches!(released, Err(Error::TooManyPendingCalls(_))),
        "still full"
    );
    let gate = calc.gates.lock().unwrap().remove(&0).expect("wait(0) runs");
    gate.send(()).unwrap();
    assert_eq!(t(waiting.remove(0)).await.unwrap().unwrap(), 0);
    assert_eq!(t(stub.add(1, 2)).await.unwrap(), 3);
    for key in 1..limit as u64 {
        calc.gates
            .lock()
            .unwrap()
            .remove(&key)
            .unwrap()
            .send(())
            .unwrap();
    }
    for call in waiting {
        t(call).await.unwrap().unwrap();
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_peer_that_sends_requests_but_never_reads_the_answers_is_closed_with_1008() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .peer_config(
            PeerConfig::default()
                .outbound_queue(2)
                .write_stall_timeout(Duration::from_millis(300)),
        )
        .build();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let (ws, _) = t(tokio_tungstenite::connect_async(running.ws_url()))
        .await
        .unwrap();
    let (mut sink, _never_read) = ws.split();
    // Big answers fill the socket buffers, then the outgoing queue.
    let big = "y".repeat(64 * 1024);
    let pipelining = tokio::spawn(async move {
        use futures_util::SinkExt;
        for id in 0.. {
            let request =
                format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"echo","params":["{big}"]}}"#);
            if sink.send(Message::text(request)).await.is_err() {
                break;
            }
        }
    });
    let reason = t(async {
        loop {
            if let PeerEvent::Disconnected { reason, .. } = events.recv().await.unwrap() {
                break reason;
            }
        }
    })
    .await;
    assert_eq!(reason.code, 1008, "{reason:?}");
    assert_eq!(reason.reason, "the peer does not read its answers");
    pipelining.abort();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn batches_up_to_max_batch_len_are_served_and_a_longer_one_gets_one_error() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .peer_config(PeerConfig::default().max_batch_len(3))
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut raw = raw_connect(&running.ws_url()).await;
    let batch = |n: usize| {
        let calls: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"add","params":[{i},1]}}"#))
            .collect();
        format!("[{}]", calls.join(","))
    };
    for n in [2, 3] {
        raw.send(&batch(n)).await;
        let answer = raw.recv().await;
        let answers = answer
            .as_array()
            .unwrap_or_else(|| panic!("an array: {answer}"));
        assert_eq!(answers.len(), n, "one below and at the limit: {answer}");
    }
    raw.send(&batch(4)).await;
    let answer = raw.recv().await;
    assert_eq!(answer["id"], serde_json::Value::Null, "{answer}");
    assert_eq!(answer["error"]["code"], volley::codes::BATCH_TOO_LARGE);
    assert_eq!(
        answer["error"]["data"], "batch of 4 exceeds the limit of 3",
        "{answer}"
    );
    // The connection carries on.
    raw.send(&batch(1)).await;
    assert_eq!(raw.recv().await.as_array().map(Vec::len), Some(1));
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_batch_the_peer_refuses_as_too_large_fails_at_once_and_only_that_batch() {
    let calc = Calc::new();
    let server = Server::builder()
        .add_service(calc.clone().into_service())
        .peer_config(PeerConfig::default().max_batch_len(3))
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let client = t(Client::connect(&running.ws_url())).await.unwrap();
    // A batch of the allowed size whose calls wait on the server.
    let started = calc.waiting.notified();
    tokio::pin!(started);
    started.as_mut().enable();
    let peer = client.peer().clone();
    let waiting = tokio::spawn(async move {
        let batch = peer.batch().call("wait", &[7])?.call("add", &[1, 2])?;
        batch.send().await
    });
    t(started).await;
    // One too many elements: every call of that batch gets the server's -32010 at once.
    let mut too_big = client.peer().batch();
    for i in 0..4 {
        too_big = too_big.call("add", &[i, 1]).unwrap();
    }
    let answers = t(too_big.send()).await.expect("answered, not timed out");
    assert_eq!(answers.len(), 4);
    for answer in answers {
        match answer {
            Err(Error::Remote(e)) => assert_eq!(e.code(), volley::codes::BATCH_TOO_LARGE),
            other => panic!("expected -32010, got {other:?}"),
        }
    }
    // The other batch is untouched and completes.
    calc.gates
        .lock()
        .unwrap()
        .remove(&7)
        .unwrap()
        .send(())
        .unwrap();
    let answers = t(waiting).await.unwrap().expect("the first batch");
    assert_eq!(answers[0].as_ref().unwrap().get(), "7");
    assert_eq!(answers[1].as_ref().unwrap().get(), "3");
    assert_eq!(client.peer().pending_calls(), 0);
    client.close();
    t(running.shutdown()).await;
}

/// What the pipelining test serves: `answered(n)` holds its handler (which runs in the
/// connection's task, being ready at once) until the test's client has read `n` answers, or
/// for 10 s, and returns how many it had read.
#[volley::rpc]
pub trait Pipeline {
    /// Adds two numbers.
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
    /// How many answers the client had read, once it had `n` (or after 10 s).
    async fn answered(&self, n: u64) -> volley::Result<u64>;
}

/// The answers the client has read, and a signal for each.
#[derive(Clone, Default)]
struct Answers(std::sync::Arc<(std::sync::Mutex<u64>, std::sync::Condvar)>);

impl Answers {
    fn one_more(&self) {
        let (read, more) = &*self.0;
        *read.lock().unwrap() += 1;
        more.notify_all();
    }
}

impl Pipeline for Answers {
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }
    async fn answered(&self, n: u64) -> volley::Result<u64> {
        let (read, more) = &*self.0;
        let read = read.lock().unwrap();
        // Blocks the server's one thread on purpose: nothing else of the server may run
        // meanwhile, so whatever the client reads was sent before this call was handled.
        let (read, _) = more
            .wait_timeout_while(read, Duration::from_secs(10), |read| *read < n)
            .unwrap();
        Ok(*read)
    }
}

/// The reader gives way after 32 frames in a row (`BURST` in the reader): the answers to the
/// first 32 of 64 calls sent at once are on their way before the 33rd is handled, so the
/// peer works on them while the rest are served. Taking all 64 first would leave the 33rd
/// call waiting for answers that are not sent yet (10 s, then 0).
#[test]
fn a_deep_pipeline_gets_its_first_answers_while_the_rest_are_served() {
    use futures_util::SinkExt;
    const BURST: u64 = 32;
    let answers = Answers::default();
    // The server on this thread's runtime, the client on a thread and runtime of its own.
    let server = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let running = server.block_on(async {
        let built = Server::builder()
            .add_service(answers.clone().into_service())
            .build();
        t(built.listen("127.0.0.1:0")).await.unwrap()
    });
    let url = running.ws_url();
    let reader = answers.clone();
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut raw = raw_connect(&url).await;
            for id in 1..=2 * BURST {
                let frame = if id == BURST + 1 {
                    format!(
                        r#"{{"jsonrpc":"2.0","id":{id},"method":"answered","params":[{BURST}]}}"#
                    )
                } else {
                    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"add","params":[{id},1]}}"#)
                };
                t(raw.ws.feed(Message::Text(frame.into()))).await.unwrap();
            }
            // All 64 in one write (4.5 KB over loopback: one read on the server's side; were
            // it split before the 32nd frame, the reader would write what it had answered at
            // the split, and the 33rd call would wait for more than was sent).
            t(raw.ws.flush()).await.unwrap();
            let mut results = std::collections::BTreeMap::new();
            while results.len() < 2 * BURST as usize {
                let answer = raw.recv().await;
                results.insert(answer["id"].as_u64().unwrap(), answer["result"].clone());
                reader.one_more();
            }
            results
        })
    });
    let results = server.block_on(async {
        t(tokio::task::spawn_blocking(move || client.join().unwrap()))
            .await
            .unwrap()
    });
    // The 33rd call found the first 32 answers read, and none of the later ones.
    assert_eq!(results[&(BURST + 1)], BURST);
    for id in (1..=2 * BURST).filter(|&id| id != BURST + 1) {
        assert_eq!(results[&id], id + 1);
    }
    server.block_on(async { t(running.shutdown()).await });
}
