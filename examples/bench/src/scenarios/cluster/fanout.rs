//! The cluster's broadcast: `tick` from node A to N raw peers, all on node A or spread
//! evenly over the nodes, timed until the last has it (as `broadcast` times it); and the
//! target that the spread broadcast reaches at least half one node's delivery rate.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{Cluster, NAMES, NODES};
use crate::BoxError;
use crate::report::{Stats, Table, micros, millis, rate, ratio, thousands};
use crate::scenarios::Ctx;
use crate::scenarios::broadcast::{OPEN_AT_ONCE, Round, listener, read_ticks, round};
use crate::system::{cpu_clock, cpu_time, per_item, raise_nofile};
use crate::targets::Goal;

/// Open files kept back here for everything other than the peers' sockets.
const SPARE_FILES: u64 = 100;

/// Least share of one node's delivery rate the spread broadcast must reach.
const LEAST_RATIO: f64 = 0.5;

/// The two placements of the peers, each its own group: all on node A, and spread.
const GROUPS: [&str; 2] = ["one", "spread"];

/// Measures and prints the table; records the target.
pub(super) async fn run(ctx: &mut Ctx, cluster: &Cluster) -> Result<(), BoxError> {
    let load = cluster.load(ctx);
    let want = ctx.opts.cluster_peers;
    // Both groups stay connected: two sockets per peer count here.
    let files = raise_nofile();
    let room = usize::try_from(files.soft.saturating_sub(SPARE_FILES) / 2).unwrap_or(usize::MAX);
    let n = want.min(room);
    if n == 0 {
        return Err(format!("no open files left for peers (limit {})", files.soft).into());
    }
    let layouts = [one(n), spread(n)];

    // Every peer's reading task; dropping the set (at the end, or on an error) aborts them
    // and closes their connections.
    let mut peers = JoinSet::new();
    let mut arrivals = Vec::with_capacity(GROUPS.len());
    for (group, layout) in GROUPS.iter().zip(&layouts) {
        let (tx, rx) = mpsc::unbounded_channel();
        arrivals.push(rx);
        let join = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"join","params":["{group}"]}}"#);
        for (node, &count) in cluster.nodes.iter().zip(layout) {
            let mut opening = futures_util::stream::iter(0..count)
                .map(|_| listener(&node.url, &join))
                .buffer_unordered(OPEN_AT_ONCE);
            while let Some(ws) = opening.try_next().await? {
                peers.spawn(read_ticks(ws, tx.clone()));
            }
        }
    }

    // One unmeasured round each, then the two take turns.
    let a = cluster.node(0);
    let pids = cluster.pids();
    let mut seq = 0;
    let mut rounds: [Vec<Round>; 2] = Default::default();
    let mut cpu = [Cpu::default(), Cpu::default()];
    for turn in 0..=ctx.opts.cluster_rounds {
        for (g, group) in GROUPS.into_iter().enumerate() {
            seq += 1;
            let before = Cpu::now(&pids);
            let send = a.broadcast(group.to_owned(), seq);
            let done = round(send, &mut arrivals[g], seq, n, layouts[g][0]).await?;
            if turn > 0 {
                rounds[g].push(done);
                cpu[g].add(&Cpu::now(&pids), &before);
            }
        }
    }
    drop(peers);

    let delivered: Vec<Stats> = rounds.iter().map(|r| stat(r, delivered_ms)).collect();
    let per_sec: Vec<f64> = delivered
        .iter()
        .map(|d| n as f64 * 1e3 / d.median)
        .collect();
    let mut table = Table::new(&[
        &format!(
            "cluster: broadcast to {} peers (volley)",
            thousands(n as u64)
        ),
        "delivered to all, median (min–max)",
        "recipients/s",
        "vs one node",
        "node A: encode + queue",
        "CPU per peer: nodes, Redis, load generator",
    ]);
    let labels = [
        "one node: all on A".to_owned(),
        format!("{NODES} nodes: {}", describe(&layouts[1])),
    ];
    for (g, label) in labels.into_iter().enumerate() {
        let queued = stat(&rounds[g], |r| r.sent.nanos as f64);
        table.row(vec![
            label,
            delivered[g].show(millis),
            rate(per_sec[g]),
            if g == 0 {
                String::new()
            } else {
                ratio(per_sec[g] / per_sec[0])
            },
            queued.show(micros),
            cpu[g].per_peer(rounds[g].len() * n),
        ]);
    }
    if n < want {
        table.note(format!(
            "{} peers asked for, measured {}: each takes an open file in each placement (limit {} here)",
            thousands(want as u64),
            thousands(n as u64),
            files.soft
        ));
    }
    table.note(format!(
        "{} measured rounds each after one warm-up, the placements taking turns; the peers are raw connections in the load generator that each joined its placement's group on its node",
        ctx.opts.cluster_rounds
    ));
    table.note(
        "node A sends `tick` to the group with the generated fan-out: its own members at once, the other nodes' through one PUBLISH; a round lasts from just before the controller calls `broadcast` on A until the last peer has read its tick; recipients/s: peers over the median",
    );
    table.note(format!(
        "CPU per peer over the measured rounds, from {} (`-` when too little to divide): a side whose CPU time for all the peers nears the delivery time set the pace",
        cpu_clock()
    ));
    table.note("placement: as in the table above");
    table.note(load.note());
    table.print();

    let r = per_sec[1] / per_sec[0];
    ctx.targets.record(
        Goal::ClusterBroadcast,
        &format!("{} peers", thousands(n as u64)),
        ratio(r),
        r >= LEAST_RATIO,
    );
    Ok(())
}

/// CPU time used so far, or over some rounds: by the nodes, by Redis, by the load generator.
#[derive(Clone, Copy, Default)]
struct Cpu {
    nodes: Duration,
    redis: Duration,
    generator: Duration,
}

impl Cpu {
    /// What the processes `pids` (the nodes, then Redis) and this one have used so far.
    fn now(pids: &[u32]) -> Self {
        let (redis, nodes) = pids.split_last().expect("the nodes and Redis");
        Self {
            nodes: nodes.iter().map(|&p| cpu_time(p)).sum(),
            redis: cpu_time(*redis),
            generator: cpu_time(std::process::id()),
        }
    }

    /// Adds what was used from `before` to `after`.
    fn add(&mut self, after: &Self, before: &Self) {
        self.nodes += after.nodes.saturating_sub(before.nodes);
        self.redis += after.redis.saturating_sub(before.redis);
        self.generator += after.generator.saturating_sub(before.generator);
    }

    /// Per delivery, for `deliveries` of them: `nodes, Redis, load generator`.
    fn per_peer(&self, deliveries: usize) -> String {
        let per = |used: Duration| per_item(used, deliveries as u64).map_or("-".to_owned(), micros);
        format!(
            "{}, {}, {}",
            per(self.nodes),
            per(self.redis),
            per(self.generator)
        )
    }
}

/// `n` peers, all on node A.
fn one(n: usize) -> [usize; NODES] {
    let mut layout = [0; NODES];
    layout[0] = n;
    layout
}

/// `n` peers spread evenly over the nodes, the first ones taking the remainder.
fn spread(n: usize) -> [usize; NODES] {
    std::array::from_fn(|k| n / NODES + usize::from(k < n % NODES))
}

/// `334 on A, 333 on B, 333 on C`.
fn describe(layout: &[usize; NODES]) -> String {
    layout
        .iter()
        .zip(NAMES)
        .map(|(count, name)| format!("{} on {name}", thousands(*count as u64)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A round's delivery time in milliseconds.
fn delivered_ms(round: &Round) -> f64 {
    round.delivered.as_secs_f64() * 1e3
}

/// `median (min–max)` of one figure of the rounds.
fn stat(rounds: &[Round], figure: impl Fn(&Round) -> f64) -> Stats {
    Stats::of(&rounds.iter().map(figure).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::{describe, spread};

    #[test]
    fn spreads_evenly() {
        assert_eq!(spread(1_000), [334, 333, 333]);
        assert_eq!(spread(200), [67, 67, 66]);
        assert_eq!(describe(&spread(2)), "1 on A, 1 on B, 0 on C");
    }
}
