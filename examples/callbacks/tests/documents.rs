//! The example's own documents: its AsyncAPI and OpenRPC documents are valid against the
//! official schemas (every message and method example too), `@asyncapi/parser` reports
//! nothing, both match `tests/snapshots/`, and its TypeScript module passes `tsc --strict`.
//! The server binary prints the same documents and module (`--print-asyncapi`,
//! `--print-openrpc`, `--print-typescript`).
//!
//! The parser and tsc need Node and the npm packages of tests/node and tests/ts (installed
//! from their lock files); without them those tests print `SKIPPED: ...` and pass, unless
//! `VOLLEY_REQUIRE_ALL=1`. `VOLLEY_UPDATE_SNAPSHOTS=1` rewrites the snapshots.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use volley::codegen::{self, TypeScriptOptions};
use volley_testing::{snapshot, typescript, validate};

/// The AsyncAPI and OpenRPC documents of a server that is not listening: they name its path.
fn documents() -> [(&'static str, Value); 2] {
    let server = example_callbacks::server();
    [
        (
            "example-callbacks.asyncapi",
            codegen::asyncapi(server.api(), server.path()),
        ),
        (
            "example-callbacks.openrpc",
            codegen::openrpc(server.api(), Some(server.path())),
        ),
    ]
}

#[test]
fn the_asyncapi_document_and_its_examples_are_valid() {
    let [(name, doc), _] = documents();
    validate::assert_asyncapi(name, &doc);
    validate::assert_asyncapi_examples(name, &doc);
}

#[test]
fn the_openrpc_document_and_its_examples_are_valid() {
    let [_, (name, doc)] = documents();
    validate::assert_openrpc(name, &doc);
    validate::assert_openrpc_examples(name, &doc);
}

#[test]
fn the_documents_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let [(_, asyncapi), (_, openrpc)] = documents();
    snapshot::assert_all(
        [
            snapshot::check_json(&dir.join("asyncapi.json"), &asyncapi),
            snapshot::check_json(&dir.join("openrpc.json"), &openrpc),
        ],
        "cargo test -p example-callbacks --test documents",
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
    let server = example_callbacks::server();
    let module = codegen::typescript(server.api(), &TypeScriptOptions::default());
    if let Err(errors) = typescript::type_check(&[("example_callbacks", &module)]).await {
        panic!("{errors}");
    }
}

#[tokio::test]
async fn the_server_binary_prints_the_documents_and_the_module() {
    let [(_, asyncapi), (_, openrpc)] = documents();
    for (flag, expected) in [("--print-asyncapi", asyncapi), ("--print-openrpc", openrpc)] {
        let printed = print(flag).await;
        let printed: Value = serde_json::from_str(&printed).expect("a JSON document");
        assert_eq!(printed, expected, "{flag}");
    }
    let server = example_callbacks::server();
    let module = codegen::typescript(server.api(), &TypeScriptOptions::default());
    assert_eq!(print("--print-typescript").await, module + "\n");
}

/// What `example-callbacks <flag>` prints; panics unless it exits 0 within 30 s.
async fn print(flag: &str) -> String {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-callbacks"))
        .arg(flag)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap_or_else(|_| panic!("example-callbacks {flag} ran longer than 30 s"))
        .expect("run example-callbacks");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{flag}: {}\n{stderr}", out.status);
    String::from_utf8(out.stdout).expect("UTF-8 output")
}
