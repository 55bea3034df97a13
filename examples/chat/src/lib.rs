//! Chat rooms in the browser, done with volley.
//!
//! ```text
//! cargo run -p example-chat -- --addr 127.0.0.1:8080
//! ```
//!
//! Then open `http://127.0.0.1:8080/` in two tabs, pick a name and a room in each, and talk.
//!
//! Both directions of one socket are at work:
//!
//! - The page calls the server's [`Room`]: [`join`](Room::join) (a room, `lobby` unless it
//!   names another), [`say`](Room::say), [`kick`](Room::kick), [`roll_call`](Room::roll_call),
//!   [`rooms`](Room::rooms) and [`leave`](Room::leave).
//! - The server calls the members' [`Member`]: the notifications `message` (a line in the
//!   room) and `members` (who is in the room now), sent to the room's volley group through the
//!   generated [`MemberFanout`] (encoded once for all of them), and the requests `confirmKick`
//!   and `here`, which the server *awaits*. A kick asks its target first, and removes them only
//!   if they agree; a roll call asks everyone in the caller's room at once, each under the
//!   same deadline, and reports who answered yes, no, or nothing.
//!
//! Each room is a volley group ([`volley::Peers::group`]): a member joins it with
//! [`volley::Context::join`] and leaves it when they leave the room or their connection ends.
//! The server knows who calls from the connection ([`volley::Context::peer_id`]), not from
//! anything the page claims, and announces a member's departure when their connection ends
//! (it watches [`volley::Peers::subscribe`]). Bad input is refused with JSON-RPC errors
//! carrying the codes in [`codes`].
//!
//! The page at `/` ([`INDEX_HTML`]) uses `volley.js`, which every volley server serves at
//! `/volley.js`. Nothing in it is specific to the browser: any JSON-RPC 2.0 client that
//! speaks WebSocket can join, as the tests do from Rust and over raw frames.

mod error;
mod room;
mod rules;
mod store;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use volley::schemars;

pub use error::{ChatError, codes};
pub use room::{ChatRoom, DEFAULT_ROOM, Options};

/// What the server offers: the room.
#[volley::rpc]
pub trait Room {
    /// Joins `room` (`lobby` when not given; 1 to 32 characters) as `name` (1 to 24
    /// characters, unique in the room regardless of case). A connection is in one room at a
    /// time: `leave` first to switch. Returns the name and room as registered, who is in the
    /// room and its latest messages.
    async fn join(
        &self,
        cx: &volley::Context,
        name: String,
        room: Option<String>,
    ) -> Result<Joined, ChatError>;

    /// Sends `text` (1 to 500 characters) to everyone in the caller's room, the sender
    /// included.
    async fn say(&self, cx: &volley::Context, text: String) -> Result<(), ChatError>;

    /// Asks the member of the caller's room called `name` whether they agree to leave, and
    /// removes them if they do. Resolves once they have answered (or failed to in time).
    async fn kick(&self, cx: &volley::Context, name: String) -> Result<KickOutcome, ChatError>;

    /// Asks every member of the caller's room (the caller too) whether they are still here,
    /// all at once, each with `timeout_ms` (1 to 60,000) to answer, and reports who said yes,
    /// who said no, and who did not answer in time (or could not).
    #[rpc(name = "rollCall")]
    async fn roll_call(
        &self,
        cx: &volley::Context,
        #[rpc(name = "timeoutMs")] timeout_ms: u64,
    ) -> Result<RollCall, ChatError>;

    /// The rooms with someone in them, by name, with how many.
    async fn rooms(&self) -> Result<Vec<RoomInfo>, ChatError>;

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

    /// A roll call: answer `true` if you are here, `false` if you are away.
    async fn here(&self) -> volley::Result<bool>;
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
    /// The room you are in (trimmed).
    pub room: String,
    /// Who is in the room, in the order they joined, you included.
    pub members: Vec<String>,
    /// The latest messages, oldest first.
    pub history: Vec<ChatMessage>,
}

/// The answer to [`Room::roll_call`]: every member asked, by what they answered, each list
/// in the order they joined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, volley::JsonSchema)]
pub struct RollCall {
    /// Answered `true`.
    pub present: Vec<String>,
    /// Answered `false`.
    pub away: Vec<String>,
    /// Did not answer in time, or could not (they left, their connection ended, their page
    /// failed).
    pub silent: Vec<String>,
}

/// A room with someone in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, volley::JsonSchema)]
pub struct RoomInfo {
    /// Its name.
    pub name: String,
    /// How many are in it.
    pub members: usize,
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
    let server = build(&room);
    room.watch(server.peers());
    server
}

/// The server around `room`.
fn build(room: &ChatRoom) -> volley::Server {
    volley::Server::builder()
        .add_service(room.clone().into_service())
        .add_remote_service::<MemberClient>()
        .peer_config(volley::PeerConfig::default().outbound_queue(room::OUTBOX))
        .build()
}

/// A chat server that is one node of a chat spread over several servers: the rooms (who is
/// in each, in what order, and their history) are kept in the Redis at `redis_url`, under
/// the cluster's namespace followed by `-chat:` (`volley-chat:` by default), and the servers'
/// fan-out crosses between them through it ([`volley_redis::RedisBackplane`], joined with
/// `cluster`). `say` reaches every member of the room on any of them, `rollCall` asks the
/// members on every one and reports each by name, and `kick` reaches its target wherever
/// they are connected. The members of a server that stops leave their rooms: at once when
/// it leaves the cluster, once its claim in Redis has lapsed (the node timeout, 5 s by
/// default) when it is killed; a server only cut off for a while keeps them.
///
/// Keep the backplane while the server runs, and [`leave`](volley_redis::RedisBackplane::leave)
/// it on the way out.
///
/// # Errors
/// When Redis cannot be reached.
///
/// # Panics
/// Outside a Tokio runtime, like [`server`].
pub async fn cluster_server(
    options: Options,
    redis_url: &str,
    cluster: volley_redis::Options,
) -> Result<(volley::Server, volley_redis::RedisBackplane), volley_redis::JoinError> {
    // A script may take its time on a busy Redis; one not answered within the node timeout
    // counts as Redis being away.
    let config =
        redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(cluster.node_timeout));
    let redis = redis::Client::open(redis_url)?
        .get_connection_manager_with_config(config)
        .await?;
    let prefix = format!("{}-chat:", cluster.namespace);
    let rooms = store::Shared::new(redis, prefix, cluster.node_timeout);
    let room = ChatRoom::with_store(options, store::Store::Shared(Box::new(rooms)));
    let server = build(&room);
    let backplane = volley_redis::RedisBackplane::join(server.peers(), redis_url, cluster).await?;
    if let store::Store::Shared(rooms) = room.store() {
        let node = backplane.node();
        rooms.set_alive(node, &backplane.alive_key(node));
        // What this node number's last holder left behind (nobody else clears it: the
        // number is alive again).
        match rooms.evict(node).await {
            Ok(gone) => room.announce_evicted(gone).await,
            Err(e) => tracing::warn!(error = %e, "the members of this node's last holder stay"),
        }
    }
    // Watching starts with a sweep: what servers that stopped while no other was running
    // left behind goes at once.
    room.watch(server.peers());
    Ok((server, backplane))
}

/// The whole app: `server`'s routes (the WebSocket endpoint, `/volley.js`, `/docs`) plus the
/// page at `/`.
pub fn app(server: &volley::Server) -> Router {
    server.router().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
