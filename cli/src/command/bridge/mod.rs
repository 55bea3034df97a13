//! `volley bridge`: a stdio JSON-RPC program (a language server, a tool server) served on a
//! WebSocket, one process for each connection, messages relayed both ways.
//!
//! - this module: the arguments, the listener, and stopping on Ctrl-C;
//! - [`handshake`]: the WebSocket upgrade, refused with 404 off the path and 503 past
//!   `--max-connections`;
//! - [`relay`]: one connection and its program, ended together; [`pipes`]: the loops that
//!   move its messages; [`connection`]: its name in the log;
//! - [`program`]: starting, ending and reaping a program;
//! - [`framing`]: messages on the program's stdin and stdout, by line or `Content-Length`;
//! - [`message`]: what passes: JSON checks, the Parse error answer, close reasons.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::failure::Failure;
use crate::output;
use crate::signals::interrupted;

mod connection;
mod framing;
mod handshake;
mod message;
mod pipes;
mod program;
mod relay;

use connection::Connection;
use framing::Framing;
use program::{GRACE, Program};
use relay::Relay;

/// The largest message either way by default: 16 MiB, as the volley server's.
const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// How long an accept error (too many open files) pauses accepting.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

const ABOUT: &str = "\
Each WebSocket frame (text or binary) is one JSON-RPC message or batch, written to the
program as one message; each message the program writes is sent as one text frame, so calls
go both ways. A frame that is not JSON is answered with a -32700 Parse error (id null) and not
forwarded; output that is not JSON is logged to stderr and skipped. With --framing lines, a
frame with line breaks is written on one line: the whitespace between its JSON tokens is
dropped (strings, numbers and key order stay as sent). The program's stderr is volley's.
--framing must be the program's own: a program that expects the other one reads no message,
and the browser's calls wait for their own timeout.

The program's exit closes the socket: 1000 \"the program exited\" for status 0, else 1011
\"the program exited with status N\"; a program that cannot be started closes it with 1011
and the error. The socket's close, or its loss (nothing heard, not even a pong, for two
--ping-interval), ends the program: its stdin is closed, and it is killed if it has not
exited 2 s later. Ctrl-C closes every connection with 1001 and ends its program the same
way (each program has its own process group, so Ctrl-C reaches volley alone).

Limits: a frame or a program's message over --max-message-size closes the connection with
1009; a connection past --max-connections gets HTTP 503 before the upgrade, and no program.
A browser sends its page's origin: only pages from the bridge's own address get in unless
--allow-origin lists others, so a site the user visits cannot drive the program. Clients
that send no origin (programs, not browsers) always get in.

Examples:
  volley bridge --listen 127.0.0.1:8080 -- python3 server.py
        each connection to ws://127.0.0.1:8080/ws gets its own `python3 server.py`
  volley bridge --listen 127.0.0.1:3000 --framing content-length \\
      --allow-origin http://localhost:5173 -- rust-analyzer
        a language server for the editor on one page
  volley bridge --listen 127.0.0.1:0 --max-connections 4 -- ./tool --stdio
        prints the port it took: listening on ws://127.0.0.1:PORT/ws";

/// Serves a stdio program on a WebSocket.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = ABOUT)]
pub(crate) struct BridgeArgs {
    /// The address to listen on (port 0: any free port, printed); keep 127.0.0.1 unless
    /// other machines must connect
    #[arg(long, value_name = "HOST:PORT")]
    listen: String,
    /// The WebSocket endpoint's path; other paths get 404
    #[arg(long, value_name = "PATH", default_value = "/ws", value_parser = path)]
    path: String,
    /// Let in browsers from this origin (repeatable: `https://app.example.com`); others get
    /// 403. Without it only pages served from the bridge's own address get in
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// How messages are delimited on the program's stdin and stdout
    #[arg(long, value_enum, default_value_t = Framing::Lines)]
    framing: Framing,
    /// The largest message either way, in bytes (default 16 MiB): a bigger frame from the
    /// browser, or a bigger message from the program, closes the connection with 1009
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_SIZE,
          value_parser = positive)]
    max_message_size: usize,
    /// The most connections (so programs) at once; one more gets HTTP 503
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    max_connections: u32,
    /// Ping each browser this often; a connection that sends nothing, not even a pong, for
    /// two intervals is taken as lost and its program ended (0: never ping)
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    ping_interval: u64,
    /// The program to start for each connection, and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// A `--path`: it starts with `/`.
fn path(text: &str) -> Result<String, String> {
    if text.starts_with('/') {
        Ok(text.to_owned())
    } else {
        Err(format!("a path starts with /, as /{text}"))
    }
}

/// A size of at least one byte.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least 1".to_owned()),
        Ok(size) => Ok(size),
        Err(e) => Err(e.to_string()),
    }
}

/// Listens, prints `listening on ws://ADDR/PATH`, and serves until Ctrl-C (or SIGTERM); then
/// closes every connection and ends every program before returning.
pub(crate) async fn run(args: BridgeArgs) -> Result<(), Failure> {
    let program = Program::new(&args.command)
        .ok_or_else(|| Failure::Usage("the program to run is missing, after --".to_owned()))?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|source| Failure::Bind {
            addr: args.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Failure::Bind {
        addr: args.listen.clone(),
        source,
    })?;
    let relay = Arc::new(Relay {
        program,
        framing: args.framing,
        max_message_size: args.max_message_size,
        ping: (args.ping_interval > 0).then(|| Duration::from_secs(args.ping_interval)),
    });
    let gate = Arc::new(handshake::Gate::new(
        args.path.clone(),
        &args.allow_origins,
        args.max_connections,
        args.max_message_size,
    ));
    let interrupted = interrupted();
    tokio::pin!(interrupted);
    output::stdout(&format!("listening on ws://{addr}{}", args.path));

    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut count = 0;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    count += 1;
                    let connection = Connection { id: count, peer };
                    let (gate, relay, stopping) = (gate.clone(), relay.clone(), stopping.clone());
                    connections.spawn(async move {
                        if let Some((socket, slot)) = gate.accept(tcp, connection).await {
                            relay.run(socket, slot, stopping, connection).await;
                        }
                    });
                }
                Err(e) => {
                    output::stderr(&format!("volley bridge: cannot accept a connection: {e}"));
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut interrupted => break,
        }
    }
    drop(listener);
    output::stderr(&format!(
        "volley bridge: stopping: closing {} connection(s)",
        gate.open()
    ));
    let _ = stop.send(true);
    // Each connection closes with 1001 at once, then ends its program (GRACE at most) and
    // waits for the browser's close (GRACE at most).
    let all_closed = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(GRACE * 2 + Duration::from_secs(1), all_closed).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sizes_are_checked() {
        assert_eq!(path("/lsp"), Ok("/lsp".to_owned()));
        assert_eq!(path("ws"), Err("a path starts with /, as /ws".to_owned()));
        assert_eq!(positive("1"), Ok(1));
        assert_eq!(positive("0"), Err("at least 1".to_owned()));
        assert!(positive("-1").is_err());
    }
}
