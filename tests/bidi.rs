//! Both directions over one socket: calls, callbacks inside calls, the registry,
//! notifications, concurrency, disconnects, and interoperability with jsonrpsee.

mod common;

use std::time::Duration;

use common::services::*;
use common::{raw_connect, t};
use tokio::sync::broadcast;
use volley::{Client, Error, Peer, PeerEvent, RunningServer, Server};

async fn start(calc: Calc) -> RunningServer {
    let server = Server::builder()
        .add_service(calc.into_service())
        .add_remote_service::<BrowserClient>()
        .build();
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

async fn client(url: &str, browser: TestBrowser) -> Client {
    t(Client::builder()
        .add_service(browser.into_service())
        .connect(url))
    .await
    .expect("connect")
}

/// A client that closes with its socket instead of reconnecting.
async fn plain_client(url: &str, browser: TestBrowser) -> Client {
    t(Client::builder()
        .add_service(browser.into_service())
        .reconnect(None)
        .connect(url))
    .await
    .expect("connect")
}

/// A client of `running`, seen from both ends.
struct Connection {
    client: Client,
    /// The server's handle on this client, from its connect event.
    peer: Peer,
    /// The server's peer events after that connect event.
    events: broadcast::Receiver<PeerEvent>,
}

/// Connects a client serving `browser` and waits for the server to announce it.
async fn connect_seen(running: &RunningServer, browser: TestBrowser) -> Connection {
    let mut events = running.server().peers().subscribe();
    let client = client(&running.ws_url(), browser).await;
    let PeerEvent::Connected(peer) = t(events.recv()).await.expect("a peer event") else {
        panic!("expected a connect event")
    };
    Connection {
        client,
        peer,
        events,
    }
}

#[tokio::test]
async fn client_calls_server_by_name_and_gets_typed_errors() {
    let running = start(Calc::new()).await;
    let c = client(&running.ws_url(), TestBrowser::new(true)).await;
    let calc = CalculatorClient::new(c.peer());
    assert_eq!(t(calc.add(1, 2)).await.unwrap(), 3);
    assert_eq!(t(calc.find("x".into(), None)).await.unwrap(), "found x");
    // The trait's error type comes back decoded...
    let err = t(calc.find("nope".into(), Some(true))).await.unwrap_err();
    assert_eq!(err.app(), Some(&AppError::NotFound("nope".into())));
    assert_eq!(err.to_string(), "not found");
    // ...from the error object it was on the wire.
    let obj = volley::ErrorObject::from(err.into_app().expect("an AppError"));
    assert_eq!((obj.code(), obj.message()), (404, "not found"));
    assert_eq!(obj.data().map(|d| d.get()), Some("\"nope\""));
    let err = t(calc.find("root".into(), None)).await.unwrap_err();
    assert_eq!(err.into_app(), Some(AppError::Denied));
    t(running.shutdown()).await;
}

#[tokio::test]
async fn server_calls_back_the_caller_inside_a_handler_nested_both_ways() {
    let running = start(Calc::new()).await;
    let c = client(&running.ws_url(), TestBrowser::new(false)).await;
    let calc = CalculatorClient::new(c.peer());
    // server -> client callback answering from the client's own value
    assert!(!t(calc.ask("sure?".into())).await.unwrap());
    // client -> server `ask` -> server -> client `confirm` -> client -> server `add`
    assert!(t(calc.ask("add?".into())).await.unwrap());
    // several nested chains at once on one connection
    let answers = t(futures_util::future::join_all((0..20).map(|i| {
        calc.ask(if i % 2 == 0 {
            "add?".into()
        } else {
            "no".into()
        })
    })))
    .await;
    for (i, a) in answers.into_iter().enumerate() {
        assert_eq!(a.unwrap(), i % 2 == 0, "call {i}");
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn server_calls_clients_from_outside_handlers_through_the_registry() {
    let running = start(Calc::new()).await;
    let server = running.server().clone();
    let (browser, mut ticks) = TestBrowser::new(true).with_ticks();
    let Connection {
        client: c,
        peer,
        mut events,
    } = connect_seen(&running, browser).await;
    assert_eq!(server.peers().len(), 1);
    assert_eq!(server.peers().get(peer.id()).unwrap().id(), peer.id());
    assert_eq!(server.peers().list()[0].id(), peer.id());
    // from a background task, not a handler
    let p = peer.clone();
    let answer = t(tokio::spawn(async move {
        BrowserClient::new(&p)
            .confirm("from the registry".into())
            .await
    }))
    .await
    .unwrap()
    .unwrap();
    assert!(answer);
    for n in 1..=3 {
        t(BrowserClient::new(&peer).tick(n)).await.unwrap();
    }
    for n in 1..=3 {
        assert_eq!(t(ticks.recv()).await, Some(n));
    }
    c.close();
    match t(events.recv()).await.unwrap() {
        PeerEvent::Disconnected { id, reason } => {
            assert_eq!(id, peer.id());
            assert_eq!(reason.code, 1000);
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
    assert!(server.peers().is_empty());
    t(running.shutdown()).await;
}

#[tokio::test]
async fn notifications_flow_both_ways_and_run_their_handlers() {
    let (calc, mut logs) = Calc::logging();
    let running = start(calc).await;
    let (browser, mut ticks) = TestBrowser::new(true).with_ticks();
    let Connection {
        client: c, peer, ..
    } = connect_seen(&running, browser).await;
    let calc = CalculatorClient::new(c.peer());
    t(calc.log("hello".into())).await.unwrap();
    assert_eq!(t(logs.recv()).await.as_deref(), Some("hello"));
    t(BrowserClient::new(&peer).tick(7)).await.unwrap();
    assert_eq!(t(ticks.recv()).await, Some(7));
    t(running.shutdown()).await;
}

#[tokio::test]
async fn concurrent_calls_on_one_connection_are_answered_out_of_order() {
    let running = start(Calc::new()).await;
    let c = client(&running.ws_url(), TestBrowser::new(true)).await;
    let calc = CalculatorClient::new(c.peer());
    let first = tokio::spawn({
        let calc = calc.clone();
        async move { calc.wait(1).await }
    });
    let second = tokio::spawn({
        let calc = calc.clone();
        async move { calc.wait(2).await }
    });
    // Release the second: it answers while the first is still waiting.
    assert!(t(calc.release(2)).await.unwrap());
    assert_eq!(t(second).await.unwrap().unwrap(), 2);
    assert!(!first.is_finished());
    assert!(t(calc.release(1)).await.unwrap());
    assert_eq!(t(first).await.unwrap().unwrap(), 1);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_timed_out_call_is_withdrawn_and_cancels_the_remote_handler() {
    let (calc, mut cancelled) = Calc::reporting_cancels();
    let running = start(calc).await;
    let c = client(&running.ws_url(), TestBrowser::new(true)).await;
    let calc = CalculatorClient::new(c.peer()).with_timeout(Duration::from_millis(200));
    let err = t(calc.wait(5)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    // rpc.cancel reached the server and dropped the handler
    assert_eq!(t(cancelled.recv()).await, Some(5));
    assert_eq!(c.peer().pending_calls(), 0);
    // the connection is still fine
    assert_eq!(t(calc.add(2, 2)).await.unwrap(), 4);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn server_disconnect_fails_every_pending_client_call_at_once() {
    let running = start(Calc::new()).await;
    let c = plain_client(&running.ws_url(), TestBrowser::new(true)).await;
    let calc = CalculatorClient::new(c.peer());
    let calls: Vec<_> = (10..15)
        .map(|k| {
            let calc = calc.clone();
            tokio::spawn(async move { calc.wait(k).await })
        })
        .collect();
    // all five are pending before the server goes away
    t(async {
        while c.peer().pending_calls() < 5 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    running.server().peers().close_all(1001, "going away");
    for call in calls {
        let err = t(call).await.unwrap().unwrap_err();
        assert!(err.is_disconnected(), "{err:?}");
    }
    // later calls fail at once, too
    assert!(t(calc.add(1, 1)).await.unwrap_err().is_disconnected());
    assert_eq!(t(c.closed()).await.code, 1001);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn client_disconnect_fails_the_servers_pending_callbacks() {
    let (calc_impl, mut cancelled) = Calc::reporting_cancels();
    let running = start(calc_impl.clone()).await;
    let (browser, mut asked) = TestBrowser::new(true).with_asked();
    let Connection {
        client: c, peer, ..
    } = connect_seen(&running, browser).await;
    let pending = tokio::spawn({
        let peer = peer.clone();
        async move { BrowserClient::new(&peer).confirm("hang".into()).await }
    });
    assert_eq!(t(asked.recv()).await.as_deref(), Some("hang"));
    // and a client call in flight on the server, whose handler must see the cancellation
    let calc = CalculatorClient::new(c.peer());
    let in_flight = tokio::spawn(async move { calc.wait(77).await });
    // wait until the server's handler is running
    t(async {
        while !calc_impl.gates.lock().unwrap().contains_key(&77) {
            tokio::task::yield_now().await;
        }
    })
    .await;
    c.close();
    assert!(t(in_flight).await.unwrap().unwrap_err().is_disconnected());
    assert_eq!(
        t(cancelled.recv()).await,
        Some(77),
        "the server dropped the running handler"
    );
    let err = t(pending).await.unwrap().unwrap_err();
    assert!(err.is_disconnected(), "{err:?}");
    assert!(!peer.is_connected());
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_stray_response_is_ignored_and_the_connection_keeps_working() {
    let running = start(Calc::new()).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    let before = raw
        .send_and_collect(r#"{"jsonrpc":"2.0","id":999,"result":1}"#)
        .await;
    assert!(before.is_empty(), "{before:?}");
    raw.send(r#"{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}"#)
        .await;
    assert_eq!(
        raw.recv().await,
        serde_json::json!({"jsonrpc":"2.0","id":1,"result":3})
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn jsonrpsee_ws_client_calls_a_volley_server() {
    use volley::jsonrpsee::core::client::ClientT;
    let running = start(Calc::new()).await;
    let client = t(jsonrpsee::ws_client::WsClientBuilder::default().build(running.ws_url()))
        .await
        .unwrap();
    let sum: i64 = t(client.request("add", jsonrpsee::rpc_params![40, 2]))
        .await
        .unwrap();
    assert_eq!(sum, 42);
    t(running.shutdown()).await;
}

/// The calculator as a jsonrpsee-generated client.
#[jsonrpsee::proc_macros::rpc(client)]
trait JsonrpseeCalc {
    /// Adds.
    #[method(name = "add")]
    async fn add(&self, a: i64, b: i64) -> jsonrpsee::core::RpcResult<i64>;
}

#[tokio::test]
async fn a_jsonrpsee_generated_stub_calls_through_a_volley_peer() {
    let running = start(Calc::new()).await;
    let c = client(&running.ws_url(), TestBrowser::new(true)).await;
    let sum = t(JsonrpseeCalcClient::add(c.peer(), 5, 6)).await.unwrap();
    assert_eq!(sum, 11);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn peer_batch_calls_come_back_in_order() {
    let (calc, mut logs) = Calc::logging();
    let running = start(calc).await;
    let c = client(&running.ws_url(), TestBrowser::new(true)).await;
    let answers = t(c
        .peer()
        .batch()
        .call("add", &[1, 2])
        .unwrap()
        .notify("log", &["x"])
        .unwrap()
        .call("nope", &())
        .unwrap()
        .call("add", &serde_json::json!({"a": 3, "b": 4}))
        .unwrap()
        .send())
    .await
    .unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0].as_ref().unwrap().get(), "3");
    assert_eq!(
        answers[1].as_ref().unwrap_err().remote().unwrap().code(),
        -32601
    );
    assert_eq!(answers[2].as_ref().unwrap().get(), "7");
    // The batched notification ran its handler, with no entry of its own.
    assert_eq!(t(logs.recv()).await.as_deref(), Some("x"));
    t(running.shutdown()).await;
}

#[tokio::test]
async fn handlers_see_who_calls_them() {
    let running = start(Calc::new()).await;
    let Connection {
        client: c, peer, ..
    } = connect_seen(&running, TestBrowser::new(true)).await;
    let (id, addr) = t(CalculatorClient::new(c.peer()).whoami()).await.unwrap();
    assert_eq!(id, peer.id().0);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn at_the_request_cap_requests_wait_their_turn_and_are_never_dropped() {
    let calc = Calc::new();
    let server = Server::builder()
        .add_service(calc.clone().into_service())
        .peer_config(volley::PeerConfig::default().max_concurrent_requests(1))
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut a = raw_connect(&running.ws_url()).await;
    // `wait` takes the only running slot; `add` behind it waits (it does not fail or vanish).
    a.send(r#"{"jsonrpc":"2.0","id":1,"method":"wait","params":[3]}"#)
        .await;
    a.send(r#"{"jsonrpc":"2.0","id":2,"method":"add","params":[1,2]}"#)
        .await;
    // a second connection has its own slots and releases the first call
    let b = client(&running.ws_url(), TestBrowser::new(true)).await;
    assert!(t(CalculatorClient::new(b.peer()).release(3)).await.unwrap());
    let first = a.recv().await;
    let second = a.recv().await;
    assert_eq!(
        first,
        serde_json::json!({"jsonrpc":"2.0","id":1,"result":3})
    );
    assert_eq!(
        second,
        serde_json::json!({"jsonrpc":"2.0","id":2,"result":3})
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_hand_written_jsonrpsee_module_is_served_next_to_generated_methods() {
    let mut module = volley::jsonrpsee::RpcModule::new(());
    module
        .register_method("legacy_peer", |_, _, ext| {
            ext.get::<volley::Context>()
                .map(|cx| cx.peer_id().0)
                .unwrap_or(0)
        })
        .unwrap();
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_service(module)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let Connection {
        client: c, peer, ..
    } = connect_seen(&running, TestBrowser::new(true)).await;
    let id: u64 = t(c.peer().call("legacy_peer", &())).await.unwrap();
    assert_eq!(
        id,
        peer.id().0,
        "the volley context of this connection reaches jsonrpsee callbacks"
    );
    assert_eq!(
        t(CalculatorClient::new(c.peer()).add(1, 1)).await.unwrap(),
        2
    );
    t(running.shutdown()).await;
}
