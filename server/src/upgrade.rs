//! The WebSocket upgrade: refuse what must be refused (shutting down, an origin that is not
//! allowed, a failed authentication, no free connection slot), then start the engine and register the peer until it leaves.

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use volley_core::connection;

use crate::auth::{Handshake, Refusal};
use crate::server::Server;
use crate::websocket::Axum;

/// `GET <path>` with an upgrade to WebSocket.
pub(crate) async fn upgrade(
    State(server): State<Server>,
    ws: WebSocketUpgrade,
    request: axum::extract::Request,
) -> Response {
    let inner = &server.inner;
    let settings = &inner.settings;
    if inner.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "server shutting down").into_response();
    }
    if let Err(why) = settings
        .origins
        .accepts(request.headers(), settings.tls.is_some())
    {
        tracing::debug!(%why, "WebSocket upgrade refused");
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let remote_addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let mut extensions = request.extensions().clone();
    if let Some(addr) = remote_addr {
        extensions.insert(addr);
    }
    if let Some(auth) = &settings.auth {
        let handshake = Handshake {
            headers: request.headers().clone(),
            uri: request.uri().clone(),
            remote_addr,
        };
        if let Err(refusal) = auth.check(handshake, &mut extensions).await {
            tracing::debug!(
                status = refusal.status(),
                "WebSocket upgrade not authenticated"
            );
            return refused(refusal);
        }
    }
    let slot = match &inner.slots {
        Some(s) => match s.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
            }
        },
        None => None,
    };
    ws.protocols(settings.subprotocols.clone())
        .read_buffer_size(settings.read_buffer_size)
        .write_buffer_size(settings.write_buffer_size)
        .max_message_size(settings.max_message_size)
        .on_upgrade(move |socket| async move {
            let inner = &server.inner;
            let peer = connection::spawn_websocket::<Axum, _>(
                socket,
                inner.service.clone(),
                inner.settings.config.clone(),
                extensions,
            );
            inner.peers.insert(peer.clone());
            if inner.shutdown.is_cancelled() {
                peer.close_with(1001, "server shutting down");
            }
            let reason = peer.closed().await;
            inner.peers.remove(peer.id(), reason);
            drop(slot);
        })
}

/// The response for a refused authentication; a 401 says which scheme it wants.
fn refused(refusal: Refusal) -> Response {
    let mut response = (refusal.status, refusal.body).into_response();
    if refusal.status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}
