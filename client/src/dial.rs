//! Dialing one socket: the upgrade request with its headers (computed again for every
//! attempt), TLS, the connect timeout, and the session hello when the server agreed to one.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use volley_core::resume::{self, Hello};

use crate::error::ConnectError;
use crate::tls::TlsOptions;

/// The socket type the client runs on.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A header value: fixed, or computed at each attempt (a token that is refreshed).
#[derive(Clone)]
pub(crate) enum HeaderSource {
    Fixed(String),
    Computed(Arc<dyn Fn() -> String + Send + Sync>),
}

impl std::fmt::Debug for HeaderSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderSource::Fixed(_) => f.write_str("Fixed(..)"),
            HeaderSource::Computed(_) => f.write_str("Computed(..)"),
        }
    }
}

/// What the client asks the server for at the upgrade.
#[derive(Debug, Clone)]
pub(crate) enum Ask {
    /// Plain JSON-RPC.
    Plain,
    /// A new resumable session.
    New,
    /// Resume this session, having received `received` of its frames.
    Resume { hello: Hello, received: u64 },
}

/// A dialed socket, and the session hello when the server agreed to a session.
pub(crate) struct Dialed {
    pub(crate) socket: Socket,
    pub(crate) headers: http::HeaderMap,
    pub(crate) hello: Option<Hello>,
}

/// Everything needed to dial the server again.
#[derive(Debug, Clone)]
pub(crate) struct Dialer {
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, HeaderSource)>,
    pub(crate) tls: TlsOptions,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_message_size: usize,
}

impl Dialer {
    /// The URL with the session query parameters for `ask`.
    fn url(&self, ask: &Ask) -> String {
        let query = match ask {
            Ask::Plain => return self.url.clone(),
            Ask::New => format!("{}=new", resume::QUERY_SESSION),
            Ask::Resume { hello, received } => format!(
                "{}={}&{}={}&{}={received}",
                resume::QUERY_SESSION,
                hello.id,
                resume::QUERY_TOKEN,
                hello.token,
                resume::QUERY_RECEIVED,
            ),
        };
        let (base, fragment) = match self.url.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (self.url.as_str(), None),
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        let mut url = format!("{base}{sep}{query}");
        if let Some(f) = fragment {
            url.push('#');
            url.push_str(f);
        }
        url
    }

    /// Dials once, within the connect timeout (the hello included).
    pub(crate) async fn dial(&self, ask: &Ask) -> Result<Dialed, ConnectError> {
        let timeout = self.connect_timeout;
        tokio::time::timeout(timeout, self.dial_unbounded(ask))
            .await
            .map_err(|_| ConnectError::Timeout(timeout))?
    }

    async fn dial_unbounded(&self, ask: &Ask) -> Result<Dialed, ConnectError> {
        let mut request = self
            .url(ask)
            .into_client_request()
            .map_err(|e| ConnectError::InvalidRequest(e.to_string()))?;
        for (name, value) in &self.headers {
            let value = match value {
                HeaderSource::Fixed(v) => v.clone(),
                HeaderSource::Computed(f) => f(),
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ConnectError::InvalidRequest(format!("header {name}: {e}")))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|e| ConnectError::InvalidRequest(format!("header {name}: {e}")))?;
            request.headers_mut().append(name, value);
        }
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(16 * 1024)
            .max_message_size(Some(self.max_message_size));
        let connector = if request.uri().scheme_str() == Some("wss") {
            Connector::Rustls(self.tls.client_config()?)
        } else {
            Connector::Plain
        };
        let (mut socket, response) = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(ws_config),
            true,
            Some(connector),
        )
        .await?;
        let headers = response.headers().clone();
        let mut hello = None;
        if !matches!(ask, Ask::Plain) && headers.contains_key(resume::HEADER) {
            // The server agreed to a session: its first frame must be the hello.
            hello = match socket.next().await {
                Some(Ok(Message::Text(text))) => Hello::parse(&text),
                Some(Err(e)) => return Err(e.into()),
                None => {
                    return Err(ConnectError::WebSocket(Box::new(
                        tungstenite::Error::ConnectionClosed,
                    )));
                }
                Some(Ok(_)) => None,
            };
            if hello.is_none() {
                return Err(ConnectError::Protocol(format!(
                    "the server announced a session ({}) but its first frame is not {}",
                    resume::HEADER,
                    resume::SESSION
                )));
            }
        }
        Ok(Dialed {
            socket,
            headers,
            hello,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialer(url: &str) -> Dialer {
        Dialer {
            url: url.into(),
            headers: Vec::new(),
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(1),
            max_message_size: 1024,
        }
    }

    #[test]
    fn the_session_query_joins_the_url_s_own() {
        assert_eq!(dialer("ws://h/ws").url(&Ask::Plain), "ws://h/ws");
        assert_eq!(
            dialer("ws://h/ws").url(&Ask::New),
            "ws://h/ws?volley_session=new"
        );
        let hello = Hello {
            id: "a1".into(),
            token: "t2".into(),
            resumed: false,
            received: 0,
            grace_ms: 1,
        };
        assert_eq!(
            dialer("ws://h/ws?token=x").url(&Ask::Resume { hello, received: 9 }),
            "ws://h/ws?token=x&volley_session=a1&volley_resume_token=t2&volley_received=9"
        );
    }
}
