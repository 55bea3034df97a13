//! The `/docs` page: a self-contained HTML page (no external resources) that lists every
//! method in both directions with its schemas (a stream with its items, its item notification
//! and its unsubscribe method, from the document's `x-stream`), and has a console that
//! connects to the WebSocket endpoint, calls methods, starts streams, shows their items as
//! they arrive and stops them, and answers the server's calls by hand (a stream the server
//! asks for is started with a subscription id, then served item by item and ended).
//!
//! The page is `assets/docs.html`; each request gets it with the server's OpenRPC document and
//! the endpoint's path embedded as JSON in `<script type="application/json">` elements.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::server::Server;

/// Where the page is served, relative to the router's root.
pub(crate) const PATH: &str = "/docs";

const TEMPLATE: &str = include_str!("../../assets/docs.html");
const DOCUMENT_SLOT: &str = "__VOLLEY_OPENRPC__";
const CONFIG_SLOT: &str = "__VOLLEY_CONFIG__";

/// `GET /docs`. The embedded document names the WebSocket URL this request came to, as
/// `/openrpc.json` does.
pub(crate) async fn serve(
    State(server): State<Server>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let url = super::documents::request_url(&server, &uri, &headers, PATH);
    let config = json!({ "wsPath": server.path(), "docsPath": PATH });
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        render(&volley_codegen::openrpc(server.api(), Some(&url)), &config),
    )
        .into_response()
}

/// The template with `document` and `config` in their slots.
fn render(document: &Value, config: &Value) -> String {
    let (head, rest) = TEMPLATE
        .split_once(DOCUMENT_SLOT)
        .expect("docs.html has a document slot");
    let (middle, tail) = rest
        .split_once(CONFIG_SLOT)
        .expect("docs.html has a config slot after the document slot");
    let document = script_json(document);
    let config = script_json(config);
    let mut page = String::with_capacity(TEMPLATE.len() + document.len() + config.len());
    for part in [head, &document, middle, &config, tail] {
        page.push_str(part);
    }
    page
}

/// JSON that is safe inside a `<script>` element: `<`, `>` and `&` only occur inside JSON
/// strings, where `\u003c` and friends mean the same, so `</script>` and `<!--` cannot appear.
fn script_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_slot_appears_once_and_in_order() {
        assert_eq!(TEMPLATE.matches(DOCUMENT_SLOT).count(), 1);
        assert_eq!(TEMPLATE.matches(CONFIG_SLOT).count(), 1);
        assert!(TEMPLATE.find(DOCUMENT_SLOT) < TEMPLATE.find(CONFIG_SLOT));
    }

    #[test]
    fn embedded_json_cannot_close_the_script_and_reads_back_the_same() {
        let doc = json!({ "info": { "description": "</script><!-- a & b --> \u{2028}" } });
        let page = render(&doc, &json!({ "wsPath": "/ws" }));
        assert!(!page.contains("</script><!--"));
        let start = page.find(r#"id="openrpc">"#).unwrap() + r#"id="openrpc">"#.len();
        let end = start + page[start..].find("</script>").unwrap();
        let back: Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for needle in ["src=\"http", "href=\"http", "@import", "url(http", "fetch("] {
            assert!(!TEMPLATE.contains(needle), "docs.html contains {needle}");
        }
    }
}
