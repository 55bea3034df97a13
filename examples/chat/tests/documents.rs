//! The example's own documents: its AsyncAPI and OpenRPC documents are valid against the
//! official schemas (every message and method example too), `@asyncapi/parser` reports
//! nothing, both match `tests/snapshots/`, and its TypeScript module passes `tsc --strict`.
//!
//! The parser and tsc need Node and the npm packages of tests/node and tests/ts (installed
//! from their lock files); without them those tests print `SKIPPED: ...` and pass, unless
//! `VOLLEY_REQUIRE_ALL=1`. `VOLLEY_UPDATE_SNAPSHOTS=1` rewrites the snapshots.
//!
//! Every test runs on a runtime: the chat server starts its room's task when it is built.

use std::path::Path;

use serde_json::Value;
use volley::codegen::{self, TypeScriptOptions};
use volley_testing::{snapshot, typescript, validate};

/// The AsyncAPI and OpenRPC documents of a server that is not listening: they name its path.
fn documents() -> [(&'static str, Value); 2] {
    let server = example_chat::server();
    [
        (
            "example-chat.asyncapi",
            codegen::asyncapi(server.api(), server.path()),
        ),
        (
            "example-chat.openrpc",
            codegen::openrpc(server.api(), Some(server.path())),
        ),
    ]
}

#[tokio::test]
async fn the_asyncapi_document_and_its_examples_are_valid() {
    let [(name, doc), _] = documents();
    validate::assert_asyncapi(name, &doc);
    validate::assert_asyncapi_examples(name, &doc);
}

#[tokio::test]
async fn the_openrpc_document_and_its_examples_are_valid() {
    let [_, (name, doc)] = documents();
    validate::assert_openrpc(name, &doc);
    validate::assert_openrpc_examples(name, &doc);
}

#[tokio::test]
async fn the_documents_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let [(_, asyncapi), (_, openrpc)] = documents();
    snapshot::assert_all(
        [
            snapshot::check_json(&dir.join("asyncapi.json"), &asyncapi),
            snapshot::check_json(&dir.join("openrpc.json"), &openrpc),
        ],
        "cargo test -p example-chat --test documents",
    );
}

#[tokio::test]
async fn asyncapi_parser_reports_no_errors_or_warnings() {
    if !validate::parser_ready() {
        return;
    }
    let [(name, doc), _] = documents();
    validate::assert_parser_accepts(&[(name, &doc)]).await;
}

#[tokio::test]
async fn the_typescript_module_passes_tsc_strict() {
    if !typescript::ready() {
        return;
    }
    let server = example_chat::server();
    let module = codegen::typescript(server.api(), &TypeScriptOptions::default());
    if let Err(errors) = typescript::type_check(&[("example_chat", &module)]).await {
        panic!("{errors}");
    }
}
