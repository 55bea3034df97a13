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
    dial_with(url, origin, &[]).await
}

/// Opens a WebSocket with `Origin: origin` and the extra `headers`; the refusal's status.
async fn dial_with(url: &str, origin: Option<&str>, headers: &[(&str, &str)]) -> Result<(), u16> {
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    for (name, value) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
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

#[tokio::test]
async fn by_default_only_the_servers_own_origin_may_open_a_connection() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let url = running.ws_url();
    let own = format!("http://{}", running.local_addr());
    let other_port = format!("http://127.0.0.1:{}", running.local_addr().port() + 1);
    assert_eq!(
        dial(&url, Some(&own)).await,
        Ok(()),
        "the page the server served"
    );
    assert_eq!(dial(&url, Some(&format!("{own}/"))).await, Ok(()));
    assert_eq!(
        dial(&url, Some(&other_port)).await,
        Err(403),
        "another port is another origin"
    );
    assert_eq!(dial(&url, Some("https://evil.example.net")).await, Err(403));
    assert_eq!(
        dial(&url, Some("null")).await,
        Err(403),
        "sandboxed pages and files"
    );
    let https_own = format!("https://{}", running.local_addr());
    assert_eq!(
        dial(&url, Some(&https_own)).await,
        Err(403),
        "another scheme"
    );
    assert_eq!(dial(&url, None).await, Ok(()), "programs send no Origin");
    // Proxy headers are not trusted unless the server is said to be behind a proxy.
    let proxied = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "app.example.com"),
    ];
    assert_eq!(
        dial_with(&url, Some("https://app.example.com"), &proxied).await,
        Err(403)
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_origin_is_the_servers_own() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .behind_proxy(true)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let url = running.ws_url();
    let proxied = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "app.example.com"),
    ];
    let forwarded = [(
        "Forwarded",
        "for=192.0.2.1;proto=https;host=app.example.com",
    )];
    for headers in [&proxied[..], &forwarded[..]] {
        assert_eq!(
            dial_with(&url, Some("https://app.example.com"), headers).await,
            Ok(())
        );
        assert_eq!(
            dial_with(&url, Some("https://evil.example.net"), headers).await,
            Err(403)
        );
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn the_development_opt_out_accepts_every_origin() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .danger_accept_any_origin()
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let url = running.ws_url();
    assert_eq!(dial(&url, Some("https://evil.example.net")).await, Ok(()));
    assert_eq!(dial(&url, Some("null")).await, Ok(()));
    t(running.shutdown()).await;
}

#[test]
#[should_panic(expected = "is not an origin")]
fn an_allowlist_entry_that_is_not_an_origin_is_refused_at_once() {
    let _ = Server::builder().allowed_origins(["app.example.com"]);
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
