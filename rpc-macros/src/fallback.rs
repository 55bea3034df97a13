//! What is emitted when the input breaks a rule: the user's item as written, minus what only
//! this macro understands, followed by the errors. The rest of the crate keeps type-checking
//! against the trait, so rustc and IDEs report the macro's errors and nothing that follows
//! from them.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Error, FnArg, ItemTrait, TraitItem};

use crate::attr::{is_doc, is_rpc};
use crate::parse::plain_ident;

/// An item that is not a trait (or not valid Rust), unchanged, then the error.
pub(crate) fn unchanged(input: TokenStream, error: &Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#input #error)
}

/// The trait minus the macro's syntax, then the errors.
pub(crate) fn stripped(item: ItemTrait, errors: &Error) -> TokenStream {
    let item = strip(item);
    let errors = errors.to_compile_error();
    quote!(#item #errors)
}

/// The trait as the user wrote it, minus what would make rustc repeat an error already
/// reported: attributes only this macro understands, docs and patterns on parameters.
fn strip(mut item: ItemTrait) -> ItemTrait {
    item.attrs.retain(|a| !is_rpc(a));
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            f.attrs.retain(|a| !is_rpc(a));
            for arg in &mut f.sig.inputs {
                if let FnArg::Typed(arg) = arg {
                    arg.attrs.retain(|a| !is_rpc(a) && !is_doc(a));
                    if f.default.is_none() && plain_ident(&arg.pat).is_none() {
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
    use quote::ToTokens;

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
    fn errors_follow_the_item() {
        let item: ItemTrait = syn::parse2(quote!(
            trait T {}
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let error = Error::new(proc_macro2::Span::call_site(), "wrong");
        let expected = quote! { trait T {} ::core::compile_error! { "wrong" } };
        assert_eq!(stripped(item, &error).to_string(), expected.to_string());
    }
}
