//! volley's built-in methods, all handled here: `rpc.ping`, `rpc.discover` and `rpc.cancel`.
//!
//! `rpc.ping` and `rpc.discover` run like any method (in order with the requests around
//! them); `rpc.cancel` is acted on by the reader as soon as it arrives, so it reaches a
//! request that is still waiting for a running slot. While a connection drains, the reader
//! answers every new request itself ([`while_draining`]).

use serde_json::value::RawValue;

use crate::error::{codes, error_object};
use crate::frame::Encoded;
use crate::message;
use crate::service::Service;

/// The method that cancels an incoming request: `{"id": <id>}` or `[<id>]`.
pub(crate) const CANCEL: &str = "rpc.cancel";

/// A built-in method that answers like a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// `rpc.ping`: answers `"pong"`.
    Ping,
    /// `rpc.discover`: answers the service's OpenRPC document.
    Discover,
}

impl Builtin {
    /// The built-in named `method`; `rpc.discover` only when `service` carries a document.
    pub(crate) fn lookup(method: &str, service: &Service) -> Option<Self> {
        match method {
            "rpc.ping" => Some(Builtin::Ping),
            "rpc.discover" if service.discover().is_some() => Some(Builtin::Discover),
            _ => None,
        }
    }

    /// Its wire name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Builtin::Ping => "rpc.ping",
            Builtin::Discover => "rpc.discover",
        }
    }

    /// Its result (the discover document was encoded once, when the service got it).
    pub(crate) fn answer(self, service: &Service) -> Encoded {
        Encoded::raw(match self {
            Builtin::Ping => "\"pong\"",
            Builtin::Discover => service.discover().map_or("null", RawValue::get),
        })
    }
}

/// The answer to a request that arrives while the connection drains: `rpc.ping` is still
/// answered (a heartbeat must not fail a connection that is closing cleanly); everything else
/// gets -32012.
pub(crate) fn while_draining(id: &str, method: &str) -> String {
    if method == Builtin::Ping.name() {
        return message::success(id, "\"pong\"");
    }
    message::failure(
        Some(id),
        &error_object(
            codes::SHUTTING_DOWN,
            "shutting down: no new requests are taken".to_owned(),
        ),
    )
}

/// The request id an `rpc.cancel` names, by name (`{"id": ..}`) or by position (`[id]`).
pub(crate) fn cancel_target(params: Option<&str>) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct ById<'a> {
        #[serde(borrow)]
        id: &'a RawValue,
    }
    let p = params?;
    serde_json::from_str::<ById<'_>>(p)
        .map(|b| b.id.get())
        .or_else(|_| serde_json::from_str::<(&RawValue,)>(p).map(|t| t.0.get()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_names_its_target_by_name_or_position() {
        assert_eq!(cancel_target(Some(r#"{"id":7}"#)), Some("7"));
        assert_eq!(cancel_target(Some(r#"["a"]"#)), Some(r#""a""#));
        assert!(cancel_target(Some(r#"{"x":1}"#)).is_none());
        assert!(cancel_target(None).is_none());
    }

    #[test]
    fn discover_is_built_in_only_with_a_document() {
        let bare = Service::new();
        assert_eq!(Builtin::lookup("rpc.ping", &bare), Some(Builtin::Ping));
        assert_eq!(Builtin::lookup("rpc.discover", &bare), None);
        let with = Service::new().with_discover(&serde_json::json!({"openrpc": "1.3.2"}));
        assert_eq!(
            Builtin::lookup("rpc.discover", &with),
            Some(Builtin::Discover)
        );
        assert_eq!(
            Builtin::Discover.answer(&with).value(),
            r#"{"openrpc":"1.3.2"}"#
        );
        assert_eq!(Builtin::Ping.answer(&bare).value(), r#""pong""#);
    }
}
