//! volley.js in Chromium against a volley server (`tests/browser/volley-js.test.mjs`): a page
//! served here calls `add`, answers the server's `confirm` (asked through `ask`), receives
//! `tick` notifications; then the server is shut down, calls in flight reject with
//! `DisconnectedError`, and the server comes back on the same port, where the page reconnects
//! by itself and calls again. The screenshot lands in `target/artifacts/volley-js.png`.
//!
//! Needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without them it prints
//! `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

mod common;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::response::Html;
use axum::routing::get;
use common::services::{BrowserClient, Calc, Calculator};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use volley::{RunningServer, Server};
use volley_testing::browser::{self, ControlRequest};

/// The page the script drives.
const PAGE: &str = include_str!("browser/volley-js.html");

/// A server with the test services, the page at `/`, and a tick to every peer every 100 ms.
struct Live {
    running: RunningServer,
    ticker: JoinHandle<()>,
}

impl Live {
    async fn start(addr: SocketAddr) -> io::Result<Self> {
        // No drain: the script checks what calls in flight see when the server dies.
        let server = Server::builder()
            .add_service(Calc::new().into_service())
            .add_remote_service::<BrowserClient>()
            .drain_timeout(Duration::ZERO)
            .build();
        let app = server.router().route("/", get(|| async { Html(PAGE) }));
        let running = tokio::time::timeout(Duration::from_secs(10), server.listen_with(addr, app))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "listen took over 10 s"))??;
        let peers = server.peers().clone();
        let ticker = tokio::spawn(async move {
            let mut clock = tokio::time::interval(Duration::from_millis(100));
            for n in 1u64.. {
                clock.tick().await;
                for peer in peers.list() {
                    let _ = common::t(BrowserClient::new(&peer).tick(n)).await;
                }
            }
        });
        Ok(Self { running, ticker })
    }

    async fn stop(self) -> Result<(), String> {
        self.ticker.abort();
        tokio::time::timeout(Duration::from_secs(10), self.running.shutdown())
            .await
            .map_err(|_| "the server took over 10 s to shut down".to_owned())
    }
}

/// Carries out the script's `stop` and `start` until the script ends; returns the server
/// still running then, if any.
async fn serve_requests(
    mut live: Option<Live>,
    addr: SocketAddr,
    mut requests: mpsc::UnboundedReceiver<ControlRequest>,
) -> Option<Live> {
    while let Some(request) = requests.recv().await {
        let outcome = match (request.command.as_str(), live.take()) {
            ("stop", Some(running)) => running.stop().await,
            ("start", None) => match Live::start(addr).await {
                Ok(running) => {
                    live = Some(running);
                    Ok(())
                }
                Err(e) => Err(format!("could not listen on {addr} again: {e}")),
            },
            (command, running) => {
                let state = if running.is_some() {
                    "running"
                } else {
                    "stopped"
                };
                live = running;
                Err(format!("cannot {command} while {state}"))
            }
        };
        let _ = request.reply.send(outcome);
    }
    live
}

#[tokio::test]
async fn volley_js_calls_answers_and_reconnects_in_chromium() {
    if !browser::ready() {
        return;
    }
    // Port 0 first; every restart binds the port this one got.
    let live = Live::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("listen");
    let addr = live.running.local_addr();
    let (control, requests) = mpsc::unbounded_channel();
    let driver = tokio::spawn(serve_requests(Some(live), addr, requests));

    browser::run_script(
        "volley-js.test.mjs",
        &format!("http://{addr}"),
        Duration::from_secs(120),
        Some(control),
    )
    .await;

    let live = tokio::time::timeout(Duration::from_secs(10), driver)
        .await
        .expect("the driver ends with the script")
        .expect("driver task");
    if let Some(live) = live {
        live.stop().await.expect("shut down");
    }
}
