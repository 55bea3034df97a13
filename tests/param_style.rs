//! `params = "positional"` / `"named"` on a trait and on a method: what the generated stubs
//! (single and fan-out) send, what the documents declare, what the TypeScript sends, and
//! that serving keeps accepting both shapes.

mod common;

use common::{raw_peer, t};
use serde_json::json;
use volley::codegen::{Api, Side, TypeScriptOptions, openrpc, typescript};
use volley::{RemoteService, Server};

/// Served by the connecting client, called by the server.
#[volley::rpc(params = "positional")]
pub trait Screen {
    /// Positional, from the trait.
    async fn show(&self, text: String, seconds: Option<u32>) -> volley::Result<bool>;
    /// Named, by its own option.
    #[rpc(params = "named")]
    async fn hide(&self, id: u32) -> volley::Result<bool>;
    /// A positional notification.
    #[rpc(notification)]
    async fn beep(&self, times: u8);
}

/// Served by the server; no style declared.
#[volley::rpc]
pub trait Plain {
    /// Either shape.
    async fn sum(&self, a: i64, b: i64) -> volley::Result<i64>;
}

/// Served by the server; positional, but a volley server takes names too.
#[volley::rpc(params = "positional")]
pub trait Strict {
    /// Declared by position.
    async fn diff(&self, a: i64, b: i64) -> volley::Result<i64>;
}

struct Impl;

impl Plain for Impl {
    async fn sum(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }
}

impl Strict for Impl {
    async fn diff(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a - b)
    }
}

#[tokio::test]
async fn stubs_send_the_declared_shape() {
    let server = Server::builder()
        .add_service(Plain::into_service(Impl))
        .add_service(Strict::into_service(Impl))
        .add_remote_service::<ScreenClient>()
        .build();
    let (running, mut raw, peer) = raw_peer(server).await;
    let screen = ScreenClient::new(&peer);

    let show = tokio::spawn({
        let screen = screen.clone();
        async move { screen.show("hello".into(), None).await }
    });
    let request = raw.recv().await;
    assert_eq!(request["method"], "show");
    assert_eq!(request["params"], json!(["hello", null]), "{request}");
    raw.send_json(&json!({"jsonrpc": "2.0", "id": request["id"], "result": true}))
        .await;
    assert!(t(show).await.unwrap().unwrap());

    let hide = tokio::spawn({
        let screen = screen.clone();
        async move { screen.hide(7).await }
    });
    let request = raw.recv().await;
    assert_eq!(request["params"], json!({"id": 7}), "{request}");
    raw.send_json(&json!({"jsonrpc": "2.0", "id": request["id"], "result": false}))
        .await;
    assert!(!t(hide).await.unwrap().unwrap());

    screen.beep(2).await.unwrap();
    assert_eq!(
        raw.recv().await,
        json!({"jsonrpc": "2.0", "method": "beep", "params": [2]})
    );
    // The fan-out stub sends the same shape.
    ScreenFanout::new(running.server().peers().all())
        .beep(3)
        .unwrap();
    assert_eq!(
        raw.recv().await,
        json!({"jsonrpc": "2.0", "method": "beep", "params": [3]})
    );

    // Serving takes both shapes, whatever the trait declares.
    for (id, method, params, result) in [
        (1, "sum", json!([5, 2]), 7),
        (2, "sum", json!({"a": 5, "b": 2}), 7),
        (3, "diff", json!([5, 2]), 3),
        (4, "diff", json!({"a": 5, "b": 2}), 3),
    ] {
        raw.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        assert_eq!(
            raw.recv().await,
            json!({"jsonrpc": "2.0", "id": id, "result": result}),
            "{method} {params}"
        );
    }
    t(running.shutdown()).await;
}

fn api() -> Api {
    Api::new(Side::Server)
        .with_served([PlainClient::DESCRIPTION, StrictClient::DESCRIPTION])
        .with_remote([ScreenClient::DESCRIPTION])
}

#[test]
fn documents_declare_the_param_structure() {
    let doc = openrpc(&api(), None);
    let structure = |name: &str| {
        doc["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))["paramStructure"]
            .clone()
    };
    assert_eq!(structure("sum"), "either");
    assert_eq!(structure("diff"), "by-position");
    assert_eq!(structure("show"), "by-position");
    assert_eq!(structure("hide"), "by-name");
    assert_eq!(structure("beep"), "by-position");
}

#[test]
fn typescript_sends_the_declared_shape() {
    let ts = typescript(&api(), &TypeScriptOptions::default());
    // By position: an array of the object's values in declaration order.
    assert!(
        ts.contains(r#"diff: (params, options) => peer.call("diff", params && [params["a"], params["b"]], options),"#),
        "{ts}"
    );
    // Undeclared: the object as it is.
    assert!(
        ts.contains(r#"sum: (params, options) => peer.call("sum", params, options),"#),
        "{ts}"
    );
}
