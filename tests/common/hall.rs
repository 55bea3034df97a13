//! A hall of rooms for the cluster tests (`tests/backplane.rs`, and `redis/tests/cluster.rs`
//! through a `#[path]`): the server's `Hall` (rooms, shouts, roll calls, calls by id, census
//! on every node), the guests' `Guest`, and a [`Visitor`] connected to one node. Every await
//! here is bounded by [`DEADLINE`].
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use volley::{Client, Context, Error, PeerId};

/// How long one await may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// `f`, failing the test when it takes longer than [`DEADLINE`].
pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(DEADLINE, f)
        .await
        .expect("timed out after 30 s")
}

/// What the servers offer.
#[volley::rpc]
pub trait Hall {
    /// The caller's id.
    async fn whoami(&self, cx: &Context) -> volley::Result<u64>;
    /// Puts the caller in `room`.
    async fn enter(&self, cx: &Context, room: String) -> volley::Result<bool>;
    /// Tells `room` (everyone when empty) but not the caller; how many were queued on this
    /// node.
    async fn shout(&self, cx: &Context, room: String, text: String) -> volley::Result<usize>;
    /// Asks everyone in `room` whether they are here: (id, answer or error) by id.
    async fn roll(&self, cx: &Context, room: String) -> volley::Result<Vec<(u64, String)>>;
    /// Asks the peer `id`, wherever it is connected, whether it is here.
    async fn ask(&self, cx: &Context, id: u64) -> volley::Result<bool>;
    /// The ids in `room`, on every node.
    async fn census(&self, cx: &Context, room: String) -> volley::Result<Vec<u64>>;
    /// Makes the caller one of `user`'s connections.
    async fn sign_in(&self, cx: &Context, user: String) -> volley::Result<bool>;
    /// Tells every connection of `user`, on every node.
    async fn tell(&self, cx: &Context, user: String, text: String) -> volley::Result<()>;
    /// The ids of `user`'s connections, on every node.
    async fn sessions(&self, cx: &Context, user: String) -> volley::Result<Vec<u64>>;
    /// Puts the peer `id`, wherever it is connected, in `room` (`join`) or out of it.
    async fn put(&self, cx: &Context, id: u64, room: String, join: bool) -> volley::Result<()>;
}

/// What every guest offers.
#[volley::rpc]
pub trait Guest {
    /// Something was said.
    #[rpc(notification)]
    async fn heard(&self, text: String);
    /// Whether the guest is here.
    async fn here(&self) -> volley::Result<bool>;
}

/// The server's `Hall`.
pub struct Halls;

impl Hall for Halls {
    async fn whoami(&self, cx: &Context) -> volley::Result<u64> {
        Ok(cx.peer_id().0)
    }
    async fn enter(&self, cx: &Context, room: String) -> volley::Result<bool> {
        Ok(cx.join(&room))
    }
    async fn shout(&self, cx: &Context, room: String, text: String) -> volley::Result<usize> {
        let to = if room.is_empty() {
            cx.peers().all()
        } else {
            cx.peers().group(&room)
        };
        Ok(GuestFanout::new(to.except(cx.peer_id()))
            .heard(text)?
            .queued)
    }
    async fn roll(&self, cx: &Context, room: String) -> volley::Result<Vec<(u64, String)>> {
        let outcomes = GuestFanout::new(cx.peers().group(&room))
            .with_timeout(Duration::from_secs(5))
            .here()?
            .await;
        Ok(outcomes
            .iter()
            .map(|r| {
                let answer = match &r.result {
                    Ok(here) => here.to_string(),
                    Err(e) => e.to_string(),
                };
                (r.id().0, answer)
            })
            .collect())
    }
    async fn ask(&self, cx: &Context, id: u64) -> volley::Result<bool> {
        let raw = cx.peers().request(PeerId(id), "here", None, None).await?;
        serde_json::from_str(raw.get()).map_err(Error::InvalidResult)
    }
    async fn census(&self, cx: &Context, room: String) -> volley::Result<Vec<u64>> {
        let ids = cx.peers().group(&room).find().await;
        Ok(ids.into_iter().map(|id| id.0).collect())
    }
    async fn sign_in(&self, cx: &Context, user: String) -> volley::Result<bool> {
        Ok(cx.peers().set_user(cx.peer_id(), Some(&user)))
    }
    async fn tell(&self, cx: &Context, user: String, text: String) -> volley::Result<()> {
        GuestFanout::new(cx.peers().user(&user)).heard(text)?;
        Ok(())
    }
    async fn sessions(&self, cx: &Context, user: String) -> volley::Result<Vec<u64>> {
        let ids = cx.peers().user(&user).find().await;
        Ok(ids.into_iter().map(|id| id.0).collect())
    }
    async fn put(&self, cx: &Context, id: u64, room: String, join: bool) -> volley::Result<()> {
        if join {
            cx.peers().join(PeerId(id), &room);
        } else {
            cx.peers().leave(PeerId(id), &room);
        }
        Ok(())
    }
}

struct Someone {
    /// The answer to `here`; `None` never answers (and says `asked` when asked).
    here: Option<bool>,
    heard: mpsc::UnboundedSender<String>,
}

impl Guest for Someone {
    async fn heard(&self, text: String) {
        let _ = self.heard.send(text);
    }
    async fn here(&self) -> volley::Result<bool> {
        match self.here {
            Some(here) => Ok(here),
            None => {
                let _ = self.heard.send("asked".into());
                std::future::pending().await
            }
        }
    }
}

/// One guest connected to a node: its client, its id there, what it hears.
pub struct Visitor {
    pub client: Client,
    pub id: PeerId,
    pub heard: mpsc::UnboundedReceiver<String>,
}

impl Visitor {
    /// A guest at `url` that answers `here` with `here`.
    pub async fn new(url: &str, here: bool) -> Self {
        Self::answering(url, Some(here)).await
    }

    /// A guest at `url` that never answers `here`; it hears `asked` when asked.
    pub async fn mute(url: &str) -> Self {
        Self::answering(url, None).await
    }

    async fn answering(url: &str, here: Option<bool>) -> Self {
        let (tx, heard) = mpsc::unbounded_channel();
        let client = within(
            Client::builder()
                .add_service(Someone { here, heard: tx }.into_service())
                .reconnect(None)
                .connect(url),
        )
        .await
        .expect("connect");
        let id = PeerId(
            within(HallClient::new(client.peer()).whoami())
                .await
                .unwrap(),
        );
        Self { client, id, heard }
    }

    /// The hall, as this guest calls it.
    pub fn hall(&self) -> HallClient {
        HallClient::new(self.client.peer())
    }

    /// The next thing heard.
    pub async fn next(&mut self) -> String {
        within(self.heard.recv()).await.expect("heard something")
    }
}

/// The local reason a server's call failed, as its handler passed it on (-32011 with the
/// reason as `data`).
pub fn why(error: &Error) -> String {
    let data = error
        .remote()
        .and_then(|e| e.data())
        .expect("an error with data");
    serde_json::from_str(data.get()).expect("a string")
}
