//! The client's `--repeat` mode: [`run_repeat`] calls `add(i, i)` at a steady pace, prints
//! each outcome as it comes, and sums them up in one line, for watching calls survive a
//! server restart or a flaky link by hand.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::CalculatorClient;
use crate::client::{BoxError, ClientOptions, Console, builder};

/// How [`run_repeat`] paces its calls.
#[derive(Debug, Clone)]
pub struct RepeatOptions {
    /// How many calls.
    pub repeat: u64,
    /// The pause between two calls.
    pub interval: Duration,
    /// How long after the last call is made the program waits for the calls still out;
    /// those that have not resolved by then count as unresolved.
    pub deadline: Duration,
}

/// What [`run_repeat`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatSummary {
    /// Calls made.
    pub total: u64,
    /// Calls answered with the right sum.
    pub ok: u64,
    /// Calls that ended with an error (or a wrong sum).
    pub failed: u64,
    /// Calls that had not resolved by the deadline.
    pub unresolved: u64,
    /// Times the client reconnected.
    pub reconnects: u32,
}

impl std::fmt::Display for RepeatSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "summary: total={} ok={} failed={} unresolved={} reconnects={}",
            self.total, self.ok, self.failed, self.unresolved, self.reconnects
        )
    }
}

/// Connects to `url` and calls `add(i, i)` for `i` in `1..=repeat`, one every `interval`,
/// each in its own task, printing `add(i, i) = 2i` or `add(i, i) failed: <why>` as each
/// resolves. Reconnect and resumption follow `options` (both on by default).
pub async fn run_repeat(
    url: &str,
    options: &ClientOptions,
    repeat: &RepeatOptions,
) -> Result<RepeatSummary, BoxError> {
    let (ticks, _) = mpsc::unbounded_channel();
    let console = Console {
        answer: options.answer,
        ticks,
        quiet: true,
    };
    let client = builder(options, console).connect(url).await?;
    let calc = CalculatorClient::new(client.peer());
    let mut state = client.state();
    let mut calls = JoinSet::new();
    let mut summary = RepeatSummary {
        total: repeat.repeat,
        ok: 0,
        failed: 0,
        unresolved: 0,
        reconnects: 0,
    };
    let mut tally = |outcome: (i64, volley::Result<i64>)| match outcome {
        (i, Ok(sum)) if sum == 2 * i => {
            println!("add({i}, {i}) = {sum}");
            summary.ok += 1;
        }
        (i, Ok(sum)) => {
            println!("add({i}, {i}) failed: wrong sum {sum}");
            summary.failed += 1;
        }
        (i, Err(e)) => {
            println!("add({i}, {i}) failed: {e}");
            summary.failed += 1;
        }
    };
    let mut pace = tokio::time::interval(repeat.interval);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 1..=i64::try_from(repeat.repeat).unwrap_or(i64::MAX) {
        pace.tick().await;
        let calc = calc.clone();
        calls.spawn(async move { (i, calc.add(i, i).await) });
        while let Some(done) = calls.try_join_next() {
            tally(done.expect("a call task does not panic"));
        }
    }
    let deadline = tokio::time::sleep(repeat.deadline);
    tokio::pin!(deadline);
    while !calls.is_empty() {
        tokio::select! {
            Some(done) = calls.join_next() => tally(done.expect("a call task does not panic")),
            _ = &mut deadline => break,
        }
    }
    summary.unresolved = calls.len() as u64;
    calls.abort_all();
    if let volley::ConnectionState::Connected { reconnects, .. } = &*state.borrow_and_update() {
        summary.reconnects = *reconnects;
    }
    client.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), client.closed()).await;
    Ok(summary)
}
