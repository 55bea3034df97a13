//! The callbacks client: calls `add` and `ask`, answers the server's `confirm`, prints a few
//! ticks, and exits.
//!
//! ```text
//! cargo run -p example-callbacks --bin client -- --url ws://127.0.0.1:8080/ws
//! cargo run -p example-callbacks --bin client -- --url wss://localhost:8080/ws --token SECRET --ca cert.pem
//! # 100 calls, one every 100 ms, through a server restart:
//! cargo run -p example-callbacks --bin client -- --repeat 100 --interval-ms 100
//! ```

use std::io::IsTerminal;
use std::process::ExitCode;

use std::time::Duration;

use clap::{ArgAction, Parser};
use example_callbacks::{ClientOptions, RepeatOptions};
use tracing_subscriber::EnvFilter;

/// The callbacks client: calls `add` and `ask`, answers the server's `confirm`, prints a few
/// ticks, and exits.
#[derive(Parser)]
#[command(name = "client")]
struct Args {
    /// The server's WebSocket endpoint.
    #[arg(long, value_name = "URL", default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// How to answer the server's confirm.
    #[arg(long, value_name = "yes|no", default_value = "yes")]
    #[arg(value_parser = yes_or_no, action = ArgAction::Set)]
    answer: bool,
    /// Exit after N ticks.
    #[arg(long, value_name = "N", default_value_t = ClientOptions::default().ticks)]
    ticks: usize,
    /// The question to ask.
    #[arg(long, value_name = "TEXT", default_value_t = ClientOptions::default().question)]
    question: String,
    /// Send `Authorization: Bearer SECRET`.
    #[arg(long, value_name = "SECRET")]
    token: Option<String>,
    /// Trust this certificate for wss:// (PEM; the server's own when self-signed).
    #[arg(long, value_name = "PEM")]
    ca: Option<std::path::PathBuf>,
    /// Instead of the conversation, call add(i, i) N times, print each outcome, then one
    /// `summary: total=N ok=A failed=B unresolved=C reconnects=R` line; exit 0 when C is 0.
    #[arg(long, value_name = "N")]
    repeat: Option<u64>,
    /// With --repeat: the pause between two calls.
    #[arg(long, value_name = "M", default_value_t = 100)]
    interval_ms: u64,
    /// With --repeat: how long to wait for the calls still out after the last one is made.
    #[arg(long, value_name = "S", default_value_t = 40)]
    deadline_secs: u64,
    /// Do not ask the server for a resumable session.
    #[arg(long)]
    no_resume: bool,
    /// Do not reconnect when the connection is lost.
    #[arg(long)]
    no_reconnect: bool,
}

fn yes_or_no(answer: &str) -> Result<bool, String> {
    match answer {
        "yes" | "y" | "true" => Ok(true),
        "no" | "n" | "false" => Ok(false),
        other => Err(format!("takes yes or no, not `{other}`")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let ca_pem = match args.ca.as_deref().map(std::fs::read).transpose() {
        Ok(pem) => pem,
        Err(e) => {
            eprintln!("error: could not read --ca: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = ClientOptions {
        question: args.question,
        answer: args.answer,
        ticks: args.ticks,
        token: args.token,
        ca_pem,
        reconnect: !args.no_reconnect,
        resume: !args.no_resume,
        ..ClientOptions::default()
    };
    if let Some(repeat) = args.repeat {
        let pace = RepeatOptions {
            repeat,
            interval: Duration::from_millis(args.interval_ms),
            deadline: Duration::from_secs(args.deadline_secs),
        };
        return match example_callbacks::run_repeat(&args.url, &options, &pace).await {
            Ok(summary) => {
                println!("{summary}");
                if summary.unresolved == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => failure(&*e),
        };
    }
    match example_callbacks::run_client(&args.url, &options).await {
        Ok(summary) => {
            println!(
                "done: sum {}, confirmed {}, ticks {:?}",
                summary.sum, summary.confirmed, summary.ticks
            );
            ExitCode::SUCCESS
        }
        Err(e) => failure(&*e),
    }
}

/// Prints the error and its causes, each said once.
fn failure(e: &(dyn std::error::Error + 'static)) -> ExitCode {
    let mut message = format!("error: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(&format!(": {text}"));
        }
        source = cause.source();
    }
    eprintln!("{message}");
    ExitCode::FAILURE
}
