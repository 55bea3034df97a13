//! `/asyncapi.json` and `/openrpc.json`: the server's generated API documents.
//!
//! Each request gets documents whose server URL is the one the request came to: the `Host`
//! header (or `X-Forwarded-Host`), `wss` when `X-Forwarded-Proto` says `https`, and the path
//! the routes are mounted under; without a host, the address the server listens on.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::origin::first_value;
use crate::server::Server;

/// Where the AsyncAPI document is served, relative to the router's root.
pub(crate) const ASYNCAPI_PATH: &str = "/asyncapi.json";
/// Where the OpenRPC document is served, relative to the router's root.
pub(crate) const OPENRPC_PATH: &str = "/openrpc.json";

/// `GET /asyncapi.json`.
pub(crate) async fn asyncapi(
    State(server): State<Server>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let url = request_url(&server, &uri, &headers, ASYNCAPI_PATH);
    json_response(&volley_codegen::asyncapi(server.api(), &url))
}

/// `GET /openrpc.json`.
pub(crate) async fn openrpc(
    State(server): State<Server>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let url = request_url(&server, &uri, &headers, OPENRPC_PATH);
    json_response(&volley_codegen::openrpc(server.api(), Some(&url)))
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
    let header = |name: &str| first_value(headers, name);
    let host = header("x-forwarded-host")
        .or_else(|| header(header::HOST.as_str()))
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .or_else(|| server.local_addr().map(|a| a.to_string()));
    let secure = server.is_tls()
        || header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
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
