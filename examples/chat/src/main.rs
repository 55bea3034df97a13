//! The chat server.
//!
//! ```text
//! cargo run -p example-chat -- --addr 127.0.0.1:8080
//! cargo run -p example-chat -- --addr 127.0.0.1:8081 --redis redis://127.0.0.1:6379
//! ```

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use example_chat::Options;
use tracing_subscriber::EnvFilter;

/// The chat server: the chat page at `/`, the room on `/ws`.
#[derive(Parser)]
#[command(
    name = "example-chat",
    after_help = "Examples:
  example-chat --addr 127.0.0.1:8080
      one server on its own
  example-chat --addr 127.0.0.1:8080 --redis redis://127.0.0.1:6379
  example-chat --addr 127.0.0.1:8081 --redis redis://127.0.0.1:6379
      two servers that form one chat (the same rooms, members and history)"
)]
struct Args {
    /// The address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Form one chat with the other servers started with the same Redis: the rooms are kept
    /// there, and what is said crosses between the servers through it.
    #[arg(long, value_name = "URL", env = "VOLLEY_REDIS")]
    redis: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let (server, backplane) = match &args.redis {
        None => (example_chat::server(), None),
        Some(url) => {
            match example_chat::cluster_server(Options::default(), url, Default::default()).await {
                Ok((server, backplane)) => (server, Some(backplane)),
                Err(e) => {
                    eprintln!("could not join the chat at {url}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let running = match server
        .listen_with(&args.addr, example_chat::app(&server))
        .await
    {
        Ok(running) => running,
        Err(e) => {
            eprintln!("could not listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "open http://{}/ in two tabs and chat with yourself",
        running.local_addr()
    );
    println!("WebSocket endpoint: {}", running.ws_url());
    if let Some(backplane) = &backplane {
        println!(
            "node {} of the chat kept in Redis: start more with the same --redis",
            backplane.node()
        );
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("could not wait for Ctrl-C: {e}");
    }
    running.shutdown().await;
    if let Some(backplane) = backplane {
        backplane.leave().await;
    }
    ExitCode::SUCCESS
}
