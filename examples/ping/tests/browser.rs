//! The ping page in Chromium (`tests/browser/ping.test.mjs`): it shows CONNECTED, SENT: ping
//! and RECEIVED: pong. The screenshot lands in `target/artifacts/ping.png`.
//!
//! Needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without them it prints
//! `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

use std::time::Duration;

use volley_testing::browser;

#[tokio::test]
async fn the_page_receives_pong_in_chromium() {
    if !browser::ready() {
        return;
    }
    let server = example_ping::server();
    let running = tokio::time::timeout(
        Duration::from_secs(10),
        server.listen_with("127.0.0.1:0", example_ping::app(&server)),
    )
    .await
    .expect("listen in time")
    .expect("listen");
    let base = format!("http://{}", running.local_addr());

    browser::run_script("ping.test.mjs", &base, Duration::from_secs(90), None).await;

    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("shut down in time");
}
