//! The WebSocket upgrade: refuse what must be refused (shutting down, an origin that is not
//! allowed, a failed authentication, no free connection slot), then start the engine (a
//! plain connection, a new resumable session, or a new socket for a live session). The
//! connection keeps its slot, and forgets its session, through what it holds until its end
//! ([`KeepUntilEnd`]): no task waits for it (the engine registers it in the server's
//! registry).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;
use volley_core::Peer;
use volley_core::connection::{self, Attach, KeepUntilEnd, Link, OnLoss, SessionOptions};
use volley_core::resume::{self, Hello};

use crate::auth::{Handshake, Refusal};
use crate::server::Server;
use crate::sessions::{Ask, Sessions};
use crate::ws::{ReadLimits, Sizes, WsUpgrade};

/// `GET <path>` with an upgrade to WebSocket.
pub(crate) async fn upgrade(
    State(server): State<Server>,
    ws: WsUpgrade,
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
    // The router's copy of the request URI shares the buffer hyper read the request head into
    // (8 KiB): kept with the connection, it would hold that buffer for the connection's life.
    if let Some(OriginalUri(uri)) = extensions.remove::<OriginalUri>() {
        extensions.insert(OriginalUri(detached(uri)));
    }
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
    // The engine registers the connection in the server's registry (in its user, from its
    // claims) before it reads a frame, and unregisters it when it closes.
    let user = settings.identify.as_ref().and_then(|i| (i.0)(&extensions));
    inner.peers.link_as(&mut extensions, user.as_deref());
    let ask = match Ask::from_query(request.uri().query()) {
        Ok(ask) => ask,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    let resumption = settings.resumption.clone();
    let protocols = settings.subprotocols.clone();
    let sizes = Sizes {
        read: ReadLimits {
            chunk: settings.read_buffer_size,
            max_message: settings.max_message_size,
            pong_backlog: settings.write_buffer_size,
        },
        write_buffer: settings.write_buffer_size,
    };
    let Some(resumption) = resumption.filter(|_| ask != Ask::Plain) else {
        let Some(slot) = take_slot(&server) else {
            return too_many();
        };
        if let Some(slot) = slot {
            extensions.insert(KeepUntilEnd::new(slot));
        }
        return ws.on_upgrade(&protocols, sizes, move |socket| async move {
            let inner = &server.inner;
            let peer = connection::spawn_link(
                Link::from_frames(socket.incoming, socket.sender, Attach::fresh()),
                inner.service.clone(),
                inner.settings.config.clone(),
                extensions,
            );
            close_if_shutting_down(&server, &peer);
        });
    };
    let grace_ms = u64::try_from(resumption.grace().as_millis()).unwrap_or(u64::MAX);
    // A resume of a live session takes no new slot: the session holds its own.
    if let Ask::Resume {
        id,
        token,
        received,
    } = &ask
        && let Some(session) = inner.sessions.find(id, token)
    {
        let hello = Hello {
            id: id.clone(),
            token: token.clone(),
            resumed: true,
            received: 0,
            grace_ms,
        };
        let peer_received = *received;
        let mut response = ws.on_upgrade(&protocols, sizes, move |socket| async move {
            let attach = Attach::Resume {
                peer_received,
                hello: Some(hello),
            };
            let link = Link::from_frames(socket.incoming, socket.sender, attach);
            if session.attach(link).await.is_err() {
                tracing::debug!("the session ended while its resume was upgrading");
            }
        });
        session_header(&mut response, id);
        return response;
    }
    let Some(slot) = take_slot(&server) else {
        return too_many();
    };
    let (id, token) = Sessions::credentials();
    let expired = matches!(ask, Ask::Resume { .. });
    let hello = Hello {
        id: id.clone(),
        token: token.clone(),
        resumed: false,
        received: 0,
        grace_ms,
    };
    let header_id = id.clone();
    let ended = Arc::new(AtomicBool::new(false));
    extensions.insert(KeepUntilEnd::new(Ended {
        server: server.clone(),
        session: id.clone(),
        ended: ended.clone(),
        _slot: slot,
    }));
    let mut response = ws.on_upgrade(&protocols, sizes, move |socket| async move {
        let inner = &server.inner;
        let attach = Attach::Fresh {
            numbered: true,
            hello: Some(hello),
            expired,
        };
        let link = Link::from_frames(socket.incoming, socket.sender, attach);
        let mut options = SessionOptions::new(OnLoss::AwaitResume {
            grace: resumption.grace(),
        });
        options.max_replay_bytes = resumption.replay_bytes();
        let session = connection::spawn_session(
            link,
            inner.service.clone(),
            inner.settings.config.clone(),
            extensions,
            options,
        );
        let peer = session.peer().clone();
        inner.sessions.insert(id, token, session, &ended);
        close_if_shutting_down(&server, &peer);
    });
    session_header(&mut response, &header_id);
    response
}

/// A connection slot, when `max_connections` is set; `None` when all are taken.
fn take_slot(server: &Server) -> Option<Option<OwnedSemaphorePermit>> {
    match &server.inner.slots {
        Some(s) => s.clone().try_acquire_owned().ok().map(Some),
        None => Some(None),
    }
}

fn too_many() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response()
}

/// Tells a client that asked for a session which one it got (browsers read the hello).
fn session_header(response: &mut Response, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(resume::HEADER, value);
    }
}

/// What a resumable session keeps until its end: its slot, and its entry in the server's
/// sessions, forgotten when dropped.
struct Ended {
    server: Server,
    session: String,
    ended: Arc<AtomicBool>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.server
            .inner
            .sessions
            .forget(&self.session, &self.ended);
    }
}

/// A connection upgraded while the server began shutting down closes at once (the shutdown
/// may have listed the peers before this one registered).
fn close_if_shutting_down(server: &Server, peer: &Peer) {
    if server.inner.shutdown.is_cancelled() {
        peer.close_with(1001, "server shutting down");
    }
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

/// A copy of `uri` in memory of its own (a parsed URI may share the bytes it was read from).
fn detached(uri: Uri) -> Uri {
    uri.to_string().parse().unwrap_or(uri)
}

#[cfg(test)]
mod tests {
    use super::detached;
    use axum::http::Uri;

    #[test]
    fn a_detached_uri_is_the_same_uri() {
        for text in [
            "/ws",
            "/ws?resume=abc&received=3",
            "http://127.0.0.1:8080/ws?x=%20",
        ] {
            let uri: Uri = text.parse().unwrap();
            assert_eq!(detached(uri.clone()), uri, "{text}");
        }
    }
}
