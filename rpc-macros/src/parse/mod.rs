//! From syn to the IR: reads the trait and the attribute's arguments into an [`ast::Service`],
//! refusing what cannot be served: items other than `async fn` here, signatures in `method`,
//! parameters in `param`. A mistake is recorded and reading goes on, so independent mistakes
//! are reported together. Naming rules are `valid`'s.
//!
//! [`ast::Service`]: crate::ast::Service

mod method;
mod param;

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::{Error, Item, ItemTrait, TraitItem};

use crate::ast::{Method, Service};
use crate::attr::{self, is_rpc};
use crate::ctxt::Errors;

pub(crate) use param::plain_ident;

/// The trait the attribute is on; any other item is refused at its keyword.
pub(crate) fn trait_item(input: TokenStream) -> syn::Result<ItemTrait> {
    match syn::parse2::<Item>(input)? {
        Item::Trait(item) => Ok(item),
        other => Err(Error::new_spanned(
            item_keyword(&other),
            "#[volley::rpc] goes on a trait",
        )),
    }
}

/// The trait and its options, as well as they can be read; what breaks a rule is in `errors`.
pub(crate) fn service(args: TokenStream, item: &ItemTrait, errors: &mut Errors) -> Service {
    let options = attr::trait_options(args, &item.attrs, errors);
    trait_header(item, errors);
    let naming = method::Naming {
        namespace: options.namespace.as_ref().map(|n| n.value.as_str()),
        separator: options.separator.as_ref().map_or(".", |s| s.value.as_str()),
        params: options.params.as_ref().map(|p| p.value),
    };
    let methods = item
        .items
        .iter()
        .filter_map(|trait_item| trait_member(trait_item, &naming, errors))
        .collect();
    let name = item.ident.unraw().to_string();
    Service {
        krate: options.krate.unwrap_or_else(|| syn::parse_quote!(::volley)),
        attrs: item.attrs.iter().filter(|a| !is_rpc(a)).cloned().collect(),
        vis: item.vis.clone(),
        trait_token: item.trait_token,
        ident: item.ident.clone(),
        supertraits: item.supertraits.clone(),
        client: format_ident!("{}Client", name, span = item.ident.span()),
        fanout: format_ident!("{}Fanout", name, span = item.ident.span()),
        name,
        docs: attr::docs(&item.attrs),
        namespace: options.namespace.map(|n| n.value),
        methods,
    }
}

/// `unsafe trait`, `auto trait`, `trait T<..>` and `where` are refused.
fn trait_header(item: &ItemTrait, errors: &mut Errors) {
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
}

/// A method; any other trait item is refused.
fn trait_member(
    item: &TraitItem,
    naming: &method::Naming<'_>,
    errors: &mut Errors,
) -> Option<Method> {
    match item {
        TraitItem::Fn(f) => return Some(method::method(f, naming, errors)),
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
    None
}

/// The keyword naming what kind of item this is (`struct`, `fn`...), or the whole item.
fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Struct(i) => i.struct_token.to_token_stream(),
        Item::Enum(i) => i.enum_token.to_token_stream(),
        Item::Fn(i) => i.sig.fn_token.to_token_stream(),
        Item::Impl(i) => i.impl_token.to_token_stream(),
        Item::Mod(i) => i.mod_token.to_token_stream(),
        Item::Union(i) => i.union_token.to_token_stream(),
        Item::Type(i) => i.type_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Kind;

    fn parse(args: TokenStream, item: TokenStream) -> (Service, Errors) {
        let item = syn::parse2(item).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        let service = service(args, &item, &mut errors);
        (service, errors)
    }

    fn parsed(args: TokenStream, item: TokenStream) -> Service {
        let (service, errors) = parse(args, item);
        let errors = errors.messages();
        assert!(errors.is_empty(), "{errors:?}");
        service
    }

    #[test]
    fn names_and_context() {
        let s = parsed(
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
        );
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
        let s = parsed(
            quote!(namespace = "calc", namespace_separator = "_"),
            quote!(
                trait T {
                    async fn add(&self) -> R;
                }
            ),
        );
        assert_eq!(s.methods[0].wire_name, "calc_add");
    }

    #[test]
    fn independent_errors_are_all_reported() {
        let (_, errors) = parse(
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
        let errors = errors.messages();
        assert_eq!(errors.len(), 4, "{errors:?}");
    }

    #[test]
    fn only_traits() {
        let error = trait_item(quote!(
            struct S;
        ))
        .err()
        .map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("#[volley::rpc] goes on a trait"));
    }
}
