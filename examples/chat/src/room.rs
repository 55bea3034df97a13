//! [`ChatRoom`]: the server's implementation of [`Room`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use volley::{Context, PeerEvent, PeerId, Peers};

use crate::{
    ChatError, ChatMessage, Joined, KickOutcome, MemberClient, MemberFanout, RollCall, Room,
    RoomInfo,
};

pub use crate::rules::DEFAULT_ROOM;
pub(crate) use crate::rules::OUTBOX;
pub use crate::rules::Options;
use crate::rules::{MAX_ROLL_CALL_MS, MAX_TEXT_CHARS, now_ms, valid_name, valid_room};

/// The server's implementation of [`Room`]: the rooms, who is in each, and what was said.
///
/// Cheap to clone (the clones share the rooms). Each room is a volley group named after it:
/// everything said in a room goes to that group through [`MemberFanout`], encoded once and
/// queued for every member without waiting, so one slow page never holds up the others (a
/// page that falls 256 frames behind is disconnected).
#[derive(Clone)]
pub struct ChatRoom {
    shared: Arc<Shared>,
}

struct Shared {
    options: Options,
    state: Mutex<State>,
    /// The server's registry, from [`ChatRoom::watch`] or the first call.
    peers: OnceLock<Peers>,
}

#[derive(Default)]
struct State {
    /// Who is where.
    seats: HashMap<PeerId, Seat>,
    /// The rooms with someone in them (a room is forgotten, history and all, when its last
    /// member leaves, so room names never pile up).
    rooms: HashMap<String, RoomState>,
}

#[derive(Default)]
struct RoomState {
    /// The members, in the order they joined.
    order: Vec<PeerId>,
    history: VecDeque<ChatMessage>,
}

struct Seat {
    name: String,
    room: String,
    being_asked: bool,
}

impl std::fmt::Debug for ChatRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatRoom")
            .field("rooms", &self.rooms())
            .field("options", &self.shared.options)
            .finish()
    }
}

impl ChatRoom {
    /// No rooms yet.
    pub fn new(options: Options) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                state: Mutex::new(State::default()),
                peers: OnceLock::new(),
            }),
        }
    }

    /// Who is in `room` now, in the order they joined.
    pub fn members(&self, room: &str) -> Vec<String> {
        self.lock().names(room)
    }

    /// The rooms with someone in them, by name.
    pub fn rooms(&self) -> Vec<RoomInfo> {
        let state = self.lock();
        let mut rooms: Vec<RoomInfo> = state
            .rooms
            .iter()
            .filter(|(_, r)| !r.order.is_empty())
            .map(|(name, r)| RoomInfo {
                name: name.clone(),
                members: r.order.len(),
            })
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms
    }

    /// Sends the rooms' pushes through `peers` (the server's registry) and announces members
    /// whose connection ends, from its peer events, until the server is dropped.
    /// [`crate::server`] does this; call it when you build the server yourself.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn watch(&self, peers: &Peers) -> JoinHandle<()> {
        let _ = self.shared.peers.set(peers.clone());
        let mut events = peers.subscribe();
        let room = self.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(PeerEvent::Disconnected { id, .. }) => room.depart(id),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => room.sweep(),
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The server's registry: the one watched, else the caller's.
    fn peers(&self, cx: Option<&Context>) -> Peers {
        match (self.shared.peers.get(), cx) {
            (Some(peers), _) => peers.clone(),
            (None, Some(cx)) => self.shared.peers.get_or_init(|| cx.peers()).clone(),
            (None, None) => Peers::default(),
        }
    }

    /// Tells everyone in `room`: encoded once, queued for each member without waiting.
    fn push(&self, peers: &Peers, room: &str, push: Push<'_>) {
        let members = MemberFanout::new(peers.group(room));
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
    fn post(
        &self,
        peers: &Peers,
        state: &mut State,
        room: &str,
        from: Option<String>,
        text: String,
    ) {
        let message = ChatMessage {
            from,
            text,
            at: now_ms(),
        };
        let history = &mut state.rooms.entry(room.to_owned()).or_default().history;
        history.push_back(message.clone());
        while history.len() > self.shared.options.history {
            history.pop_front();
        }
        self.push(peers, room, Push::Message(&message));
    }

    /// Takes a member out of their room (and its group), tells the room, and forgets an
    /// empty room's history.
    fn remove(&self, peers: &Peers, state: &mut State, id: PeerId, announcement: String) {
        let Some(seat) = state.seats.remove(&id) else {
            return;
        };
        peers.leave(id, &seat.room);
        if let Some(room) = state.rooms.get_mut(&seat.room) {
            room.order.retain(|m| *m != id);
        }
        self.post(peers, state, &seat.room, None, announcement);
        let names = state.names(&seat.room);
        self.push(peers, &seat.room, Push::Members(names));
        if state
            .rooms
            .get(&seat.room)
            .is_some_and(|r| r.order.is_empty())
        {
            state.rooms.remove(&seat.room);
        }
    }

    /// The member with this id lost their connection.
    fn depart(&self, id: PeerId) {
        let peers = self.peers(None);
        let mut state = self.lock();
        if let Some(name) = state.seats.get(&id).map(|s| s.name.clone()) {
            self.remove(&peers, &mut state, id, format!("{name} left"));
        }
    }

    /// Removes every member whose connection is gone (after missing peer events).
    fn sweep(&self) {
        let peers = self.peers(None);
        let gone: Vec<PeerId> = self
            .lock()
            .seats
            .keys()
            .filter(|id| peers.get(**id).is_none_or(|p| !p.is_connected()))
            .copied()
            .collect();
        for id in gone {
            self.depart(id);
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
        let name = valid_name(&name)?;
        let room = match room {
            Some(room) => valid_room(&room)?,
            None => DEFAULT_ROOM.to_owned(),
        };
        let peers = self.peers(Some(cx));
        let mut state = self.lock();
        if let Some(seat) = state.seats.get(&cx.peer_id()) {
            return Err(ChatError::AlreadyJoined {
                name: seat.name.clone(),
            });
        }
        if let Some(taken) = state.find(&room, &name) {
            return Err(ChatError::NameTaken {
                name: state.seats[&taken].name.clone(),
            });
        }
        if !cx.peer().is_connected() {
            // Gone already: the departure event may have been handled before this call.
            return Err(ChatError::NotJoined);
        }
        // Announced before joining the room's group: the newcomer reads it in the history
        // this call returns, not twice.
        self.post(&peers, &mut state, &room, None, format!("{name} joined"));
        if !cx.join(&room) {
            // Gone meanwhile.
            self.post(&peers, &mut state, &room, None, format!("{name} left"));
            return Err(ChatError::NotJoined);
        }
        state.seats.insert(
            cx.peer_id(),
            Seat {
                name: name.clone(),
                room: room.clone(),
                being_asked: false,
            },
        );
        state
            .rooms
            .entry(room.clone())
            .or_default()
            .order
            .push(cx.peer_id());
        let members = state.names(&room);
        self.push(&peers, &room, Push::Members(members.clone()));
        let history = state.rooms[&room].history.iter().cloned().collect();
        Ok(Joined {
            you: name,
            room,
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
        let peers = self.peers(Some(cx));
        let mut state = self.lock();
        let seat = state.seats.get(&cx.peer_id()).ok_or(ChatError::NotJoined)?;
        let (from, room) = (seat.name.clone(), seat.room.clone());
        self.post(&peers, &mut state, &room, Some(from), text.to_owned());
        Ok(())
    }

    async fn kick(&self, cx: &Context, name: String) -> Result<KickOutcome, ChatError> {
        let peers = self.peers(Some(cx));
        let (by, room, target, target_name) = {
            let mut state = self.lock();
            let seat = state.seats.get(&cx.peer_id()).ok_or(ChatError::NotJoined)?;
            let (by, room) = (seat.name.clone(), seat.room.clone());
            let name = name.trim();
            let target = state
                .find(&room, name)
                .ok_or_else(|| ChatError::NoSuchMember {
                    name: name.to_owned(),
                })?;
            if target == cx.peer_id() {
                return Err(ChatError::CannotKickYourself);
            }
            let seat = state.seats.get_mut(&target).ok_or(ChatError::NotJoined)?;
            if seat.being_asked {
                return Err(ChatError::KickPending {
                    name: seat.name.clone(),
                });
            }
            seat.being_asked = true;
            let target_name = seat.name.clone();
            let line = format!("{by} asked {target_name} to leave the room");
            self.post(&peers, &mut state, &room, None, line);
            (by, room, target, target_name)
        };
        // If this call is dropped while waiting (the kicker went away), the target may be
        // asked again later.
        let mut asking = Asking(Some((self.clone(), target)));
        let answer = match peers.get(target) {
            Some(peer) => {
                MemberClient::new(&peer)
                    .with_timeout(self.shared.options.kick_timeout)
                    .confirm_kick(by.clone())
                    .await
            }
            None => Err(volley::Error::Disconnected),
        };

        let mut state = self.lock();
        asking.0 = None;
        // Still in the same room (they may have left, or left and joined another).
        let still_here = match state.seats.get_mut(&target) {
            Some(seat) if seat.room == room => {
                seat.being_asked = false;
                true
            }
            _ => false,
        };
        let outcome = match answer {
            Ok(true) => KickOutcome::Accepted,
            Ok(false) => KickOutcome::Refused,
            Err(e) => {
                tracing::debug!(target = %target, error = %e, "confirmKick got no answer");
                KickOutcome::Unanswered
            }
        };
        if still_here {
            match outcome {
                KickOutcome::Accepted => {
                    let line = format!("{target_name} agreed to leave and was removed by {by}");
                    self.remove(&peers, &mut state, target, line);
                }
                KickOutcome::Refused => {
                    let line = format!("{target_name} refused to leave");
                    self.post(&peers, &mut state, &room, None, line);
                }
                KickOutcome::Unanswered => {
                    let line = format!("{target_name} did not answer and stays");
                    self.post(&peers, &mut state, &room, None, line);
                }
            }
        }
        Ok(outcome)
    }

    async fn roll_call(&self, cx: &Context, timeout_ms: u64) -> Result<RollCall, ChatError> {
        if !(1..=MAX_ROLL_CALL_MS).contains(&timeout_ms) {
            return Err(ChatError::invalid_timeout(timeout_ms));
        }
        let peers = self.peers(Some(cx));
        // Who is asked, and their names, as the room is now: a member who leaves while asked
        // is still reported (as silent), one who joins meanwhile is not asked.
        let (replies, names) = {
            let state = self.lock();
            let seat = state.seats.get(&cx.peer_id()).ok_or(ChatError::NotJoined)?;
            let members = MemberFanout::new(peers.group(&seat.room))
                .with_timeout(Duration::from_millis(timeout_ms));
            // `here` takes no params, so nothing can fail to encode.
            let replies = members.here().map_err(|_| ChatError::NotJoined)?;
            let names: HashMap<PeerId, (usize, String)> = replies
                .recipients()
                .iter()
                .filter_map(|peer| {
                    let seat = state.seats.get(&peer.id())?;
                    let at = state.rooms[&seat.room]
                        .order
                        .iter()
                        .position(|m| *m == peer.id());
                    Some((peer.id(), (at.unwrap_or(usize::MAX), seat.name.clone())))
                })
                .collect();
            (replies, names)
        };
        let outcomes = replies.await;
        let mut sorted: Vec<(usize, &str, Option<bool>)> = outcomes
            .iter()
            .filter_map(|reply| {
                let (at, name) = names.get(&reply.id())?;
                Some((*at, name.as_str(), reply.result.as_ref().ok().copied()))
            })
            .collect();
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

    async fn rooms(&self) -> volley::Result<Vec<RoomInfo>> {
        Ok(ChatRoom::rooms(self))
    }

    async fn leave(&self, cx: &Context) -> Result<(), ChatError> {
        let peers = self.peers(Some(cx));
        let mut state = self.lock();
        let name = state
            .seats
            .get(&cx.peer_id())
            .ok_or(ChatError::NotJoined)?
            .name
            .clone();
        self.remove(&peers, &mut state, cx.peer_id(), format!("{name} left"));
        Ok(())
    }
}

/// Clears a member's "being asked" mark when a kick is abandoned halfway.
struct Asking(Option<(ChatRoom, PeerId)>);

impl Drop for Asking {
    fn drop(&mut self) {
        if let Some((room, id)) = self.0.take()
            && let Some(seat) = room.lock().seats.get_mut(&id)
        {
            seat.being_asked = false;
        }
    }
}

impl State {
    /// Who is in `room`, in the order they joined.
    fn names(&self, room: &str) -> Vec<String> {
        self.rooms.get(room).map_or_else(Vec::new, |r| {
            r.order
                .iter()
                .filter_map(|id| self.seats.get(id).map(|s| s.name.clone()))
                .collect()
        })
    }

    /// The member of `room` called `name`, regardless of case.
    fn find(&self, room: &str, name: &str) -> Option<PeerId> {
        let name = name.to_lowercase();
        self.rooms.get(room)?.order.iter().copied().find(|id| {
            self.seats
                .get(id)
                .is_some_and(|s| s.name.to_lowercase() == name)
        })
    }
}
