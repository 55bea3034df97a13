//! The methods of an [`Api`] with their JSON Schemas, collected once for a document.

use serde_json::Value;
use volley_core::ErrorDescription;
use volley_core::describe::{MethodDescription, MethodKind, ServiceDescription};

use crate::api::Side;
use crate::names::{Namer, component_key};
use crate::schema::{DOCUMENT, Definitions, Schemas, no_schema};
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

/// The schemas of one method, as one generator gives them: `None` where a type has none.
pub(crate) struct MethodSchemas {
    /// Each parameter's schema.
    pub(crate) params: Vec<Option<Value>>,
    /// The result's schema; `None` for notifications.
    pub(crate) result: Option<Option<Value>>,
    /// The error's schema (the error object's `data`), when [asked
    /// for](MethodSchemas::with_error) and the method is a request.
    pub(crate) error: Option<Value>,
    /// The error type's own errors (an `RpcError`'s variants), when asked for.
    pub(crate) errors: Vec<ErrorCase>,
}

/// One of a method's own errors (a variant of its `RpcError` type), with the schema of its
/// `data` (`None` for a variant without fields).
#[derive(Clone)]
pub(crate) struct ErrorCase {
    pub(crate) desc: &'static ErrorDescription,
    pub(crate) data: Option<Value>,
}

impl MethodSchemas {
    /// The schemas of `method`'s parameters, then of its result, from `schemas` (the order
    /// decides the names of type definitions); no error schema.
    pub(crate) fn collect(schemas: &mut Schemas, method: &MethodDescription) -> Self {
        let params = method
            .params
            .iter()
            .map(|p| schemas.schema(p.schema))
            .collect();
        let result = match method.kind {
            // A stream's result schema is its item's.
            MethodKind::Request | MethodKind::Stream { .. } => {
                Some(schemas.schema(method.result_schema))
            }
            MethodKind::Notification => None,
        };
        Self {
            params,
            result,
            error: None,
            errors: Vec::new(),
        }
    }

    /// These schemas and the error's, for a request (collect it right after the others, so
    /// that definitions are named in the order of the methods).
    pub(crate) fn with_error(mut self, schemas: &mut Schemas, method: &MethodDescription) -> Self {
        if method.kind.is_answered() {
            self.error = schemas.schema(method.error_schema);
        }
        self.with_error_cases(schemas, method)
    }

    /// These schemas and the `data` schemas of the method's own errors (its `RpcError`
    /// type's variants), without the error type's own schema.
    pub(crate) fn with_error_cases(
        mut self,
        schemas: &mut Schemas,
        method: &MethodDescription,
    ) -> Self {
        if method.kind.is_answered() {
            self.errors = (method.errors)()
                .iter()
                .map(|desc| ErrorCase {
                    desc,
                    data: schemas.schema(desc.data_schema),
                })
                .collect();
        }
        self
    }

    /// Points the `$ref`s of every schema at the keys of `definitions`.
    pub(crate) fn fix(&mut self, definitions: &Definitions) {
        let params = self.params.iter_mut().flatten();
        for schema in params
            .chain(self.result.iter_mut().flatten())
            .chain(&mut self.error)
            .chain(self.errors.iter_mut().filter_map(|e| e.data.as_mut()))
        {
            definitions.fix(schema);
        }
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
    /// The error type's own errors, when it is an `RpcError`.
    pub(crate) errors: Vec<ErrorCase>,
}

/// The methods of `groups` in order, with schemas from one generator; type definitions get
/// keys that avoid `reserved`. A type without a schema gets one that says so.
pub(crate) fn describe<'d>(
    groups: &[(Option<Side>, &[&'d ServiceDescription])],
    reserved: &[&str],
) -> (Vec<Described<'d>>, Definitions) {
    let mut schemas = Schemas::new(DOCUMENT);
    let mut collected = Vec::new();
    for (side, services) in groups {
        for service in services.iter().copied() {
            for method in service.methods {
                let found =
                    MethodSchemas::collect(&mut schemas, method).with_error(&mut schemas, method);
                collected.push((*side, service, method, found));
            }
        }
    }
    let definitions = schemas.finish(Namer::new(component_key, reserved));
    let described = collected
        .into_iter()
        .map(|(side, service, method, mut found)| {
            found.fix(&definitions);
            let params = (found.params.into_iter().zip(method.params))
                .map(|(schema, p)| schema.unwrap_or_else(|| no_schema(p.rust_type)))
                .collect();
            let result = found
                .result
                .map(|schema| schema.unwrap_or_else(|| no_schema(method.result_type)));
            Described {
                side,
                service,
                method,
                params,
                result,
                error: found.error,
                errors: found.errors,
            }
        })
        .collect();
    (described, definitions)
}

/// The `info.description` of a document whose [`Info`](crate::Info) has none.
pub(crate) const DEFAULT_DESCRIPTION: &str = "JSON-RPC 2.0 over one WebSocket connection. Both ends may \
send requests and notifications: methods marked `server` are served by the server and called \
by clients, methods marked `client` are served by every connected client and called by the \
server. Params may be sent by name (an object) or by position (an array), unless a method's \
`paramStructure` says which.";

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
