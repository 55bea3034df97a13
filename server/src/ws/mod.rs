//! The server's WebSocket layer (RFC 6455), volley's own: the upgrade handshake over axum
//! and hyper, then frames read and written straight on the connection. It reads into a
//! buffer only while a frame is arriving, writes each batch of frames with one write, and
//! speaks exactly what volley needs (no extensions); the client stays on tungstenite.

mod frame;
mod io;
mod read;
mod write;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;

pub(crate) use read::{ReadLimits, Receiver};
pub(crate) use write::Sender;

use io::{ReadIo, WriteIo};
use tokio::io::{AsyncRead, AsyncWrite};
use write::Out;

/// A request to upgrade to WebSocket, checked as RFC 6455 section 4.2.1 asks (a `GET` over
/// HTTP/1.1 with `Connection: upgrade`, `Upgrade: websocket`, version 13 and a key).
pub(crate) struct WsUpgrade {
    key: HeaderValue,
    offered: Vec<HeaderValue>,
    on_upgrade: OnUpgrade,
}

/// The sizes a socket is read and written with (from the server's settings).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) read: ReadLimits,
    /// Bytes of frames held before they are written without waiting for a flush.
    pub(crate) write_buffer: usize,
}

/// Both halves of an upgraded connection, as the engine takes them.
pub(crate) struct Socket {
    pub(crate) incoming: Receiver,
    pub(crate) sender: Sender,
}

fn rejection(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for WsUpgrade {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Response> {
        if parts.method != Method::GET {
            return Err(rejection(
                StatusCode::METHOD_NOT_ALLOWED,
                "a WebSocket upgrade must be a GET request",
            ));
        }
        if parts.version < Version::HTTP_11 {
            return Err(rejection(
                StatusCode::BAD_REQUEST,
                "a WebSocket upgrade needs HTTP/1.1",
            ));
        }
        if !has_token(&parts.headers, &header::CONNECTION, "upgrade") {
            return Err(rejection(
                StatusCode::BAD_REQUEST,
                "Connection header did not include 'upgrade'",
            ));
        }
        if !has_token(&parts.headers, &header::UPGRADE, "websocket") {
            return Err(rejection(
                StatusCode::BAD_REQUEST,
                "`Upgrade` header did not include 'websocket'",
            ));
        }
        let version = parts.headers.get(header::SEC_WEBSOCKET_VERSION);
        if version.is_none_or(|v| v.as_bytes() != b"13") {
            let mut response = rejection(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Version` header did not include '13'",
            );
            response.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            return Err(response);
        }
        let Some(key) = parts.headers.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return Err(rejection(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Key` header missing",
            ));
        };
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return Err(rejection(
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            ));
        };
        let offered = parts
            .headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .filter_map(|p| HeaderValue::from_bytes(p.trim_ascii()).ok())
            .collect();
        Ok(Self {
            key,
            offered,
            on_upgrade,
        })
    }
}

/// Whether `name`'s comma-separated values include `token` (any case).
fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// `Sec-WebSocket-Accept` for a client's key (RFC 6455 section 4.2.2).
fn accept_key(key: &[u8]) -> HeaderValue {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = Sha1::new().chain_update(key).chain_update(GUID).finalize();
    let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
    HeaderValue::from_str(&encoded).expect("base64 is a valid header value")
}

impl WsUpgrade {
    /// Answers `101 Switching Protocols` (with the first of `protocols` the client offered)
    /// and runs `then` on the socket once hyper hands the connection over.
    pub(crate) fn on_upgrade<F, Fut>(self, protocols: &[String], sizes: Sizes, then: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let protocol = protocols
            .iter()
            .find(|p| self.offered.iter().any(|o| o.as_bytes() == p.as_bytes()))
            .and_then(|p| HeaderValue::from_str(p).ok());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => then(socket(upgraded, sizes)).await,
                Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            accept_key(self.key.as_bytes()),
        );
        if let Some(protocol) = protocol {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        response
    }
}

/// The connection hyper upgraded, split into halves. A plain TCP connection (what
/// [`Server::listen`](crate::Server::listen) serves) splits without a lock; TLS and any
/// other connection (an app served by `axum::serve`) split behind tokio's.
fn socket(upgraded: Upgraded, sizes: Sizes) -> Socket {
    type Tls = tokio_rustls::server::TlsStream<TcpStream>;
    let (read, write, early) = match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => {
            let (r, w) = parts.io.into_inner().into_split();
            (ReadIo::Tcp(r), WriteIo::Tcp(w), parts.read_buf)
        }
        Err(upgraded) => {
            let (r, w, early): (
                Box<dyn AsyncRead + Send + Unpin>,
                Box<dyn AsyncWrite + Send + Unpin>,
                _,
            ) = match upgraded.downcast::<TokioIo<Tls>>() {
                Ok(parts) => {
                    let (r, w) = tokio::io::split(parts.io.into_inner());
                    (Box::new(r), Box::new(w), parts.read_buf)
                }
                Err(upgraded) => {
                    let (r, w) = tokio::io::split(TokioIo::new(upgraded));
                    (Box::new(r), Box::new(w), Default::default())
                }
            };
            (ReadIo::Other(r), WriteIo::Other(w), early)
        }
    };
    let out = Arc::new(Mutex::new(Out::new(write)));
    Socket {
        incoming: Receiver::new(read, &early, out.clone(), sizes.read),
        sender: Sender::new(out, sizes.write_buffer),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_accept_key_of_rfc_6455s_example() {
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
