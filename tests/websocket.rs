//! The server's WebSocket layer byte by byte over real sockets: the upgrade handshake, every
//! frame shape a client may send (fragments, control frames between them, one byte at a
//! time, 16- and 64-bit lengths, bytes right behind the request), what none may send (each
//! closes with its RFC 6455 code), the message size limit at its edge, and the close
//! handshake.

mod common;

use common::services::{Calc, Calculator};
use common::t;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use volley::{RunningServer, Server};

const MASK: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];
const FIN: u8 = 0x80;
const TEXT: u8 = 0x1;
const CONTINUATION: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;
const BINARY: u8 = 0x2;

async fn start(builder: volley::ServerBuilder) -> RunningServer {
    let server = builder.add_service(Calc::new().into_service()).build();
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

/// A client frame: `first` is FIN, RSV and opcode; the payload is masked.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

fn request(running: &RunningServer, extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n",
        running.local_addr()
    )
}

/// A WebSocket client written by hand, on a TCP connection.
struct Wire {
    tcp: TcpStream,
}

impl Wire {
    /// Sends the upgrade request (and `behind` in the same write), returns the response head.
    async fn open(running: &RunningServer, extra: &str, behind: &[u8]) -> (Wire, String) {
        let mut tcp = t(TcpStream::connect(running.local_addr())).await.unwrap();
        let mut bytes = request(running, extra).into_bytes();
        bytes.extend_from_slice(behind);
        t(tcp.write_all(&bytes)).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if t(tcp.read(&mut byte)).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        (Wire { tcp }, String::from_utf8(head).unwrap())
    }

    async fn upgraded(running: &RunningServer) -> Wire {
        let (wire, head) = Wire::open(running, "", b"").await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        wire
    }

    async fn send(&mut self, bytes: &[u8]) {
        t(self.tcp.write_all(bytes)).await.unwrap();
    }

    /// The next frame from the server: its first byte and its payload (servers never mask).
    async fn frame(&mut self) -> (u8, Vec<u8>) {
        let mut head = [0u8; 2];
        t(self.tcp.read_exact(&mut head)).await.expect("a frame");
        assert_eq!(head[1] & 0x80, 0, "a server frame is never masked");
        let len = match head[1] & 0x7F {
            126 => {
                let mut b = [0u8; 2];
                t(self.tcp.read_exact(&mut b)).await.unwrap();
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                t(self.tcp.read_exact(&mut b)).await.unwrap();
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; usize::try_from(len).unwrap()];
        t(self.tcp.read_exact(&mut payload)).await.unwrap();
        (head[0], payload)
    }

    /// The next text frame, parsed.
    async fn json(&mut self) -> Value {
        let (first, payload) = self.frame().await;
        assert_eq!(first, FIN | TEXT, "{}", String::from_utf8_lossy(&payload));
        serde_json::from_slice(&payload).unwrap()
    }

    /// The server's close frame's code, then the end of the connection.
    async fn closed_with(&mut self) -> u16 {
        let (first, payload) = self.frame().await;
        assert_eq!(first, FIN | CLOSE, "{}", String::from_utf8_lossy(&payload));
        let code = u16::from_be_bytes([payload[0], payload[1]]);
        let mut rest = Vec::new();
        t(self.tcp.read_to_end(&mut rest)).await.unwrap();
        assert!(rest.is_empty(), "nothing after the close frame");
        code
    }
}

/// An `add` call of exactly `len` bytes (JSON allows the padding).
fn call_of_len(id: u64, len: usize) -> Vec<u8> {
    let mut text = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"add","params":[2,3]}}"#);
    assert!(text.len() <= len);
    text.extend(std::iter::repeat_n(' ', len - text.len()));
    text.into_bytes()
}

fn answered(v: &Value, id: u64) {
    assert_eq!(v["id"], id, "{v}");
    assert_eq!(v["result"], 5, "{v}");
}

/// The answer to call `id` and a pong with `payload`, in either order: the pong is written by
/// the reading side, the answer by the writing side.
async fn answer_and_pong(wire: &mut Wire, id: u64, payload: &[u8]) {
    let mut frames = [wire.frame().await, wire.frame().await];
    frames.sort();
    assert_eq!(frames[0].0, FIN | TEXT);
    answered(&serde_json::from_slice(&frames[0].1).unwrap(), id);
    assert_eq!(frames[1], (FIN | PONG, payload.to_vec()));
}

#[tokio::test]
async fn the_handshake_answers_rfc_6455s_key_and_picks_the_servers_preferred_protocol() {
    let running = start(Server::builder().subprotocols(["volley.v2", "volley.v1"])).await;
    let offer = "Sec-WebSocket-Protocol: other, volley.v1\r\nSec-WebSocket-Protocol: volley.v2\r\n";
    let (mut wire, head) = Wire::open(&running, offer, b"").await;
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
        "{head}"
    );
    assert!(
        lower.contains("sec-websocket-protocol: volley.v2\r\n"),
        "{head}"
    );
    wire.send(&masked(FIN | TEXT, &call_of_len(1, 60))).await;
    answered(&wire.json().await, 1);
    // Offering none of the server's: upgraded without a protocol.
    let (_, head) = Wire::open(&running, "Sec-WebSocket-Protocol: other\r\n", b"").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("sec-websocket-protocol"),
        "{head}"
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn requests_that_are_not_websocket_upgrades_are_refused() {
    let running = start(Server::builder()).await;
    let addr = running.local_addr();
    let ask = |request: String| async move {
        let mut tcp = t(TcpStream::connect(addr)).await.unwrap();
        t(tcp.write_all(request.as_bytes())).await.unwrap();
        let mut answer = vec![0u8; 1024];
        let n = t(tcp.read(&mut answer)).await.unwrap();
        String::from_utf8_lossy(&answer[..n]).into_owned()
    };
    let full = request(&running, "");
    let cases = [
        (full.replacen("GET", "POST", 1), "405"),
        (full.replace("Upgrade: websocket\r\n", ""), "400"),
        (
            full.replace("Connection: keep-alive, Upgrade", "Connection: keep-alive"),
            "400",
        ),
        (
            full.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            "400",
        ),
        (full.replace("Version: 13", "Version: 8"), "400"),
    ];
    for (request, status) in cases {
        let answer = ask(request.clone()).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{request:?} -> {answer}"
        );
    }
    let answer = ask(full.replace("Version: 13", "Version: 8")).await;
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("sec-websocket-version: 13"),
        "a wrong version is told the right one: {answer}"
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn pings_are_answered_with_their_payload_even_between_fragments() {
    let running = start(Server::builder()).await;
    let mut wire = Wire::upgraded(&running).await;
    wire.send(&masked(FIN | PING, b"are you there")).await;
    assert_eq!(wire.frame().await, (FIN | PONG, b"are you there".to_vec()));
    // A pong from the client is taken silently.
    wire.send(&masked(FIN | PONG, b"unasked")).await;
    // A message in three fragments, with a ping and an empty pong between them.
    let call = call_of_len(2, 90);
    let mut bytes = masked(TEXT, &call[..30]);
    bytes.extend(masked(FIN | PING, b"1"));
    bytes.extend(masked(CONTINUATION, &call[30..60]));
    bytes.extend(masked(FIN | PONG, b""));
    bytes.extend(masked(FIN | CONTINUATION, &call[60..]));
    wire.send(&bytes).await;
    answer_and_pong(&mut wire, 2, b"1").await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_message_arriving_one_byte_at_a_time_and_messages_of_every_length_form() {
    let running = start(Server::builder()).await;
    let mut wire = Wire::upgraded(&running).await;
    for byte in masked(FIN | TEXT, &call_of_len(3, 200)) {
        wire.send(&[byte]).await;
    }
    answered(&wire.json().await, 3);
    // 7-bit, 16-bit and 64-bit lengths, each at their edges, all in one write.
    let lens = [125, 126, 65_535, 65_536, 300_000];
    let mut bytes = Vec::new();
    for (i, len) in lens.iter().enumerate() {
        bytes.extend(masked(FIN | TEXT, &call_of_len(10 + i as u64, *len)));
    }
    wire.send(&bytes).await;
    for i in 0..lens.len() {
        answered(&wire.json().await, 10 + i as u64);
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn frames_sent_right_behind_the_upgrade_request_are_read() {
    let running = start(Server::builder()).await;
    let mut behind = masked(FIN | TEXT, &call_of_len(4, 70));
    behind.extend(masked(FIN | PING, b"early"));
    let (mut wire, head) = Wire::open(&running, "", &behind).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    answer_and_pong(&mut wire, 4, b"early").await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn frames_no_client_may_send_close_the_connection_with_1002() {
    let running = start(Server::builder()).await;
    let unmasked = vec![FIN | TEXT, 2, b'{', b'}'];
    let mut fragmented_ping = masked(PING, b"");
    fragmented_ping[0] = PING;
    let mut new_message_mid_fragments = masked(TEXT, b"[");
    new_message_mid_fragments.extend(masked(FIN | TEXT, b"[]"));
    let cases: [(&str, Vec<u8>); 8] = [
        ("unmasked", unmasked),
        ("reserved bit 1", masked(FIN | 0x40 | TEXT, b"{}")),
        ("reserved bit 3", masked(FIN | 0x10 | TEXT, b"{}")),
        ("reserved opcode", masked(FIN | 0x3, b"")),
        ("continuation alone", masked(FIN | CONTINUATION, b"{}")),
        ("new message mid-fragments", new_message_mid_fragments),
        ("fragmented ping", fragmented_ping),
        ("126-byte ping", masked(FIN | PING, &[0; 126])),
    ];
    for (what, bytes) in cases {
        let mut wire = Wire::upgraded(&running).await;
        wire.send(&bytes).await;
        assert_eq!(wire.closed_with().await, 1002, "{what}");
    }
    // A close frame with a code no endpoint may send, and with a one-byte payload.
    for payload in [&1005u16.to_be_bytes()[..], &[0x03]] {
        let mut wire = Wire::upgraded(&running).await;
        wire.send(&masked(FIN | CLOSE, payload)).await;
        assert_eq!(wire.closed_with().await, 1002, "close {payload:?}");
    }
    // Text that is not UTF-8, split inside a character across two fragments: 1007.
    let mut wire = Wire::upgraded(&running).await;
    let mut bytes = masked(TEXT, &[b'"', 0xE2, 0x82]);
    bytes.extend(masked(FIN | CONTINUATION, b"\""));
    wire.send(&bytes).await;
    assert_eq!(wire.closed_with().await, 1007);
    // Binary data is read as UTF-8 JSON too, but bytes that are not UTF-8 there are the
    // message's fault, not the protocol's: a -32700 answer, and the connection stays.
    let mut wire = Wire::upgraded(&running).await;
    wire.send(&masked(FIN | BINARY, &[b'"', 0xE2, 0x82, b'"']))
        .await;
    let refused = wire.json().await;
    assert_eq!(refused["error"]["code"], -32700, "{refused}");
    wire.send(&masked(
        FIN | BINARY,
        br#"{"jsonrpc":"2.0","id":4,"method":"add","params":[2,3]}"#,
    ))
    .await;
    answered(&wire.json().await, 4);
    // The same character whole across the fragments is fine.
    let mut wire = Wire::upgraded(&running).await;
    let call = r#"{"jsonrpc":"2.0","id":5,"method":"add","params":[2,3],"x":"€"}"#.as_bytes();
    let cut = call.len() - 4;
    let mut bytes = masked(TEXT, &call[..cut]);
    bytes.extend(masked(FIN | CONTINUATION, &call[cut..]));
    wire.send(&bytes).await;
    answered(&wire.json().await, 5);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn the_message_size_limit_at_its_edge_in_one_frame_and_in_fragments() {
    const LIMIT: usize = 1000;
    let running = start(Server::builder().max_message_size(LIMIT)).await;
    for len in [LIMIT - 1, LIMIT, LIMIT + 1] {
        // One frame; over the limit is refused from its head, before its payload is sent.
        let mut wire = Wire::upgraded(&running).await;
        let frame = masked(FIN | TEXT, &call_of_len(6, len));
        if len > LIMIT {
            wire.send(&frame[..8]).await;
            assert_eq!(wire.closed_with().await, 1009, "{len} bytes");
        } else {
            wire.send(&frame).await;
            answered(&wire.json().await, 6);
        }
        // Two fragments of the same total.
        let mut wire = Wire::upgraded(&running).await;
        let call = call_of_len(7, len);
        let mut bytes = masked(TEXT, &call[..600]);
        bytes.extend(masked(FIN | CONTINUATION, &call[600..]));
        wire.send(&bytes).await;
        if len > LIMIT {
            assert_eq!(wire.closed_with().await, 1009, "{len} bytes in fragments");
        } else {
            answered(&wire.json().await, 7);
        }
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_close_frame_is_answered_with_a_close_frame_and_the_end_of_the_connection() {
    let running = start(Server::builder()).await;
    let mut wire = Wire::upgraded(&running).await;
    let mut close = 1000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"done");
    wire.send(&masked(FIN | CLOSE, &close)).await;
    assert_eq!(wire.closed_with().await, 1000);
    // A connection cut in the middle of a frame ends without harm to the server.
    let mut wire = Wire::upgraded(&running).await;
    wire.send(&masked(FIN | TEXT, &call_of_len(8, 100))[..50])
        .await;
    drop(wire);
    let mut wire = Wire::upgraded(&running).await;
    wire.send(&masked(FIN | TEXT, &call_of_len(9, 100))).await;
    answered(&wire.json().await, 9);
    t(running.shutdown()).await;
}
