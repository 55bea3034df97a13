//! One connection: its own program, messages relayed both ways ([`pipes`]),
//! and the end of either side ending the other. The first thing to end decides how the
//! connection closes:
//!
//! - the browser closes, or the socket is lost (an error, or nothing heard for two ping
//!   intervals): the program's stdin is closed, and it is ended ([`program::end`]);
//! - the program exits: what it wrote before exiting is still sent (within the grace
//!   period), then the socket closes with [`program::exit_close`];
//! - a frame or a message over the limit: 1009; output that cannot be read as messages:
//!   1011; the bridge stopping: 1001. The close goes first, then the program is ended.
//!
//! Either way the program is reaped before the connection's slot is given back.

use std::process::ExitStatus;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use super::connection::Connection;
use super::framing::{FrameError, Framing, Reader};
use super::message;
use super::pipes::{self, OutputEnd, Socket, SocketEnd, close_frame};
use super::program::{self, GRACE, Program};

/// How many messages may wait for the socket before the program's output is read no further.
const QUEUE: usize = 16;

/// What every connection runs, and how.
#[derive(Debug)]
pub(crate) struct Relay {
    /// The program started for each connection.
    pub(crate) program: Program,
    /// How its messages are delimited.
    pub(crate) framing: Framing,
    /// The largest message either way, in bytes.
    pub(crate) max_message_size: usize,
    /// How often the browser is pinged; after two of these without a frame (a pong counts)
    /// the connection is taken as lost. `None`: never.
    pub(crate) ping: Option<Duration>,
}

/// What ended the relay.
enum End {
    Socket(SocketEnd),
    Output(OutputEnd),
    Exited,
    Stop,
}

/// How the socket is closed.
enum Closing {
    /// The browser closed it, or it is gone: nothing to send; why, for the log.
    Gone(String),
    /// With this code and reason, before the program is ended.
    Now(u16, String),
    /// With the program's exit status, once it is known.
    AfterExit,
}

impl Relay {
    /// Runs the connection to its end: starts the program, relays, and ends both. The
    /// connection's `slot` is given back as soon as the program is reaped.
    pub(crate) async fn run(
        &self,
        mut socket: Socket,
        slot: OwnedSemaphorePermit,
        mut stop: watch::Receiver<bool>,
        connection: Connection,
    ) {
        if *stop.borrow() {
            close_now(&mut socket, 1001, "the bridge is shutting down").await;
            return;
        }
        let started = self.program.start();
        let mut child = match started {
            Ok(child) => child,
            Err(e) => {
                let why = format!("cannot start {}: {e}", self.program.name());
                connection.log(&why);
                close_now(&mut socket, 1011, &message::reason(&why)).await;
                return;
            }
        };
        let pid = child
            .id()
            .map_or_else(String::new, |pid| format!(" (pid {pid})"));
        connection.log(&format!("started {}{pid}", self.program.name()));
        // Both are piped by `Program::start`.
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            close_now(
                &mut socket,
                1011,
                "the program's stdin or stdout is not a pipe",
            )
            .await;
            return;
        };
        let (sink, mut stream) = socket.split();
        let (out, queue) = mpsc::channel(QUEUE);
        let mut writer = tokio::spawn(pipes::write_socket(sink, queue, self.ping));
        let output = Reader::new(stdout, self.framing, self.max_message_size);
        let mut from_program = Box::pin(pipes::program_to_socket(output, out.clone(), connection));

        let silence = self.ping.map(|every| every * 2);
        let to_program =
            pipes::socket_to_program(&mut stream, stdin, self.framing, out.clone(), silence);
        let end = tokio::select! {
            end = to_program => End::Socket(end),
            end = &mut from_program => End::Output(end),
            _ = child.wait() => End::Exited,
            _ = &mut writer => End::Socket(SocketEnd::Gone),
            _ = stop.wait_for(|stop| *stop) => End::Stop,
        };
        // The program's stdin went with `to_program`: it is closed now.
        let writer_ended = writer.is_finished();
        let closing = match end {
            End::Socket(SocketEnd::Gone) | End::Output(OutputEnd::SocketGone) => {
                Closing::Gone("the browser closed the connection".to_owned())
            }
            End::Socket(SocketEnd::Silent(silence)) => Closing::Gone(format!(
                "nothing from the browser for {} s, not even a pong: the connection is lost",
                silence.as_secs()
            )),
            End::Socket(SocketEnd::Refused(code, why)) => Closing::Now(code, why),
            End::Stop => Closing::Now(1001, "the bridge is shutting down".to_owned()),
            End::Output(OutputEnd::Closed) => Closing::AfterExit,
            End::Output(OutputEnd::Failed(e)) => output_failed(e, connection),
            // What it wrote before it stopped is sent before the close.
            End::Exited | End::Socket(SocketEnd::InputClosed) => {
                match timeout(GRACE, &mut from_program).await {
                    Ok(OutputEnd::Failed(e)) => output_failed(e, connection),
                    _ => Closing::AfterExit,
                }
            }
        };
        drop(from_program);
        if let Closing::Now(code, why) = &closing {
            let _ = out.send(close_frame(*code, why)).await;
        }
        let ended = program::end(&mut child).await;
        drop(slot);
        let why = match &closing {
            Closing::Gone(why) => why.clone(),
            Closing::Now(_, why) => why.clone(),
            Closing::AfterExit => {
                let (code, why) = program::exit_close(ended.status);
                let _ = out.send(close_frame(code, &why)).await;
                why
            }
        };
        connection.log(&summary(&why, ended.status, ended.killed));
        drop(out);
        if !writer_ended && timeout(GRACE, &mut writer).await.is_err() {
            writer.abort();
        }
        if !matches!(closing, Closing::Gone(_)) {
            // The browser's close answers ours; the connection is dropped then, or at the end
            // of the grace period.
            let _ = timeout(GRACE, async {
                while let Some(Ok(_)) = stream.next().await {}
            })
            .await;
        }
    }
}

/// The log line for a connection's end: why it closed and how its program ended.
fn summary(why: &str, status: Option<ExitStatus>, killed: bool) -> String {
    let exited = format!("the program {}", program::describe(status));
    let killed = if killed {
        format!(" (killed after {} s)", GRACE.as_secs())
    } else {
        String::new()
    };
    if why == exited {
        format!("closed: {exited}{killed}")
    } else {
        format!("closed: {why}; {exited}{killed}")
    }
}

/// The close for output that cannot be read as messages; logged with why.
fn output_failed(error: FrameError, connection: Connection) -> Closing {
    match error {
        FrameError::TooBig { limit } => Closing::Now(
            1009,
            format!("the program sent a message over {limit} bytes"),
        ),
        // It stopped in the middle of a message: it is ending.
        FrameError::Truncated => Closing::AfterExit,
        FrameError::BadHeader(why) => {
            let why = format!("the program's output is not content-length framed: {why}");
            connection.log(&why);
            Closing::Now(1011, message::reason(&why))
        }
        FrameError::Io(e) => {
            connection.log(&format!("cannot read the program's output: {e}"));
            Closing::Now(1011, "cannot read the program's output".to_owned())
        }
    }
}

/// Closes a socket that relays nothing, and waits (the grace period at most) for the
/// browser's answering close.
async fn close_now(socket: &mut Socket, code: u16, reason: &str) {
    let Message::Close(frame) = close_frame(code, reason) else {
        return;
    };
    if socket.close(frame).await.is_ok() {
        let _ = timeout(GRACE, async {
            while let Some(Ok(_)) = socket.next().await {}
        })
        .await;
    }
}
