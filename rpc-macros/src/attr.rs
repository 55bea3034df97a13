//! The attributes the macro reads: its options (`#[volley::rpc(..)]` or `#[rpc(..)]` on the
//! trait, `#[rpc(..)]` on a method or a parameter), `#[cfg]`, which it refuses inside the
//! trait, and doc comments, which it copies into the description.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, Error, Expr, ExprLit, Lit, LitStr, Meta, Path};

use crate::ctxt::Errors;

/// An option's value and where it was written.
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// How a method's params travel: `params = "named"` (one object) or `params = "positional"`
/// (one array, in declaration order).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ParamStyle {
    Named,
    Positional,
}

/// `namespace = ".."`, `namespace_separator = ".."`, `crate = ".."`, `params = ".."`.
#[derive(Default)]
pub(crate) struct TraitOptions {
    pub(crate) namespace: Option<Spanned<String>>,
    pub(crate) separator: Option<Spanned<String>>,
    pub(crate) krate: Option<Path>,
    pub(crate) params: Option<Spanned<ParamStyle>>,
}

/// `name = ".."`, `notification`, `stream`, `item = ".."`, `unsubscribe = ".."`,
/// `requires = ".."`, `timeout = ".."`, `idempotent`, `params = ".."`.
#[derive(Default)]
pub(crate) struct MethodOptions {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) notification: Option<Span>,
    pub(crate) stream: Option<Span>,
    /// A stream's item notification.
    pub(crate) item: Option<Spanned<String>>,
    /// A stream's unsubscribe method.
    pub(crate) unsubscribe: Option<Spanned<String>>,
    pub(crate) requires: Option<Spanned<String>>,
    /// The deadline in milliseconds.
    pub(crate) timeout: Option<Spanned<u64>>,
    pub(crate) idempotent: Option<Span>,
    pub(crate) params: Option<Spanned<ParamStyle>>,
}

/// `name = ".."`.
#[derive(Default)]
pub(crate) struct ParamOptions {
    pub(crate) name: Option<Spanned<String>>,
}

/// The options in the attribute's arguments and in any `#[rpc(..)]` on the trait.
pub(crate) fn trait_options(
    args: TokenStream,
    attrs: &[Attribute],
    errors: &mut Errors,
) -> TraitOptions {
    let mut options = TraitOptions::default();
    if let Err(e) = syn::meta::parser(|meta| options.parse_one(meta)).parse2(args) {
        errors.push(e);
    }
    for attr in attrs.iter().filter(|a| is_rpc(a)) {
        if let Err(e) = attr.parse_nested_meta(|meta| options.parse_one(meta)) {
            errors.push(e);
        }
    }
    if let (Some(sep), None) = (&options.separator, &options.namespace) {
        errors.at(sep.span, "`namespace_separator` needs a `namespace`");
    }
    options
}

/// The options in a method's `#[rpc(..)]`; `#[cfg]` is refused.
pub(crate) fn method_options(attrs: &[Attribute], errors: &mut Errors) -> MethodOptions {
    let mut options = MethodOptions::default();
    for attr in attrs {
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
    options
}

/// The options in a parameter's `#[rpc(..)]`; `#[cfg]` is refused.
pub(crate) fn param_options(attrs: &[Attribute], errors: &mut Errors) -> ParamOptions {
    let mut options = ParamOptions::default();
    for attr in attrs {
        if is_rpc(attr) {
            if let Err(e) = attr.parse_nested_meta(|meta| options.parse_one(meta)) {
                errors.push(e);
            }
        } else if is_cfg(attr) {
            errors.spanned(attr, "`#[cfg]` is not supported on rpc parameters");
        }
    }
    options
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
        } else if meta.path.is_ident("params") {
            let style = param_style(&meta)?;
            set_once(&mut self.params, &meta, "params", style)
        } else {
            Err(meta.error(format!(
                "unknown option `{}`; expected `namespace`, `namespace_separator`, `crate` or \
                 `params`",
                path_text(&meta.path)
            )))
        }
    }
}

impl MethodOptions {
    fn parse_one(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            let lit = non_empty(&meta, "name")?;
            set_once(&mut self.name, &meta, "name", lit)
        } else if meta.path.is_ident("notification") {
            let span = ident_span(&meta.path);
            set_once(&mut self.notification, &meta, "notification", span)
        } else if meta.path.is_ident("stream") {
            let span = ident_span(&meta.path);
            set_once(&mut self.stream, &meta, "stream", span)
        } else if meta.path.is_ident("item") {
            let lit = non_empty(&meta, "item")?;
            set_once(&mut self.item, &meta, "item", lit)
        } else if meta.path.is_ident("unsubscribe") {
            let lit = non_empty(&meta, "unsubscribe")?;
            set_once(&mut self.unsubscribe, &meta, "unsubscribe", lit)
        } else if meta.path.is_ident("requires") {
            let lit = non_empty(&meta, "requires")?;
            set_once(&mut self.requires, &meta, "requires", lit)
        } else if meta.path.is_ident("timeout") {
            let lit: LitStr = meta.value()?.parse()?;
            let millis = duration_millis(&lit.value()).map_err(|e| Error::new(lit.span(), e))?;
            let value = Spanned {
                value: millis,
                span: lit.span(),
            };
            set_once(&mut self.timeout, &meta, "timeout", value)
        } else if meta.path.is_ident("idempotent") {
            let span = ident_span(&meta.path);
            set_once(&mut self.idempotent, &meta, "idempotent", span)
        } else if meta.path.is_ident("params") {
            let style = param_style(&meta)?;
            set_once(&mut self.params, &meta, "params", style)
        } else {
            Err(meta.error(format!(
                "unknown method option `{}`; expected `name`, `notification`, `stream`, \
                 `item`, `unsubscribe`, `requires`, `timeout`, `idempotent` or `params`",
                path_text(&meta.path)
            )))
        }
    }
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

/// `"250ms"`, `"5s"`, `"2m"` in milliseconds: a whole number above zero and a unit.
fn duration_millis(text: &str) -> Result<u64, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => {
            return Err(format!(
                "`timeout` takes a whole number and a unit: \"250ms\", \"5s\" or \"2m\", not {text:?}"
            ));
        }
    };
    match digits.parse::<u64>() {
        Ok(0) => Err("`timeout` must be above zero".to_owned()),
        Ok(n) => n
            .checked_mul(scale)
            .ok_or_else(|| format!("`timeout` {text:?} is too long")),
        Err(_) => Err(format!(
            "`timeout` takes a whole number and a unit: \"250ms\", \"5s\" or \"2m\", not {text:?}"
        )),
    }
}

/// `params = "named"` or `params = "positional"`.
fn param_style(meta: &ParseNestedMeta<'_>) -> syn::Result<Spanned<ParamStyle>> {
    let lit: LitStr = meta.value()?.parse()?;
    let value = match lit.value().as_str() {
        "named" => ParamStyle::Named,
        "positional" => ParamStyle::Positional,
        other => {
            return Err(Error::new(
                lit.span(),
                format!("`params` is \"named\" or \"positional\", not {other:?}"),
            ));
        }
    };
    Ok(Spanned {
        value,
        span: lit.span(),
    })
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

pub(crate) fn is_rpc(attr: &Attribute) -> bool {
    attr.path().is_ident("rpc")
}

pub(crate) fn is_doc(attr: &Attribute) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use syn::{ItemTrait, TraitItemFn};

    fn trait_messages(args: TokenStream, item: TokenStream) -> Vec<String> {
        let item: ItemTrait = syn::parse2(item).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        trait_options(args, &item.attrs, &mut errors);
        errors.messages()
    }

    fn method_messages(method: TokenStream) -> Vec<String> {
        let method: TraitItemFn = syn::parse2(method).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        method_options(&method.attrs, &mut errors);
        for arg in &method.sig.inputs {
            if let syn::FnArg::Typed(arg) = arg {
                param_options(&arg.attrs, &mut errors);
            }
        }
        errors.messages()
    }

    #[test]
    fn unknown_options() {
        let errors = trait_messages(
            quote!(foo = "x"),
            quote!(
                trait T {}
            ),
        );
        assert_eq!(
            errors,
            [
                "unknown option `foo`; expected `namespace`, `namespace_separator`, `crate` or `params`"
            ]
        );
        let errors = method_messages(quote!(
            #[rpc(foo)]
            async fn a(&self) -> R;
        ));
        assert_eq!(
            errors,
            [
                "unknown method option `foo`; expected `name`, `notification`, `stream`, `item`, `unsubscribe`, `requires`, `timeout`, `idempotent` or `params`"
            ]
        );
        let errors = method_messages(quote!(
            async fn a(&self, #[rpc(foo)] x: u8) -> R;
        ));
        assert_eq!(errors, ["unknown parameter option `foo`; expected `name`"]);
    }

    #[test]
    fn options_on_the_trait() {
        let item: ItemTrait = syn::parse2(quote! {
            #[rpc(namespace_separator = "/")]
            trait T {}
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        let options = trait_options(
            quote!(namespace = "calc", crate = "my::volley"),
            &item.attrs,
            &mut errors,
        );
        assert!(errors.messages().is_empty());
        assert_eq!(options.namespace.map(|n| n.value).as_deref(), Some("calc"));
        assert_eq!(options.separator.map(|s| s.value).as_deref(), Some("/"));
        assert!(options.krate.is_some_and(|k| k.segments.len() == 2));
    }

    #[test]
    fn bad_options() {
        let errors = trait_messages(
            quote!(namespace = "a", namespace = "b"),
            quote!(
                trait T {}
            ),
        );
        assert_eq!(errors, ["duplicate option `namespace`"]);
        let errors = trait_messages(
            quote!(namespace_separator = "/"),
            quote!(
                trait T {}
            ),
        );
        assert_eq!(errors, ["`namespace_separator` needs a `namespace`"]);
        let errors = method_messages(quote!(
            #[rpc(name = "")]
            #[cfg(test)]
            async fn a(&self) -> R;
        ));
        assert_eq!(
            errors,
            [
                "`name` cannot be empty",
                "`#[cfg]` is not supported on rpc methods; put it on the whole trait"
            ]
        );
    }

    #[test]
    fn param_styles() {
        let item: ItemTrait = syn::parse2(quote! {
            trait T {}
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        let options = trait_options(quote!(params = "positional"), &item.attrs, &mut errors);
        assert!(errors.messages().is_empty());
        assert_eq!(
            options.params.map(|p| p.value),
            Some(ParamStyle::Positional)
        );
        let errors = trait_messages(
            quote!(params = "by-name"),
            quote!(
                trait T {}
            ),
        );
        assert_eq!(
            errors,
            ["`params` is \"named\" or \"positional\", not \"by-name\""]
        );
        let errors = method_messages(quote!(
            #[rpc(params = "named", params = "positional")]
            async fn a(&self) -> R;
        ));
        assert_eq!(errors, ["duplicate option `params`"]);
        let method: TraitItemFn = syn::parse2(quote!(
            #[rpc(params = "named")]
            async fn a(&self) -> R;
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        let options = method_options(&method.attrs, &mut errors);
        assert_eq!(options.params.map(|p| p.value), Some(ParamStyle::Named));
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
