//! One connection as the log names it.

use std::net::SocketAddr;

use crate::output;

/// One connection, as the log names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Connection {
    /// Its number, counted from 1 as connections are accepted.
    pub(crate) id: u64,
    /// Where it comes from.
    pub(crate) peer: SocketAddr,
}

impl Connection {
    /// Logs `text` about this connection on stderr.
    pub(crate) fn log(&self, text: &str) {
        output::stderr(&format!(
            "volley bridge: connection {} ({}): {text}",
            self.id, self.peer
        ));
    }
}
