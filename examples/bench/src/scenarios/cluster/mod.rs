//! `cluster`: volley across the nodes of a cluster, next to the same figures on one node.
//!
//! [`NODES`] volley servers ([`Kind::VolleyNode`](crate::servers::Kind::VolleyNode), child
//! processes, A, B and C) join one `redis-server` (a child process too) through
//! `volley_redis` with its default options, before they listen; the scenario waits until
//! each node hears the others. The nodes and Redis run on the servers' CPU, the load
//! generator (this process) on its own, as in the other scenarios. It measures, in
//! [`calls`]:
//! - the Redis round trip: sequential PINGs on a TCP connection of their own, from node A
//!   (the round trip a node pays) and from the load generator;
//! - awaited calls: a raw client X on node A calls `relay(to, ..)`, which makes node A call
//!   `add` on the peer `to` and wait for its answer before answering X. The peer is Y, also
//!   on node A (local), or Z, on node B (cross-node: the call crosses Redis to B and its
//!   answer comes back the same way). Sequential calls for p50 and p99, 64 in flight for
//!   calls/s;
//! - for each, the CPU time nodes A and B and Redis spend per round trip or call, and what a
//!   call across costs each of them beyond a local one, one at a time;
//!
//! and in [`fanout`], a broadcast from node A to `--cluster-peers` raw peers (1,000 by
//! default), all on node A or spread evenly over the nodes, timed until the last has it.
//!
//! Without `redis-server` it prints `SKIPPED: ...` and the run carries on, unless
//! `VOLLEY_REQUIRE_ALL=1`, which makes it a failed measurement.

mod calls;
mod fanout;

use std::time::Duration;

use super::Ctx;
use crate::api::NodeClient;
use crate::generator::WAIT;
use crate::servers::Child;
use crate::servers::redis::{self, Redis};
use crate::system::{Load, allowed_cpus};
use crate::{BoxError, client_builder};

/// How many nodes.
pub(crate) const NODES: usize = 3;

/// Why the scenario cannot run without Redis, and what to do.
const NO_REDIS: &str = "cluster needs redis-server, install with apt-get install -y redis-server";

/// The nodes' names in tables, in order.
const NAMES: [&str; NODES] = ["A", "B", "C"];

/// Runs the scenario: starts Redis and the nodes, measures, stops them.
pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    if !redis::available() {
        if std::env::var("VOLLEY_REQUIRE_ALL").as_deref() == Ok("1") {
            return Err(format!("VOLLEY_REQUIRE_ALL=1 but {NO_REDIS}").into());
        }
        println!("SKIPPED: {NO_REDIS}\n");
        return Ok(());
    }
    let cluster = Cluster::start(ctx).await?;
    let measured = async {
        calls::run(ctx, &cluster).await?;
        fanout::run(ctx, &cluster).await
    }
    .await;
    cluster.stop().await;
    measured
}

/// Redis and the nodes, running and joined.
struct Cluster {
    redis: Redis,
    nodes: Vec<Child>,
    /// A volley client of each node, to ask it things.
    controllers: Vec<volley::Client>,
}

impl Cluster {
    /// Starts Redis, then the nodes, on the servers' CPU (when pinned), and waits until each
    /// node hears from all the others.
    async fn start(ctx: &Ctx) -> Result<Self, BoxError> {
        let cpu = ctx.placement.map(|(server, _)| server);
        let redis = Redis::start(cpu).await?;
        let mut nodes = Vec::with_capacity(NODES);
        let mut controllers = Vec::with_capacity(NODES);
        for _ in 0..NODES {
            let node = Child::start_node(ctx.opts.runtime, cpu, &redis.addr).await?;
            let dial = client_builder(&ctx.opts).connect(&node.url);
            controllers.push(
                tokio::time::timeout(WAIT, dial)
                    .await
                    .map_err(|_| "a controller could not connect within 30 s")??,
            );
            nodes.push(node);
        }
        let cluster = Self {
            redis,
            nodes,
            controllers,
        };
        cluster.formed().await?;
        Ok(cluster)
    }

    /// Waits (at most [`WAIT`]) until every node hears from all the others: the first
    /// heartbeats take up to volley-redis's heartbeat interval (1 s) to arrive.
    async fn formed(&self) -> Result<(), BoxError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut every = tokio::time::interval(Duration::from_millis(20));
        loop {
            every.tick().await;
            let mut heard = Vec::with_capacity(NODES);
            for controller in &self.controllers {
                let ask = NodeClient::new(controller.peer()).nodes();
                heard.push(
                    tokio::time::timeout_at(deadline, ask)
                        .await
                        .map_err(|_| "a node did not say which nodes it hears")??,
                );
            }
            if heard.iter().all(|&n| n == NODES - 1) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "the nodes had not all heard from each other after {WAIT:?}: each hears {heard:?} others"
                )
                .into());
            }
        }
    }

    /// Node `i`'s stub, through its controller.
    fn node(&self, i: usize) -> NodeClient {
        NodeClient::new(self.controllers[i].peer())
    }

    /// The processes of the servers' side: the nodes, then Redis.
    fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.nodes.iter().map(|n| n.pid).collect();
        pids.push(self.redis.pid);
        pids
    }

    /// Starts a load check over every process of the benchmark, the cluster's included.
    fn load(&self, ctx: &Ctx) -> Load {
        let mut pids = ctx.servers.pids();
        pids.extend(self.pids());
        pids.push(std::process::id());
        Load::start(&pids)
    }

    /// Where everything runs, for a table's notes.
    fn placement(&self, ctx: &Ctx) -> String {
        let me = std::process::id();
        let procs: Vec<String> = self
            .nodes
            .iter()
            .zip(NAMES)
            .map(|(node, name)| format!("node {name} pid {}", node.pid))
            .chain([format!("redis-server pid {}", self.redis.pid)])
            .collect();
        let allowed: Vec<String> = self.pids().into_iter().map(allowed_cpus).collect();
        match ctx.placement {
            Some((server, load)) => format!(
                "{} on CPU {server} (allowed CPUs {}), load generator on CPU {load} (pid {me}; allowed CPUs {}), pinned with taskset; nodes on {}",
                procs.join(", "),
                allowed.join(", "),
                allowed_cpus(me),
                ctx.opts.runtime.describe()
            ),
            None => format!(
                "NOT pinned (taskset missing or refused): figures swing with the scheduler ({})",
                procs.join(", ")
            ),
        }
    }

    /// Stops the nodes, then Redis.
    async fn stop(self) {
        for controller in &self.controllers {
            controller.close();
        }
        for node in self.nodes {
            node.stop().await;
        }
        self.redis.stop().await;
    }
}
