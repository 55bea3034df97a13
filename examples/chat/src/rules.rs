//! The chat's rules: how long names, room names and messages may be, how long a roll call
//! may wait, and the checks that apply them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ChatError;

/// The room a `join` without one goes to.
pub const DEFAULT_ROOM: &str = "lobby";
/// The longest name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 24;
/// The longest room name, in characters.
pub(crate) const MAX_ROOM_CHARS: usize = 32;
/// The longest message, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 500;
/// The longest a roll call waits for answers, in milliseconds.
pub(crate) const MAX_ROLL_CALL_MS: u64 = 60_000;
/// Frames waiting to be written to one member (the connection's outgoing queue); a member
/// this far behind is disconnected (the server's default overflow policy).
pub(crate) const OUTBOX: usize = 256;

/// The room name, trimmed, if it is acceptable.
pub(crate) fn valid_room(raw: &str) -> Result<String, ChatError> {
    let room = raw.trim();
    if room.is_empty() {
        return Err(ChatError::invalid_room("is empty".to_owned()));
    }
    if room.chars().count() > MAX_ROOM_CHARS {
        return Err(ChatError::invalid_room(format!(
            "is too long (at most {MAX_ROOM_CHARS} characters)"
        )));
    }
    if room.chars().any(char::is_control) {
        return Err(ChatError::invalid_room(
            "contains control characters".to_owned(),
        ));
    }
    Ok(room.to_owned())
}

/// The name, trimmed, if it is acceptable.
pub(crate) fn valid_name(raw: &str) -> Result<String, ChatError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ChatError::invalid_name("is empty".to_owned()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ChatError::invalid_name(format!(
            "is too long (at most {MAX_NAME_CHARS} characters)"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ChatError::invalid_name(
            "contains control characters".to_owned(),
        ));
    }
    Ok(name.to_owned())
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

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
