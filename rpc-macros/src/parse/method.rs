//! One method: its options, its signature (a plain `async fn` taking `&self`), its
//! parameters (read by `param`) and its return type, which decides request or notification.

use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{FnArg, Receiver, ReturnType, Signature, TraitItemFn, Type};

use super::param::{impl_trait, params};
use crate::ast::{Kind, Method, StreamNames};
use crate::attr::{self, is_doc, is_rpc};
use crate::ctxt::Errors;

/// One method, best effort when it breaks a rule.
pub(super) fn method(f: &TraitItemFn, naming: &Naming<'_>, errors: &mut Errors) -> Method {
    let sig = &f.sig;
    let options = attr::method_options(&f.attrs, errors);
    signature(f, errors);
    let rust_name = sig.ident.unraw().to_string();
    let (name, name_span) = match &options.name {
        Some(n) => (n.value.clone(), n.span),
        None => (rust_name.clone(), sig.ident.span()),
    };
    let mut inputs = sig.inputs.iter();
    let receiver = receiver(sig, inputs.next(), errors);
    let (context, params) = params(inputs, errors);
    let output = output(&sig.output, errors);
    let kind = kind(sig, &options, output.as_ref(), errors);
    let stream = stream_names(&options, kind, &name, name_span, naming, errors);
    if kind == Kind::Notification {
        if let Some(t) = &options.timeout {
            errors.at(
                t.span,
                "notifications have no deadline: no answer is awaited",
            );
        }
        if let Some(span) = options.idempotent {
            errors.at(
                span,
                "notifications are never sent again; `idempotent` is for requests",
            );
        }
    }
    Method {
        attrs: f.attrs.iter().filter(|a| !is_rpc(a)).cloned().collect(),
        stub_attrs: f
            .attrs
            .iter()
            .filter(|a| is_doc(a) || a.path().is_ident("deprecated"))
            .cloned()
            .collect(),
        fn_token: sig.fn_token,
        ident: sig.ident.clone(),
        rust_name,
        wire_name: naming.wire_name(&name),
        name_span,
        requires: options.requires.as_ref().map(|r| r.value.clone()),
        timeout_ms: options.timeout.as_ref().map(|t| t.value),
        idempotent: options.idempotent.is_some(),
        param_style: options.params.as_ref().map(|p| p.value).or(naming.params),
        docs: attr::docs(&f.attrs),
        receiver,
        context,
        params,
        kind,
        stream,
        output,
        output_span: sig.ident.span(),
    }
}

/// A stream's item notification and unsubscribe method: as given, else derived from its
/// name (`subscribe_load`: `load` and `unsubscribe_load`), with the namespace applied.
fn stream_names(
    options: &attr::MethodOptions,
    kind: Kind,
    name: &str,
    name_span: proc_macro2::Span,
    naming: &Naming<'_>,
    errors: &mut Errors,
) -> Option<StreamNames> {
    if kind != Kind::Stream {
        for (option, key) in [
            (&options.item, "item"),
            (&options.unsubscribe, "unsubscribe"),
        ] {
            if let Some(o) = option {
                errors.at(
                    o.span,
                    format!("`{key}` names a stream's method; add `stream`"),
                );
            }
        }
        return None;
    }
    if let Some(span) = options.idempotent {
        errors.at(
            span,
            "a stream is never opened twice; `idempotent` is for requests",
        );
    }
    let (item, item_span) = match &options.item {
        Some(i) => (i.value.clone(), i.span),
        None => (default_item(name), name_span),
    };
    let (unsubscribe, unsubscribe_span) = match &options.unsubscribe {
        Some(u) => (u.value.clone(), u.span),
        None => (format!("un{name}"), name_span),
    };
    Some(StreamNames {
        item: naming.wire_name(&item),
        item_span,
        unsubscribe: naming.wire_name(&unsubscribe),
        unsubscribe_span,
    })
}

/// The default item notification of a stream method `name`, as `volley::stream::default_item`
/// computes it: `subscribe_load` and `subscribeLoad` give `load`; other names `<name>_item`.
fn default_item(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("subscribe_").filter(|r| !r.is_empty()) {
        return rest.to_owned();
    }
    if let Some(rest) = name.strip_prefix("subscribe")
        && let Some(first) = rest.chars().next()
        && first.is_uppercase()
    {
        return first.to_lowercase().chain(rest.chars().skip(1)).collect();
    }
    format!("{name}_item")
}

/// How wire names are built.
pub(super) struct Naming<'a> {
    pub(super) namespace: Option<&'a str>,
    pub(super) separator: &'a str,
    /// The trait's `params = ".."`, for methods that do not say.
    pub(super) params: Option<crate::ast::ParamStyle>,
}

impl Naming<'_> {
    fn wire_name(&self, name: &str) -> String {
        match self.namespace {
            Some(ns) => format!("{ns}{}{name}", self.separator),
            None => name.to_owned(),
        }
    }
}

/// Only a plain `async fn` with no body can be served.
fn signature(f: &TraitItemFn, errors: &mut Errors) {
    let sig = &f.sig;
    if let Some(constness) = &sig.constness {
        errors.spanned(constness, "rpc methods cannot be `const`");
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(unsafety, "rpc methods cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "rpc methods cannot have an `extern` ABI");
    }
    if sig.asyncness.is_none() {
        errors.spanned(sig.fn_token, "rpc methods must be `async fn`");
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "rpc methods cannot be generic: every parameter and the result must have one \
             concrete type to be sent as JSON",
        );
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.spanned(where_clause, "rpc methods cannot have a `where` clause");
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "rpc methods cannot be variadic");
    }
    if let Some(body) = &f.default {
        errors.at(
            body.brace_token.span.open(),
            "rpc trait methods cannot have a default body; implement the method in the `impl`",
        );
    }
}

/// The receiver, which must be `&self`; `&self` stands in when there is none.
fn receiver(sig: &Signature, first: Option<&FnArg>, errors: &mut Errors) -> Receiver {
    match first {
        Some(FnArg::Receiver(r)) => {
            if r.colon_token.is_some() {
                errors.spanned(r, "rpc methods take `&self`; write the receiver as `&self`");
            } else if r.reference.is_none() {
                errors.spanned(
                    r,
                    "rpc methods take `&self`, not `self`: one value serves every call",
                );
            } else if let Some(mutability) = &r.mutability {
                errors.spanned(
                    mutability,
                    "rpc methods take `&self`, not `&mut self`: calls run concurrently",
                );
            }
            r.clone()
        }
        Some(FnArg::Typed(t)) => {
            errors.spanned(t, "rpc methods take `&self` as their first parameter");
            syn::parse_quote!(&self)
        }
        None => {
            errors.at(
                sig.paren_token.span.join(),
                "rpc methods take `&self` as their first parameter",
            );
            syn::parse_quote!(&self)
        }
    }
}

/// The return type as written; `impl Trait` is refused.
fn output(output: &ReturnType, errors: &mut Errors) -> Option<Type> {
    match output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => {
            if let Some(span) = impl_trait(ty.to_token_stream()) {
                errors.at(
                    span,
                    "rpc methods cannot return `impl Trait`: use a concrete type",
                );
            }
            Some((**ty).clone())
        }
    }
}

/// A request or a stream must return something; a notification returns nothing.
fn kind(
    sig: &Signature,
    options: &attr::MethodOptions,
    output: Option<&Type>,
    errors: &mut Errors,
) -> Kind {
    if let (Some(_), Some(stream)) = (options.notification, options.stream) {
        errors.at(stream, "a method is a stream or a notification, not both");
    }
    if options.stream.is_some() {
        if output.is_none() {
            errors.at(
                sig.ident.span(),
                "stream methods must return `Result<ItemStream<T>, E>` such as \
                 `volley::Result<volley::ItemStream<T>>`",
            );
        }
        return Kind::Stream;
    }
    if options.notification.is_some() {
        if let Some(ty) = output.filter(|ty| !is_unit(ty)) {
            errors.spanned(
                ty,
                "notifications have no response; remove the return type or drop \
                 `#[rpc(notification)]`",
            );
        }
        Kind::Notification
    } else {
        if output.is_none() {
            errors.at(
                sig.ident.span(),
                "rpc methods must return `Result<T, E>` such as `volley::Result<()>`; mark a \
                 method that sends no response `#[rpc(notification)]`",
            );
        }
        Kind::Request
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn messages(method: TokenStream) -> Vec<String> {
        let f: TraitItemFn = syn::parse2(method).unwrap_or_else(|e| panic!("{e}"));
        let naming = Naming {
            namespace: None,
            separator: ".",
            params: None,
        };
        let mut errors = Errors::default();
        super::method(&f, &naming, &mut errors);
        errors.messages()
    }

    #[test]
    fn receivers() {
        let cases = [
            (
                quote!(
                    async fn a(&self) -> R;
                ),
                None,
            ),
            (
                quote!(
                    async fn a(self: &Self) -> R;
                ),
                Some("rpc methods take `&self`; write the receiver as `&self`"),
            ),
            (
                quote!(
                    async fn a(&mut self) -> R;
                ),
                Some("rpc methods take `&self`, not `&mut self`: calls run concurrently"),
            ),
            (
                quote!(
                    async fn a(x: u8) -> R;
                ),
                Some("rpc methods take `&self` as their first parameter"),
            ),
            (
                quote!(
                    async fn a() -> R;
                ),
                Some("rpc methods take `&self` as their first parameter"),
            ),
        ];
        for (method, expected) in cases {
            assert_eq!(messages(method), Vec::from_iter(expected));
        }
    }

    #[test]
    fn requests_and_notifications() {
        assert!(
            messages(quote!(
                #[rpc(notification)]
                async fn a(&self) -> ();
            ))
            .is_empty()
        );
        assert_eq!(
            messages(quote!(
                #[rpc(notification)]
                async fn a(&self) -> u8;
            )),
            [
                "notifications have no response; remove the return type or drop \
                 `#[rpc(notification)]`"
            ]
        );
        assert_eq!(
            messages(quote!(
                async fn a(&self);
            )),
            [
                "rpc methods must return `Result<T, E>` such as `volley::Result<()>`; mark a \
                 method that sends no response `#[rpc(notification)]`"
            ]
        );
        assert_eq!(
            messages(quote!(
                async fn a(&self) -> impl Send;
            )),
            ["rpc methods cannot return `impl Trait`: use a concrete type"]
        );
    }
}
