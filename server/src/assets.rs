//! `/volley.js`: the browser client, embedded in every volley server.

use axum::http::header;
use axum::response::IntoResponse;

/// Where the browser client is served.
pub(crate) const PATH: &str = "/volley.js";

/// The zero-dependency ES module from `client/js/volley.js`.
pub const VOLLEY_JS: &str = include_str!("../../client/js/volley.js");

pub(crate) async fn volley_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        VOLLEY_JS,
    )
}
