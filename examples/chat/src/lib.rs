//! A chat room in the browser, done with volley.
//!
//! ```text
//! cargo run -p example-chat -- --addr 127.0.0.1:8080
//! ```
//!
//! Then open `http://127.0.0.1:8080/` in two tabs, pick a name in each, and talk.
//!
//! Both directions of one socket are at work:
//!
//! - The page calls the server's [`Room`]: [`join`](Room::join), [`say`](Room::say),
//!   [`kick`](Room::kick) and [`leave`](Room::leave).
//! - The server calls every member's [`Member`]: the notifications `message` (a line in the
//!   room, pushed to everyone) and `members` (who is in the room now), and the request
//!   `confirmKick`, which the server *awaits*. When a member asks to kick another, the server
//!   asks the target first; the target's page shows a dialog, and the member is removed only
//!   if they agree. Everyone is told how it ended.
//!
//! The server knows who calls from the connection ([`volley::Context::peer_id`]), not from
//! anything the page claims, and forgets a member when their connection ends (it watches
//! [`volley::Peers::subscribe`]). Bad input is refused with JSON-RPC errors carrying the
//! codes in [`codes`].
//!
//! The page at `/` ([`INDEX_HTML`]) uses `volley.js`, which every volley server serves at
//! `/volley.js`. Nothing in it is specific to the browser: any JSON-RPC 2.0 client that
//! speaks WebSocket can join, as the tests do from Rust and over raw frames.

mod error;
mod room;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use volley::schemars;

pub use error::{ChatError, codes};
pub use room::{ChatRoom, Options};

/// What the server offers: the room.
#[volley::rpc]
pub trait Room {
    /// Joins the room as `name` (1 to 24 characters, unique in the room regardless of case).
    /// Returns the name as registered, who is in the room and the latest messages.
    async fn join(&self, cx: &volley::Context, name: String) -> Result<Joined, ChatError>;

    /// Sends `text` (1 to 500 characters) to everyone in the room, the sender included.
    async fn say(&self, cx: &volley::Context, text: String) -> Result<(), ChatError>;

    /// Asks the member called `name` whether they agree to leave, and removes them if they do.
    /// Resolves once they have answered (or failed to answer in time).
    async fn kick(&self, cx: &volley::Context, name: String) -> Result<KickOutcome, ChatError>;

    /// Leaves the room. The connection stays open; `join` again to come back.
    async fn leave(&self, cx: &volley::Context) -> Result<(), ChatError>;
}

/// What every member's page offers the server.
#[volley::rpc]
pub trait Member {
    /// A line in the room: said by `from`, or an announcement of the room itself when `from`
    /// is `null` (joins, departures, kicks).
    #[rpc(notification)]
    async fn message(&self, from: Option<String>, text: String, at: u64);

    /// Who is in the room now, in the order they joined. Sent whenever it changes.
    #[rpc(notification)]
    async fn members(&self, members: Vec<String>);

    /// The member `by` asks you to leave the room: answer `true` to leave, `false` to stay.
    #[rpc(name = "confirmKick")]
    async fn confirm_kick(&self, by: String) -> volley::Result<bool>;
}

/// One line in the room, as kept in the history and pushed with `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, volley::JsonSchema)]
pub struct ChatMessage {
    /// Who said it; `None` for the room's own announcements.
    pub from: Option<String>,
    /// What was said.
    pub text: String,
    /// When the server received it, in milliseconds since the Unix epoch.
    pub at: u64,
}

/// The answer to [`Room::join`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, volley::JsonSchema)]
pub struct Joined {
    /// Your name as registered (trimmed).
    pub you: String,
    /// Who is in the room, in the order they joined, you included.
    pub members: Vec<String>,
    /// The latest messages, oldest first.
    pub history: Vec<ChatMessage>,
}

/// How a [`Room::kick`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, volley::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KickOutcome {
    /// The member agreed and was removed from the room.
    Accepted,
    /// The member refused and stays.
    Refused,
    /// The member did not answer in time, or left before answering; they were not removed
    /// by the kick.
    Unanswered,
}

/// The page served at `/`.
pub const INDEX_HTML: &str = include_str!("index.html");

/// The chat server with the default [`Options`]: serves [`Room`] on `/ws` and calls
/// [`Member`] on its clients.
///
/// # Panics
/// Outside a Tokio runtime: the room starts a task that watches for departed members.
pub fn server() -> volley::Server {
    server_with(Options::default())
}

/// The chat server with the given [`Options`].
///
/// # Panics
/// Outside a Tokio runtime, like [`server`].
pub fn server_with(options: Options) -> volley::Server {
    let room = ChatRoom::new(options);
    let server = volley::Server::builder()
        .add_service(room.clone().into_service())
        .add_remote_service::<MemberClient>()
        .peer_config(volley::PeerConfig::default().outbound_queue(room::OUTBOX))
        .build();
    room.forget_departed(server.peers().subscribe());
    server
}

/// The whole app: `server`'s routes (the WebSocket endpoint, `/volley.js`, `/docs`) plus the
/// page at `/`.
pub fn app(server: &volley::Server) -> Router {
    server.router().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
