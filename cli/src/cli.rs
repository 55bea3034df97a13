//! The command line: [`Cli`], one subcommand per [`command`](crate::command) module.

use clap::{Parser, Subcommand};

use crate::command::{bridge, call, codegen, discover, listen, notify, repl};
use crate::failure::{EXIT_CODES, Failure};

/// Call, notify, discover and generate clients for any JSON-RPC 2.0 server over WebSocket, and
/// bridge a stdio JSON-RPC program onto one.
#[derive(Debug, Parser)]
#[command(name = "volley", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Call a method and print its result as JSON
    Call(call::CallArgs),
    /// Send a notification (nothing is answered)
    Notify(notify::NotifyArgs),
    /// List the methods a server serves and calls, from its rpc.discover document
    Discover(discover::DiscoverArgs),
    /// Stay connected: print every request and notification the server sends, one JSON line
    /// each, and answer its requests
    Listen(listen::ListenArgs),
    /// An interactive prompt: calls typed as `add 1 2` or `add a=1 b=2`, Tab completion of
    /// methods and params from rpc.discover, history, and the server's calls answered as they
    /// come
    Repl(repl::ReplArgs),
    /// Generate a TypeScript client, or an AsyncAPI or OpenRPC document, from a server's
    /// rpc.discover or an OpenRPC file
    #[command(subcommand)]
    Codegen(codegen::CodegenCommand),
    /// Serve a stdio JSON-RPC program (a language server, a tool server) on a WebSocket: one
    /// process for each connection, calls relayed both ways
    Bridge(bridge::BridgeArgs),
}

impl Cli {
    /// Runs the command.
    pub(crate) async fn run(self) -> Result<(), Failure> {
        match self.command {
            Command::Call(args) => call::run(args).await,
            Command::Notify(args) => notify::run(args).await,
            Command::Discover(args) => discover::run(args).await,
            Command::Listen(args) => listen::run(args).await,
            Command::Repl(args) => repl::run(args).await,
            Command::Codegen(command) => codegen::run(command).await,
            Command::Bridge(args) => bridge::run(args).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
