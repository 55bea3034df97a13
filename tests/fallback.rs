//! `Service::with_fallback`: methods nothing serves go to one handler, requests and
//! notifications alike, over a real socket; built-ins and served methods are not passed to it.

mod common;

use common::services::{Calc, Calculator};
use common::{raw_connect, t};
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use volley::{Server, Service, Unhandled};

#[tokio::test]
async fn unserved_methods_reach_the_fallback() {
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<(String, Option<String>, bool)>();
    let fallback = Service::new().with_fallback(move |_cx, call: Unhandled| {
        let seen_tx = seen_tx.clone();
        async move {
            let params = call.params.as_ref().map(|p| p.get().to_owned());
            let _ = seen_tx.send((call.method.clone(), params.clone(), call.notification));
            if call.method == "refuse" {
                return Err(volley::ErrorObject::owned(4000, "refused", None::<()>));
            }
            let answer = json!({"method": call.method, "params": params});
            Ok(RawValue::from_string(answer.to_string()).expect("JSON"))
        }
    });
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_service(fallback)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut raw = raw_connect(&running.ws_url()).await;

    // A served method and a built-in are not the fallback's.
    raw.send(r#"{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}"#)
        .await;
    assert_eq!(raw.recv().await["result"], 3);
    raw.send(r#"{"jsonrpc":"2.0","id":2,"method":"rpc.ping"}"#)
        .await;
    assert_eq!(raw.recv().await["result"], "pong");

    // A request: its params as sent, its answer from the fallback.
    raw.send(r#"{"jsonrpc":"2.0","id":3,"method":"any.thing","params":{"x":[1,2]}}"#)
        .await;
    assert_eq!(
        raw.recv().await,
        json!({"jsonrpc": "2.0", "id": 3, "result": {"method": "any.thing", "params": "{\"x\":[1,2]}"}})
    );
    assert_eq!(
        t(seen.recv()).await.unwrap(),
        ("any.thing".into(), Some(r#"{"x":[1,2]}"#.into()), false)
    );
    // Its error is the answer.
    raw.send(r#"{"jsonrpc":"2.0","id":4,"method":"refuse"}"#)
        .await;
    assert_eq!(
        raw.recv().await,
        json!({"jsonrpc": "2.0", "id": 4, "error": {"code": 4000, "message": "refused"}})
    );
    assert_eq!(
        t(seen.recv()).await.unwrap(),
        ("refuse".into(), None, false)
    );
    // A notification runs it and gets no answer: the ping behind it is the next frame.
    let before = raw
        .send_and_collect(r#"{"jsonrpc":"2.0","method":"note","params":[7]}"#)
        .await;
    assert!(before.is_empty(), "{before:?}");
    assert_eq!(
        t(seen.recv()).await.unwrap(),
        ("note".into(), Some("[7]".into()), true)
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn without_a_fallback_an_unserved_method_is_not_found() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut raw = raw_connect(&running.ws_url()).await;
    raw.send(r#"{"jsonrpc":"2.0","id":1,"method":"any.thing"}"#)
        .await;
    assert_eq!(raw.recv().await["error"]["code"], -32601);
    t(running.shutdown()).await;
}
