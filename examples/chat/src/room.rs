//! [`ChatRoom`]: the server's implementation of [`Room`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;
use volley::{Context, Error, Peer, PeerEvent, PeerId};

use crate::{ChatError, ChatMessage, Joined, KickOutcome, MemberClient, Room};

/// The longest name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 24;
/// The longest message, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 500;
/// Frames waiting to be written to one member (the connection's outgoing queue); a member
/// this far behind is disconnected.
pub(crate) const OUTBOX: usize = 256;

/// How the room behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// How long a member has to answer `confirmKick` (default 20 s); no answer in time means
    /// they stay.
    pub kick_timeout: Duration,
    /// How many messages the room remembers for those who join later (default 50).
    pub history: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            kick_timeout: Duration::from_secs(20),
            history: 50,
        }
    }
}

impl Options {
    /// Sets [`Options::kick_timeout`].
    #[must_use]
    pub fn kick_timeout(mut self, timeout: Duration) -> Self {
        self.kick_timeout = timeout;
        self
    }

    /// Sets [`Options::history`].
    #[must_use]
    pub fn history(mut self, messages: usize) -> Self {
        self.history = messages;
        self
    }
}

/// The server's implementation of [`Room`]: who is in the room, and what was said.
///
/// Cheap to clone (the clones share the room). Every member gets the room's pushes in the
/// order they happened, queued without waiting on their own connection (the stub's `try_`
/// notifications), so one slow page never holds up the others.
#[derive(Clone)]
pub struct ChatRoom {
    shared: Arc<Shared>,
}

struct Shared {
    options: Options,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// In the order they joined.
    seats: Vec<Seat>,
    history: VecDeque<ChatMessage>,
}

struct Seat {
    id: PeerId,
    name: String,
    peer: Peer,
    being_asked: bool,
}

/// What the room pushes to every member.
enum Push {
    Message(ChatMessage),
    Members(Vec<String>),
}

impl std::fmt::Debug for ChatRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatRoom")
            .field("members", &self.members())
            .field("options", &self.shared.options)
            .finish()
    }
}

impl ChatRoom {
    /// An empty room.
    pub fn new(options: Options) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Who is in the room now, in the order they joined.
    pub fn members(&self) -> Vec<String> {
        self.lock().names()
    }

    /// Removes members whose connection ends, from a server's peer events
    /// (`server.peers().subscribe()`), until that server is dropped. [`crate::server`] does
    /// this; call it when you build the server yourself.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn forget_departed(&self, mut events: broadcast::Receiver<PeerEvent>) -> JoinHandle<()> {
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

    /// Posts a line to everyone and keeps it in the history.
    fn post(&self, state: &mut State, from: Option<String>, text: String) {
        let message = ChatMessage {
            from,
            text,
            at: now_ms(),
        };
        state.history.push_back(message.clone());
        while state.history.len() > self.shared.options.history {
            state.history.pop_front();
        }
        state.push(&Push::Message(message));
    }

    /// The member with this id left or lost their connection.
    fn depart(&self, id: PeerId) {
        let mut state = self.lock();
        if let Some(seat) = state.remove(id) {
            self.post(&mut state, None, format!("{} left", seat.name));
            state.push_members();
        }
    }

    /// Removes every member whose connection is gone (after missing peer events).
    fn sweep(&self) {
        let gone: Vec<PeerId> = self
            .lock()
            .seats
            .iter()
            .filter(|seat| !seat.peer.is_connected())
            .map(|seat| seat.id)
            .collect();
        for id in gone {
            self.depart(id);
        }
    }
}

impl Room for ChatRoom {
    async fn join(&self, cx: &Context, name: String) -> Result<Joined, ChatError> {
        let name = valid_name(&name)?;
        let mut state = self.lock();
        if let Some(seat) = state.seat(cx.peer_id()) {
            return Err(ChatError::AlreadyJoined(seat.name.clone()));
        }
        if let Some(seat) = state.find(&name) {
            return Err(ChatError::NameTaken(seat.name.clone()));
        }
        if !cx.peer().is_connected() {
            // Gone already: the departure event may have been handled before this call.
            return Err(ChatError::NotJoined);
        }
        self.post(&mut state, None, format!("{name} joined"));
        state.seats.push(Seat {
            id: cx.peer_id(),
            name: name.clone(),
            peer: cx.peer().clone(),
            being_asked: false,
        });
        state.push_members();
        Ok(Joined {
            you: name,
            members: state.names(),
            history: state.history.iter().cloned().collect(),
        })
    }

    async fn say(&self, cx: &Context, text: String) -> Result<(), ChatError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ChatError::EmptyText);
        }
        let length = text.chars().count();
        if length > MAX_TEXT_CHARS {
            return Err(ChatError::TextTooLong(length));
        }
        let mut state = self.lock();
        let from = state
            .seat(cx.peer_id())
            .ok_or(ChatError::NotJoined)?
            .name
            .clone();
        self.post(&mut state, Some(from), text.to_owned());
        Ok(())
    }

    async fn kick(&self, cx: &Context, name: String) -> Result<KickOutcome, ChatError> {
        let (by, target, target_name, target_peer) = {
            let mut state = self.lock();
            let by = state
                .seat(cx.peer_id())
                .ok_or(ChatError::NotJoined)?
                .name
                .clone();
            let name = name.trim();
            let seat = state
                .find_mut(name)
                .ok_or_else(|| ChatError::NoSuchMember(name.to_owned()))?;
            if seat.id == cx.peer_id() {
                return Err(ChatError::CannotKickYourself);
            }
            if seat.being_asked {
                return Err(ChatError::KickPending(seat.name.clone()));
            }
            seat.being_asked = true;
            let target = (seat.id, seat.name.clone(), seat.peer.clone());
            self.post(
                &mut state,
                None,
                format!("{by} asked {} to leave the room", target.1),
            );
            (by, target.0, target.1, target.2)
        };
        // If this call is dropped while waiting (the kicker went away), the target may be
        // asked again later.
        let mut asking = Asking(Some((self.clone(), target)));

        let answer = MemberClient::new(&target_peer)
            .with_timeout(self.shared.options.kick_timeout)
            .confirm_kick(by.clone())
            .await;

        let mut state = self.lock();
        asking.0 = None;
        if let Some(seat) = state.find_id_mut(target) {
            seat.being_asked = false;
        }
        let outcome = match answer {
            Ok(true) => KickOutcome::Accepted,
            Ok(false) => KickOutcome::Refused,
            Err(e) => {
                tracing::debug!(target = %target, error = %e, "confirmKick got no answer");
                KickOutcome::Unanswered
            }
        };
        let still_here = state.seat(target).is_some();
        match outcome {
            KickOutcome::Accepted if still_here => {
                state.remove(target);
                self.post(
                    &mut state,
                    None,
                    format!("{target_name} agreed to leave and was removed by {by}"),
                );
                state.push_members();
            }
            KickOutcome::Refused if still_here => {
                self.post(&mut state, None, format!("{target_name} refused to leave"));
            }
            KickOutcome::Unanswered if still_here => {
                self.post(
                    &mut state,
                    None,
                    format!("{target_name} did not answer and stays"),
                );
            }
            // They left while being asked; their departure was announced already.
            _ => {}
        }
        Ok(outcome)
    }

    async fn leave(&self, cx: &Context) -> Result<(), ChatError> {
        let mut state = self.lock();
        let seat = state.remove(cx.peer_id()).ok_or(ChatError::NotJoined)?;
        self.post(&mut state, None, format!("{} left", seat.name));
        state.push_members();
        Ok(())
    }
}

/// Clears a member's "being asked" mark when a kick is abandoned halfway.
struct Asking(Option<(ChatRoom, PeerId)>);

impl Drop for Asking {
    fn drop(&mut self) {
        if let Some((room, id)) = self.0.take()
            && let Some(seat) = room.lock().find_id_mut(id)
        {
            seat.being_asked = false;
        }
    }
}

impl State {
    fn names(&self) -> Vec<String> {
        self.seats.iter().map(|seat| seat.name.clone()).collect()
    }

    fn seat(&self, id: PeerId) -> Option<&Seat> {
        self.seats.iter().find(|seat| seat.id == id)
    }

    fn find_id_mut(&mut self, id: PeerId) -> Option<&mut Seat> {
        self.seats.iter_mut().find(|seat| seat.id == id)
    }

    /// The member called `name`, regardless of case.
    fn find(&self, name: &str) -> Option<&Seat> {
        let name = name.to_lowercase();
        self.seats
            .iter()
            .find(|seat| seat.name.to_lowercase() == name)
    }

    fn find_mut(&mut self, name: &str) -> Option<&mut Seat> {
        let name = name.to_lowercase();
        self.seats
            .iter_mut()
            .find(|seat| seat.name.to_lowercase() == name)
    }

    /// Removes a member (what is already queued for them is still written).
    fn remove(&mut self, id: PeerId) -> Option<Seat> {
        let at = self.seats.iter().position(|seat| seat.id == id)?;
        Some(self.seats.remove(at))
    }

    fn push_members(&self) {
        self.push(&Push::Members(self.names()));
    }

    /// Queues `push` for every member, in order, on their connection's outgoing queue. A
    /// member whose queue is full is not reading: their connection is closed, and they leave
    /// the room through the departure events.
    fn push(&self, push: &Push) {
        for seat in &self.seats {
            let member = MemberClient::new(&seat.peer);
            let queued = match push {
                Push::Message(m) => member.try_message(m.from.clone(), m.text.clone(), m.at),
                Push::Members(names) => member.try_members(names.clone()),
            };
            match queued {
                Ok(()) | Err(Error::Disconnected) => {}
                Err(Error::Busy) => {
                    tracing::warn!(peer = %seat.id, name = %seat.name, "member is not reading; disconnecting");
                    seat.peer.close_with(1008, "too far behind the room");
                }
                Err(e) => tracing::debug!(peer = %seat.id, error = %e, "push not queued"),
            }
        }
    }
}

/// The name, trimmed, if it is acceptable.
fn valid_name(raw: &str) -> Result<String, ChatError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ChatError::InvalidName("is empty".to_owned()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ChatError::InvalidName(format!(
            "is too long (at most {MAX_NAME_CHARS} characters)"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ChatError::InvalidName(
            "contains control characters".to_owned(),
        ));
    }
    Ok(name.to_owned())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
