//! [`ChatError`] and its JSON-RPC error [`codes`].

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
    /// The rooms are kept in Redis (servers started with `--redis`) and Redis cannot be
    /// reached; try again later.
    pub const UNAVAILABLE: i32 = 4012;
}

/// Why the room refused a call. Sent as a JSON-RPC error with a code from [`codes`], a
/// sentence for people as the message, and the variant's fields as `data`. Part of the
/// contract (`#[derive(volley::RpcError)]`): the documents list each code, and the Rust stub
/// (`RoomClient`) returns it decoded, as `volley::CallError::App`.
#[derive(Debug, Clone, PartialEq, Eq, volley::RpcError)]
#[non_exhaustive]
pub enum ChatError {
    /// The name is empty, too long or has control characters.
    #[code(4001)]
    #[message("That name {why}.")]
    InvalidName {
        /// What is wrong with it ("is empty", ...).
        why: String,
        /// The longest name, in characters.
        max: usize,
    },
    /// The name is taken (names are compared regardless of case).
    #[code(4002)]
    #[message("Someone called {name} is already here.")]
    NameTaken {
        /// The name as the member who has it wrote it.
        name: String,
    },
    /// The caller has not joined.
    #[code(4003)]
    #[message("Join the room first.")]
    NotJoined,
    /// The caller has already joined under this name.
    #[code(4004)]
    #[message("You are already in the room as {name}.")]
    AlreadyJoined {
        /// The caller's name in the room.
        name: String,
    },
    /// The text is empty.
    #[code(4005)]
    #[message("The message is empty.")]
    EmptyText,
    /// The text is longer than allowed.
    #[code(4006)]
    #[message("The message is too long ({length} characters; at most {max}).")]
    TextTooLong {
        /// Its length, in characters.
        length: usize,
        /// The longest message, in characters.
        max: usize,
    },
    /// Nobody in the room has this name.
    #[code(4007)]
    #[message("Nobody called {name} is in the room.")]
    NoSuchMember {
        /// The name asked for.
        name: String,
    },
    /// The caller tried to kick themselves (`leave` does that).
    #[code(4008)]
    #[message("You cannot kick yourself; leave the room instead.")]
    CannotKickYourself,
    /// This member is already being asked to leave.
    #[code(4009)]
    #[message("{name} is already being asked to leave.")]
    KickPending {
        /// The member's name.
        name: String,
    },
    /// The room name is empty, too long or has control characters.
    #[code(4010)]
    #[message("That room name {why}.")]
    InvalidRoom {
        /// What is wrong with it ("is empty", ...).
        why: String,
        /// The longest room name, in characters.
        max: usize,
    },
    /// A roll call's timeout is out of range.
    #[code(4011)]
    #[message("A roll call waits {min} to {max} ms for answers, not {ms}.")]
    InvalidTimeout {
        /// The timeout asked for, in milliseconds.
        ms: u64,
        /// The shortest allowed.
        min: u64,
        /// The longest allowed.
        max: u64,
    },
    /// The rooms cannot be reached (they are kept in Redis, and Redis is away).
    #[code(4012)]
    #[message("The chat cannot reach its rooms right now; try again in a moment.")]
    Unavailable,
}

impl ChatError {
    /// The JSON-RPC error code, one of [`codes`].
    pub fn code(&self) -> i32 {
        volley::RpcError::code(self)
    }

    /// An unacceptable name: `why` says what is wrong with it.
    pub fn invalid_name(why: impl Into<String>) -> Self {
        ChatError::InvalidName {
            why: why.into(),
            max: MAX_NAME_CHARS,
        }
    }

    /// An unacceptable room name: `why` says what is wrong with it.
    pub fn invalid_room(why: impl Into<String>) -> Self {
        ChatError::InvalidRoom {
            why: why.into(),
            max: MAX_ROOM_CHARS,
        }
    }

    /// A text of `length` characters, too long.
    pub fn text_too_long(length: usize) -> Self {
        ChatError::TextTooLong {
            length,
            max: MAX_TEXT_CHARS,
        }
    }

    /// A roll call timeout of `ms` milliseconds, out of range.
    pub fn invalid_timeout(ms: u64) -> Self {
        ChatError::InvalidTimeout {
            ms,
            min: 1,
            max: MAX_ROLL_CALL_MS,
        }
    }
}
