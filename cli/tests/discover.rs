//! `volley discover` against example-callbacks: the methods of both directions as a table,
//! and the document as the server sent it with `--json`.

mod common;

use common::{Server, example, volley};
use volley_testing::process;

#[tokio::test]
async fn the_table_lists_both_directions_with_their_policy() {
    let server = Server::callbacks(&[]).await;
    let out = volley(&["discover", &server.url]).await.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["Calculator API 0.0.0: 4 methods", ""], "{out}");
    // Columns are aligned with spaces; compare the cells.
    let cells = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let rows: Vec<String> = lines[2..].iter().map(|l| cells(l)).collect();
    assert_eq!(
        rows,
        [
            "METHOD SERVED BY PARAMS RESULT POLICY",
            "add server a: int64, b: int64 int64 idempotent",
            "ask server question: string boolean",
            "confirm client question: string boolean params by position",
            "tick client n: uint64 - notification, params by position",
        ],
        "{out}"
    );
    let header = lines[2];
    for row in &lines[3..] {
        assert_eq!(
            row.find("server").or_else(|| row.find("client")),
            header.find("SERVED BY"),
            "aligned: {out}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn json_is_the_document_the_server_answers_with() {
    let server = Server::callbacks(&[]).await;
    let document = volley(&["discover", &server.url, "--json"]).await;
    assert_eq!(document.stdout().lines().count(), 1, "one line for a pipe");
    // `rpc.discover` answers with the document the server prints (no `servers`: it is
    // computed before the server listens).
    let bin = example("example-callbacks").await;
    let printed = process::output(bin.to_str().unwrap(), &["--print-openrpc"]).await;
    assert!(printed.status.success(), "{printed:?}");
    let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).expect("JSON");
    assert_eq!(document.json(), printed);
    server.stop().await;
}
