//! The dashboard page in Chromium (`tests/browser/dashboard.test.mjs`): the chart fills up
//! as samples arrive, a second tab counts as a connection, Stop holds it still and Start
//! resumes it. Screenshots land in `target/artifacts/dashboard-*.png`.
//!
//! Needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without them it prints
//! `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

use std::time::Duration;

use volley_testing::browser;

#[tokio::test]
async fn the_chart_updates_live_and_stops_and_starts_in_chromium() {
    if !browser::ready() {
        return;
    }
    let server = example_dashboard::server();
    let running = tokio::time::timeout(
        Duration::from_secs(10),
        server.listen_with("127.0.0.1:0", example_dashboard::app(&server)),
    )
    .await
    .expect("listen in time")
    .expect("listen");
    let base = format!("http://{}", running.local_addr());

    browser::run_script("dashboard.test.mjs", &base, Duration::from_secs(120), None).await;

    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("shut down in time");
}
