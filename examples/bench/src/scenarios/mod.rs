//! The scenarios, one module each, and what they share: the run's context and the way
//! repeats are taken.

mod broadcast;
mod callbacks;
mod cluster;
mod instructions;
mod latency;
mod layers;
mod memory;
mod notify;
mod own_clients;
mod scaling;
pub(crate) mod throughput;

use std::time::Duration;

use crate::generator::{Run, WAIT};
use crate::report::{Stats, rate};
use crate::servers::{Kind, Servers};
use crate::system::Load;
use crate::targets::Targets;
use crate::{BoxError, Opts, Scenario};

/// Everything a scenario needs: the options, the running servers, where the targets go.
pub(crate) struct Ctx {
    pub(crate) opts: Opts,
    pub(crate) servers: Servers,
    pub(crate) targets: Targets,
    /// The servers' CPU and the load generator's, when pinned.
    pub(crate) placement: Option<(usize, usize)>,
}

impl Ctx {
    pub(crate) fn url(&self, kind: Kind) -> String {
        self.servers.get(kind).url.clone()
    }

    pub(crate) fn pid(&self, kind: Kind) -> u32 {
        self.servers.get(kind).pid
    }

    /// Starts a load check over the benchmark's processes (servers and generator).
    pub(crate) fn load(&self) -> Load {
        let mut pids = self.servers.pids();
        pids.push(std::process::id());
        Load::start(&pids)
    }
}

/// Runs one scenario (`All` is expanded before this).
pub(crate) async fn run(scenario: Scenario, ctx: &mut Ctx) -> Result<(), BoxError> {
    ctx.servers.check_alive()?;
    match scenario {
        Scenario::Throughput => throughput::run(ctx).await,
        Scenario::Latency => latency::run(ctx).await,
        Scenario::OwnClients => own_clients::run(ctx).await,
        Scenario::Callbacks => callbacks::run(ctx).await,
        Scenario::Notify => notify::run(ctx).await,
        Scenario::Broadcast => broadcast::run(ctx).await,
        Scenario::Memory => memory::run(ctx).await,
        Scenario::Scaling => scaling::run(ctx).await,
        Scenario::Cluster => cluster::run(ctx).await,
        Scenario::Layers => layers::run(ctx).await,
        Scenario::Instructions => instructions::run(ctx).await,
        Scenario::All => Ok(()),
    }
}

/// Measures `n` contestants: `measure(i, duration)` once each as a warm-up (when the options
/// ask for one), then `repeats` times each, taking turns (0, 1, .., n-1, 0, 1, ..) so that a
/// change in the machine's load falls on all of them alike. Returns each one's results. A
/// run that has not ended [`WAIT`] twice over after its duration has failed (a server that
/// stopped reading, for one).
pub(crate) async fn interleaved<T>(
    opts: &Opts,
    n: usize,
    mut measure: impl AsyncFnMut(usize, Duration) -> Result<T, BoxError>,
) -> Result<Vec<Vec<T>>, BoxError> {
    let mut bounded = async |i: usize, d: Duration| {
        tokio::time::timeout(d + 2 * WAIT, measure(i, d))
            .await
            .map_err(|_| format!("a {d:?} run had not ended after {:?}", d + 2 * WAIT))?
    };
    if !opts.warmup.is_zero() {
        for i in 0..n {
            bounded(i, opts.warmup).await?;
        }
    }
    let mut all: Vec<Vec<T>> = (0..n).map(|_| Vec::with_capacity(opts.repeats)).collect();
    for _ in 0..opts.repeats {
        for (i, results) in all.iter_mut().enumerate() {
            results.push(bounded(i, opts.duration).await?);
        }
    }
    Ok(all)
}

/// The rates of some runs.
pub(crate) fn rates(runs: &[Run]) -> Stats {
    Stats::of(&runs.iter().map(Run::per_sec).collect::<Vec<_>>())
}

/// `median (min–max)` of some runs' rates.
pub(crate) fn show_rates(runs: &[Run]) -> String {
    rates(runs).show(rate)
}

/// The ratio of two medians.
pub(crate) fn ratio_of(a: &Stats, b: &Stats) -> f64 {
    a.median / b.median
}
