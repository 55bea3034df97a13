//! [`ConnectError`]: why dialing failed.

use std::time::Duration;

use tokio_tungstenite::tungstenite;

/// Dialing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The server answered the upgrade with an HTTP error (401 without credentials, 403 for
    /// another origin or forbidden credentials, 503 when full or shutting down...).
    #[error("the server refused the connection: {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The response body (the server's reason), empty when there was none.
        body: String,
    },
    /// The WebSocket handshake or the TCP connect failed.
    #[error("could not connect")]
    WebSocket(#[source] Box<tungstenite::Error>),
    /// No answer within the connect timeout.
    #[error("connect timed out after {0:?}")]
    Timeout(Duration),
    /// TLS could not be set up: a root certificate that does not parse, for instance. (A
    /// server certificate that is not trusted fails the handshake: `WebSocket`.)
    #[error("TLS: {0}")]
    Tls(String),
    /// The server broke the protocol during the handshake (it announced a session and sent
    /// no hello, for instance).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The URL or a header given to the builder cannot make a request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ConnectError {
    /// The HTTP status of a refused upgrade.
    pub fn status(&self) -> Option<u16> {
        match self {
            ConnectError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<tungstenite::Error> for ConnectError {
    fn from(e: tungstenite::Error) -> Self {
        match e {
            tungstenite::Error::Http(response) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_deref()
                    .map(|b| String::from_utf8_lossy(b).trim().to_owned())
                    .unwrap_or_default();
                ConnectError::Refused { status, body }
            }
            other => ConnectError::WebSocket(Box::new(other)),
        }
    }
}
