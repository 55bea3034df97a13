//! The call scenarios: throughput, latency and callbacks, over volley clients.

use std::time::Instant;

use crate::{Answer, BenchClient, Opts, client};

/// The client's side of `ask`.
struct Yes;

impl Answer for Yes {
    async fn confirm(&self, _question: String) -> volley::Result<bool> {
        Ok(true)
    }
}

pub(crate) async fn throughput(
    url: &str,
    opts: &Opts,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut clients = Vec::new();
    for _ in 0..opts.conns {
        clients.push(client(opts).connect(url).await?);
    }
    let per_task = opts.calls / (opts.conns * opts.window);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in &clients {
        for _ in 0..opts.window {
            let stub = BenchClient::new(c.peer());
            tasks.push(tokio::spawn(async move {
                for i in 0..per_task as i64 {
                    let r = stub.add(i, 1).await.expect("add");
                    assert_eq!(r, i + 1);
                }
            }));
        }
    }
    for t in tasks {
        t.await?;
    }
    let total = per_task * opts.conns * opts.window;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "throughput: {total} add calls, {} connections x {} in flight: {:.0} calls/s",
        opts.conns,
        opts.window,
        total as f64 / secs
    );
    for c in clients {
        c.close();
    }
    Ok(total)
}

pub(crate) async fn latency(url: &str, opts: &Opts) -> Result<(), Box<dyn std::error::Error>> {
    let n = opts.samples;
    let c = client(opts).connect(url).await?;
    let stub = BenchClient::new(c.peer());
    let mut samples = Vec::with_capacity(n);
    for i in 0..n as i64 {
        let t = Instant::now();
        stub.add(i, 1).await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "latency: {n} sequential calls on one connection: p50 {:?}, p99 {:?}",
        samples[n / 2],
        samples[n * 99 / 100]
    );
    c.close();
    Ok(())
}

pub(crate) async fn callbacks(url: &str, opts: &Opts) -> Result<(), Box<dyn std::error::Error>> {
    let c = client(opts)
        .add_service(Yes.into_service())
        .connect(url)
        .await?;
    let per_task = (opts.calls / 4) / opts.window;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..opts.window {
        let stub = BenchClient::new(c.peer());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_task {
                assert!(stub.ask("ok?".into()).await.expect("ask"));
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let total = per_task * opts.window;
    println!(
        "callbacks: {total} ask calls (each calls the client back), {} in flight: {:.0} calls/s",
        opts.window,
        total as f64 / start.elapsed().as_secs_f64()
    );
    c.close();
    Ok(())
}
