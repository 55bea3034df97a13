//! `instructions`: user-space instructions per call on each server, counted by callgrind:
//! the regression guard. Wall-clock figures swing by tens of percent on a shared machine;
//! instruction counts barely move, so a change that costs 10% more per call shows.
//!
//! Each server runs twice under `valgrind --tool=callgrind`, once answering
//! [`FEW`] calls and once [`MANY`] (1 connection, [`WINDOW`] in flight, from the same load
//! generator as `throughput`); the difference of the two totals over the difference of the
//! counts is the cost of one call, with start-up, connecting and shutting down taken out.
//! Each also answers calls one at a time ([`FEW_ALONE`] and [`MANY_ALONE`]), where every
//! call is a wake-up of its own: the shape of `latency` and `scaling`, where what a server
//! does per wake-up counts as much as what it does per call.
//! volley's figures are compared with the ones recorded in `examples/bench/instructions.txt`
//! (quoted in CONTRIBUTING.md): more than [`TOLERANCE`] above it fails the run. The kernel's
//! share (the socket calls) is not counted: see `throughput`'s CPU time for that.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use super::Ctx;
use crate::BoxError;
use crate::generator::oneway::drive;
use crate::generator::pipeline::{Calls, counted};
use crate::generator::{self, WAIT};
use crate::report::{Table, thousands};
use crate::scenarios::throughput::calls;
use crate::servers::{Child, Kind};

/// Calls in flight on the one connection.
const WINDOW: usize = 64;
/// Calls in the short run and in the long one.
const FEW: u64 = 2_000;
const MANY: u64 = 12_000;
/// Calls in the short run and in the long one, one call in flight.
const FEW_ALONE: u64 = 1_000;
const MANY_ALONE: u64 = 5_000;
/// `ask` calls (each a handler that calls the client back) in the short run and the long one.
const FEW_ASKS: u64 = 500;
const MANY_ASKS: u64 = 3_000;
/// How long volley's server calls the client in the short run and in the long one (under
/// callgrind, which runs it some 50 times slower).
const DRIVE_SHORT: Duration = Duration::from_secs(2);
const DRIVE_LONG: Duration = Duration::from_secs(8);
/// How far above the recorded figure volley may go before the run fails.
const TOLERANCE: f64 = 0.10;
/// The recorded figures: `volley <instructions per call>` (client to server),
/// `volley-one-in-flight <instructions per call>`, `volley-server-to-client <instructions
/// per call>` and `volley-calls-back <instructions per call>`, each on a line of its own.
const BASELINE: &str = include_str!("../../instructions.txt");
const BASELINE_PATH: &str = "examples/bench/instructions.txt";

/// Which servers, ceiling first.
const KINDS: [Kind; 3] = [Kind::Echo, Kind::Jsonrpsee, Kind::Volley];

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("valgrind was not found; install it with `apt-get install -y valgrind`".into());
    }
    let (few, many, few_alone, many_alone) = if ctx.opts.quick {
        (200, 1_200, 100, 500)
    } else {
        (FEW, MANY, FEW_ALONE, MANY_ALONE)
    };
    let (few_asks, many_asks) = if ctx.opts.quick {
        (50, 300)
    } else {
        (FEW_ASKS, MANY_ASKS)
    };
    let keep = ctx.opts.callgrind_dir.clone();
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("volley-bench-callgrind-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let mut per_call = Vec::new();
    let mut alone = Vec::new();
    for kind in KINDS {
        let add = (calls(kind), "");
        per_call.push(per_call_of(ctx, kind, (few, many), WINDOW, &dir, add).await?);
        alone.push(per_call_of(ctx, kind, (few_alone, many_alone), 1, &dir, add).await?);
    }
    // A handler that calls the client back before it answers (`ask` calls `confirm`): the
    // incoming call, its waiting task, the outgoing call and the answer, per `ask`.
    let asks = (Calls::ASK, "-ask");
    let counts = (few_asks, many_asks);
    let calls_back = per_call_of(ctx, Kind::Volley, counts, WINDOW, &dir, asks).await?;
    // The other direction: volley's server calling the client (`drive`), timed runs whose
    // call counts the server reports.
    let (short, long) = if ctx.opts.quick {
        (DRIVE_SHORT / 4, DRIVE_LONG / 4)
    } else {
        (DRIVE_SHORT, DRIVE_LONG)
    };
    let (ia, ca) = count_driven(ctx, short, &dir).await?;
    let (ib, cb) = count_driven(ctx, long, &dir).await?;
    if cb <= ca {
        return Err(format!("drive made {cb} calls in {long:?} and {ca} in {short:?}").into());
    }
    let driven = ib.saturating_sub(ia) as f64 / (cb - ca) as f64;
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let baseline = recorded(BASELINE, "volley");
    let baseline_alone = recorded(BASELINE, "volley-one-in-flight");
    let baseline_driven = recorded(BASELINE, "volley-server-to-client");
    let baseline_back = recorded(BASELINE, "volley-calls-back");
    let (volley, volley_alone) = (per_call[2], alone[2]);
    let mut table = Table::new(&[
        "instructions per call",
        &format!("{WINDOW} in flight"),
        "vs volley's recorded figure",
        "1 in flight",
        "vs volley's recorded figure",
    ]);
    for (i, kind) in KINDS.iter().enumerate() {
        let (versus, versus_alone) = match kind {
            Kind::Volley => (
                versus_recorded(per_call[i], baseline),
                versus_recorded(alone[i], baseline_alone),
            ),
            _ => (String::new(), String::new()),
        };
        table.row(vec![
            kind.label().to_owned(),
            thousands(per_call[i].round() as u64),
            versus,
            thousands(alone[i].round() as u64),
            versus_alone,
        ]);
    }
    table.row(vec![
        "volley, server to client".to_owned(),
        thousands(driven.round() as u64),
        format!(
            "{}; {:.2}x client to server",
            versus_recorded(driven, baseline_driven),
            driven / volley.max(1.0)
        ),
    ]);
    table.row(vec![
        "volley, a handler that calls back".to_owned(),
        thousands(calls_back.round() as u64),
        format!(
            "{}; {:.2}x a call each way",
            versus_recorded(calls_back, baseline_back),
            calls_back / (volley + driven).max(1.0)
        ),
    ]);
    table.note(format!(
        "1 connection, {WINDOW} calls in flight or 1; (instructions at {} calls - at {}) / {} ({} - {} with 1 in flight); each server under valgrind --tool=callgrind; the kernel's work is not counted",
        thousands(many),
        thousands(few),
        thousands(many - few),
        thousands(many_alone),
        thousands(few_alone),
    ));
    table.note(format!(
        "server to client: volley's server calls the client's `add` ({WINDOW} in flight, `drive`) for {short:?} and for {long:?}; (instructions - instructions) / (calls - calls)"
    ));
    table.note(format!(
        "a handler that calls back: `ask`, whose handler calls the client's `confirm` and waits for it before it answers ({WINDOW} in flight; {} - {} calls); against a call to the server plus one from it",
        thousands(many_asks),
        thousands(few_asks)
    ));
    if keep.is_some() {
        table.note(format!(
            "callgrind's files are in {}: callgrind_annotate {}/volley-{many}x{WINDOW}.out",
            dir.display(),
            dir.display()
        ));
    }
    table.print();
    if ctx.opts.quick {
        println!(
            "instructions: --quick counts too few calls to compare; the recorded figure is not checked\n"
        );
        return Ok(());
    }
    let checks = [
        ("volley", "client to server", volley, baseline),
        (
            "volley-one-in-flight",
            "client to server, one in flight",
            volley_alone,
            baseline_alone,
        ),
        (
            "volley-server-to-client",
            "server to client",
            driven,
            baseline_driven,
        ),
        (
            "volley-calls-back",
            "with a handler that calls back",
            calls_back,
            baseline_back,
        ),
    ];
    for (key, what, figure, recorded) in checks {
        match recorded {
            Some(b) if figure > b * (1.0 + TOLERANCE) => {
                return Err(format!(
                    "volley costs {figure:.0} instructions per call {what}, more than {:.0}% above the {b:.0} recorded in {BASELINE_PATH}: find what grew (callgrind_annotate), or record the new figure there and in CONTRIBUTING.md with the reason",
                    TOLERANCE * 100.0
                )
                .into());
            }
            Some(_) => {}
            None => return Err(format!("{BASELINE_PATH} records no `{key} <n>` line").into()),
        }
    }
    println!(
        "instructions: volley is within {:.0}% of its recorded figures, both directions, one in flight and a handler that calls back\n",
        TOLERANCE * 100.0
    );
    Ok(())
}

/// How `figure` compares with the recorded one.
fn versus_recorded(figure: f64, recorded: Option<f64>) -> String {
    match recorded {
        Some(b) => format!(
            "{} recorded: {:+.1}%",
            thousands(b as u64),
            (figure / b - 1.0) * 100.0
        ),
        None => format!("none recorded in {BASELINE_PATH}"),
    }
}

/// The instructions one call costs server `kind` (`what`, `window` in flight): the
/// difference of the totals for the two counts of calls over the difference of the counts.
async fn per_call_of(
    ctx: &Ctx,
    kind: Kind,
    (few, many): (u64, u64),
    window: usize,
    dir: &Path,
    what: (Calls, &str),
) -> Result<f64, BoxError> {
    let a = count(ctx, kind, few, window, dir, what).await?;
    let b = count(ctx, kind, many, window, dir, what).await?;
    Ok(b.saturating_sub(a) as f64 / (many - few) as f64)
}

/// The instructions server `kind` executes from start to exit when it answers `calls`
/// calls of `what`, `window` in flight.
async fn count(
    ctx: &Ctx,
    kind: Kind,
    calls: u64,
    window: usize,
    dir: &Path,
    (what, name): (Calls, &str),
) -> Result<u64, BoxError> {
    let out: PathBuf = dir.join(format!("{}{name}-{calls}x{window}.out", kind_name(kind)));
    let wrapper = callgrind(&out);
    let server = ctx.placement.map(|(server, _)| server);
    let child = Child::start_under(kind, ctx.opts.runtime, server, &wrapper).await?;
    let mut ws = generator::open(&child.url, 1, 1, None).await?;
    let answered = counted(&mut ws[0], window, calls, what, Instant::now() + WAIT * 4).await?;
    if answered != calls {
        return Err(format!("{} answered {answered} of {calls} calls", kind.label()).into());
    }
    drop(ws);
    child.stop_within(Duration::from_secs(60)).await?;
    let text = std::fs::read_to_string(&out)
        .map_err(|e| format!("callgrind wrote no {}: {e}", out.display()))?;
    total(&text).ok_or_else(|| format!("no instruction total in {}", out.display()).into())
}

/// The instructions volley's server executes from start to exit, and the calls it makes,
/// when it calls the client for `time` (`drive`, [`WINDOW`] in flight).
async fn count_driven(ctx: &Ctx, time: Duration, dir: &Path) -> Result<(u64, u64), BoxError> {
    let out: PathBuf = dir.join(format!("volley-drive-{}.out", time.as_millis()));
    let wrapper = callgrind(&out);
    let server = ctx.placement.map(|(server, _)| server);
    let child = Child::start_under(Kind::Volley, ctx.opts.runtime, server, &wrapper).await?;
    let mut ws = generator::open(&child.url, 1, 1, None).await?;
    let run = drive(&mut ws[0], WINDOW, time).await?;
    drop(ws);
    child.stop_within(Duration::from_secs(60)).await?;
    let text = std::fs::read_to_string(&out)
        .map_err(|e| format!("callgrind wrote no {}: {e}", out.display()))?;
    let total = total(&text).ok_or_else(|| format!("no instruction total in {}", out.display()))?;
    Ok((total, run.count))
}

/// valgrind's command line that writes callgrind's counts to `out`.
fn callgrind(out: &Path) -> [String; 4] {
    [
        "valgrind".to_owned(),
        "--tool=callgrind".to_owned(),
        "--quiet".to_owned(),
        format!("--callgrind-out-file={}", out.display()),
    ]
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Volley => "volley",
        Kind::Jsonrpsee => "jsonrpsee",
        Kind::Echo => "echo",
        Kind::EchoTokioWebsockets => "echo-tokio-websockets",
        Kind::VolleyNode => "volley-node",
    }
}

/// The `summary:` (or `totals:`) line of a callgrind output file: instructions executed.
fn total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// A recorded figure: the number on the line `<key> <n>` (`#` starts a comment).
fn recorded(text: &str, key: &str) -> Option<f64> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find_map(|l| {
            l.strip_prefix(key)
                .filter(|rest| rest.starts_with(char::is_whitespace))
        })
        .and_then(|n| n.trim().replace(',', "").parse().ok())
}

#[cfg(test)]
mod tests {
    use super::{recorded, total};

    #[test]
    fn reads_callgrind_totals_and_the_recorded_figure() {
        assert_eq!(total("events: Ir\nfl=x\nsummary: 123456\n"), Some(123_456));
        assert_eq!(total("events: Ir\ntotals: 42\n"), Some(42));
        assert_eq!(total("events: Ir\n"), None);
        let file = "# comment\nvolley-server-to-client 9,000\nvolley 31,250 # 2026-11-30\n";
        assert_eq!(recorded(file, "volley"), Some(31_250.0));
        assert_eq!(recorded(file, "volley-server-to-client"), Some(9_000.0));
        assert_eq!(recorded("# volley 5\n", "volley"), None);
        assert_eq!(recorded("volley 5\n", "volley-server-to-client"), None);
    }
}
