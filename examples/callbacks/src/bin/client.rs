//! The callbacks client: calls `add` and `ask`, answers the server's `confirm`, prints a few
//! ticks, and exits.
//!
//! ```text
//! cargo run -p example-callbacks --bin client -- --url ws://127.0.0.1:8080/ws
//! ```

use std::process::ExitCode;

use example_callbacks::ClientOptions;

const USAGE: &str = "\
usage: client [--url URL] [--answer yes|no] [--ticks N] [--question TEXT]
  --url URL         the server's WebSocket endpoint (default ws://127.0.0.1:8080/ws)
  --answer yes|no   how to answer the server's confirm (default yes)
  --ticks N         exit after N ticks (default 3)
  --question TEXT   the question to ask";

#[tokio::main]
async fn main() -> ExitCode {
    let (url, options) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    match example_callbacks::run_client(&url, &options).await {
        Ok(summary) => {
            println!(
                "done: sum {}, confirmed {}, ticks {:?}",
                summary.sum, summary.confirmed, summary.ticks
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut message = format!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !message.ends_with(&cause_text) {
                    message.push_str(&format!(": {cause_text}"));
                }
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// The URL and options, or `None` when help was asked for.
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<(String, ClientOptions)>, String> {
    let mut url = "ws://127.0.0.1:8080/ws".to_owned();
    let mut options = ClientOptions::default();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--url" => url = value()?,
            "--question" => options.question = value()?,
            "--answer" => {
                options.answer = match value()?.as_str() {
                    "yes" | "y" | "true" => true,
                    "no" | "n" | "false" => false,
                    other => return Err(format!("--answer takes yes or no, not `{other}`")),
                }
            }
            "--ticks" => {
                let n = value()?;
                options.ticks = n
                    .parse()
                    .map_err(|_| format!("--ticks takes a number, not `{n}`"))?;
            }
            _ => return Err(format!("unknown argument `{flag}`")),
        }
    }
    Ok(Some((url, options)))
}
