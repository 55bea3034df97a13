//! The targets of issue 11 and of the cluster (the `cluster` scenario's), checked as ratios
//! of figures from the same run and placement. The summary reports them; it never fails the
//! run (CI must not depend on numbers).

use crate::report::Table;

/// One target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Goal {
    Throughput,
    OwnClients,
    Latency,
    Callbacks,
    Memory,
    Scaling,
    Broadcast,
    ClusterCall,
    ClusterBroadcast,
}

impl Goal {
    const ALL: [Goal; 9] = [
        Goal::Throughput,
        Goal::OwnClients,
        Goal::Latency,
        Goal::Callbacks,
        Goal::Memory,
        Goal::Scaling,
        Goal::Broadcast,
        Goal::ClusterCall,
        Goal::ClusterBroadcast,
    ];

    fn text(self) -> &'static str {
        match self {
            Goal::Throughput => "volley's server >= 0.8x the echo ceiling",
            Goal::OwnClients => "volley's client + server >= 2.5x jsonrpsee's pair",
            Goal::Latency => "sequential p50 <= 1.2x the echo's",
            Goal::Callbacks => "server-to-client within 10% of client-to-server (>= 0.9x)",
            Goal::Memory => "<= 6 KB server memory per idle connection",
            Goal::Scaling => "calls/s at 5,000 connections within 20% of 100 (>= 0.8x)",
            Goal::Broadcast => "broadcast time per recipient flat (<= 1.2x)",
            Goal::ClusterCall => {
                "cluster: a cross-node awaited call adds <= 2 Redis round trips to a local one (p50)"
            }
            Goal::ClusterBroadcast => {
                "cluster: broadcast across nodes >= 0.5x one node's delivery rate"
            }
        }
    }

    fn scenario(self) -> &'static str {
        match self {
            Goal::Throughput => "throughput",
            Goal::OwnClients => "own-clients",
            Goal::Latency => "latency",
            Goal::Callbacks => "callbacks",
            Goal::Memory => "memory",
            Goal::Scaling => "scaling",
            Goal::Broadcast => "broadcast",
            Goal::ClusterCall | Goal::ClusterBroadcast => "cluster",
        }
    }
}

struct Outcome {
    goal: Goal,
    case: String,
    figure: String,
    met: bool,
}

/// The outcomes recorded by the scenarios that ran.
#[derive(Default)]
pub(crate) struct Targets {
    outcomes: Vec<Outcome>,
}

impl Targets {
    /// Records one case of `goal` (`case` says which: a shape, a placement), the figure that
    /// decides it, and whether it is met.
    pub(crate) fn record(&mut self, goal: Goal, case: &str, figure: String, met: bool) {
        self.outcomes.push(Outcome {
            goal,
            case: case.to_owned(),
            figure,
            met,
        });
    }

    /// The summary: every target, ✓ met, ✗ missed, or `-` when its scenario did not run.
    pub(crate) fn print(&self, quick: bool) {
        let mut table = Table::new(&["targets (issue 11, cluster), from this run", "measured"]);
        for goal in Goal::ALL {
            let mut any = false;
            for o in self.outcomes.iter().filter(|o| o.goal == goal) {
                any = true;
                let mark = if o.met { "✓" } else { "✗" };
                let what = if o.case.is_empty() {
                    goal.text().to_owned()
                } else {
                    format!("{}: {}", goal.text(), o.case)
                };
                table.row(vec![format!("{mark} {what}"), o.figure.clone()]);
            }
            if !any {
                table.row(vec![
                    format!("- {}", goal.text()),
                    format!("not measured (scenario {})", goal.scenario()),
                ]);
            }
        }
        if quick {
            table.note("--quick: sizes and durations too small for these figures to mean anything");
        }
        table.note("reported only: a missed target never fails the run; a failed measurement does");
        table.print();
    }
}
