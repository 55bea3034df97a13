//! The methods of an [`Api`] with their JSON Schemas, collected once for a document.

use serde_json::Value;
use volley_core::describe::{MethodDescription, MethodKind, ServiceDescription};

use crate::api::Side;
use crate::schema::{Definitions, Schemas};
use crate::text::plain;

/// Splits doc comments into a summary (the first line) and a description (the rest), with
/// rustdoc-only markup turned into plain text.
pub(crate) fn split_docs(docs: &str) -> (Option<String>, Option<String>) {
    let docs = plain(docs);
    let docs = docs.trim();
    if docs.is_empty() {
        return (None, None);
    }
    match docs.split_once('\n') {
        Some((first, rest)) => {
            let rest = rest.trim();
            (
                Some(first.trim().to_owned()),
                (!rest.is_empty()).then(|| rest.to_owned()),
            )
        }
        None => (Some(docs.to_owned()), None),
    }
}

/// One method of a document, with its schemas.
pub(crate) struct Described<'d> {
    /// Which end serves it, when known.
    pub(crate) side: Option<Side>,
    /// The trait it belongs to.
    pub(crate) service: &'d ServiceDescription,
    /// The method.
    pub(crate) method: &'d MethodDescription,
    /// Each parameter's schema.
    pub(crate) params: Vec<Value>,
    /// The result's schema (`None` for notifications).
    pub(crate) result: Option<Value>,
    /// The error's schema (the error object's `data`), when the error type has one.
    pub(crate) error: Option<Value>,
}

/// The methods of `groups` in order, with schemas from one generator; type definitions get
/// keys that avoid `reserved`.
pub(crate) fn describe<'d>(
    groups: &[(Option<Side>, &[&'d ServiceDescription])],
    reserved: &[&str],
) -> (Vec<Described<'d>>, Definitions) {
    let mut schemas = Schemas::new();
    let mut out = Vec::new();
    for (side, services) in groups {
        for service in services.iter().copied() {
            for method in service.methods {
                let params = method
                    .params
                    .iter()
                    .map(|p| schemas.schema_or_any(p.schema, p.rust_type))
                    .collect();
                let (result, error) = match method.kind {
                    MethodKind::Request => (
                        Some(schemas.schema_or_any(method.result_schema, method.result_type)),
                        schemas.schema(method.error_schema),
                    ),
                    MethodKind::Notification => (None, None),
                };
                out.push(Described {
                    side: *side,
                    service,
                    method,
                    params,
                    result,
                    error,
                });
            }
        }
    }
    let definitions = schemas.finish(reserved);
    for d in &mut out {
        for schema in d.params.iter_mut().chain(&mut d.result).chain(&mut d.error) {
            definitions.fix(schema);
        }
    }
    (out, definitions)
}

pub(crate) const DEFAULT_DESCRIPTION: &str = "JSON-RPC 2.0 over one WebSocket connection. Both ends may \
send requests and notifications: methods marked `server` are served by the server and called \
by clients, methods marked `client` are served by every connected client and called by the \
server. Params may be sent by name (an object) or by position (an array).";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_split_into_summary_and_description() {
        let owned = |s: &str| Some(s.to_owned());
        assert_eq!(split_docs(""), (None, None));
        assert_eq!(split_docs("Adds."), (owned("Adds."), None));
        assert_eq!(
            split_docs("Adds.\n\nSaturates on overflow.\nNever fails."),
            (
                owned("Adds."),
                owned("Saturates on overflow.\nNever fails.")
            )
        );
        assert_eq!(
            split_docs("Calls [`Peer::call`]."),
            (owned("Calls `Peer::call`."), None)
        );
    }
}
