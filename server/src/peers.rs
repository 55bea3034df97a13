//! The registry of connected peers lives in the engine ([`volley_core::fanout`]), so typed
//! fan-out stubs work wherever the engine does; the server registers every connection.

pub use volley_core::fanout::{PeerEvent, Peers};
