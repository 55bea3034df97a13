//! [`Settings`]: everything a built server was configured with.

use std::sync::Arc;
use std::time::Duration;

use volley_core::{PeerConfig, Resumption};

use crate::auth::Authenticator;
use crate::origin::OriginPolicy;
use crate::tls::Tls;

/// Everything a built server was configured with (one value, kept by the [`Server`]).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) path: String,
    /// Shared by every connection.
    pub(crate) config: Arc<PeerConfig>,
    pub(crate) read_buffer_size: usize,
    pub(crate) write_buffer_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) backlog: u32,
    pub(crate) max_connections: Option<usize>,
    pub(crate) origins: OriginPolicy,
    pub(crate) auth: Option<Authenticator>,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) drain_timeout: Duration,
    pub(crate) tls: Option<Tls>,
    pub(crate) docs_page: bool,
    pub(crate) documents: bool,
    pub(crate) resumption: Option<Resumption>,
    pub(crate) handshake_timeout: Duration,
    pub(crate) identify: Option<Identify>,
}

/// Finds the user a connection belongs to, from its claims (`ServerBuilder::identify`).
#[derive(Clone)]
pub(crate) struct Identify(pub(crate) Arc<UserOf>);

type UserOf = dyn Fn(&http::Extensions) -> Option<String> + Send + Sync;

impl std::fmt::Debug for Identify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identify")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            path: "/ws".to_owned(),
            config: Arc::new(PeerConfig::default()),
            read_buffer_size: 8 * 1024,
            write_buffer_size: 16 * 1024,
            max_message_size: 16 * 1024 * 1024,
            backlog: 4096,
            max_connections: None,
            origins: OriginPolicy::default(),
            auth: None,
            subprotocols: Vec::new(),
            drain_timeout: Duration::from_secs(10),
            tls: None,
            docs_page: true,
            documents: true,
            resumption: Some(Resumption::default()),
            handshake_timeout: Duration::from_secs(10),
            identify: None,
        }
    }
}
