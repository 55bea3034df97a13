//! [`ChatError`] and its JSON-RPC error [`codes`].

use std::fmt;

use serde_json::json;

use crate::rules::{MAX_NAME_CHARS, MAX_ROLL_CALL_MS, MAX_ROOM_CHARS, MAX_TEXT_CHARS};

/// The JSON-RPC error codes of the chat room.
///
/// Application codes live outside the range JSON-RPC reserves (-32768 to -32000).
pub mod codes {
    /// The name is empty, too long, or contains control characters. `data`: `{"max": 24}`.
    pub const INVALID_NAME: i32 = 4001;
    /// Someone in the room already has that name (names are compared regardless of case).
    /// `data`: `{"name": ...}`.
    pub const NAME_TAKEN: i32 = 4002;
    /// The call needs the caller to have joined the room first.
    pub const NOT_JOINED: i32 = 4003;
    /// This connection has already joined (as `data.name`).
    pub const ALREADY_JOINED: i32 = 4004;
    /// The message is empty (or only whitespace).
    pub const EMPTY_TEXT: i32 = 4005;
    /// The message is longer than allowed. `data`: `{"max": 500, "length": ...}`.
    pub const TEXT_TOO_LONG: i32 = 4006;
    /// Nobody in the room has that name. `data`: `{"name": ...}`.
    pub const NO_SUCH_MEMBER: i32 = 4007;
    /// A member cannot kick themselves (`leave` does that).
    pub const CANNOT_KICK_YOURSELF: i32 = 4008;
    /// That member is already being asked to leave. `data`: `{"name": ...}`.
    pub const KICK_PENDING: i32 = 4009;
    /// The room name is empty, too long, or contains control characters. `data`:
    /// `{"max": 32}`.
    pub const INVALID_ROOM: i32 = 4010;
    /// A roll call's `timeoutMs` is out of range. `data`: `{"min": 1, "max": 60000}`.
    pub const INVALID_TIMEOUT: i32 = 4011;
}

/// Why the room refused a call. Sent as a JSON-RPC error with a code from [`codes`], a
/// sentence for people as the message, and details in `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChatError {
    /// The name is empty, too long or has control characters; the field says which
    /// ("is empty", ...).
    InvalidName(String),
    /// The name is taken.
    NameTaken(String),
    /// The caller has not joined.
    NotJoined,
    /// The caller has already joined under this name.
    AlreadyJoined(String),
    /// The text is empty.
    EmptyText,
    /// The text has this many characters, more than allowed.
    TextTooLong(usize),
    /// Nobody has this name.
    NoSuchMember(String),
    /// The caller tried to kick themselves.
    CannotKickYourself,
    /// This member is already being asked.
    KickPending(String),
    /// The room name is empty, too long or has control characters; the field says which.
    InvalidRoom(String),
    /// A roll call's timeout, in milliseconds, is out of range.
    InvalidTimeout(u64),
}

impl ChatError {
    /// The JSON-RPC error code, one of [`codes`].
    pub fn code(&self) -> i32 {
        match self {
            ChatError::InvalidName(_) => codes::INVALID_NAME,
            ChatError::NameTaken(_) => codes::NAME_TAKEN,
            ChatError::NotJoined => codes::NOT_JOINED,
            ChatError::AlreadyJoined(_) => codes::ALREADY_JOINED,
            ChatError::EmptyText => codes::EMPTY_TEXT,
            ChatError::TextTooLong(_) => codes::TEXT_TOO_LONG,
            ChatError::NoSuchMember(_) => codes::NO_SUCH_MEMBER,
            ChatError::CannotKickYourself => codes::CANNOT_KICK_YOURSELF,
            ChatError::KickPending(_) => codes::KICK_PENDING,
            ChatError::InvalidRoom(_) => codes::INVALID_ROOM,
            ChatError::InvalidTimeout(_) => codes::INVALID_TIMEOUT,
        }
    }
}

impl fmt::Display for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatError::InvalidName(why) => write!(f, "That name {why}."),
            ChatError::NameTaken(name) => write!(f, "Someone called {name} is already here."),
            ChatError::NotJoined => f.write_str("Join the room first."),
            ChatError::AlreadyJoined(name) => write!(f, "You are already in the room as {name}."),
            ChatError::EmptyText => f.write_str("The message is empty."),
            ChatError::TextTooLong(length) => write!(
                f,
                "The message is too long ({length} characters; at most {MAX_TEXT_CHARS})."
            ),
            ChatError::NoSuchMember(name) => write!(f, "Nobody called {name} is in the room."),
            ChatError::CannotKickYourself => {
                f.write_str("You cannot kick yourself; leave the room instead.")
            }
            ChatError::KickPending(name) => {
                write!(f, "{name} is already being asked to leave.")
            }
            ChatError::InvalidRoom(why) => write!(f, "That room name {why}."),
            ChatError::InvalidTimeout(ms) => write!(
                f,
                "A roll call waits 1 to {MAX_ROLL_CALL_MS} ms for answers, not {ms}."
            ),
        }
    }
}

impl std::error::Error for ChatError {}

impl From<ChatError> for volley::ErrorObject {
    fn from(e: ChatError) -> Self {
        let data = match &e {
            ChatError::InvalidName(_) => Some(json!({ "max": MAX_NAME_CHARS })),
            ChatError::InvalidRoom(_) => Some(json!({ "max": MAX_ROOM_CHARS })),
            ChatError::InvalidTimeout(_) => Some(json!({ "min": 1, "max": MAX_ROLL_CALL_MS })),
            ChatError::NameTaken(name)
            | ChatError::AlreadyJoined(name)
            | ChatError::NoSuchMember(name)
            | ChatError::KickPending(name) => Some(json!({ "name": name })),
            ChatError::TextTooLong(length) => {
                Some(json!({ "max": MAX_TEXT_CHARS, "length": length }))
            }
            ChatError::NotJoined | ChatError::EmptyText | ChatError::CannotKickYourself => None,
        };
        volley::ErrorObject::owned(e.code(), e.to_string(), data)
    }
}
