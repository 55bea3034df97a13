//! `/asyncapi.json` and `/openrpc.json`: the server's generated API documents, and the
//! [`Server`] methods that render them.
//!
//! Each request gets documents whose server URL is the one the request came to: the `Host`
//! header (or `X-Forwarded-Host`), `wss` when `X-Forwarded-Proto` says `https`, and the path
//! the routes are mounted under; without a host, the address the server listens on.

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use volley_core::docs::{self, DocInfo};

use crate::Server;

/// Where the AsyncAPI document is served, relative to [`Server::router`]'s root.
pub(crate) const ASYNCAPI_PATH: &str = "/asyncapi.json";
/// Where the OpenRPC document is served, relative to [`Server::router`]'s root.
pub(crate) const OPENRPC_PATH: &str = "/openrpc.json";

/// Adds the document routes.
pub(crate) fn routes(router: Router<Server>) -> Router<Server> {
    router
        .route(ASYNCAPI_PATH, get(asyncapi))
        .route(OPENRPC_PATH, get(openrpc))
}

/// `GET /asyncapi.json`.
async fn asyncapi(
    State(server): State<Server>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let url = request_url(&server, &uri, &headers, ASYNCAPI_PATH);
    json_response(&server.asyncapi_at(&url))
}

/// `GET /openrpc.json`.
async fn openrpc(
    State(server): State<Server>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let url = request_url(&server, &uri, &headers, OPENRPC_PATH);
    json_response(&server.openrpc_at(&url))
}

fn json_response(doc: &Value) -> Response {
    let body = serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string());
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The WebSocket URL as seen by the client that asked for `route`.
pub(crate) fn request_url(
    server: &Server,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    route: &str,
) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let host = header("x-forwarded-host")
        .or_else(|| header(header::HOST.as_str()))
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .or_else(|| server.local_addr().map(|a| a.to_string()));
    let secure = header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || uri.scheme_str() == Some("https");
    let scheme = if secure { "wss" } else { "ws" };
    // Mounted under a prefix (`Router::nest`), the WebSocket path is under it too.
    let prefix = uri.path().strip_suffix(route).unwrap_or("");
    let path = format!("{prefix}{}", server.path());
    match host {
        Some(host) => format!("{scheme}://{host}{path}"),
        None => path,
    }
}

impl Server {
    /// The title, version and description of the server's documents (set with
    /// [`ServerBuilder::title`](crate::ServerBuilder::title) and friends).
    pub fn info(&self) -> &DocInfo {
        static DEFAULT: std::sync::OnceLock<DocInfo> = std::sync::OnceLock::new();
        self.service()
            .info()
            .unwrap_or_else(|| DEFAULT.get_or_init(DocInfo::default))
    }

    /// The WebSocket URL the documents name when no request tells: `ws://<listen address><path>`
    /// once the server listens, else the path alone.
    fn default_url(&self) -> String {
        match self.local_addr() {
            Some(addr) => format!("ws://{addr}{}", self.path()),
            None => self.path().to_owned(),
        }
    }

    /// The AsyncAPI 3.0 document of this server (both directions; see
    /// [`volley_core::docs::asyncapi`]), naming the address it listens on.
    pub fn asyncapi(&self) -> Value {
        self.asyncapi_at(&self.default_url())
    }

    /// The AsyncAPI 3.0 document of this server, reached at `url` (`wss://api.example.com/ws`).
    pub fn asyncapi_at(&self, url: &str) -> Value {
        docs::asyncapi(
            self.info(),
            self.service().descriptions(),
            self.client_services(),
            url,
        )
    }

    /// The OpenRPC 1.3.2 document of this server: what it serves (`x-implemented-by:
    /// ["server"]`) and what its clients serve (`["client"]`), as `rpc.discover` returns it,
    /// with the address it listens on as its server.
    pub fn openrpc(&self) -> Value {
        self.openrpc_at(&self.default_url())
    }

    /// The OpenRPC 1.3.2 document of this server, reached at `url`.
    pub fn openrpc_at(&self, url: &str) -> Value {
        docs::service_openrpc(self.service(), Some(url))
    }
}
