//! Where the rooms are kept: who sits where, in what order, and what was said. In this
//! process ([`Local`]) for a server on its own, in Redis ([`Shared`]) for servers that form
//! one chat. Both keep the same rules, each operation in one step (under one lock, or in one
//! Lua script), so two members can never take the same name nor a room lose its order.

mod local;
mod shared;

use volley::{NodeId, PeerId};

pub(crate) use local::Local;
pub(crate) use shared::Shared;

use crate::{ChatError, ChatMessage, RoomInfo};

/// Someone's place: their name, and the room they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seat {
    pub(crate) name: String,
    pub(crate) room: String,
}

/// A kick under way: who asks, in which room, whom.
#[derive(Debug, Clone)]
pub(crate) struct Kick {
    pub(crate) by: String,
    pub(crate) room: String,
    pub(crate) target: PeerId,
    pub(crate) target_name: String,
    /// The mark's deadline (ms since the epoch), which is also what names this kick: the
    /// mark is cleared only by the kick that set it, and lapses by itself after it (a kick
    /// whose server died never clears it).
    pub(crate) until: u64,
}

/// The rooms, wherever they are kept. Every operation fails with
/// [`ChatError::Unavailable`] when the store cannot be reached.
pub(crate) enum Store {
    Local(Local),
    /// Boxed: the connection and the scripts are several times the size of the lock.
    Shared(Box<Shared>),
}

impl Store {
    /// Seats `id` as `name` in `room` (after the room's last member) and appends
    /// `announcement` to its history. Who is in the room then and its history, or why not:
    /// [`ChatError::AlreadyJoined`], [`ChatError::NameTaken`].
    pub(crate) async fn join(
        &self,
        id: PeerId,
        seat: &Seat,
        announcement: &ChatMessage,
        keep: usize,
    ) -> Result<(Vec<String>, Vec<ChatMessage>), ChatError> {
        match self {
            Store::Local(s) => s.join(id, seat, announcement, keep),
            Store::Shared(s) => s.join(id, seat, announcement, keep).await,
        }
    }

    /// Where `id` sits, if anywhere.
    pub(crate) async fn seat(&self, id: PeerId) -> Result<Option<Seat>, ChatError> {
        match self {
            Store::Local(s) => Ok(s.seat(id)),
            Store::Shared(s) => s.seat(id).await,
        }
    }

    /// Appends `message` to the history of `room` (keeping the last `keep`), unless the
    /// room is empty (its history went with its last member).
    pub(crate) async fn post(
        &self,
        room: &str,
        message: &ChatMessage,
        keep: usize,
    ) -> Result<(), ChatError> {
        match self {
            Store::Local(s) => {
                s.post(room, message, keep);
                Ok(())
            }
            Store::Shared(s) => s.post(room, message, keep).await,
        }
    }

    /// Unseats `id`; where it sat. A room left empty is forgotten, history and all.
    pub(crate) async fn remove(&self, id: PeerId) -> Result<Option<Seat>, ChatError> {
        match self {
            Store::Local(s) => Ok(s.remove(id)),
            Store::Shared(s) => s.remove(id).await,
        }
    }

    /// Who is in `room`, by id and name, in the order they joined.
    pub(crate) async fn roster(&self, room: &str) -> Result<Vec<(PeerId, String)>, ChatError> {
        match self {
            Store::Local(s) => Ok(s.roster(room)),
            Store::Shared(s) => s.roster(room).await,
        }
    }

    /// The rooms with someone in them, by name.
    pub(crate) async fn rooms(&self) -> Result<Vec<RoomInfo>, ChatError> {
        let mut rooms = match self {
            Store::Local(s) => s.rooms(),
            Store::Shared(s) => s.rooms().await?,
        };
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rooms)
    }

    /// Marks the member of `by`'s room called `name` (regardless of case) as being asked to
    /// leave until `until` (ms since the epoch; `now` is the time now), or says why not:
    /// [`ChatError::NotJoined`], [`ChatError::NoSuchMember`],
    /// [`ChatError::CannotKickYourself`], [`ChatError::KickPending`].
    pub(crate) async fn begin_kick(
        &self,
        by: PeerId,
        name: &str,
        now: u64,
        until: u64,
    ) -> Result<Kick, ChatError> {
        match self {
            Store::Local(s) => s.begin_kick(by, name, now, until),
            Store::Shared(s) => s.begin_kick(by, name, now, until).await,
        }
    }

    /// Clears the "being asked" mark `kick` set on its target (not a later kick's); whether
    /// the target is still in the kick's room.
    pub(crate) async fn end_kick(&self, kick: &Kick) -> Result<bool, ChatError> {
        match self {
            Store::Local(s) => Ok(s.end_kick(kick)),
            Store::Shared(s) => s.end_kick(kick).await,
        }
    }

    /// The members connected through `node`.
    pub(crate) async fn seated_on(&self, node: NodeId) -> Result<Vec<PeerId>, ChatError> {
        match self {
            Store::Local(s) => Ok(s.seated_on(node)),
            Store::Shared(s) => s.seated_on(node).await,
        }
    }

    /// Unseats every member connected through a server that has left the cluster (none for
    /// rooms kept here); where each sat.
    pub(crate) async fn evict_gone(&self) -> Result<Vec<Seat>, ChatError> {
        match self {
            Store::Local(_) => Ok(Vec::new()),
            Store::Shared(s) => s.evict_gone().await,
        }
    }

    /// How often to look for servers gone ([`Store::evict_gone`]) besides when one is
    /// heard to leave: never for rooms kept here.
    pub(crate) fn sweep_every(&self) -> Option<std::time::Duration> {
        match self {
            Store::Local(_) => None,
            Store::Shared(s) => Some(s.sweep_every()),
        }
    }
}

/// The longest history kept, whatever [`Options::history`](crate::Options::history) says:
/// Redis's scripts count in floating point, exact to 2^53.
pub(crate) const MAX_HISTORY: usize = 1 << 40;

/// The lower-case form names are compared in.
pub(crate) fn folded(name: &str) -> String {
    name.to_lowercase()
}
