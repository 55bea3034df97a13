//! The dashboard server.
//!
//! ```text
//! cargo run -p example-dashboard -- --addr 127.0.0.1:8080
//! ```

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// The dashboard server: the live chart at `/`, the `subscribe_load` stream on `/ws`.
#[derive(Parser)]
#[command(name = "example-dashboard")]
struct Args {
    /// The address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let server = example_dashboard::server();
    let running = match server
        .listen_with(&args.addr, example_dashboard::app(&server))
        .await
    {
        Ok(running) => running,
        Err(e) => {
            eprintln!("could not listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "open http://{}/ to watch the server's load live",
        running.local_addr()
    );
    println!("WebSocket endpoint: {}", running.ws_url());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("could not wait for Ctrl-C: {e}");
    }
    running.shutdown().await;
    ExitCode::SUCCESS
}
