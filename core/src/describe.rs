//! Static descriptions of `#[volley::rpc]` traits: the source for documents and generated clients.

pub use schemars::{Schema, SchemaGenerator};

/// Adds a type's JSON Schema to a generator and returns the (sub)schema to use for it, or
/// `None` when the type does not implement `JsonSchema`.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Option<Schema>;

/// Whether a method answers, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// A request: the caller waits for a result or an error.
    Request,
    /// A notification: fire and forget, never answered.
    Notification,
    /// A stream (`#[rpc(stream)]`): the request is answered with a subscription id, then
    /// items come as `item` notifications until the producer ends the stream or the consumer
    /// calls `unsubscribe` (PROTOCOL.md, "Streams"). The method's result schema is the item's.
    Stream {
        /// The notification method the items come as.
        item: &'static str,
        /// The method that cancels the stream.
        unsubscribe: &'static str,
    },
}

impl MethodKind {
    /// Whether the caller gets an answer (a request or a stream's subscribe call).
    pub fn is_answered(self) -> bool {
        !matches!(self, MethodKind::Notification)
    }
}

/// One parameter of a method, as it appears on the wire.
#[derive(Debug, Clone, Copy)]
pub struct ParamDescription {
    /// The name used in by-name params (after `#[rpc(name = "...")]`).
    pub name: &'static str,
    /// The Rust type, as written in the trait.
    pub rust_type: &'static str,
    /// Doc comments on the parameter, if any.
    pub docs: &'static str,
    /// The parameter's JSON Schema.
    pub schema: SchemaFn,
    /// False when the parameter may be left out (its type accepts `null`, like `Option`).
    pub required: fn() -> bool,
}

/// One method of a trait.
#[derive(Debug, Clone, Copy)]
pub struct MethodDescription {
    /// The Rust method name.
    pub rust_name: &'static str,
    /// The JSON-RPC method name, with the namespace applied.
    pub name: &'static str,
    /// Doc comments of the method.
    pub docs: &'static str,
    /// Request or notification.
    pub kind: MethodKind,
    /// Parameters in order (the calling context is not a parameter).
    pub params: &'static [ParamDescription],
    /// The success type, as written (`()` for notifications).
    pub result_type: &'static str,
    /// The error type, as written, when the method returns a `Result`.
    pub error_type: Option<&'static str>,
    /// The success type's JSON Schema (`None` for notifications).
    pub result_schema: SchemaFn,
    /// The error type's JSON Schema, when it has one (describes the error's `data`).
    pub error_schema: SchemaFn,
    /// What a caller must be allowed (`#[rpc(requires = "admin")]`): the server's
    /// authorization policy checks it before the handler runs.
    pub requires: Option<&'static str>,
    /// The default deadline in milliseconds (`#[rpc(timeout = "5s")]`): callers through the
    /// generated stub wait this long, and the serving side cancels the handler after it and
    /// answers -32014 (Timed out).
    pub timeout_ms: Option<u64>,
    /// `#[rpc(idempotent)]`: running it twice does no harm, so a call in flight when the
    /// connection is lost and comes back without resuming is sent again.
    pub idempotent: bool,
    /// The variants of the error type, when it is an [`RpcError`](crate::RpcError) (its
    /// codes, messages and `data` schemas); empty otherwise.
    pub errors: fn() -> &'static [ErrorDescription],
    /// How callers send the params (`#[volley::rpc(params = "..")]` on the trait or
    /// `#[rpc(params = "..")]` on the method): what generated stubs send and what the
    /// OpenRPC document declares as `paramStructure`.
    pub param_structure: ParamStructure,
}

/// How a method's params are sent: OpenRPC's `paramStructure`. A volley peer serving the
/// method accepts both shapes whatever it says; the declaration is for callers, and matters
/// when the serving end is a peer that takes only one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParamStructure {
    /// Nothing declared: stubs send an object of named params, and either shape is accepted
    /// (`"either"`).
    #[default]
    Either,
    /// `params = "named"`: one object of named params (`"by-name"`).
    ByName,
    /// `params = "positional"`: one array, in declaration order (`"by-position"`).
    ByPosition,
}

impl ParamStructure {
    /// The OpenRPC `paramStructure` value: `"either"`, `"by-name"` or `"by-position"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Either => "either",
            Self::ByName => "by-name",
            Self::ByPosition => "by-position",
        }
    }

    /// Reads an OpenRPC `paramStructure` value.
    pub fn from_openrpc(value: &str) -> Option<Self> {
        match value {
            "either" => Some(Self::Either),
            "by-name" => Some(Self::ByName),
            "by-position" => Some(Self::ByPosition),
            _ => None,
        }
    }
}

/// One `#[volley::rpc]` trait.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDescription {
    /// The trait's name.
    pub name: &'static str,
    /// Doc comments of the trait.
    pub docs: &'static str,
    /// The namespace, when the trait has one.
    pub namespace: Option<&'static str>,
    /// The methods, in declaration order.
    pub methods: &'static [MethodDescription],
}

impl ServiceDescription {
    /// Finds a method by its wire name.
    pub fn method(&self, name: &str) -> Option<&'static MethodDescription> {
        self.methods.iter().find(|m| m.name == name)
    }
}

/// One variant of an [`RpcError`](crate::RpcError) type.
#[derive(Debug, Clone, Copy)]
pub struct ErrorDescription {
    /// The variant's name.
    pub variant: &'static str,
    /// Its error code.
    pub code: i32,
    /// Its message template, as written (`"bid too low: at least {minimum}"`); the message
    /// sent has the fields filled in.
    pub message: &'static str,
    /// Doc comments of the variant.
    pub docs: &'static str,
    /// The JSON Schema of its `data` (its fields), or `None` for a variant without fields.
    pub data_schema: SchemaFn,
}
