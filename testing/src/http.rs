//! A plain HTTP/1.1 request to a test server, read to the end under a deadline.
//!
//! ```no_run
//! # async fn check(addr: std::net::SocketAddr) {
//! let page = volley_testing::http::get(addr, "/volley.js").await;
//! assert_eq!(page.status, 200);
//! assert!(page.headers["content-type"].starts_with("text/javascript"));
//! # }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one request may take, from connect to the last byte.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A response: status, headers (names in lower case) and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header values by lower-case name.
    pub headers: BTreeMap<String, String>,
    /// The body, as text.
    pub body: String,
}

/// `GET path` with `Host: addr` and `Connection: close`.
pub async fn get(addr: SocketAddr, path: &str) -> Response {
    send(addr, &request(path, &addr.to_string())).await
}

/// A `GET path` request naming `host`, closing the connection after the answer.
pub fn request(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

/// Sends `request` as written and reads the whole response. Panics past [`DEADLINE`] or on a
/// response that is not HTTP/1.1 text.
pub async fn send(addr: SocketAddr, request: &str) -> Response {
    let exchange = async {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).await.expect("read");
        raw
    };
    let raw = tokio::time::timeout(DEADLINE, exchange)
        .await
        .unwrap_or_else(|_| panic!("no whole response from {addr} within {DEADLINE:?}"));
    let text = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}
