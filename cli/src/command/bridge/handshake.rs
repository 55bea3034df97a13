//! The WebSocket upgrade: on the endpoint's path only (404 elsewhere), from an allowed
//! origin when `--allow-origin` lists them (403 otherwise), and only while a connection slot
//! is free (503 otherwise), all answered before the upgrade, so a refused connection never
//! starts a program.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::connection::Connection;

/// How long a client has to complete the upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who gets in: the endpoint's path, the origins, and the connection slots.
#[derive(Debug)]
pub(crate) struct Gate {
    path: String,
    /// The browser origins let in, as [`origin`] writes them; empty: only the bridge's own
    /// (`http://` and the request's `Host`).
    origins: Vec<String>,
    slots: Arc<Semaphore>,
    max_connections: u32,
    config: WebSocketConfig,
}

impl Gate {
    /// Upgrades on `path`, for requests without an `Origin` or from one of `origins` (any
    /// when empty), `max_connections` at once, frames of `max_message_size` bytes at most.
    pub(crate) fn new(
        path: String,
        origins: &[String],
        max_connections: u32,
        max_message_size: usize,
    ) -> Self {
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_message_size))
            .max_frame_size(Some(max_message_size));
        Self {
            path,
            origins: origins.iter().map(|o| origin(o)).collect(),
            slots: Arc::new(Semaphore::new(max_connections as usize)),
            max_connections,
            config,
        }
    }

    /// How many connections hold a slot.
    pub(crate) fn open(&self) -> usize {
        (self.max_connections as usize).saturating_sub(self.slots.available_permits())
    }

    /// Upgrades `tcp` to a WebSocket holding one slot, or refuses it (logged); `None` when
    /// refused or the upgrade failed.
    pub(crate) async fn accept(
        &self,
        tcp: TcpStream,
        connection: Connection,
    ) -> Option<(WebSocketStream<TcpStream>, OwnedSemaphorePermit)> {
        let mut slot = None;
        // The signature is tungstenite's `Callback`: its refusal is a whole HTTP response.
        #[allow(clippy::result_large_err)]
        let check = |request: &Request, response: Response| {
            if request.uri().path() != self.path {
                let why = format!("no WebSocket endpoint at this path; it is {}", self.path);
                return Err(refusal(StatusCode::NOT_FOUND, why));
            }
            if let Some(from) = request.headers().get("origin") {
                let from = origin(&String::from_utf8_lossy(from.as_bytes()));
                // Without --allow-origin, only a page served from the bridge's own address
                // gets in: a page of any other site cannot drive the program.
                let own = request
                    .headers()
                    .get("host")
                    .map(|h| origin(&format!("http://{}", String::from_utf8_lossy(h.as_bytes()))));
                let allowed = if self.origins.is_empty() {
                    own.as_deref() == Some(from.as_str())
                } else {
                    self.origins.contains(&from)
                };
                if !allowed {
                    let why = format!("the origin {from} is not allowed (--allow-origin)");
                    return Err(refusal(StatusCode::FORBIDDEN, why));
                }
            }
            match self.slots.clone().try_acquire_owned() {
                Ok(permit) => {
                    slot = Some(permit);
                    Ok(response)
                }
                Err(_) => {
                    let why = format!(
                        "{} connections are open, the most allowed (--max-connections)",
                        self.max_connections
                    );
                    Err(refusal(StatusCode::SERVICE_UNAVAILABLE, why))
                }
            }
        };
        let upgrade =
            tokio_tungstenite::accept_hdr_async_with_config(tcp, check, Some(self.config));
        let upgraded = tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await;
        match upgraded {
            Ok(Ok(socket)) => Some((socket, slot?)),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
                let why = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default());
                connection.log(&format!("refused: {} {why}", response.status().as_u16()));
                None
            }
            Ok(Err(e)) => {
                connection.log(&format!("not a WebSocket upgrade: {e}"));
                None
            }
            Err(_) => {
                connection.log("no WebSocket upgrade in time");
                None
            }
        }
    }
}

/// An origin as compared: lower case, without a final `/`.
fn origin(text: &str) -> String {
    text.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// An HTTP refusal with `why` as its body.
fn refusal(status: StatusCode, why: String) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(why));
    *response.status_mut() = status;
    response
}
