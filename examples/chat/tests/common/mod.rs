//! Shared test helpers: a timeout around every await, the chat server on 127.0.0.1:0, and a
//! member played by a volley client that records what the room pushes.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use example_chat::{ChatError, ChatMessage, Member, Options, RoomClient};
use tokio::sync::{mpsc, oneshot};
use volley::RunningServer;

/// Every await in the tests goes through this: a hang fails the test instead of wedging it.
/// The helpers below finish within it too (a receive loop is bounded as a whole).
pub async fn t<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

/// The chat app (page and WebSocket) on 127.0.0.1:0.
pub async fn start(options: Options) -> RunningServer {
    let server = example_chat::server_with(options);
    t(server.listen_with("127.0.0.1:0", example_chat::app(&server)))
        .await
        .expect("listen")
}

/// What the room pushed to a member, or asked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Message(ChatMessage),
    Members(Vec<String>),
    Asked(String),
    /// A roll call reached this member.
    RollCalled,
}

/// How a [`Guest`] answers `confirmKick` and `here`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Never answers (until the server gives up).
    Never,
}

#[derive(Clone)]
struct Recorder {
    pushed: mpsc::UnboundedSender<Pushed>,
    answer: Arc<Mutex<Answer>>,
    here: Arc<Mutex<Answer>>,
}

async fn give(answer: Answer) -> volley::Result<bool> {
    match answer {
        Answer::Yes => Ok(true),
        Answer::No => Ok(false),
        Answer::Never => {
            let (_keep, never) = oneshot::channel::<bool>();
            Ok(never.await.unwrap_or(false))
        }
    }
}

impl Member for Recorder {
    async fn message(&self, from: Option<String>, text: String, at: u64) {
        let _ = self
            .pushed
            .send(Pushed::Message(ChatMessage { from, text, at }));
    }

    async fn members(&self, members: Vec<String>) {
        let _ = self.pushed.send(Pushed::Members(members));
    }

    async fn confirm_kick(&self, by: String) -> volley::Result<bool> {
        let _ = self.pushed.send(Pushed::Asked(by));
        let answer = *self.answer.lock().unwrap();
        give(answer).await
    }

    async fn here(&self) -> volley::Result<bool> {
        let _ = self.pushed.send(Pushed::RollCalled);
        let answer = *self.here.lock().unwrap();
        give(answer).await
    }
}

/// A member of the room, played by a volley client.
pub struct Guest {
    pub client: volley::Client,
    pub room: RoomClient,
    pub pushed: mpsc::UnboundedReceiver<Pushed>,
    answer: Arc<Mutex<Answer>>,
    here: Arc<Mutex<Answer>>,
}

impl Guest {
    /// Connects, without joining.
    pub async fn connect(running: &RunningServer) -> Self {
        let (tx, pushed) = mpsc::unbounded_channel();
        let answer = Arc::new(Mutex::new(Answer::No));
        let here = Arc::new(Mutex::new(Answer::Yes));
        let recorder = Recorder {
            pushed: tx,
            answer: answer.clone(),
            here: here.clone(),
        };
        let client = t(volley::Client::builder()
            .add_service(recorder.into_service())
            .connect(&running.ws_url()))
        .await
        .expect("connect");
        let room = RoomClient::new(client.peer());
        Self {
            client,
            room,
            pushed,
            answer,
            here,
        }
    }

    /// Connects and joins the lobby as `name`.
    pub async fn join(running: &RunningServer, name: &str) -> Self {
        let guest = Self::connect(running).await;
        t(guest.room.join(name.to_owned(), None))
            .await
            .unwrap_or_else(|e| panic!("join as {name}: {e}"));
        guest
    }

    /// Connects and joins `room` as `name`.
    pub async fn join_room(running: &RunningServer, name: &str, room: &str) -> Self {
        let guest = Self::connect(running).await;
        t(guest.room.join(name.to_owned(), Some(room.to_owned())))
            .await
            .unwrap_or_else(|e| panic!("join {room} as {name}: {e}"));
        guest
    }

    /// How this member answers `here` from now on (yes until told otherwise).
    pub fn answer_here(&self, answer: Answer) {
        *self.here.lock().unwrap() = answer;
    }

    /// How this member answers `confirmKick` from now on.
    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// The next push.
    pub async fn next(&mut self) -> Pushed {
        t(self.pushed.recv()).await.expect("the client is gone")
    }

    /// Skips pushes until a message with this text; returns it.
    pub async fn message(&mut self, text: &str) -> ChatMessage {
        t(async {
            loop {
                if let Pushed::Message(m) = self.next().await
                    && m.text == text
                {
                    return m;
                }
            }
        })
        .await
    }

    /// Skips pushes until the member list is exactly `members`.
    pub async fn members(&mut self, members: &[&str]) {
        t(async {
            loop {
                if let Pushed::Members(now) = self.next().await
                    && now == members
                {
                    return;
                }
            }
        })
        .await
    }

    /// Skips pushes until `confirmKick`; returns who asked.
    pub async fn asked(&mut self) -> String {
        t(async {
            loop {
                if let Pushed::Asked(by) = self.next().await {
                    return by;
                }
            }
        })
        .await
    }

    /// Closes the connection and waits until it is closed.
    pub async fn close(self) {
        self.client.close();
        t(self.client.closed()).await;
    }
}

/// The JSON-RPC error code of a call that the room refused.
pub fn code<T: std::fmt::Debug>(result: Result<T, volley::CallError<ChatError>>) -> i32 {
    match result {
        Err(volley::CallError::App(e)) => e.code(),
        other => panic!("expected one of the room's errors, got {other:?}"),
    }
}
