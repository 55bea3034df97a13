//! `memory`: each server's resident memory per idle connection (10,000 by default), each
//! server in a fresh process of its own (started for this scenario, so that what earlier
//! scenarios left in its heap does not hide the growth), from `VmRSS` in
//! `/proc/<pid>/status`; and the connect burst: the time to open as many connections at
//! once.

use std::time::Duration;

use tokio::time::Instant;

use super::Ctx;
use super::throughput::{KINDS, calls};
use crate::BoxError;
use crate::generator::{self, WAIT};
use crate::report::{Table, millis, thousands};
use crate::servers::{Child, Kind};
use crate::system::{cpu_time, open_fds, raise_nofile, rss_kib};
use crate::targets::Goal;

/// Connections opening at once for the steady figure.
const STEADY_AT_ONCE: usize = 200;
/// Open files kept back for everything other than the connections.
const SPARE_FILES: u64 = 100;

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let mut load = ctx.load();
    let want = ctx.opts.idle;
    let limit = raise_nofile().soft;
    let n = idle_count(want);
    let mut table = Table::new(&[
        &format!("memory, {} idle connections", thousands(n as u64)),
        "KB per connection",
        &format!("connect burst: {} at once", thousands(n as u64)),
        "KB per connection, burst",
    ]);
    let mut volley = None;
    for kind in KINDS {
        let Idle {
            steady,
            burst,
            burst_kb,
            cpu,
        } = idle(ctx, kind, n).await?;
        load.add_exited(cpu);
        table.row(vec![
            kind.label().to_owned(),
            format!("{steady:.1}"),
            millis(burst.as_secs_f64() * 1e3),
            format!("{burst_kb:.1}"),
        ]);
        if kind == Kind::Volley {
            volley = Some(steady);
        }
    }
    table.note(format!(
        "KB per connection: growth of a fresh server process's VmRSS with {} connections opened {STEADY_AT_ONCE} at a time, each answering one call, then idle (1 KB = 1,000 bytes; one measurement per server)",
        thousands(n as u64)
    ));
    table.note(
        "burst: the same count opened all at once (each answering one call), timed; its memory is the high-water mark above the same baseline",
    );
    if n < want {
        table.note(format!(
            "{} connections asked for, but the open-files limit is {limit} (only root can raise a hard limit)",
            thousands(want as u64)
        ));
    }
    table.note(load.note());
    table.print();

    if let Some(kb) = volley {
        ctx.targets
            .record(Goal::Memory, "", format!("{kb:.1} KB"), kb <= 6.0);
    }
    Ok(())
}

/// One server's memory with idle connections.
pub(crate) struct Idle {
    /// KB per connection, opened [`STEADY_AT_ONCE`] at a time.
    pub(crate) steady: f64,
    /// The time to open them all at once.
    pub(crate) burst: Duration,
    /// KB per connection, high-water mark of the burst.
    pub(crate) burst_kb: f64,
    /// The server's CPU time, for the load check ([`crate::system::Load::add_exited`]).
    pub(crate) cpu: Duration,
}

/// Starts a fresh `kind` server, opens `n` connections to it (each answering one call) a few
/// at a time and then all at once, and measures its memory; stops it.
pub(crate) async fn idle(ctx: &Ctx, kind: Kind, n: usize) -> Result<Idle, BoxError> {
    let cpu = ctx.placement.map(|(server, _)| server);
    let child = Child::start(kind, ctx.opts.runtime, cpu).await?;
    let (pid, url) = (child.pid, child.url.clone());
    let expect = Some(calls(kind).expect());
    let fds = open_fds(pid);
    let before = rss_kib(pid);
    // Steady: opened a few at a time, each answered one call, then all idle.
    let conns = generator::open(&url, n, STEADY_AT_ONCE, expect).await?;
    let steady = kb_per_connection(before, rss_kib(pid), n);
    drop(conns);
    closed(pid, fds).await?;
    // The burst: all at once. Its memory is the high-water mark over the same baseline.
    let start = Instant::now();
    let conns = generator::open(&url, n, n, expect).await?;
    let burst = start.elapsed();
    let burst_kb = kb_per_connection(before, rss_kib(pid), n);
    drop(conns);
    closed(pid, fds).await?;
    let cpu = cpu_time(pid);
    child.stop().await;
    Ok(Idle {
        steady,
        burst,
        burst_kb,
        cpu,
    })
}

/// How many idle connections fit under the open-files limit, of `want`.
pub(crate) fn idle_count(want: usize) -> usize {
    let limit = raise_nofile().soft;
    want.min(usize::try_from(limit.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX))
}

/// KB (1,000 bytes) per connection from RSS in KiB before and after.
fn kb_per_connection(before: u64, after: u64, n: usize) -> f64 {
    after.saturating_sub(before) as f64 * 1024.0 / 1000.0 / n.max(1) as f64
}

/// Waits until the server has closed the connections the client dropped (its open files
/// are back near `fds`), within [`WAIT`].
async fn closed(pid: u32, fds: usize) -> Result<(), BoxError> {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = open_fds(pid);
        if now <= fds + 10 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the server (pid {pid}) still had {now} files open {WAIT:?} after the clients closed ({fds} before)"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
