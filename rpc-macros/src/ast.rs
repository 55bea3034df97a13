//! The intermediate representation: one `#[volley::rpc]` trait as `parse` reads it, `valid`
//! checks it and `expand` renders it. Data only. Every node keeps the tokens and spans the
//! user wrote, so that errors rustc finds in the generated code point at the user's tokens.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Path, Receiver, Token, Type, TypeParamBound, Visibility};

pub(crate) use crate::attr::ParamStyle;

/// One `#[volley::rpc]` trait. Rendered only when no rule is broken.
pub(crate) struct Service {
    /// The path of the facade crate (`::volley` unless `crate = "..."` says otherwise).
    pub(crate) krate: Path,
    /// The trait's attributes, `#[rpc(...)]` removed.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) trait_token: Token![trait],
    pub(crate) ident: Ident,
    /// Supertraits the user wrote (the macro adds `Send + Sync + 'static`).
    pub(crate) supertraits: Punctuated<TypeParamBound, Token![+]>,
    /// The trait's name without `r#`.
    pub(crate) name: String,
    pub(crate) docs: String,
    pub(crate) namespace: Option<String>,
    /// The name of the generated stub, `<Trait>Client`.
    pub(crate) client: Ident,
    /// The name of the generated fan-out stub, `<Trait>Fanout`.
    pub(crate) fanout: Ident,
    pub(crate) methods: Vec<Method>,
}

/// Whether a method answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Request,
    Notification,
    /// `#[rpc(stream)]`: answered with a subscription id, then items.
    Stream,
}

/// The other wire names of a stream method.
pub(crate) struct StreamNames {
    pub(crate) item: String,
    pub(crate) item_span: Span,
    pub(crate) unsubscribe: String,
    pub(crate) unsubscribe_span: Span,
}

/// One method of the trait.
pub(crate) struct Method {
    /// Attributes kept on the trait method (docs, `#[deprecated]`, lints, ...).
    pub(crate) attrs: Vec<Attribute>,
    /// Attributes carried over to the stub method (docs and `#[deprecated]`).
    pub(crate) stub_attrs: Vec<Attribute>,
    pub(crate) fn_token: Token![fn],
    pub(crate) ident: Ident,
    /// The Rust name without `r#`.
    pub(crate) rust_name: String,
    /// The JSON-RPC method name, namespace applied.
    pub(crate) wire_name: String,
    /// Where the wire name was written: the `name = ".."` string, else the method's name.
    pub(crate) name_span: Span,
    pub(crate) docs: String,
    pub(crate) receiver: Receiver,
    pub(crate) context: Option<ContextParam>,
    pub(crate) params: Vec<Param>,
    pub(crate) kind: Kind,
    /// A stream's item notification and unsubscribe method (wire names, namespace applied).
    pub(crate) stream: Option<StreamNames>,
    /// The authorization requirement (`requires = ".."`), checked by the server's policy
    /// before the handler runs.
    pub(crate) requires: Option<String>,
    /// The default deadline in milliseconds (`timeout = ".."`): callers' and the handler's.
    pub(crate) timeout_ms: Option<u64>,
    /// `idempotent`: a call in flight when the connection drops may be sent again.
    pub(crate) idempotent: bool,
    /// `params = ".."` on the method, else on the trait; `None` when neither says: stubs send
    /// by name, and the description says either is accepted.
    pub(crate) param_style: Option<ParamStyle>,
    /// The return type as written; `None` when omitted.
    pub(crate) output: Option<Type>,
    /// Where a missing return type would be: the method's name.
    pub(crate) output_span: Span,
}

/// The `cx: &volley::Context` parameter: passed by the runtime, not sent on the wire.
pub(crate) struct ContextParam {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

/// One wire parameter.
pub(crate) struct Param {
    /// Attributes kept on the parameter (lint attributes).
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The name used in by-name params.
    pub(crate) name: String,
    /// Where that name was written: the `name = ".."` string, else the parameter's name.
    pub(crate) name_span: Span,
    pub(crate) docs: String,
}
