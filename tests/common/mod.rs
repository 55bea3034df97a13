//! Shared test helpers: timeouts around every await, raw WebSocket peers, and the services
//! the tests serve.
//!
//! Every helper here finishes within [`t`]'s deadline (a receive loop is bounded as a whole,
//! not only each receive), so awaiting one is as bounded as awaiting `t(...)`.
#![allow(dead_code, unreachable_pub)]

pub mod services;

use std::future::{Future, IntoFuture};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Every await in the tests goes through this: a hang fails the test instead of wedging CI.
pub async fn t<F: IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

/// A raw WebSocket peer that speaks JSON text frames, for sending hand-written frames.
pub struct Raw<S> {
    pub ws: WebSocketStream<S>,
}

pub type RawClient = Raw<MaybeTlsStream<TcpStream>>;
pub type RawServerSide = Raw<TcpStream>;

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Raw<S> {
    pub async fn send(&mut self, text: &str) {
        t(self.ws.send(Message::Text(text.into())))
            .await
            .expect("send");
    }

    pub async fn send_json(&mut self, v: &Value) {
        self.send(&v.to_string()).await;
    }

    /// The next text frame, parsed; panics on close.
    pub async fn recv(&mut self) -> Value {
        t(async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Text(s))) => return serde_json::from_str(&s).expect("json"),
                    Some(Ok(Message::Binary(b))) => {
                        return serde_json::from_slice(&b).expect("json");
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    other => panic!("expected a frame, got {other:?}"),
                }
            }
        })
        .await
    }

    /// The next text frame as raw text.
    pub async fn recv_text(&mut self) -> String {
        t(async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Text(s))) => return s.to_string(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    other => panic!("expected a frame, got {other:?}"),
                }
            }
        })
        .await
    }

    /// Sends `frame` then a `rpc.ping` with id "probe" and returns every frame that came
    /// before the probe's answer (proves "no response" without sleeping).
    pub async fn send_and_collect(&mut self, frame: &str) -> Vec<Value> {
        t(async {
            self.send(frame).await;
            self.send(r#"{"jsonrpc":"2.0","id":"probe","method":"rpc.ping"}"#)
                .await;
            let mut seen = Vec::new();
            loop {
                let v = self.recv().await;
                if v.get("id") == Some(&Value::String("probe".into())) {
                    assert_eq!(
                        v.get("result"),
                        Some(&Value::from("pong")),
                        "the probe: {v}"
                    );
                    return seen;
                }
                seen.push(v);
            }
        })
        .await
    }

    /// Waits for the connection to end (close frame or EOF).
    pub async fn closed(&mut self) {
        t(async {
            loop {
                match self.ws.next().await {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
    }
}

/// The method called `name` in an OpenRPC document.
pub fn method<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no method {name} in the document"))
}

pub async fn raw_connect(url: &str) -> RawClient {
    let (ws, _) = t(tokio_tungstenite::connect_async(url))
        .await
        .expect("connect");
    Raw { ws }
}

/// Starts `server` on 127.0.0.1:0 and connects a raw peer to it: the running server, the raw
/// peer, and the server's handle on it (from its connect event), for calling it.
pub async fn raw_peer(server: volley::Server) -> (volley::RunningServer, RawClient, volley::Peer) {
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let raw = raw_connect(&running.ws_url()).await;
    let volley::PeerEvent::Connected(peer) = t(events.recv()).await.expect("an event") else {
        panic!("expected a connect event")
    };
    (running, raw, peer)
}

/// A raw WebSocket peer with a 4 KiB socket receive buffer, so that a peer that stops
/// reading fills the other side's buffers after little data.
pub async fn raw_connect_small(url: &str) -> Raw<TcpStream> {
    let uri: tokio_tungstenite::tungstenite::http::Uri = url.parse().expect("url");
    let addr = format!(
        "{}:{}",
        uri.host().expect("host"),
        uri.port_u16().expect("port")
    );
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = t(socket.connect(addr.parse().expect("addr")))
        .await
        .expect("connect");
    let (ws, _) = t(tokio_tungstenite::client_async(url, stream))
        .await
        .expect("handshake");
    Raw { ws }
}

/// A plain WebSocket server on 127.0.0.1:0 that accepts one connection.
pub async fn raw_server() -> (String, impl Future<Output = RawServerSide>) {
    let listener = t(TcpListener::bind("127.0.0.1:0")).await.expect("bind");
    let url = format!("ws://{}/ws", listener.local_addr().expect("addr"));
    let accept = async move {
        let (tcp, _) = t(listener.accept()).await.expect("accept");
        let ws = t(tokio_tungstenite::accept_async(tcp))
            .await
            .expect("handshake");
        Raw { ws }
    };
    (url, accept)
}
