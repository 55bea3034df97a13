//! The chat page in Chromium: two pages join, see each other's messages, and one asks the
//! other to leave, which the other refuses and then accepts in its dialog
//! (`tests/browser/chat.test.mjs`). Screenshots land in `target/artifacts/chat-*.png`.
//!
//! Needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without them it prints
//! `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

#[path = "../../../tests/browser/harness.rs"]
mod harness;

use std::time::Duration;

use example_chat::Options;

#[tokio::test]
async fn two_pages_chat_and_one_asks_the_other_to_leave() {
    let Some(root) = harness::ready(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let server = example_chat::server_with(Options::default());
    let running = tokio::time::timeout(
        Duration::from_secs(10),
        server.listen_with("127.0.0.1:0", example_chat::app(&server)),
    )
    .await
    .expect("listen in time")
    .expect("listen");
    let base = format!("http://{}", running.local_addr());

    harness::run_script(
        &root,
        "chat.test.mjs",
        &base,
        Duration::from_secs(120),
        None,
    )
    .await;

    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("shut down in time");
}
