//! The `#[volley::rpc]` attribute. Use it through the `volley` crate, which re-exports it and
//! the runtime the generated code calls; see [`macro@rpc`].

mod client;
mod describe;
mod model;
mod server;

use proc_macro2::TokenStream;
use quote::quote;

/// Turns a trait into a JSON-RPC service: a handler registration, a typed stub and a
/// description.
#[proc_macro_attribute]
pub fn rpc(
    args: proc_macro::TokenStream,
    input: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand(args.into(), input.into()).into()
}

fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(syn::Item::Trait(item)) => item,
        Ok(other) => {
            let error = syn::Error::new_spanned(
                item_keyword(&other),
                "#[volley::rpc] goes on a trait",
            )
            .to_compile_error();
            return quote!(#input #error);
        }
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#input #error);
        }
    };
    match model::Service::parse(args, &item) {
        Ok(service) => {
            let server = server::render(&service);
            let client = client::render(&service);
            quote!(#server #client)
        }
        Err(error) => {
            let item = model::strip(item);
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}

/// The token that names what kind of item this is (`struct`, `fn`, ...), or the whole item.
fn item_keyword(item: &syn::Item) -> TokenStream {
    use quote::ToTokens;
    match item {
        syn::Item::Struct(i) => i.struct_token.to_token_stream(),
        syn::Item::Enum(i) => i.enum_token.to_token_stream(),
        syn::Item::Fn(i) => i.sig.fn_token.to_token_stream(),
        syn::Item::Impl(i) => i.impl_token.to_token_stream(),
        syn::Item::Mod(i) => i.mod_token.to_token_stream(),
        syn::Item::Union(i) => i.union_token.to_token_stream(),
        syn::Item::Type(i) => i.type_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}
