//! The callbacks server.
//!
//! ```text
//! cargo run -p example-callbacks -- --addr 127.0.0.1:8080
//! cargo run -p example-callbacks -- --print-asyncapi     # or --print-openrpc, --print-typescript
//! ```

use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: example-callbacks [--addr HOST:PORT]   (default 127.0.0.1:8080)
       example-callbacks --print-asyncapi | --print-openrpc | --print-typescript";

/// What to do.
enum Command {
    Serve(String),
    Print(Document),
    Help,
}

/// A document to print instead of serving.
enum Document {
    AsyncApi,
    OpenRpc,
    TypeScript,
}

#[tokio::main]
async fn main() -> ExitCode {
    let addr = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve(addr)) => addr,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Print(document)) => {
            let server = example_callbacks::server();
            let text = match document {
                Document::AsyncApi => {
                    pretty(&volley::codegen::asyncapi(server.api(), server.path()))
                }
                Document::OpenRpc => {
                    pretty(&volley::codegen::openrpc(server.api(), Some(server.path())))
                }
                Document::TypeScript => volley::codegen::typescript(
                    server.api(),
                    &volley::codegen::TypeScriptOptions::new(),
                ),
            };
            println!("{text}");
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

    let server = example_callbacks::server();
    let running = match server.listen(&addr).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("could not listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ticker = example_callbacks::spawn_ticker(server.peers().clone(), Duration::from_secs(1));
    let url = running.ws_url();
    println!("open http://{}/docs", running.local_addr());
    println!("connect to {url}");
    println!("run the client: cargo run -p example-callbacks --bin client -- --url {url}");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("could not wait for Ctrl-C: {e}");
    }
    ticker.abort();
    running.shutdown().await;
    ExitCode::SUCCESS
}

fn pretty(document: &serde_json::Value) -> String {
    serde_json::to_string_pretty(document).expect("documents encode")
}

/// What the command line asks for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut addr = "127.0.0.1:8080".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--print-asyncapi" => return Ok(Command::Print(Document::AsyncApi)),
            "--print-openrpc" => return Ok(Command::Print(Document::OpenRpc)),
            "--print-typescript" => return Ok(Command::Print(Document::TypeScript)),
            "--addr" => addr = args.next().ok_or("--addr needs a value")?,
            _ => match arg.strip_prefix("--addr=") {
                Some(value) => addr = value.to_owned(),
                None => return Err(format!("unknown argument `{arg}`")),
            },
        }
    }
    Ok(Command::Serve(addr))
}
