//! The example's own documents, through the tests every example runs
//! ([`volley_testing::example_document_tests!`]): AsyncAPI and OpenRPC valid against the
//! official schemas (examples too), `@asyncapi/parser` reports nothing, both match
//! `tests/snapshots/`, and the TypeScript module passes `tsc --strict`. The server binary
//! prints the same documents and module (`--print-asyncapi`, `--print-openrpc`,
//! `--print-typescript`).
//!
//! The parser and tsc need Node and the npm packages of tests/node and tests/ts (installed
//! from their lock files); without them those tests print `SKIPPED: ...` and pass, unless
//! `VOLLEY_REQUIRE_ALL=1`. `VOLLEY_UPDATE_SNAPSHOTS=1` rewrites the snapshots.

volley_testing::example_document_tests!(example_callbacks, "example-callbacks");

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use volley::codegen::{self, TypeScriptOptions};

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
    // The module as generated, ending in one line break (`> api.ts` gives the file).
    assert!(module.ends_with("}\n"), "{module}");
    assert_eq!(print("--print-typescript").await, module);
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
