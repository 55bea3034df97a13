//! The three loops that move messages, each running until its side ends: the socket's
//! frames to the program's stdin, the program's messages to a queue, and the queue to the
//! socket (one writer, so a Parse error answer, the program's messages and the pings never
//! write at the same time).

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

use super::connection::Connection;
use super::framing::{self, FrameError, Framing, Reader};
use super::message;

/// A connection's WebSocket.
pub(crate) type Socket = WebSocketStream<TcpStream>;

/// How the socket's side ended.
pub(crate) enum SocketEnd {
    /// The browser closed it, or it is gone.
    Gone,
    /// The browser broke a rule: the close code and reason to send.
    Refused(u16, String),
    /// Nothing came, not even a pong, for this long: the connection is lost.
    Silent(Duration),
    /// The program's stdin cannot be written (it closed it, or exited).
    InputClosed,
}

/// How the program's output ended.
pub(crate) enum OutputEnd {
    /// The program closed its stdout (it exited, most likely).
    Closed,
    /// The socket is gone: nothing can be sent.
    SocketGone,
    /// The output cannot be read as messages.
    Failed(FrameError),
}

/// Writes each frame of the socket that is JSON to the program's stdin, and answers the
/// others with a Parse error, until the socket or the stdin ends, or nothing comes for
/// `silence` (while waiting for a frame: not while the program is slow to read).
pub(crate) async fn socket_to_program(
    stream: &mut SplitStream<Socket>,
    mut stdin: ChildStdin,
    framing: Framing,
    out: mpsc::Sender<Message>,
    silence: Option<Duration>,
) -> SocketEnd {
    loop {
        let next = match silence {
            Some(silence) => match tokio::time::timeout(silence, stream.next()).await {
                Ok(next) => next,
                Err(_) => return SocketEnd::Silent(silence),
            },
            None => stream.next().await,
        };
        let frame = match next {
            Some(Ok(Message::Text(text))) => bytes::Bytes::from(text),
            Some(Ok(Message::Binary(bytes))) => bytes,
            Some(Ok(Message::Close(_))) | None => return SocketEnd::Gone,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return read_failed(&e),
        };
        let json = match message::check(&frame) {
            Ok(json) => json,
            Err(why) => {
                let answer = Message::text(message::parse_error(&why));
                if out.send(answer).await.is_err() {
                    return SocketEnd::Gone;
                }
                continue;
            }
        };
        let json = match framing {
            Framing::Lines => message::one_line(json),
            Framing::ContentLength => json.into(),
        };
        if framing::write(&mut stdin, framing, json.as_bytes())
            .await
            .is_err()
        {
            return SocketEnd::InputClosed;
        }
    }
}

/// The close for a frame that could not be read.
fn read_failed(error: &tungstenite::Error) -> SocketEnd {
    use tungstenite::error::{CapacityError, ProtocolError};
    match error {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { max_size, .. }) => {
            SocketEnd::Refused(1009, format!("a message over {max_size} bytes"))
        }
        tungstenite::Error::Capacity(e) => {
            SocketEnd::Refused(1009, message::reason(&e.to_string()))
        }
        tungstenite::Error::Utf8(_) => {
            SocketEnd::Refused(1007, "a text frame that is not UTF-8".to_owned())
        }
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            SocketEnd::Gone
        }
        tungstenite::Error::Protocol(e) => {
            SocketEnd::Refused(1002, message::reason(&e.to_string()))
        }
        _ => SocketEnd::Gone,
    }
}

/// Queues each message of the program that is JSON for the socket, and logs and skips the
/// others, until the output ends.
pub(crate) async fn program_to_socket(
    mut output: Reader<ChildStdout>,
    out: mpsc::Sender<Message>,
    connection: Connection,
) -> OutputEnd {
    loop {
        let message = match output.next().await {
            Ok(Some(message)) => message,
            Ok(None) => return OutputEnd::Closed,
            Err(e) => return OutputEnd::Failed(e),
        };
        if message::is_blank(&message) {
            continue;
        }
        if let Err(why) = message::check(&message) {
            let shown = message::shown(&message);
            connection.log(&format!("skipped output that is not JSON ({why}): {shown}"));
            continue;
        }
        let Ok(text) = tungstenite::Utf8Bytes::try_from(message) else {
            continue;
        };
        if out.send(Message::Text(text)).await.is_err() {
            return OutputEnd::SocketGone;
        }
    }
}

/// Sends the queue to the socket, flushing when it runs empty, and a ping every `ping`
/// (the browser answers with a pong), until a close frame has been sent or the queue is
/// closed; then closes the socket's writing side.
pub(crate) async fn write_socket(
    mut sink: SplitSink<Socket, Message>,
    mut queue: mpsc::Receiver<Message>,
    ping: Option<Duration>,
) {
    let mut pings = ping.map(|every| {
        let mut pings = tokio::time::interval_at(Instant::now() + every, every);
        pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
        pings
    });
    loop {
        let message = tokio::select! {
            message = queue.recv() => match message {
                Some(message) => message,
                None => break,
            },
            () = tick(&mut pings) => Message::Ping(Default::default()),
        };
        let last = matches!(message, Message::Close(_));
        if sink.feed(message).await.is_err() {
            return;
        }
        if (last || queue.is_empty()) && sink.flush().await.is_err() {
            return;
        }
        if last {
            break;
        }
    }
    let _ = sink.close().await;
}

/// The next tick of `pings`; never without pings.
async fn tick(pings: &mut Option<Interval>) {
    match pings {
        Some(pings) => {
            pings.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// A close frame.
pub(crate) fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.into(),
        reason: reason.to_owned().into(),
    }))
}
