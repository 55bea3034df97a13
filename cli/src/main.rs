//! `volley`: a command line for poking at any JSON-RPC 2.0 server over WebSocket, volley or
//! not.
//!
//! ```text
//! volley call ws://127.0.0.1:8080/ws add a=1 b=2
//! volley notify ws://127.0.0.1:8080/ws tick '[7]'
//! volley discover ws://127.0.0.1:8080/ws
//! volley codegen typescript --from ws://127.0.0.1:8080/ws -o api.ts
//! volley bridge --listen 127.0.0.1:8080 -- python3 server.py
//! ```
//!
//! - [`cli`]: the command line (clap) and which command runs; each command is a module of
//!   [`command`]: `call`, `notify`, `listen`, `discover`, `codegen`, `bridge`.
//! - [`connect`]: the options every command takes to reach a server (`--header`, `--token`,
//!   `--ca`, `--timeout`), and the client built from them.
//! - [`params`]: a call's params from the command line, [`answer`]: the `--answer`s that
//!   serve the server's calls back.
//! - [`failure`]: what can go wrong, and the exit code of each; [`output`]: what goes to
//!   stdout and stderr.

mod answer;
mod cli;
mod command;
mod connect;
mod failure;
mod output;
mod params;
mod signals;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return failure::usage(e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(&format!("could not start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
