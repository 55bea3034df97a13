//! The callbacks server.
//!
//! ```text
//! cargo run -p example-callbacks -- --addr 127.0.0.1:8080
//! cargo run -p example-callbacks -- --print-asyncapi     # or --print-openrpc, --print-typescript
//! cargo run -p example-callbacks -- --token SECRET --tls-cert cert.pem --tls-key key.pem
//! ```

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use example_callbacks::ServerOptions;
use tracing_subscriber::EnvFilter;
use volley::codegen::{self, TypeScriptOptions};

/// The callbacks server: `add` and `ask` on `/ws`, and a `tick` to every client once a second.
#[derive(Parser)]
#[command(name = "example-callbacks")]
struct Args {
    /// The address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Print the AsyncAPI document instead of serving.
    #[arg(long, group = "print")]
    print_asyncapi: bool,
    /// Print the OpenRPC document instead of serving.
    #[arg(long, group = "print")]
    print_openrpc: bool,
    /// Print the TypeScript client module instead of serving.
    #[arg(long, group = "print")]
    print_typescript: bool,
    /// Require this token: `Authorization: Bearer SECRET` or `?token=SECRET` (401 without
    /// it, 403 with another).
    #[arg(long, value_name = "SECRET")]
    token: Option<String>,
    /// Serve https:// and wss:// with this certificate chain (PEM; needs --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match volley::Tls::from_pem_files(cert, key) {
            Ok(tls) => Some(tls),
            Err(e) => {
                eprintln!("could not load the TLS certificate: {e}");
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let server = example_callbacks::server_with(ServerOptions {
        token: args.token.clone(),
        tls,
    });
    if args.print_asyncapi {
        println!("{:#}", codegen::asyncapi(server.api(), server.path()));
        return ExitCode::SUCCESS;
    }
    if args.print_openrpc {
        println!("{:#}", codegen::openrpc(server.api(), Some(server.path())));
        return ExitCode::SUCCESS;
    }
    if args.print_typescript {
        let options = TypeScriptOptions::new();
        print!("{}", codegen::typescript(server.api(), &options));
        return ExitCode::SUCCESS;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let app = match example_callbacks::with_metrics(server.router()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("could not set up /metrics: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running = match server.listen_with(&args.addr, app).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("could not listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let ticker = example_callbacks::spawn_ticker(server.peers().clone(), Duration::from_secs(1));
    let url = running.ws_url();
    let (query, client_flags) = match &args.token {
        Some(token) => (format!("?token={token}"), format!(" --token {token}")),
        None => (String::new(), String::new()),
    };
    let ca = match &args.tls_cert {
        Some(cert) => format!(" --ca {}", cert.display()),
        None => String::new(),
    };
    println!("open {}docs{query}", running.http_url());
    println!("connect to {url}");
    println!("metrics at {}metrics", running.http_url());
    println!(
        "run the client: cargo run -p example-callbacks --bin client -- --url {url}{client_flags}{ca}"
    );
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("could not wait for Ctrl-C: {e}");
    }
    ticker.abort();
    running.shutdown().await;
    ExitCode::SUCCESS
}
