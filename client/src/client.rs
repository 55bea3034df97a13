//! [`Client`]: one connection to a server.

use std::sync::Arc;

use tokio::sync::watch;
use tokio_tungstenite::tungstenite::http::HeaderMap;
use volley_core::{CloseReason, Peer};

use crate::reconnect::ConnectionState;

/// A connection to a server: call it through [`Client::peer`]; it calls the services this
/// client serves. It reconnects by itself when its socket is lost (see
/// [`ClientBuilder::reconnect`](crate::ClientBuilder::reconnect)); the peer and every stub
/// made from it stay valid across reconnects. Dropping the `Client` does not close the
/// connection; call [`Client::close`].
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) peer: Peer,
    pub(crate) response_headers: Arc<HeaderMap>,
    pub(crate) state: watch::Receiver<ConnectionState>,
}

impl Client {
    /// What the connection is doing now, and every change to it: `Connected`,
    /// `Reconnecting { attempt, delay, .. }`, `Closed(reason)`.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// The headers of the server's answer to the first upgrade.
    pub fn response_headers(&self) -> &HeaderMap {
        &self.response_headers
    }

    /// The subprotocol the server chose, when it chose one.
    pub fn subprotocol(&self) -> Option<&str> {
        self.response_headers
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
    }

    /// The server, as a peer: `CalculatorClient::new(client.peer())`.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Closes the connection with code 1000.
    pub fn close(&self) {
        self.peer.close();
    }

    /// Resolves when the connection has closed.
    pub async fn closed(&self) -> CloseReason {
        self.peer.closed().await
    }
}
