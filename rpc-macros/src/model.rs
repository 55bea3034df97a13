//! The input model: parses the attribute and the trait, checks every rule, and builds the
//! [`Service`] the renderers read. Every node keeps the spans the user wrote, so errors found
//! later by rustc still point at the user's tokens.

use std::fmt::Display;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Error, Expr, ExprLit, FnArg, Ident, ItemTrait, Lit, LitStr, Meta, Pat, Path,
    Receiver, ReturnType, Token, TraitItem, TraitItemFn, Type, TypeParamBound, Visibility,
};

/// The inherent methods of the generated stub, which no rpc method may shadow.
const STUB_METHODS: &[&str] = &["new", "with_timeout", "peer"];

/// The provided trait method the macro adds.
const INTO_SERVICE: &str = "into_service";

/// One `#[volley::rpc]` trait, checked.
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
    pub(crate) methods: Vec<Method>,
}

/// Whether a method answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Request,
    Notification,
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
    pub(crate) docs: String,
    pub(crate) receiver: Receiver,
    pub(crate) context: Option<ContextParam>,
    pub(crate) params: Vec<Param>,
    pub(crate) kind: Kind,
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
    pub(crate) docs: String,
}

/// Errors collected while checking independent parts of the input.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(Error::new_spanned(tokens, message));
    }

    fn at(&mut self, span: Span, message: impl Display) {
        self.push(Error::new(span, message));
    }
}

/// A string option and where it was written.
struct Spanned<T> {
    value: T,
    span: Span,
}

#[derive(Default)]
struct TraitOptions {
    namespace: Option<Spanned<String>>,
    separator: Option<Spanned<String>>,
    krate: Option<Path>,
}

impl TraitOptions {
    fn parse_one(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("namespace") {
            let lit = non_empty(&meta, "namespace")?;
            set_once(&mut self.namespace, &meta, "namespace", lit)
        } else if meta.path.is_ident("namespace_separator") {
            let lit = non_empty(&meta, "namespace_separator")?;
            set_once(&mut self.separator, &meta, "namespace_separator", lit)
        } else if meta.path.is_ident("crate") {
            let lit: LitStr = meta.value()?.parse()?;
            let path = lit.parse::<Path>().map_err(|_| {
                Error::new(
                    lit.span(),
                    "expected a path such as `::volley` or `my_crate::volley`",
                )
            })?;
            set_once(&mut self.krate, &meta, "crate", path)
        } else {
            Err(meta.error(format!(
                "unknown option `{}`; expected `namespace`, `namespace_separator` or `crate`",
                path_text(&meta.path)
            )))
        }
    }
}

#[derive(Default)]
struct MethodOptions {
    name: Option<Spanned<String>>,
    notification: Option<Span>,
}

impl MethodOptions {
    fn parse_one(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            let lit = non_empty(&meta, "name")?;
            set_once(&mut self.name, &meta, "name", lit)
        } else if meta.path.is_ident("notification") {
            let span = ident_span(&meta.path);
            set_once(&mut self.notification, &meta, "notification", span)
        } else {
            Err(meta.error(format!(
                "unknown method option `{}`; expected `name` or `notification`",
                path_text(&meta.path)
            )))
        }
    }
}

#[derive(Default)]
struct ParamOptions {
    name: Option<Spanned<String>>,
}

impl ParamOptions {
    fn parse_one(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            let lit = non_empty(&meta, "name")?;
            set_once(&mut self.name, &meta, "name", lit)
        } else {
            Err(meta.error(format!(
                "unknown parameter option `{}`; expected `name`",
                path_text(&meta.path)
            )))
        }
    }
}

fn non_empty(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<Spanned<String>> {
    let lit: LitStr = meta.value()?.parse()?;
    let value = lit.value();
    if value.is_empty() {
        return Err(Error::new(lit.span(), format!("`{key}` cannot be empty")));
    }
    Ok(Spanned {
        value,
        span: lit.span(),
    })
}

fn set_once<T>(
    slot: &mut Option<T>,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    value: T,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate option `{key}`")));
    }
    *slot = Some(value);
    Ok(())
}

fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

fn ident_span(path: &Path) -> Span {
    path.segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span())
}

fn is_rpc(attr: &Attribute) -> bool {
    attr.path().is_ident("rpc")
}

fn is_doc(attr: &Attribute) -> bool {
    attr.path().is_ident("doc")
}

fn is_cfg(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr")
}

/// Joins `#[doc = "..."]` lines, removing one leading space per line (what `///` adds) and
/// blank lines at either end. Docs that are not string literals are skipped.
pub(crate) fn docs(attrs: &[Attribute]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for attr in attrs.iter().filter(|a| is_doc(a)) {
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
        {
            for line in s.value().split('\n') {
                let line = line.strip_prefix(' ').unwrap_or(line);
                lines.push(line.trim_end().to_owned());
            }
        }
    }
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |i| i + 1);
    lines[start..end].join("\n")
}

/// True when `ty` contains `impl Trait` anywhere.
fn has_impl_trait(tokens: TokenStream) -> Option<Span> {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) if ident == "impl" => return Some(ident.span()),
            TokenTree::Group(group) => {
                if let Some(span) = has_impl_trait(group.stream()) {
                    return Some(span);
                }
            }
            _ => {}
        }
    }
    None
}

/// `&Context`, `&volley::Context`, `&mut ...::Context`: a reference to a path ending in `Context`.
fn context_ref(ty: &Type) -> Option<&syn::TypeReference> {
    let Type::Reference(reference) = ty else {
        return None;
    };
    let mut inner = &*reference.elem;
    while let Type::Paren(p) = inner {
        inner = &p.elem;
    }
    match inner {
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            (last.ident == "Context").then_some(reference)
        }
        _ => None,
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

impl Service {
    /// Parses the attribute's arguments and the trait, checking every rule.
    pub(crate) fn parse(args: TokenStream, item: &ItemTrait) -> syn::Result<Service> {
        let mut errors = Errors::default();

        let mut options = TraitOptions::default();
        if let Err(e) = syn::meta::parser(|meta| options.parse_one(meta)).parse2(args) {
            errors.push(e);
        }
        for attr in item.attrs.iter().filter(|a| is_rpc(a)) {
            if let Err(e) = attr.parse_nested_meta(|meta| options.parse_one(meta)) {
                errors.push(e);
            }
        }
        if let (Some(sep), None) = (&options.separator, &options.namespace) {
            errors.at(sep.span, "`namespace_separator` needs a `namespace`");
        }

        if let Some(unsafety) = &item.unsafety {
            errors.spanned(unsafety, "rpc traits cannot be `unsafe`");
        }
        if let Some(auto) = &item.auto_token {
            errors.spanned(auto, "rpc traits cannot be `auto` traits");
        }
        if !item.generics.params.is_empty() {
            errors.spanned(
                &item.generics,
                "rpc traits cannot have generic parameters; a trait is one fixed set of \
                 wire methods, so use concrete types in its methods",
            );
        }
        if let Some(where_clause) = &item.generics.where_clause {
            errors.spanned(where_clause, "rpc traits cannot have a `where` clause");
        }

        let naming = Naming {
            namespace: options.namespace.as_ref().map(|n| n.value.as_str()),
            separator: options.separator.as_ref().map_or(".", |s| s.value.as_str()),
        };

        let mut methods: Vec<Method> = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                TraitItem::Fn(f) => {
                    let (method, name_span) = parse_method(f, &naming, &item.ident, &mut errors);
                    if methods.iter().any(|m| m.wire_name == method.wire_name) {
                        errors.at(
                            name_span,
                            format!(
                                "duplicate method name `{}`; each method needs its own wire name",
                                method.wire_name
                            ),
                        );
                    }
                    methods.push(method);
                }
                TraitItem::Const(c) => {
                    let (const_token, ident) = (&c.const_token, &c.ident);
                    errors.spanned(
                        quote!(#const_token #ident),
                        "rpc traits cannot have associated constants; only `async fn` methods",
                    );
                }
                TraitItem::Type(t) => {
                    let (type_token, ident) = (&t.type_token, &t.ident);
                    errors.spanned(
                        quote!(#type_token #ident),
                        "rpc traits cannot have associated types; only `async fn` methods",
                    );
                }
                TraitItem::Macro(m) => {
                    errors.spanned(
                        &m.mac.path,
                        "rpc traits cannot contain macro invocations; only `async fn` methods",
                    );
                }
                other => errors.spanned(other, "only `async fn` methods can go in an rpc trait"),
            }
        }
        // Every notification also gets a non-waiting `try_<name>` on the stub.
        for method in &methods {
            if let Some(base) = method.rust_name.strip_prefix("try_")
                && methods
                    .iter()
                    .any(|n| matches!(n.kind, Kind::Notification) && n.rust_name == base)
            {
                errors.at(
                    method.ident.span(),
                    format!(
                        "a method named `{}` clashes with `{}Client::{}`, the non-waiting form of \
                         the notification `{base}`; rename it and keep the wire name with \
                         `#[rpc(name = \"{}\")]`",
                        method.rust_name, item.ident, method.rust_name, method.rust_name
                    ),
                );
            }
        }

        if let Some(e) = errors.0 {
            return Err(e);
        }

        let name = item.ident.unraw().to_string();
        Ok(Service {
            krate: options.krate.unwrap_or_else(|| syn::parse_quote!(::volley)),
            attrs: item.attrs.iter().filter(|a| !is_rpc(a)).cloned().collect(),
            vis: item.vis.clone(),
            trait_token: item.trait_token,
            ident: item.ident.clone(),
            supertraits: item.supertraits.clone(),
            client: format_ident!("{}Client", name, span = item.ident.span()),
            name,
            docs: docs(&item.attrs),
            namespace: options.namespace.map(|n| n.value),
            methods,
        })
    }
}

impl Service {
    /// `<crate>::__private`, where the generated code finds its runtime.
    pub(crate) fn private(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::__private)
    }

    /// `<crate>::__private` with every token at `span`, so that an error in an expression
    /// built from it points at the user's token there rather than at the attribute.
    pub(crate) fn private_at(&self, span: Span) -> TokenStream {
        respan(self.private(), span)
    }
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// How wire names are built.
struct Naming<'a> {
    namespace: Option<&'a str>,
    separator: &'a str,
}

impl Naming<'_> {
    fn wire_name(&self, name: &str) -> String {
        match self.namespace {
            Some(ns) => format!("{ns}{}{name}", self.separator),
            None => name.to_owned(),
        }
    }
}

/// Checks one method. Returns it (best effort when errors were found) and the span that a
/// duplicate-name error should point at.
fn parse_method(
    f: &TraitItemFn,
    naming: &Naming<'_>,
    trait_ident: &Ident,
    errors: &mut Errors,
) -> (Method, Span) {
    let sig = &f.sig;

    let mut options = MethodOptions::default();
    for attr in &f.attrs {
        if is_rpc(attr) {
            if let Err(e) = attr.parse_nested_meta(|meta| options.parse_one(meta)) {
                errors.push(e);
            }
        } else if is_cfg(attr) {
            errors.spanned(
                attr,
                "`#[cfg]` is not supported on rpc methods; put it on the whole trait",
            );
        }
    }

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

    let rust_name = sig.ident.unraw().to_string();
    if STUB_METHODS.contains(&rust_name.as_str()) {
        errors.at(
            sig.ident.span(),
            format!(
                "a method named `{rust_name}` clashes with `{trait_ident}Client::{rust_name}`; \
                 rename it and keep the wire name with `#[rpc(name = \"{rust_name}\")]`"
            ),
        );
    } else if rust_name == INTO_SERVICE {
        errors.at(
            sig.ident.span(),
            format!(
                "a method named `{INTO_SERVICE}` clashes with the method the macro adds; rename \
                 it and keep the wire name with `#[rpc(name = \"{INTO_SERVICE}\")]`"
            ),
        );
    }

    let (name, name_span) = match &options.name {
        Some(n) => (n.value.clone(), n.span),
        None => (rust_name.clone(), sig.ident.span()),
    };
    let wire_name = naming.wire_name(&name);
    if wire_name.starts_with("rpc.") {
        errors.at(
            name_span,
            format!(
                "the method name `{wire_name}` is reserved: JSON-RPC keeps names starting with \
                 `rpc.` for extensions"
            ),
        );
    }

    let mut inputs = sig.inputs.iter();
    let receiver = match inputs.next() {
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
    };

    let mut context = None;
    let mut params: Vec<Param> = Vec::new();
    for (index, arg) in inputs.enumerate() {
        let FnArg::Typed(arg) = arg else {
            errors.spanned(arg, "`self` can only be the first parameter");
            continue;
        };

        let mut options = ParamOptions::default();
        for attr in &arg.attrs {
            if is_rpc(attr) {
                if let Err(e) = attr.parse_nested_meta(|meta| options.parse_one(meta)) {
                    errors.push(e);
                }
            } else if is_cfg(attr) {
                errors.spanned(attr, "`#[cfg]` is not supported on rpc parameters");
            }
        }

        let ident = match &*arg.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
                p.ident.clone()
            }
            other => {
                errors.spanned(
                    other,
                    "rpc parameters must be plain identifiers such as `value`; their names \
                     are the names on the wire",
                );
                format_ident!("__param{}", index)
            }
        };
        if let Some(span) = has_impl_trait(arg.ty.to_token_stream()) {
            errors.at(
                span,
                "rpc methods cannot take `impl Trait`: every parameter needs one concrete type",
            );
        }

        let kept: Vec<Attribute> = arg
            .attrs
            .iter()
            .filter(|a| !is_rpc(a) && !is_doc(a))
            .cloned()
            .collect();

        if let Some(reference) = context_ref(&arg.ty) {
            if index > 0 {
                errors.spanned(
                    &arg.ty,
                    "the context must be the first parameter after `&self`",
                );
            } else if let Some(mutability) = &reference.mutability {
                errors.spanned(
                    mutability,
                    "take the context by shared reference: `&Context`",
                );
            }
            if let Some(name) = &options.name {
                errors.at(
                    name.span,
                    "the context is not sent on the wire and has no name",
                );
            }
            context = Some(ContextParam {
                attrs: kept,
                ident,
                ty: (*arg.ty).clone(),
            });
            continue;
        }

        let (name, span) = match &options.name {
            Some(n) => (n.value.clone(), n.span),
            None => (ident.unraw().to_string(), ident.span()),
        };
        if params.iter().any(|p| p.name == name) {
            errors.at(span, format!("duplicate parameter name `{name}`"));
        }
        params.push(Param {
            attrs: kept,
            ident,
            ty: (*arg.ty).clone(),
            name,
            docs: docs(&arg.attrs),
        });
    }

    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => {
            if let Some(span) = has_impl_trait(ty.to_token_stream()) {
                errors.at(
                    span,
                    "rpc methods cannot return `impl Trait`: use a concrete type",
                );
            }
            Some((**ty).clone())
        }
    };
    let kind = if options.notification.is_some() {
        if let Some(ty) = output.as_ref().filter(|ty| !is_unit(ty)) {
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
    };

    let method = Method {
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
        wire_name,
        docs: docs(&f.attrs),
        receiver,
        context,
        params,
        kind,
        output,
        output_span: sig.ident.span(),
    };
    (method, name_span)
}

/// The trait as the user wrote it, minus what would make rustc repeat an error already
/// reported (attributes only this macro understands, docs and patterns on parameters): what
/// is emitted next to the errors, so that the rest of the user's code still type-checks.
pub(crate) fn strip(mut item: ItemTrait) -> ItemTrait {
    item.attrs.retain(|a| !is_rpc(a));
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            f.attrs.retain(|a| !is_rpc(a));
            for arg in &mut f.sig.inputs {
                if let FnArg::Typed(arg) = arg {
                    arg.attrs.retain(|a| !is_rpc(a) && !is_doc(a));
                    if f.default.is_none()
                        && !matches!(&*arg.pat, Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none())
                    {
                        *arg.pat = syn::parse_quote!(_);
                    }
                }
            }
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Service> {
        Service::parse(args, &syn::parse2(item).expect("a trait"))
    }

    fn messages(args: TokenStream, item: TokenStream) -> Vec<String> {
        match parse(args, item) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn names_and_context() {
        let s = parse(
            quote!(namespace = "calc"),
            quote! {
                /// Docs.
                ///
                ///  Indented.
                pub trait Calc {
                    async fn add(&self, a: i64, r#type: i64) -> volley::Result<i64>;
                    #[rpc(name = "otherName")]
                    async fn ask(&self, cx: &volley::Context, #[rpc(name = "q")] question: String) -> volley::Result<bool>;
                    #[rpc(notification)]
                    async fn log(&self, msg: String);
                }
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.docs, "Docs.\n\n Indented.");
        assert_eq!(s.client, "CalcClient");
        let names: Vec<_> = s.methods.iter().map(|m| m.wire_name.as_str()).collect();
        assert_eq!(names, ["calc.add", "calc.otherName", "calc.log"]);
        let params: Vec<_> = s.methods[0]
            .params
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(params, ["a", "type"]);
        assert!(s.methods[1].context.is_some());
        assert_eq!(s.methods[1].params[0].name, "q");
        assert!(s.methods[2].kind == Kind::Notification);
    }

    #[test]
    fn separator() {
        let s = parse(
            quote!(namespace = "calc", namespace_separator = "_"),
            quote!(
                trait T {
                    async fn add(&self) -> R;
                }
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.methods[0].wire_name, "calc_add");
    }

    #[test]
    fn independent_errors_are_all_reported() {
        let errors = messages(
            quote!(),
            quote! {
                trait T {
                    fn a(&self) -> R;
                    async fn b(self) -> R;
                    async fn c<T>(&self) -> R;
                    type X;
                }
            },
        );
        assert_eq!(errors.len(), 4, "{errors:?}");
    }

    #[test]
    fn unknown_options() {
        let errors = messages(
            quote!(foo = "x"),
            quote!(
                trait T {}
            ),
        );
        assert_eq!(
            errors,
            ["unknown option `foo`; expected `namespace`, `namespace_separator` or `crate`"]
        );
        let errors = messages(
            quote!(),
            quote!(
                trait T {
                    #[rpc(foo)]
                    async fn a(&self) -> R;
                }
            ),
        );
        assert_eq!(
            errors,
            ["unknown method option `foo`; expected `name` or `notification`"]
        );
    }

    #[test]
    fn duplicates() {
        let errors = messages(
            quote!(),
            quote!(
                trait T {
                    async fn a(&self) -> R;
                    #[rpc(name = "a")]
                    async fn b(&self, x: u8, #[rpc(name = "x")] y: u8) -> R;
                }
            ),
        );
        assert_eq!(
            errors,
            [
                "duplicate parameter name `x`",
                "duplicate method name `a`; each method needs its own wire name"
            ]
        );
    }

    #[test]
    fn strip_keeps_the_trait_minus_macro_syntax() {
        let item: ItemTrait = syn::parse2(quote! {
            #[rpc(namespace = "x")]
            /// Docs.
            trait T {
                #[rpc(name = "b")]
                fn a(&self, #[rpc(name = "y")] /** d */ x: u8, (p, q): (u8, u8));
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let stripped = strip(item).to_token_stream().to_string();
        let expected = quote! {
            #[doc = r" Docs."]
            trait T {
                fn a(&self, x: u8, _: (u8, u8));
            }
        };
        assert_eq!(stripped, expected.to_string());
    }

    #[test]
    fn doc_blocks() {
        let item: ItemTrait = syn::parse2(quote! {
            #[doc = "\n  first\n  second\n"]
            trait T {}
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(docs(&item.attrs), " first\n second");
    }
}
