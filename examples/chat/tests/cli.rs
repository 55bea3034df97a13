//! The binary as a user runs it: it serves the chat page on the address it is given and says
//! where, explains `--addr` with `--help`, and refuses an unknown argument.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use volley_testing::process;

const BIN: &str = env!("CARGO_BIN_EXE_example-chat");

async fn t<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

#[tokio::test]
async fn it_serves_the_page_on_the_address_it_is_given() {
    let (mut server, line) = process::spawn_until(BIN, &["--addr", "127.0.0.1:0"], "open ").await;
    let addr = line
        .strip_prefix("open http://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(addr, _)| addr)
        .unwrap_or_else(|| panic!("not a URL to open: {line}"));
    assert!(addr.starts_with("127.0.0.1:"), "{line}");

    let mut tcp = t(TcpStream::connect(addr)).await.expect("connect");
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    t(tcp.write_all(request.as_bytes())).await.expect("write");
    let mut response = String::new();
    t(tcp.read_to_string(&mut response)).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(example_chat::INDEX_HTML), "{response}");

    t(server.kill()).await.expect("stop the server");
}

#[tokio::test]
async fn help_explains_the_address_and_an_unknown_argument_is_refused() {
    let help = process::output(BIN, &["--help"]).await;
    assert!(help.status.success(), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--addr <HOST:PORT>"), "{text}");
    assert!(text.contains("127.0.0.1:8080"), "{text}");

    let wrong = process::output(BIN, &["--port", "80"]).await;
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--port"));
}
