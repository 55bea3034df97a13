//! The chat page in Chromium (`tests/browser/chat.test.mjs`): two pages join the lobby, see
//! each other's messages, and one asks the other to leave, which the other refuses and then
//! accepts in its dialog; a third page joins the kitchen and hears nothing from the lobby;
//! roll calls in the lobby are answered in the other page's prompt (no, yes, and yes by
//! itself) while the kitchen page is never asked; a page moves to the kitchen and then hears
//! only the kitchen; then the server restarts on the same port and every page rejoins its
//! room by itself. Screenshots land in `target/artifacts/chat-*.png`.
//!
//! Needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without them it prints
//! `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

use std::net::SocketAddr;
use std::time::Duration;

use example_chat::Options;
use tokio::sync::mpsc;
use volley::RunningServer;
use volley_testing::browser::{self, ControlRequest};

async fn start(addr: SocketAddr) -> std::io::Result<RunningServer> {
    let server = example_chat::server_with(Options::default());
    tokio::time::timeout(
        Duration::from_secs(10),
        server.listen_with(addr, example_chat::app(&server)),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "listen took over 10 s"))?
}

async fn stop(running: RunningServer) {
    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("shut down in time");
}

/// Carries out the script's `restart` (a new server, with no rooms, on the same port) until
/// the script ends; returns the server running then.
async fn serve_requests(
    mut running: RunningServer,
    mut requests: mpsc::UnboundedReceiver<ControlRequest>,
) -> RunningServer {
    let addr = running.local_addr();
    while let Some(request) = requests.recv().await {
        if request.command != "restart" {
            let _ = request
                .reply
                .send(Err(format!("unknown command {}", request.command)));
            continue;
        }
        stop(running).await;
        running = start(addr)
            .await
            .unwrap_or_else(|e| panic!("could not listen on {addr} again: {e}"));
        let _ = request.reply.send(Ok(()));
    }
    running
}

#[tokio::test]
async fn pages_chat_in_rooms_call_the_roll_and_rejoin_after_a_restart() {
    if !browser::ready() {
        return;
    }
    let running = start("127.0.0.1:0".parse().unwrap()).await.expect("listen");
    let base = format!("http://{}", running.local_addr());
    let (control, requests) = mpsc::unbounded_channel();
    let driver = tokio::spawn(serve_requests(running, requests));

    browser::run_script(
        "chat.test.mjs",
        &base,
        Duration::from_secs(120),
        Some(control),
    )
    .await;

    let running = tokio::time::timeout(Duration::from_secs(10), driver)
        .await
        .expect("the driver ends with the script")
        .expect("driver task");
    stop(running).await;
}
