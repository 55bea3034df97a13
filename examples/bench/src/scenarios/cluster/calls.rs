//! The cluster's awaited calls, local and cross-node, beside the Redis round trip: one
//! table, and the target that a cross-node call adds at most two Redis round trips.

use std::time::Duration;

use tokio::task::JoinSet;

use super::{Cluster, NODES};
use crate::BoxError;
use crate::api::RoundTrips;
use crate::generator::oneway::{answer_all, ask0};
use crate::generator::pipeline::{Calls, one, sequential};
use crate::generator::{self, Run, WAIT};
use crate::report::{Stats, Table, micros, ratio};
use crate::scenarios::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::servers::redis::pings;
use crate::system::{cpu_clock, cpu_time, per_item};
use crate::targets::Goal;

/// Calls in flight for calls/s, as in `callbacks`.
const WINDOW: usize = 64;

/// Most Redis round trips a cross-node call may add to a local one.
const MOST_ROUND_TRIPS: f64 = 2.0;

/// One throughput run and the CPU time each process of the servers' side (the nodes, then
/// Redis) spent on it.
struct Measured {
    run: Run,
    cpu: Vec<Duration>,
}

/// One run of round trips, one at a time, and the CPU time each process of the servers'
/// side spent on it.
struct Sequential {
    trips: RoundTrips,
    cpu: Vec<Duration>,
}

/// Measures and prints the table; records the target.
pub(super) async fn run(ctx: &mut Ctx, cluster: &Cluster) -> Result<(), BoxError> {
    let load = cluster.load(ctx);
    // X calls node A; Y (on A) and Z (on B) answer the calls the nodes make.
    let mut x = generator::connect(&cluster.nodes[0].url).await?;
    let mut answerers = JoinSet::new();
    let mut ids = Vec::with_capacity(2);
    for node in &cluster.nodes[..2] {
        let mut ws = generator::connect(&node.url).await?;
        let id = ask0(&mut ws, "whoami").await?;
        ids.push(
            id.parse::<u64>()
                .map_err(|_| format!("whoami answered {id}"))?,
        );
        answerers.spawn(answer_all(ws));
    }
    let a = cluster.node(0);
    let addr = cluster.redis.addr.clone();
    let pids = cluster.pids();

    // Round trips: PING from node A, PING from here, local calls, cross-node calls.
    let one_at_a_time = interleaved(&ctx.opts, 4, async |i, d| {
        let before: Vec<Duration> = pids.iter().map(|&p| cpu_time(p)).collect();
        let trips = match i {
            0 => {
                let millis = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                tokio::time::timeout(d + WAIT, a.ping_redis(millis))
                    .await
                    .map_err(|_| "node A did not answer ping_redis in time")??
            }
            1 => RoundTrips::of(pings(&addr, d).await?),
            _ => RoundTrips::of(sequential(&mut x, d, Calls::relay(ids[i - 2])).await?),
        };
        let cpu = used_since(&pids, &before);
        Ok(Sequential { trips, cpu })
    })
    .await?;
    let trips: Vec<Vec<RoundTrips>> = one_at_a_time
        .iter()
        .map(|runs| runs.iter().map(|s| s.trips).collect())
        .collect();

    let throughput = interleaved(&ctx.opts, 2, async |i, d| {
        let before: Vec<Duration> = pids.iter().map(|&p| cpu_time(p)).collect();
        let run = one(&mut x, WINDOW, d, Calls::relay(ids[i])).await?;
        let cpu = used_since(&pids, &before);
        Ok(Measured { run, cpu })
    })
    .await?;
    drop(answerers);

    let p50: Vec<Stats> = trips.iter().map(|t| stat(t, |r| r.p50)).collect();
    let p99: Vec<Stats> = trips.iter().map(|t| stat(t, |r| r.p99)).collect();
    let counts: Vec<usize> = trips
        .iter()
        .map(|t| t.iter().map(|r| r.count).sum())
        .collect();
    let runs: Vec<Vec<Run>> = throughput
        .iter()
        .map(|t| t.iter().map(|m| m.run).collect())
        .collect();
    let (local, cross) = (rates(&runs[0]), rates(&runs[1]));

    let mut table = Table::new(&[
        &format!("cluster: awaited calls (volley, {NODES} nodes, one Redis)"),
        "p50 median (min–max)",
        "p99 median (min–max)",
        "CPU per trip, one at a time: nodes A, B; Redis",
        &format!("calls/s 1x{WINDOW} median (min–max)"),
        "CPU per call: nodes A, B; Redis",
    ]);
    let labels = [
        "Redis round trip: PING from node A",
        "Redis round trip: PING from the load generator",
        "local: X on node A calls Y on node A",
        "cross-node: X on node A calls Z on node B",
    ];
    for (i, label) in labels.into_iter().enumerate() {
        let mut row = vec![
            label.to_owned(),
            p50[i].show(micros),
            p99[i].show(micros),
            show_per_trip(&one_at_a_time[i]),
        ];
        if i >= 2 {
            row.push(show_rates(&runs[i - 2]));
            row.push(cpu_per_call(&throughput[i - 2]));
        }
        table.row(row);
    }
    // Node A's PING decides the target; the load generator's (from its own CPU when pinned)
    // is shown beside it.
    let (rtt, far) = (p50[0].median, p50[1].median);
    let added = p50[3].median - p50[2].median;
    table.row(vec![
        "cross-node minus local".to_owned(),
        format!(
            "{} ({:.2} round trips; {:.2} of the load generator's)",
            signed(added),
            added / rtt,
            added / far
        ),
        signed(p99[3].median - p99[2].median),
        show_added(&one_at_a_time[2], &one_at_a_time[3]),
        format!("{} local's", ratio(ratio_of(&cross, &local))),
    ]);
    table.note(format!(
        "X, Y and Z are raw connections in the load generator; `relay` makes node A call `add` on Y or Z (found by peer id) and answer X with the sum; sequential: one call at a time ({} local, {} cross-node in all); calls/s: {WINDOW} in flight",
        counts[2], counts[3]
    ));
    table.note(format!(
        "PING: sequential `PING` on a TCP connection of its own, no client library ({} from node A, {} from the load generator); round trips in the last row: node A's PING p50, then the load generator's",
        counts[0], counts[1]
    ));
    table.note(format!(
        "CPU per trip (one at a time) and per call (calls/s runs), from {}, over all the repeats; node C's left out (it only hears heartbeats)",
        cpu_clock()
    ));
    table.note(
        "the nodes and Redis share the servers' CPU: a cross-node call's steps in node A, Redis and node B run there one after another, each woken by the one before",
    );
    table.note(
        "the same step may cost a process more CPU when other processes' work or a message from the other CPU came between it and its last one (caches gone cold, for one): compare Redis's CPU per PING from node A (A and Redis alone taking turns on one CPU) with that from the load generator (each PING from the other CPU)",
    );
    if let Some(b) = added_by_b(&one_at_a_time[2], &one_at_a_time[3])
        && rtt > 0.0
    {
        let verdict = if b > MOST_ROUND_TRIPS * rtt {
            format!(
                "at this cost per step no route through node B, through Redis or straight from node A, adds only {MOST_ROUND_TRIPS} round trips"
            )
        } else {
            format!("B's steps alone are within the target's {MOST_ROUND_TRIPS} round trips")
        };
        table.note(format!(
            "node B's own added CPU per call across is {} ({:.2} round trips of node A's PING): the call waits for B's steps on the one CPU; {verdict}",
            micros(b),
            b / rtt
        ));
    }
    table.note(cluster.placement(ctx));
    table.note(load.note());
    table.print();

    ctx.targets.record(
        Goal::ClusterCall,
        "",
        format!(
            "{} = {:.2} round trips of {} ({:.2} of the load generator's {})",
            signed(added),
            added / rtt,
            micros(rtt),
            added / far,
            micros(far)
        ),
        added <= MOST_ROUND_TRIPS * rtt,
    );
    Ok(())
}

/// `median (min–max)` of one figure of the repeats.
fn stat(repeats: &[RoundTrips], figure: fn(&RoundTrips) -> u64) -> Stats {
    Stats::of(&repeats.iter().map(|r| figure(r) as f64).collect::<Vec<_>>())
}

/// Nanoseconds with a sign: +52.1 µs.
fn signed(nanos: f64) -> String {
    if nanos < 0.0 {
        format!("-{}", micros(-nanos))
    } else {
        format!("+{}", micros(nanos))
    }
}

/// CPU time per answered call over all repeats: nodes A and B, then Redis.
fn cpu_per_call(repeats: &[Measured]) -> String {
    let calls: u64 = repeats.iter().map(|m| m.run.count).sum();
    show(per_process(calls, |i| {
        repeats.iter().map(|m| m.cpu[i]).sum()
    }))
}

/// The processes in the CPU columns: nodes A and B, then Redis (indexes in
/// [`Cluster::pids`]).
const SHOWN: [usize; 3] = [0, 1, NODES];

/// CPU time per round trip over all repeats, in nanoseconds, of each of [`SHOWN`].
fn per_trip(repeats: &[Sequential]) -> [Option<f64>; 3] {
    let trips: usize = repeats.iter().map(|s| s.trips.count).sum();
    per_process(trips as u64, |i| repeats.iter().map(|s| s.cpu[i]).sum())
}

/// `A, B; Redis` CPU per round trip.
fn show_per_trip(repeats: &[Sequential]) -> String {
    show(per_trip(repeats))
}

/// What a call across costs each process, one at a time, beyond a local call: `+A, +B;
/// +Redis = in all`. A process with a figure on one side only counts as none on the other
/// (too little to divide); one with neither is `-`, and left out of the sum.
fn show_added(local: &[Sequential], across: &[Sequential]) -> String {
    let (local, across) = (per_trip(local), per_trip(across));
    let added: Vec<Option<f64>> = (0..SHOWN.len())
        .map(|k| match (local[k], across[k]) {
            (None, None) => None,
            (l, a) => Some(a.unwrap_or(0.0) - l.unwrap_or(0.0)),
        })
        .collect();
    if added.iter().all(Option::is_none) {
        return "-".to_owned();
    }
    let show = |a: Option<f64>| a.map_or("-".to_owned(), signed);
    format!(
        "{}, {}; {} = {} in all",
        show(added[0]),
        show(added[1]),
        show(added[2]),
        signed(added.iter().flatten().sum())
    )
}

/// Node B's CPU per call across beyond a local call's, one at a time; `None` without a figure
/// for a call across.
fn added_by_b(local: &[Sequential], across: &[Sequential]) -> Option<f64> {
    let (local, across) = (per_trip(local), per_trip(across));
    Some(across[1]? - local[1].unwrap_or(0.0))
}

/// The CPU time `used(process)` of each of [`SHOWN`] divided by `n`, in nanoseconds;
/// `None` where too little to divide ([`per_item`]).
fn per_process(n: u64, used: impl Fn(usize) -> Duration) -> [Option<f64>; 3] {
    SHOWN.map(|i| per_item(used(i), n))
}

/// `A, B; Redis`, `-` where there is no figure.
fn show(per: [Option<f64>; 3]) -> String {
    let [a, b, redis] = per.map(|p| p.map_or("-".to_owned(), micros));
    format!("{a}, {b}; {redis}")
}

/// The CPU time each of `pids` has used since `before` (read in the same order).
fn used_since(pids: &[u32], before: &[Duration]) -> Vec<Duration> {
    pids.iter()
        .zip(before)
        .map(|(&p, &b)| cpu_time(p).saturating_sub(b))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Sequential, added_by_b, show_added};
    use crate::api::RoundTrips;

    /// 1,000 trips on which nodes A, B, C and Redis spent `ms` milliseconds of CPU time.
    fn trips(ms: [u64; 4]) -> Vec<Sequential> {
        vec![Sequential {
            trips: RoundTrips {
                count: 1_000,
                p50: 0,
                p99: 0,
            },
            cpu: ms.map(Duration::from_millis).to_vec(),
        }]
    }

    #[test]
    fn what_a_call_across_adds_is_given_per_process_and_summed() {
        // B and Redis are under the floor in the local calls (heartbeats only): none there.
        let (local, across) = (trips([85, 1, 0, 0]), trips([86, 78, 0, 51]));
        assert_eq!(
            show_added(&local, &across),
            "+1.0 µs, +78.0 µs; +51.0 µs = +130.0 µs in all"
        );
        // A process under the floor on both sides is left out, not counted as +0.
        let across = trips([60, 78, 0, 1]);
        assert_eq!(
            show_added(&local, &across),
            "-25.0 µs, +78.0 µs; - = +53.0 µs in all"
        );
        assert_eq!(show_added(&trips([1; 4]), &trips([1; 4])), "-");
    }

    #[test]
    fn node_b_s_added_cpu_needs_a_figure_across() {
        let local = trips([85, 1, 0, 0]);
        assert_eq!(added_by_b(&local, &trips([86, 78, 0, 51])), Some(78_000.0));
        assert_eq!(
            added_by_b(&trips([85, 60, 0, 0]), &trips([86, 78, 0, 51])),
            Some(18_000.0)
        );
        assert_eq!(added_by_b(&local, &trips([86, 1, 0, 51])), None);
    }
}
