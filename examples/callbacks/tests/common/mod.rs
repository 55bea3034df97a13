//! Shared test helpers: a timeout around every await, a server on 127.0.0.1:0, and a raw
//! WebSocket peer for hand-written JSON-RPC frames.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use volley::RunningServer;

/// Every await in the tests goes through this: a hang fails the test instead of wedging it.
/// The helpers below finish within it too (a receive loop is bounded as a whole).
pub async fn t<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

/// The example's server on 127.0.0.1:0, ticking every `tick_every`.
pub struct TestServer {
    pub running: RunningServer,
    pub ticker: JoinHandle<()>,
}

impl TestServer {
    pub async fn start(tick_every: Duration) -> Self {
        let server = example_callbacks::server();
        let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
        let ticker = example_callbacks::spawn_ticker(server.peers().clone(), tick_every);
        Self { running, ticker }
    }

    pub fn url(&self) -> String {
        self.running.ws_url()
    }

    pub async fn stop(self) {
        self.ticker.abort();
        t(self.running.shutdown()).await;
    }
}

/// A WebSocket client that sends and receives hand-written JSON-RPC frames.
pub struct Raw {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Raw {
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = t(tokio_tungstenite::connect_async(url))
            .await
            .expect("connect");
        Self { ws }
    }

    pub async fn send(&mut self, frame: &str) {
        t(self.ws.send(Message::Text(frame.into())))
            .await
            .expect("send");
    }

    /// The next JSON-RPC message; panics on close or on a frame that is not JSON.
    pub async fn recv(&mut self) -> Value {
        t(async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        return serde_json::from_str(&text).expect("json");
                    }
                    Some(Ok(Message::Binary(b))) => {
                        return serde_json::from_slice(&b).expect("json");
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    other => panic!("expected a frame, got {other:?}"),
                }
            }
        })
        .await
    }

    /// The next message that is not a `tick` notification. Ticks keep coming, so the wait
    /// for the other message is bounded as a whole.
    pub async fn recv_skipping_ticks(&mut self) -> Value {
        t(async {
            loop {
                let message = self.recv().await;
                if message["method"] != "tick" {
                    return message;
                }
            }
        })
        .await
    }

    pub async fn close(mut self) {
        t(self.ws.close(None)).await.expect("close");
    }
}
