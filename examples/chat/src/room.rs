//! [`ChatRoom`]: the server's implementation of [`Room`].

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use volley::{Context, PeerEvent, PeerId, Peers};

use crate::store::{Kick, Local, MAX_HISTORY, Seat, Store};
use crate::{ChatError, ChatMessage, Joined, KickOutcome, MemberFanout, RollCall, Room, RoomInfo};

pub use crate::rules::DEFAULT_ROOM;
pub(crate) use crate::rules::OUTBOX;
pub use crate::rules::Options;
use crate::rules::{MAX_ROLL_CALL_MS, MAX_TEXT_CHARS, now_ms, valid_name, valid_room};

/// The server's implementation of [`Room`]: the rooms, who is in each, and what was said.
///
/// Cheap to clone (the clones share the rooms). Each room is a volley group named after it:
/// everything said in a room goes to that group through [`MemberFanout`], encoded once and
/// queued for every member without waiting, so one slow page never holds up the others (a
/// page that falls 256 frames behind is disconnected). With the rooms kept in Redis
/// ([`crate::cluster_server`]) the group spans every server of the chat.
#[derive(Clone)]
pub struct ChatRoom {
    inner: Arc<Inner>,
}

struct Inner {
    options: Options,
    store: Store,
    /// The server's registry, from [`ChatRoom::watch`] or the first call.
    peers: OnceLock<Peers>,
}

impl std::fmt::Debug for ChatRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = match self.inner.store {
            Store::Local(_) => "here",
            Store::Shared(_) => "in Redis",
        };
        f.debug_struct("ChatRoom")
            .field("kept", &kept)
            .field("options", &self.inner.options)
            .finish()
    }
}

impl ChatRoom {
    /// No rooms yet, kept in this process.
    pub fn new(options: Options) -> Self {
        Self::with_store(options, Store::Local(Local::default()))
    }

    pub(crate) fn with_store(options: Options, store: Store) -> Self {
        Self {
            inner: Arc::new(Inner {
                options,
                store,
                peers: OnceLock::new(),
            }),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// How many messages a room keeps.
    fn history(&self) -> usize {
        self.inner.options.history.min(MAX_HISTORY)
    }

    /// Who is in `room` now, in the order they joined.
    pub async fn members(&self, room: &str) -> Result<Vec<String>, ChatError> {
        let roster = self.inner.store.roster(room).await?;
        Ok(roster.into_iter().map(|(_, name)| name).collect())
    }

    /// The rooms with someone in them, by name.
    pub async fn rooms(&self) -> Result<Vec<RoomInfo>, ChatError> {
        self.inner.store.rooms().await
    }

    /// Sends the rooms' pushes through `peers` (the server's registry), and announces
    /// members whose connection ends (and, in a cluster, the members of a server that
    /// leaves it), from its peer events, until the server is dropped. [`crate::server`]
    /// does this; call it when you build the server yourself.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn watch(&self, peers: &Peers) -> JoinHandle<()> {
        let _ = self.inner.peers.set(peers.clone());
        let mut events = peers.subscribe();
        let room = self.clone();
        // Rooms in Redis are also swept for the members of servers gone that no event told
        // of (one that died before this server heard it, one still taken as alive when it
        // was heard to leave, an eviction that failed).
        let every = self.inner.store.sweep_every();
        tokio::spawn(async move {
            let mut sweeps = every.map(|every| {
                let mut sweeps = tokio::time::interval(every);
                sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                sweeps
            });
            loop {
                let event = tokio::select! {
                    event = events.recv() => event,
                    () = tick(&mut sweeps) => {
                        room.evict_gone().await;
                        continue;
                    }
                };
                match event {
                    Ok(PeerEvent::Disconnected { id, .. }) => room.depart(id).await,
                    Ok(PeerEvent::NodeLeft { .. }) => room.evict_gone().await,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => room.sweep().await,
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    /// The server's registry: the one watched, else the caller's.
    fn peers(&self, cx: Option<&Context>) -> Peers {
        match (self.inner.peers.get(), cx) {
            (Some(peers), _) => peers.clone(),
            (None, Some(cx)) => self.inner.peers.get_or_init(|| cx.peers()).clone(),
            (None, None) => Peers::default(),
        }
    }

    /// Where the caller sits; [`ChatError::NotJoined`] when nowhere.
    async fn seat_of(&self, cx: &Context) -> Result<Seat, ChatError> {
        let _ = self.peers(Some(cx));
        self.inner
            .store
            .seat(cx.peer_id())
            .await?
            .ok_or(ChatError::NotJoined)
    }

    /// Tells everyone in `room`: encoded once, queued for each member without waiting.
    fn push(&self, room: &str, push: Push<'_>) {
        let members = MemberFanout::new(self.peers(None).group(room));
        let sent = match push {
            Push::Message(m) => members.message(m.from.clone(), m.text.clone(), m.at),
            Push::Members(names) => members.members(names),
        };
        match sent {
            Ok(delivery) if !delivery.overflowed.is_empty() => tracing::warn!(
                ?delivery.overflowed,
                "members not reading were disconnected"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "push not sent"),
        }
    }

    /// Posts a line to everyone in `room` and keeps it in its history.
    async fn post(&self, room: &str, from: Option<String>, text: String) -> Result<(), ChatError> {
        let message = ChatMessage {
            from,
            text,
            at: now_ms(),
        };
        let kept = self.inner.store.post(room, &message, self.history()).await;
        self.push(room, Push::Message(&message));
        kept
    }

    /// Tells `room` who is in it now.
    async fn roll(&self, room: &str) -> Result<(), ChatError> {
        let names = self.members(room).await?;
        self.push(room, Push::Members(names));
        Ok(())
    }

    /// Takes the member `id` out of their room (and its group, on whichever server they
    /// are), and tells the room with `announcement` (given their name).
    async fn remove(
        &self,
        id: PeerId,
        announcement: impl FnOnce(&str) -> String,
    ) -> Result<Option<Seat>, ChatError> {
        let Some(seat) = self.inner.store.remove(id).await? else {
            return Ok(None);
        };
        self.peers(None).leave(id, &seat.room);
        self.announce_departure(&seat, announcement(&seat.name))
            .await?;
        Ok(Some(seat))
    }

    async fn announce_departure(&self, seat: &Seat, line: String) -> Result<(), ChatError> {
        self.post(&seat.room, None, line).await?;
        self.roll(&seat.room).await
    }

    /// The member with this id lost their connection.
    async fn depart(&self, id: PeerId) {
        if let Err(e) = self.remove(id, |name| format!("{name} left")).await {
            tracing::warn!(peer = %id, error = %e, "a departure not recorded");
        }
    }

    /// Takes out the members of the servers that have left the chat's cluster (their claim
    /// in Redis is gone: a server only taken as silent here keeps its members).
    async fn evict_gone(&self) {
        match self.inner.store.evict_gone().await {
            Ok(seats) => self.announce_evicted(seats).await,
            Err(e) => {
                tracing::warn!(error = %e, "the members of servers gone stay until the next sweep")
            }
        }
    }

    /// Announces members taken out of their rooms because their server is gone.
    pub(crate) async fn announce_evicted(&self, seats: Vec<Seat>) {
        for seat in seats {
            let line = format!("{} left (their server is gone)", seat.name);
            if let Err(e) = self.announce_departure(&seat, line).await {
                tracing::warn!(error = %e, "a departure not announced");
            }
        }
    }

    /// Removes every member of this server whose connection is gone (after missing peer
    /// events).
    async fn sweep(&self) {
        let peers = self.peers(None);
        let Ok(seated) = self.inner.store.seated_on(peers.node()).await else {
            return;
        };
        for id in seated {
            if peers.get(id).is_none_or(|p| !p.is_connected()) {
                self.depart(id).await;
            }
        }
    }
}

/// What a room is told.
enum Push<'a> {
    Message(&'a ChatMessage),
    Members(Vec<String>),
}

impl Room for ChatRoom {
    async fn join(
        &self,
        cx: &Context,
        name: String,
        room: Option<String>,
    ) -> Result<Joined, ChatError> {
        let seat = Seat {
            name: valid_name(&name)?,
            room: match room {
                Some(room) => valid_room(&room)?,
                None => DEFAULT_ROOM.to_owned(),
            },
        };
        let _ = self.peers(Some(cx));
        if !cx.peer().is_connected() {
            // Gone already: the departure event may have been handled before this call.
            return Err(ChatError::NotJoined);
        }
        let announcement = ChatMessage {
            from: None,
            text: format!("{} joined", seat.name),
            at: now_ms(),
        };
        let joined = self
            .inner
            .store
            .join(cx.peer_id(), &seat, &announcement, self.history())
            .await;
        let (members, history) = match joined {
            Ok(joined) => joined,
            Err(ChatError::Unavailable) => {
                // The store may have seated them before the answer was lost: undo it, so that
                // a second try is not refused as AlreadyJoined (nothing to undo otherwise).
                let _ = self.inner.store.remove(cx.peer_id()).await;
                return Err(ChatError::Unavailable);
            }
            Err(e) => return Err(e),
        };
        // Announced before joining the room's group: the newcomer reads it in the history
        // this call returns, not twice.
        self.push(&seat.room, Push::Message(&announcement));
        if !cx.join(&seat.room) {
            // Gone meanwhile (or the departure was handled before the seat was taken).
            self.remove(cx.peer_id(), |name| format!("{name} left"))
                .await?;
            return Err(ChatError::NotJoined);
        }
        if self.inner.store.seat(cx.peer_id()).await?.as_ref() != Some(&seat) {
            // A `leave` (or a kick) of this connection ran between taking the seat and
            // joining the group: the group is left too, as that leave would have.
            cx.peers().leave(cx.peer_id(), &seat.room);
            return Err(ChatError::NotJoined);
        }
        self.push(&seat.room, Push::Members(members.clone()));
        Ok(Joined {
            you: seat.name,
            room: seat.room,
            members,
            history,
        })
    }

    async fn say(&self, cx: &Context, text: String) -> Result<(), ChatError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ChatError::EmptyText);
        }
        let length = text.chars().count();
        if length > MAX_TEXT_CHARS {
            return Err(ChatError::text_too_long(length));
        }
        let seat = self.seat_of(cx).await?;
        self.post(&seat.room, Some(seat.name), text.to_owned())
            .await
    }

    async fn kick(&self, cx: &Context, name: String) -> Result<KickOutcome, ChatError> {
        let peers = self.peers(Some(cx));
        // The mark lapses by itself a little after the target's time to answer, should this
        // server die before clearing it.
        let now = now_ms();
        let until = now.saturating_add(millis(self.inner.options.kick_timeout) + KICK_SLACK_MS);
        let kick = self
            .inner
            .store
            .begin_kick(cx.peer_id(), name.trim(), now, until)
            .await?;
        // If this call is dropped while waiting (the kicker went away), the mark is cleared
        // so that the target may be asked again later.
        let mut asking = Asking(Some((self.clone(), kick.clone())));
        let line = format!("{} asked {} to leave the room", kick.by, kick.target_name);
        self.post(&kick.room, None, line).await?;
        // Wherever the target is connected: on this server, or on another of the chat's.
        let asked = MemberFanout::new(peers.only([kick.target]))
            .with_timeout(self.inner.options.kick_timeout)
            .confirm_kick(kick.by.clone());
        let answer = match asked {
            Ok(replies) => replies
                .await
                .into_iter()
                .next()
                .map_or(Err(volley::Error::Disconnected), |reply| reply.result),
            Err(e) => Err(e),
        };
        asking.0 = None;
        let still_here = self.inner.store.end_kick(&kick).await?;
        let outcome = match answer {
            Ok(true) => KickOutcome::Accepted,
            Ok(false) => KickOutcome::Refused,
            Err(e) => {
                tracing::debug!(target = %kick.target, error = %e, "confirmKick got no answer");
                KickOutcome::Unanswered
            }
        };
        if still_here {
            let (target, by) = (&kick.target_name, &kick.by);
            match outcome {
                KickOutcome::Accepted => {
                    let line = format!("{target} agreed to leave and was removed by {by}");
                    self.remove(kick.target, |_| line).await?;
                }
                KickOutcome::Refused => {
                    let line = format!("{target} refused to leave");
                    self.post(&kick.room, None, line).await?;
                }
                KickOutcome::Unanswered => {
                    let line = format!("{target} did not answer and stays");
                    self.post(&kick.room, None, line).await?;
                }
            }
        }
        Ok(outcome)
    }

    async fn roll_call(&self, cx: &Context, timeout_ms: u64) -> Result<RollCall, ChatError> {
        if !(1..=MAX_ROLL_CALL_MS).contains(&timeout_ms) {
            return Err(ChatError::invalid_timeout(timeout_ms));
        }
        let seat = self.seat_of(cx).await?;
        let peers = self.peers(Some(cx));
        // Who is asked, and their names, as the room is now: a member who leaves while asked
        // is still reported (as silent), one who joins meanwhile is not.
        let roster = self.inner.store.roster(&seat.room).await?;
        let names: HashMap<PeerId, (usize, String)> = roster
            .into_iter()
            .enumerate()
            .map(|(at, (id, name))| (id, (at, name)))
            .collect();
        let members = MemberFanout::new(peers.only(names.keys().copied()))
            .with_timeout(Duration::from_millis(timeout_ms));
        // `here` takes no params, so nothing can fail to encode.
        let outcomes = members.here().map_err(|_| ChatError::NotJoined)?.await;
        let mut sorted: Vec<(usize, &str, Option<bool>)> = outcomes
            .iter()
            .filter_map(|reply| {
                let (at, name) = names.get(&reply.id())?;
                Some((*at, name.as_str(), reply.result.as_ref().ok().copied()))
            })
            .collect();
        // Everyone asked is reported: one whose connection was gone before the call could
        // reach them has no outcome, and counts as silent.
        for (id, (at, name)) in &names {
            if !outcomes.iter().any(|reply| reply.id() == *id) {
                sorted.push((*at, name, None));
            }
        }
        sorted.sort();
        let mut call = RollCall::default();
        for (_, name, answer) in sorted {
            let list = match answer {
                Some(true) => &mut call.present,
                Some(false) => &mut call.away,
                None => &mut call.silent,
            };
            list.push(name.to_owned());
        }
        Ok(call)
    }

    async fn rooms(&self) -> Result<Vec<RoomInfo>, ChatError> {
        ChatRoom::rooms(self).await
    }

    async fn leave(&self, cx: &Context) -> Result<(), ChatError> {
        let _ = self.peers(Some(cx));
        self.remove(cx.peer_id(), |name| format!("{name} left"))
            .await?
            .ok_or(ChatError::NotJoined)?;
        Ok(())
    }
}

/// Clears a member's "being asked" mark when a kick is abandoned halfway.
struct Asking(Option<(ChatRoom, Kick)>);

impl Drop for Asking {
    fn drop(&mut self) {
        if let Some((room, kick)) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = room.store().end_kick(&kick).await;
            });
        }
    }
}

/// How long past the target's time to answer a kick's mark stays, for the store's own
/// round trips.
const KICK_SLACK_MS: u64 = 5_000;

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The next tick of `sweeps`; never when there are none.
async fn tick(sweeps: &mut Option<tokio::time::Interval>) {
    match sweeps {
        Some(sweeps) => {
            sweeps.tick().await;
        }
        None => std::future::pending().await,
    }
}
