//! volley.js resumes its session in Chromium (`tests/browser/resume.test.mjs`): a page served
//! here calls `record(n)` and sends `note(n)` through a TCP proxy that cuts the connection at
//! random moments; every call runs exactly once on the server and every note arrives once, in
//! order. The screenshot lands in `target/artifacts/resume.png`.
//!
//! Needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without them it prints
//! `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::Html;
use axum::routing::get;
use tokio::sync::{Notify, mpsc};
use volley::Server;
use volley_testing::browser::{self, ControlRequest};
use volley_testing::proxy::Proxy;

/// What the page calls.
#[volley::rpc]
trait Journal {
    /// Counts one execution of `n` and answers it.
    async fn record(&self, n: u64) -> volley::Result<u64>;
    /// Notes `n` in arrival order.
    #[rpc(notification)]
    async fn note(&self, n: u64);
}

#[derive(Clone, Default)]
struct Book {
    runs: Arc<Mutex<HashMap<u64, usize>>>,
    notes: Arc<Mutex<Vec<u64>>>,
}

impl Journal for Book {
    async fn record(&self, n: u64) -> volley::Result<u64> {
        *self.runs.lock().unwrap().entry(n).or_default() += 1;
        Ok(n)
    }

    async fn note(&self, n: u64) {
        self.notes.lock().unwrap().push(n);
    }
}

impl Book {
    /// Whether `0..n` each ran once and were noted once, in order.
    fn check(&self, n: u64) -> Result<(), String> {
        let runs = self.runs.lock().unwrap();
        for k in 0..n {
            let count = runs.get(&k).copied().unwrap_or(0);
            if count != 1 {
                return Err(format!("record({k}) ran {count} times"));
            }
        }
        let notes = self.notes.lock().unwrap();
        if *notes != (0..n).collect::<Vec<_>>() {
            return Err(format!(
                "notes arrived as {:?}",
                &notes[..notes.len().min(40)]
            ));
        }
        Ok(())
    }
}

/// Cuts every connection through the proxy every 5 to 60 ms until stopped.
fn cutter(
    proxy: Arc<Proxy>,
    stop: Arc<Notify>,
    cuts: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        loop {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let pause = Duration::from_millis(5 + x % 56);
            tokio::select! {
                _ = stop.notified() => return,
                _ = tokio::time::sleep(pause) => {
                    proxy.cut();
                    cuts.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    })
}

#[tokio::test]
async fn volley_js_resumes_through_random_cuts_in_chromium() {
    if !browser::ready() {
        return;
    }
    let book = Book::default();
    let server = Server::builder()
        .add_service(book.clone().into_service())
        // The page comes from the server's port, its socket goes through the proxy's: another
        // origin as far as the server can tell.
        .danger_accept_any_origin()
        .build();
    // The proxy's address goes into the page; it forwards to the server once that listens.
    let proxy = Arc::new(Proxy::start("127.0.0.1:9".parse().unwrap()).await);
    let page = include_str!("browser/resume.html").replace("__WS_URL__", &proxy.ws_url("ws"));
    let app = server.router().route(
        "/",
        get(move || {
            let page = page.clone();
            async move { Html(page) }
        }),
    );
    let running = common::t(server.listen_with("127.0.0.1:0", app))
        .await
        .expect("listen");
    proxy.retarget(running.local_addr());
    let (control, mut requests) = mpsc::unbounded_channel::<ControlRequest>();
    let cuts = Arc::new(AtomicUsize::new(0));
    let driver = tokio::spawn({
        let (proxy, book, cuts) = (proxy.clone(), book.clone(), cuts.clone());
        async move {
            let stop = Arc::new(Notify::new());
            let mut cutting = None;
            while let Some(request) = requests.recv().await {
                let outcome = match request.command.as_str() {
                    "cut-start" => {
                        cutting = Some(cutter(proxy.clone(), stop.clone(), cuts.clone()));
                        Ok(())
                    }
                    "cut-stop" => {
                        stop.notify_one();
                        if let Some(c) = cutting.take() {
                            let _ = c.await;
                        }
                        Ok(())
                    }
                    other => match other.strip_prefix("check ").and_then(|n| n.parse().ok()) {
                        Some(n) => book.check(n),
                        None => Err(format!("unknown command {other}")),
                    },
                };
                let _ = request.reply.send(outcome);
            }
        }
    });
    browser::run_script(
        "resume.test.mjs",
        &format!("http://{}", running.local_addr()),
        Duration::from_secs(150),
        Some(control),
    )
    .await;
    let _ = common::t(driver).await;
    assert!(cuts.load(Ordering::SeqCst) >= 3, "the proxy cut the link");
    common::t(running.shutdown()).await;
}
