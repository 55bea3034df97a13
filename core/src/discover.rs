//! The OpenRPC document returned by `rpc.discover`.

use serde_json::Value;

use crate::service::Service;

/// The OpenRPC 1.3.2 document of what `service` serves (and, for a server, what its clients
/// serve): see [`crate::docs::service_openrpc`].
pub fn openrpc(service: &Service) -> Value {
    crate::docs::service_openrpc(service, None)
}
