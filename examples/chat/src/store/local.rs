//! [`Local`]: the rooms in this process, for a server on its own.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use volley::{NodeId, PeerId};

use super::{Kick, Seat, folded};
use crate::{ChatError, ChatMessage, RoomInfo};

/// The rooms, under one lock.
#[derive(Default)]
pub(crate) struct Local {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Who is where.
    seats: HashMap<PeerId, Place>,
    /// The rooms with someone in them.
    rooms: HashMap<String, Room>,
}

struct Place {
    seat: Seat,
    /// Until when (ms since the epoch) a kick asks them to leave, if one does.
    being_asked: Option<u64>,
}

#[derive(Default)]
struct Room {
    /// The members, in the order they joined.
    order: Vec<PeerId>,
    history: VecDeque<ChatMessage>,
}

impl Local {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn join(
        &self,
        id: PeerId,
        seat: &Seat,
        announcement: &ChatMessage,
        keep: usize,
    ) -> Result<(Vec<String>, Vec<ChatMessage>), ChatError> {
        let mut state = self.lock();
        if let Some(place) = state.seats.get(&id) {
            return Err(ChatError::AlreadyJoined {
                name: place.seat.name.clone(),
            });
        }
        if let Some((_, name)) = state.find(&seat.room, &seat.name) {
            return Err(ChatError::NameTaken { name });
        }
        state.seats.insert(
            id,
            Place {
                seat: seat.clone(),
                being_asked: None,
            },
        );
        state
            .rooms
            .entry(seat.room.clone())
            .or_default()
            .order
            .push(id);
        state.post(&seat.room, announcement, keep);
        let history = state.rooms[&seat.room].history.iter().cloned().collect();
        Ok((state.names(&seat.room), history))
    }

    pub(crate) fn seat(&self, id: PeerId) -> Option<Seat> {
        self.lock().seats.get(&id).map(|p| p.seat.clone())
    }

    pub(crate) fn post(&self, room: &str, message: &ChatMessage, keep: usize) {
        self.lock().post(room, message, keep);
    }

    pub(crate) fn remove(&self, id: PeerId) -> Option<Seat> {
        let mut state = self.lock();
        let place = state.seats.remove(&id)?;
        let room = &place.seat.room;
        if let Some(r) = state.rooms.get_mut(room) {
            r.order.retain(|m| *m != id);
            if r.order.is_empty() {
                state.rooms.remove(room);
            }
        }
        Some(place.seat)
    }

    pub(crate) fn roster(&self, room: &str) -> Vec<(PeerId, String)> {
        let state = self.lock();
        state.rooms.get(room).map_or_else(Vec::new, |r| {
            r.order
                .iter()
                .filter_map(|id| Some((*id, state.seats.get(id)?.seat.name.clone())))
                .collect()
        })
    }

    pub(crate) fn rooms(&self) -> Vec<RoomInfo> {
        self.lock()
            .rooms
            .iter()
            .map(|(name, r)| RoomInfo {
                name: name.clone(),
                members: r.order.len(),
            })
            .collect()
    }

    pub(crate) fn begin_kick(
        &self,
        by: PeerId,
        name: &str,
        now: u64,
        until: u64,
    ) -> Result<Kick, ChatError> {
        let mut state = self.lock();
        let seat = state
            .seats
            .get(&by)
            .ok_or(ChatError::NotJoined)?
            .seat
            .clone();
        let (target, _) = state
            .find(&seat.room, name)
            .ok_or_else(|| ChatError::NoSuchMember {
                name: name.to_owned(),
            })?;
        if target == by {
            return Err(ChatError::CannotKickYourself);
        }
        let place = state.seats.get_mut(&target).ok_or(ChatError::NotJoined)?;
        if place.being_asked.is_some_and(|deadline| deadline > now) {
            return Err(ChatError::KickPending {
                name: place.seat.name.clone(),
            });
        }
        place.being_asked = Some(until);
        Ok(Kick {
            by: seat.name,
            room: seat.room,
            target,
            target_name: place.seat.name.clone(),
            until,
        })
    }

    pub(crate) fn end_kick(&self, kick: &Kick) -> bool {
        match self.lock().seats.get_mut(&kick.target) {
            Some(place) => {
                if place.being_asked == Some(kick.until) {
                    place.being_asked = None;
                }
                place.seat.room == kick.room
            }
            None => false,
        }
    }

    pub(crate) fn seated_on(&self, node: NodeId) -> Vec<PeerId> {
        let state = self.lock();
        state
            .seats
            .keys()
            .filter(|id| id.node() == node)
            .copied()
            .collect()
    }
}

impl State {
    /// Who is in `room`, in the order they joined.
    fn names(&self, room: &str) -> Vec<String> {
        self.rooms.get(room).map_or_else(Vec::new, |r| {
            r.order
                .iter()
                .filter_map(|id| self.seats.get(id).map(|p| p.seat.name.clone()))
                .collect()
        })
    }

    /// The member of `room` called `name`, regardless of case, and their name as written.
    fn find(&self, room: &str, name: &str) -> Option<(PeerId, String)> {
        let name = folded(name);
        self.rooms.get(room)?.order.iter().find_map(|id| {
            let place = self.seats.get(id)?;
            (folded(&place.seat.name) == name).then(|| (*id, place.seat.name.clone()))
        })
    }

    /// Appends `message` to a room with someone in it, keeping the last `keep`.
    fn post(&mut self, room: &str, message: &ChatMessage, keep: usize) {
        if let Some(r) = self.rooms.get_mut(room) {
            r.history.push_back(message.clone());
            while r.history.len() > keep {
                r.history.pop_front();
            }
        }
    }
}
