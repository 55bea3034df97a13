//! `/volley.js` and `/volley.d.ts`: the browser client and its type declarations, embedded
//! in every volley server (from `server/js/`, the `volley.js` package).

use axum::http::header;
use axum::response::IntoResponse;

/// Where the browser client is served.
pub(crate) const VOLLEY_JS_PATH: &str = "/volley.js";
/// Where its TypeScript declarations are served (a generated client imports them).
pub(crate) const VOLLEY_D_TS_PATH: &str = "/volley.d.ts";

/// volley.js: the zero-dependency ES module for browsers and Node.
pub const VOLLEY_JS: &str = include_str!("../../js/volley.js");
/// volley.js's TypeScript declarations.
pub const VOLLEY_D_TS: &str = include_str!("../../js/volley.d.ts");

pub(crate) async fn volley_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        VOLLEY_JS,
    )
}

pub(crate) async fn volley_d_ts() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/typescript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        VOLLEY_D_TS,
    )
}
