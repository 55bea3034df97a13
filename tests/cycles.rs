//! 1,000 connect/disconnect cycles leave nothing behind: no connection, session or task
//! left over, and no memory growth. In its own test binary, so the memory figure is this
//! test's alone.

mod common;

use common::services::{Calc, Calculator, CalculatorClient};
use common::{raw_connect, t};
use volley::{Client, Server};

/// Tasks alive in this runtime.
fn tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// This process's resident memory, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_thousand_connect_disconnect_cycles_leave_nothing_behind() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let bystander = t(Client::connect(&running.ws_url()))
        .await
        .expect("connect");
    let calc = CalculatorClient::new(bystander.peer());
    let url = running.ws_url();
    let cycle = |i: usize| {
        let url = url.clone();
        async move {
            match i % 3 {
                // A volley client (with a resumable session) that says goodbye.
                0 => {
                    let c = Client::connect(&url).await.expect("connect");
                    c.close();
                    c.closed().await;
                }
                // A raw client that closes properly.
                1 => {
                    let mut raw = raw_connect(&url).await;
                    raw.ws.close(None).await.ok();
                    raw.closed().await;
                }
                // A raw client that just drops its socket.
                _ => drop(raw_connect(&url).await),
            }
        }
    };
    let peers = running.server().peers();
    let settled = || async {
        while peers.len() > 1 {
            tokio::task::yield_now().await;
        }
    };
    // Warm up (allocator pools, lazily built tables), then two halves of 500 cycles.
    for i in 0..200 {
        t(cycle(i)).await;
    }
    t(settled()).await;
    let tasks_before = tasks();
    let mut rss = vec![rss_kib()];
    for half in 0..2 {
        for i in 0..500 {
            t(cycle(half * 500 + i)).await;
        }
        t(settled()).await;
        // Every connection's tasks are gone.
        t(async {
            while tasks() > tasks_before {
                tokio::task::yield_now().await;
            }
        })
        .await;
        rss.push(rss_kib());
    }
    // A leak grows with every cycle; a warmed-up allocator does not. 4 MiB per 500 cycles
    // would be 8 KiB per connection, less than half of what one holds.
    eprintln!("resident memory after the warm-up and after each half: {rss:?} KiB");
    let second = rss[2].saturating_sub(rss[1]);
    assert!(second < 4 * 1024, "RSS over the two halves: {rss:?} KiB");
    assert_eq!(t(calc.add(2, 2)).await.expect("the bystander"), 4);
    assert_eq!(peers.len(), 1, "only the bystander is left");
    bystander.close();
    t(running.shutdown()).await;
}
