//! `clients/python_client.py`, a standard-library-only JSON-RPC client, against the server.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{TestServer, t};
use tokio::process::Command;
use volley_testing::tools;

#[tokio::test]
async fn the_python_client_calls_add_and_ask_and_answers_confirm() {
    if !tools::require(&[tools::python3_available()]) {
        return;
    }
    let server = TestServer::start(Duration::from_millis(10)).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/python_client.py");

    let run = Command::new("python3")
        .arg(&script)
        .arg(server.url())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = t(run).await.expect("run python3");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for line in [
        "add([1, 2]) = 3",
        r#"add({"a": 1, "b": 2}) = 3"#,
        "server asks: is this Python? -> answering yes",
        r#"ask("is this Python?") = true"#,
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing `{line}` in:\n{stdout}"
        );
    }

    server.stop().await;
}
