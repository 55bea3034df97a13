//! The chat server.
//!
//! ```text
//! cargo run -p example-chat -- --addr 127.0.0.1:8080
//! ```

use std::process::ExitCode;

const USAGE: &str = "usage: example-chat [--addr HOST:PORT]   (default 127.0.0.1:8080)";

#[tokio::main]
async fn main() -> ExitCode {
    let addr = match parse_args(std::env::args().skip(1)) {
        Ok(Some(addr)) => addr,
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
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    let server = example_chat::server();
    let running = match server.listen_with(&addr, example_chat::app(&server)).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("could not listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "open http://{}/ in two tabs and chat with yourself",
        running.local_addr()
    );
    println!("WebSocket endpoint: {}", running.ws_url());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("could not wait for Ctrl-C: {e}");
    }
    running.shutdown().await;
    ExitCode::SUCCESS
}

/// The address to listen on, or `None` when help was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<String>, String> {
    let mut addr = "127.0.0.1:8080".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => addr = args.next().ok_or("--addr needs a value")?,
            _ => match arg.strip_prefix("--addr=") {
                Some(value) => addr = value.to_owned(),
                None => return Err(format!("unknown argument `{arg}`")),
            },
        }
    }
    Ok(Some(addr))
}
