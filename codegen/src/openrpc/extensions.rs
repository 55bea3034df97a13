//! The method-level extensions of the OpenRPC document and their declarations in
//! `x-extensions`.

use serde_json::{Value, json};

/// A method-level extension volley writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Extension {
    /// `x-implemented-by`: which end serves the method.
    ImplementedBy,
    /// `x-error-data`: the schema of the `data` of the method's application errors.
    ErrorData,
    /// `x-error-schemas`: the schema of each of the method's `errors`' `data`, by code.
    ErrorSchemas,
    /// `x-error-type`: the Rust error type of the method's `errors`, and its variants.
    ErrorType,
    /// `x-requires`: what a caller must be allowed.
    Requires,
    /// `x-timeout-ms`: the method's deadline.
    TimeoutMs,
    /// `x-idempotent`: running it twice does no harm.
    Idempotent,
    /// `x-stream`: the method starts a stream.
    Stream,
    /// `x-unsubscribes`: the method cancels a stream.
    Unsubscribes,
}

impl Extension {
    /// The field's name on a method object.
    pub(super) fn name(self) -> &'static str {
        match self {
            Extension::ImplementedBy => "x-implemented-by",
            Extension::ErrorData => "x-error-data",
            Extension::ErrorSchemas => "x-error-schemas",
            Extension::ErrorType => "x-error-type",
            Extension::Requires => "x-requires",
            Extension::TimeoutMs => "x-timeout-ms",
            Extension::Idempotent => "x-idempotent",
            Extension::Stream => "x-stream",
            Extension::Unsubscribes => "x-unsubscribes",
        }
    }

    /// The declaration that goes into `x-extensions`.
    pub(super) fn declaration(self) -> Value {
        let (summary, description, schema) = match self {
            // The shape of open-rpc/tools' `packages/extensions/src/x-implemented-by`.
            Extension::ImplementedBy => (
                "Which peer handles inbound requests for this method (default [\"server\"])",
                "Same shape as open-rpc/tools packages/extensions/src/x-implemented-by",
                json!({
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": true,
                    "items": { "type": "string", "minLength": 1 }
                }),
            ),
            Extension::ErrorData => (
                "The JSON Schema of the `data` member of this method's application errors",
                "`name` is the error type; `schema` describes the `data` of the error objects \
                 the method answers with. Their codes and messages are chosen at run time.",
                json!({
                    "type": "object",
                    "required": ["name", "schema"],
                    "properties": {
                        "name": { "type": "string", "minLength": 1 },
                        "schema": { "type": ["object", "boolean"] }
                    }
                }),
            ),
            Extension::ErrorSchemas => (
                "The JSON Schema of the `data` of each of this method's `errors`, by code",
                "Keys are the codes of the method's `errors` (as strings); each value \
                 describes the `data` member of the error object with that code. An error \
                 listed without an entry here has no `data`.",
                json!({
                    "type": "object",
                    "propertyNames": { "pattern": "^-?[0-9]+$" },
                    "additionalProperties": { "type": ["object", "boolean"] }
                }),
            ),
            Extension::ErrorType => (
                "The error type whose variants are this method's `errors`",
                "`name` is the type; `variants` gives the variant of each of the method's \
                 `errors`, by code (as a string): its name and its docs. Generated clients \
                 name their error types and constants after them.",
                json!({
                    "type": "object",
                    "required": ["name", "variants"],
                    "properties": {
                        "name": { "type": "string", "minLength": 1 },
                        "variants": {
                            "type": "object",
                            "propertyNames": { "pattern": "^-?[0-9]+$" },
                            "additionalProperties": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": { "type": "string", "minLength": 1 },
                                    "description": { "type": "string" }
                                }
                            }
                        }
                    }
                }),
            ),
            Extension::Requires => (
                "What a caller must be allowed to call this method",
                "The name of a requirement the server's authorization policy checks before the \
                 handler runs (for example a role). A caller that does not meet it gets error \
                 -32013 (Forbidden) and the method does not run.",
                json!({ "type": "string", "minLength": 1 }),
            ),
            Extension::TimeoutMs => (
                "The method's deadline, in milliseconds",
                "Generated callers wait this long for the answer by default. The serving side \
                 cancels the handler once it has run this long and answers error -32014 (Timed \
                 out).",
                json!({ "type": "integer", "minimum": 1 }),
            ),
            Extension::Idempotent => (
                "Whether running the method twice does no harm",
                "A call in flight when the connection drops, on a connection that does not \
                 resume its session, is sent again after the reconnect (up to a bound); a call \
                 to a method without it fails with a disconnected error instead.",
                json!({ "type": "boolean" }),
            ),
            Extension::Stream => (
                "The method starts a stream of items (jsonrpsee's subscription convention)",
                "The request is answered with a subscription id (the method's `result`). Then \
                 the serving end sends each item as a notification named `item`, params \
                 `{\"subscription\": id, \"result\": item}` (`schema` describes the item), and \
                 ends the stream with a last one, params `{\"subscription\": id, \"error\": \
                 null}`, or an error object instead of null when it failed. The caller cancels \
                 it with the `unsubscribe` method, params `[id]`.",
                json!({
                    "type": "object",
                    "required": ["item", "unsubscribe", "schema"],
                    "properties": {
                        "item": { "type": "string", "minLength": 1 },
                        "unsubscribe": { "type": "string", "minLength": 1 },
                        "schema": { "type": ["object", "boolean"] }
                    }
                }),
            ),
            Extension::Unsubscribes => (
                "The stream method whose streams this method cancels",
                "The name of a method with `x-stream`: this one takes the subscription id its \
                 answer gave, by position, and answers whether a running stream was cancelled.",
                json!({ "type": "string", "minLength": 1 }),
            ),
        };
        json!({
            "openrpcExtension": "0.0.0-development",
            "name": self.name(),
            "version": "0.0.1",
            "summary": summary,
            "description": description,
            "restricted": ["methodObject"],
            "schema": schema,
        })
    }
}
