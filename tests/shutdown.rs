//! A shutdown that drains: new requests get -32012, running ones finish and their answers
//! arrive, then every connection closes with 1001; the same through a user's own
//! `axum::serve(..).with_graceful_shutdown(server.shutdown_on(..))`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::services::{Calc, Calculator, CalculatorClient};
use common::t;
use volley::{Client, Error, Server, codes};

/// Starts `wait(key)` on `client` and returns once its handler runs on the server.
async fn start_wait(
    calc: &Calc,
    client: &Client,
    key: u64,
) -> tokio::task::JoinHandle<volley::Result<u64>> {
    let started = calc.waiting.notified();
    tokio::pin!(started);
    started.as_mut().enable();
    let stub = CalculatorClient::new(client.peer());
    let call = tokio::spawn(async move { stub.wait(key).await });
    t(started).await;
    call
}

fn release(calc: &Calc, key: u64) {
    let gate = calc
        .gates
        .lock()
        .unwrap()
        .remove(&key)
        .expect("a waiting handler");
    gate.send(()).expect("the handler still waits");
}

#[tokio::test]
async fn running_requests_finish_new_ones_are_refused_then_1001() {
    let calc = Calc::new();
    let server = Server::builder()
        .add_service(calc.clone().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let client = t(Client::builder().reconnect(None).connect(&running.ws_url()))
        .await
        .expect("connect");
    let slow = start_wait(&calc, &client, 1).await;

    let shutting = tokio::spawn({
        let server = server.clone();
        async move { server.shutdown().await }
    });
    t(server.stopped()).await;
    let on_server = server.peers().list().pop().expect("the connection");
    assert!(on_server.is_draining());

    // New requests are refused with the documented code; the heartbeat still answers.
    let refused = t(CalculatorClient::new(client.peer()).add(1, 2)).await;
    match refused {
        Err(Error::Remote(e)) => {
            assert_eq!(e.code(), codes::SHUTTING_DOWN);
            assert_eq!(e.message(), "Shutting down");
        }
        other => panic!("expected -32012, got {other:?}"),
    }
    let pong = t(client.peer().request_raw("rpc.ping", None, None)).await;
    assert_eq!(pong.expect("pong").get(), r#""pong""#);
    assert!(!shutting.is_finished(), "a request is still running");

    // The running request finishes and its answer is delivered, then the close comes.
    release(&calc, 1);
    assert_eq!(t(slow).await.expect("joined").expect("answered"), 1);
    t(shutting).await.expect("shut down");
    let reason = t(client.closed()).await;
    assert_eq!(reason.code, 1001);
    assert_eq!(reason.reason, "server shutting down");
    assert!(server.peers().is_empty());
}

#[tokio::test]
async fn a_request_still_running_at_the_drain_deadline_is_cut_off() {
    let calc = Calc::new();
    let server = Server::builder()
        .add_service(calc.clone().into_service())
        .drain_timeout(Duration::from_millis(100))
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let client = t(Client::builder().reconnect(None).connect(&running.ws_url()))
        .await
        .expect("connect");
    let stuck = start_wait(&calc, &client, 2).await;
    t(running.shutdown()).await;
    assert!(matches!(
        t(stuck).await.expect("joined"),
        Err(Error::Disconnected)
    ));
    assert_eq!(t(client.closed()).await.code, 1001);
}

#[tokio::test]
async fn an_app_run_by_axum_serve_drains_and_closes_with_1001() {
    let calc = Calc::new();
    let server = Server::builder()
        .add_service(calc.clone().into_service())
        .build();
    let listener = t(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, signal) = tokio::sync::oneshot::channel::<()>();
    let app = server
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let serving = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(server.shutdown_on(async {
                let _ = signal.await;
            }))
            .into_future(),
    );
    let client = t(Client::builder()
        .reconnect(None)
        .connect(&format!("ws://{addr}/ws")))
    .await
    .expect("connect");
    let slow = start_wait(&calc, &client, 3).await;

    stop.send(()).expect("the server listens for the signal");
    t(server.stopped()).await;
    release(&calc, 3);
    assert_eq!(t(slow).await.expect("joined").expect("answered"), 3);
    t(serving)
        .await
        .expect("joined")
        .expect("axum stopped cleanly");
    let reason = t(client.closed()).await;
    assert_eq!(reason.code, 1001, "a close frame, not a reset: {reason:?}");
}
