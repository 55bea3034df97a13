//! The parameters after `&self`: the context, which the runtime passes, and the wire
//! parameters, which must be plain identifiers with concrete types.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident};
use syn::ext::IdentExt;
use syn::{Attribute, FnArg, Ident, Pat, PatType, Type, TypeReference};

use crate::ast::{ContextParam, Param};
use crate::attr::{self, is_doc, is_rpc};
use crate::ctxt::Errors;

/// A parameter after the receiver.
enum Input {
    Context(ContextParam),
    Param(Param),
}

/// The parameters after the receiver: the context, if any, and the wire parameters.
pub(super) fn params<'a>(
    inputs: impl Iterator<Item = &'a FnArg>,
    errors: &mut Errors,
) -> (Option<ContextParam>, Vec<Param>) {
    let mut context = None;
    let mut params = Vec::new();
    for (index, arg) in inputs.enumerate() {
        let FnArg::Typed(arg) = arg else {
            errors.spanned(arg, "`self` can only be the first parameter");
            continue;
        };
        match param(arg, index, errors) {
            Input::Context(cx) => context = Some(cx),
            Input::Param(param) => params.push(param),
        }
    }
    (context, params)
}

/// One parameter; `index` counts from the first one after the receiver.
fn param(arg: &PatType, index: usize, errors: &mut Errors) -> Input {
    let options = attr::param_options(&arg.attrs, errors);
    let ident = match plain_ident(&arg.pat) {
        Some(ident) => ident.clone(),
        None => {
            errors.spanned(
                &arg.pat,
                "rpc parameters must be plain identifiers such as `value`; their names \
                 are the names on the wire",
            );
            format_ident!("__param{}", index)
        }
    };
    if let Some(span) = impl_trait(arg.ty.to_token_stream()) {
        errors.at(
            span,
            "rpc methods cannot take `impl Trait`: every parameter needs one concrete type",
        );
    }
    let attrs: Vec<Attribute> = arg
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
        return Input::Context(ContextParam {
            attrs,
            ident,
            ty: (*arg.ty).clone(),
        });
    }

    let (name, name_span) = match &options.name {
        Some(n) => (n.value.clone(), n.span),
        None => (ident.unraw().to_string(), ident.span()),
    };
    Input::Param(Param {
        attrs,
        ident,
        ty: (*arg.ty).clone(),
        name,
        name_span,
        docs: attr::docs(&arg.attrs),
    })
}

/// The name of a parameter written as a plain identifier (not `mut x`, `ref x`, `(a, b)`...).
pub(crate) fn plain_ident(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
            Some(&p.ident)
        }
        _ => None,
    }
}

/// Where `impl` is written in these tokens, if anywhere.
pub(super) fn impl_trait(tokens: TokenStream) -> Option<Span> {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) if ident == "impl" => return Some(ident.span()),
            TokenTree::Group(group) => {
                if let Some(span) = impl_trait(group.stream()) {
                    return Some(span);
                }
            }
            _ => {}
        }
    }
    None
}

/// `&Context`, `&volley::Context`, `&mut ...::Context`: a reference to a path ending in `Context`.
fn context_ref(ty: &Type) -> Option<&TypeReference> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;
    use syn::TraitItemFn;

    /// The context, the wire names and the messages of a method's parameters.
    fn read(method: TokenStream) -> (bool, Vec<String>, Vec<String>) {
        let f: TraitItemFn = syn::parse2(method).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        let (context, params) = params(f.sig.inputs.iter().skip(1), &mut errors);
        let names = params.into_iter().map(|p| p.name).collect();
        (context.is_some(), names, errors.messages())
    }

    #[test]
    fn context_and_names() {
        let (context, names, errors) = read(quote! {
            async fn a(&self, cx: &(volley::Context), r#type: u8, #[rpc(name = "b")] c: u8);
        });
        assert!(context);
        assert_eq!(names, ["type", "b"]);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn context_rules() {
        let (_, _, errors) = read(quote! {
            async fn a(&self, x: u8, cx: &Context);
        });
        assert_eq!(
            errors,
            ["the context must be the first parameter after `&self`"]
        );
        let (_, _, errors) = read(quote! {
            async fn a(&self, #[rpc(name = "c")] cx: &mut Context);
        });
        assert_eq!(
            errors,
            [
                "take the context by shared reference: `&Context`",
                "the context is not sent on the wire and has no name"
            ]
        );
    }

    #[test]
    fn patterns_and_impl_trait() {
        let (_, names, errors) = read(quote! {
            async fn a(&self, mut x: u8, (y, z): (u8, u8), w: Vec<impl Send>);
        });
        assert_eq!(names, ["__param0", "__param1", "w"]);
        let pattern = "rpc parameters must be plain identifiers such as `value`; their names \
                       are the names on the wire";
        assert_eq!(
            errors,
            [
                pattern,
                pattern,
                "rpc methods cannot take `impl Trait`: every parameter needs one concrete type",
            ]
        );
    }
}
