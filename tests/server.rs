//! The server as an axum app: origins, middleware-provided claims, connection limits, and
//! mounting next to an application's own routes.

mod common;

use axum::response::IntoResponse;
use common::services::{Calc, Calculator};
use common::t;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, http::HeaderValue};
use volley::{PeerEvent, Server};

async fn dial(url: &str, origin: Option<&str>) -> Result<(), u16> {
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    match t(tokio_tungstenite::connect_async(request)).await {
        Ok(_) => Ok(()),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[tokio::test]
async fn only_allowed_origins_may_open_a_connection() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .allowed_origins(["https://app.example.com", "http://localhost:8080/"])
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let url = running.ws_url();
    assert_eq!(dial(&url, Some("https://app.example.com")).await, Ok(()));
    assert_eq!(dial(&url, Some("HTTP://LOCALHOST:8080")).await, Ok(()));
    assert_eq!(dial(&url, Some("https://evil.example.net")).await, Err(403));
    assert_eq!(dial(&url, None).await, Ok(()), "programs send no Origin");
    t(running.shutdown()).await;
}

#[derive(Clone, Debug, PartialEq)]
struct Claims(String);

#[tokio::test]
async fn middleware_claims_reach_handlers_through_the_context() {
    let mut module = volley::jsonrpsee::RpcModule::new(());
    module
        .register_method("me", |_, _, ext| {
            ext.get::<volley::Context>()
                .and_then(|cx| cx.extensions().get::<Claims>().map(|c| c.0.clone()))
        })
        .unwrap();
    let server = Server::builder().add_service(module).build();
    // An application's own auth layer, and its own route, around the volley routes.
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .merge(server.router())
        .layer(axum::middleware::from_fn(
            |mut request: axum::extract::Request, next: axum::middleware::Next| async move {
                let user = request
                    .headers()
                    .get("x-user")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match user {
                    Some(user) => {
                        request.extensions_mut().insert(Claims(user));
                        next.run(request).await
                    }
                    None => axum::http::StatusCode::UNAUTHORIZED.into_response(),
                }
            },
        ));
    let running = t(server.listen_with("127.0.0.1:0", app)).await.unwrap();
    let url = running.ws_url();
    assert_eq!(
        dial(&url, None).await,
        Err(401),
        "the layer refuses anonymous upgrades"
    );
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("x-user", HeaderValue::from_static("ada"));
    let (ws, _) = t(tokio_tungstenite::connect_async(request)).await.unwrap();
    let mut raw = common::Raw { ws };
    raw.send(r#"{"jsonrpc":"2.0","id":1,"method":"me"}"#).await;
    assert_eq!(
        raw.recv().await,
        serde_json::json!({"jsonrpc":"2.0","id":1,"result":"ada"})
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503_until_one_leaves() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .max_connections(1)
        .build();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let url = running.ws_url();
    let first = common::raw_connect(&url).await;
    let PeerEvent::Connected(peer) = t(events.recv()).await.unwrap() else {
        panic!("expected the first connection")
    };
    assert_eq!(dial(&url, None).await, Err(503));
    drop(first);
    // the refused one never became a peer: the next event is the first connection leaving
    match t(events.recv()).await.unwrap() {
        PeerEvent::Disconnected { id, .. } => assert_eq!(id, peer.id()),
        other => panic!("expected the first connection to leave, got {other:?}"),
    }
    assert_eq!(dial(&url, None).await, Ok(()));
    t(running.shutdown()).await;
}
