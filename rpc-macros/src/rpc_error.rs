//! `#[derive(RpcError)]`: an enum whose variants are JSON-RPC errors with codes of their own.
//! Each variant takes `#[code(4001)]` and `#[message("template with {field}")]`; the derive
//! writes `From<E> for ErrorObject` (code, message, the fields as `data`), `Display` (the
//! message), `std::error::Error`, and `RpcError` (the variants for the documents, and the
//! decoding of an error object back into the enum).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitInt, LitStr, Path};

use crate::attr::docs;
use crate::ctxt::Errors;

/// One variant, as read.
struct Variant {
    ident: Ident,
    code: i32,
    message: LitStr,
    docs: String,
    fields: Fields,
}

/// The derive's output for `input`, or the errors that stop it.
pub(crate) fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let krate = crate_path(&input.attrs, &mut errors);
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(RpcError)] goes on an enum: one variant per error",
        ));
    };
    if !input.generics.params.is_empty() {
        errors.spanned(
            &input.generics,
            "an RpcError enum cannot be generic: its variants are fixed wire errors",
        );
    }
    if data.variants.is_empty() {
        errors.spanned(&input.ident, "an RpcError enum needs at least one variant");
    }
    let mut variants: Vec<Variant> = Vec::new();
    for v in &data.variants {
        let (code, message) = variant_options(&v.attrs, &v.ident, &mut errors);
        if let (Some(code), Some(message)) = (code, message) {
            if let Some(other) = variants.iter().find(|o| o.code == code) {
                errors.spanned(
                    &v.ident,
                    format!("code {code} is already `{}`'s", other.ident),
                );
            }
            variants.push(Variant {
                ident: v.ident.clone(),
                code,
                message,
                docs: docs(&v.attrs),
                fields: v.fields.clone(),
            });
        }
    }
    errors.finish()?;
    Ok(render(input, &krate, &variants))
}

/// `#[code(N)]` and `#[message("..")]` of one variant.
fn variant_options(
    attrs: &[Attribute],
    variant: &Ident,
    errors: &mut Errors,
) -> (Option<i32>, Option<LitStr>) {
    let mut code = None;
    let mut message = None;
    // Set by any `#[code]` or `#[message]`, right or wrong: a wrong one is reported once.
    let (mut code_given, mut message_given) = (false, false);
    for attr in attrs {
        if attr.path().is_ident("code") {
            code_given = true;
            match attr
                .parse_args::<LitInt>()
                .and_then(|l| l.base10_parse::<i32>())
            {
                Ok(n) if (-32768..=-32000).contains(&n) => errors.spanned(
                    attr,
                    format!(
                        "code {n} is reserved by JSON-RPC 2.0 (-32768 to -32000) for the \
                         protocol and the server; pick one outside that range"
                    ),
                ),
                Ok(n) if code.is_some() => errors.spanned(attr, format!("a second code ({n})")),
                Ok(n) => code = Some(n),
                Err(e) => errors.push(syn::Error::new(
                    e.span(),
                    "expected `#[code(4001)]`: an integer error code",
                )),
            }
        } else if attr.path().is_ident("message") {
            message_given = true;
            match attr.parse_args::<LitStr>() {
                Ok(_) if message.is_some() => errors.spanned(attr, "a second message"),
                Ok(lit) => message = Some(lit),
                Err(e) => errors.push(syn::Error::new(
                    e.span(),
                    "expected `#[message(\"..\")]`: the message, with `{field}` for a field",
                )),
            }
        }
    }
    if !code_given {
        errors.spanned(
            variant,
            "this variant needs its error code: `#[code(4001)]`",
        );
    }
    if !message_given {
        errors.spanned(
            variant,
            "this variant needs its message: `#[message(\"..\")]`, with `{field}` for a field",
        );
    }
    (code, message)
}

/// `#[rpc_error(crate = "path")]`, else `::volley`.
fn crate_path(attrs: &[Attribute], errors: &mut Errors) -> Path {
    let mut krate: Path = syn::parse_quote!(::volley);
    for attr in attrs.iter().filter(|a| a.path().is_ident("rpc_error")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = lit.parse()?;
                Ok(())
            } else {
                Err(meta.error("unknown option; expected `crate = \"path::to::volley\"`"))
            }
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    krate
}

fn render(input: &DeriveInput, krate: &Path, variants: &[Variant]) -> TokenStream {
    let ident = &input.ident;
    let p = quote!(#krate::__private);
    let serde_path = LitStr::new(&format!("{}::serde", path_text(krate)), Span::call_site());
    let schemars_path = LitStr::new(
        &format!("{}::schemars", path_text(krate)),
        Span::call_site(),
    );
    let mut data_types = Vec::new();
    let mut to_object = Vec::new();
    let mut display = Vec::new();
    let mut decode = Vec::new();
    let mut described = Vec::new();
    let mut codes = Vec::new();
    for v in variants {
        let Variant {
            ident: vi,
            code,
            message,
            docs,
            fields,
        } = v;
        let name = vi.to_string();
        let template = LitStr::new(&positional_names(&message.value()), message.span());
        let (pattern, bindings) = bind(ident, vi, fields);
        let data_ref = format_ident!("__{}{}DataRef", ident, vi);
        let data = format_ident!("{}{}", ident, vi);
        display.push(quote! {
            #[allow(unused_variables)]
            #pattern => ::core::write!(f, #template),
        });
        codes.push(quote! {
            #[allow(unused_variables)]
            #pattern => #code,
        });
        if fields.is_empty() {
            to_object.push(quote! {
                #pattern => #p::without_data(#code, message),
            });
            decode.push(quote!(#code => ::core::option::Option::Some(Self::#vi),));
            let schema = quote!(#p::no_schema);
            described.push(describe(&p, &name, *code, message, docs, schema));
            continue;
        }
        let (ref_def, owned_def, construct_ref, construct_self) =
            data_structs(vi, fields, &data_ref, &data, &bindings);
        data_types.push(quote! {
            #[derive(#krate::serde::Serialize)]
            #[serde(crate = #serde_path)]
            #ref_def
            #[derive(#krate::serde::Deserialize, #krate::schemars::JsonSchema)]
            #[serde(crate = #serde_path)]
            #[schemars(crate = #schemars_path)]
            #[doc = #docs]
            #owned_def
        });
        to_object.push(quote! {
            #pattern => #p::with_data(#code, message, &#construct_ref),
        });
        decode.push(quote! {
            #code => #p::data_of::<#data>(object).map(|data| #construct_self),
        });
        let schema = quote! {
            |g: &mut #p::SchemaGenerator| {
                ::core::option::Option::Some(g.subschema_for::<#data>())
            }
        };
        described.push(describe(&p, &name, *code, message, docs, schema));
    }
    quote! {
        const _: () = {
            #(#data_types)*

            impl ::core::convert::From<#ident> for #p::ErrorObject {
                fn from(e: #ident) -> Self {
                    let message = ::std::string::ToString::to_string(&e);
                    match &e {
                        #(#to_object)*
                    }
                }
            }

            impl ::core::fmt::Display for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    match self {
                        #(#display)*
                    }
                }
            }

            impl ::std::error::Error for #ident {}

            impl #p::RpcError for #ident {
                const ERRORS: &'static [#p::ErrorDescription] = &[#(#described),*];

                fn code(&self) -> i32 {
                    match self {
                        #(#codes)*
                    }
                }

                fn from_error_object(object: &#p::ErrorObject) -> ::core::option::Option<Self> {
                    match object.code() {
                        #(#decode)*
                        _ => ::core::option::Option::None,
                    }
                }
            }
        };
    }
}

/// The `ErrorDescription` of a variant, its `data` schema given by `schema` (a `SchemaFn`).
fn describe(
    p: &TokenStream,
    variant: &str,
    code: i32,
    message: &LitStr,
    docs: &str,
    schema: TokenStream,
) -> TokenStream {
    quote! {
        #p::ErrorDescription {
            variant: #variant,
            code: #code,
            message: #message,
            docs: #docs,
            data_schema: #schema,
        }
    }
}

/// The pattern that binds a variant's fields (`E::V { a, b }`, `E::V(__0, __1)`, `E::V`) and
/// the bound names.
fn bind(ty: &Ident, variant: &Ident, fields: &Fields) -> (TokenStream, Vec<Ident>) {
    match fields {
        Fields::Named(named) => {
            let names: Vec<Ident> = named.named.iter().filter_map(|f| f.ident.clone()).collect();
            (quote!(#ty::#variant { #(#names),* }), names)
        }
        Fields::Unnamed(unnamed) => {
            let names: Vec<Ident> = (0..unnamed.unnamed.len())
                .map(|i| format_ident!("__{}", i))
                .collect();
            (quote!(#ty::#variant(#(#names),*)), names)
        }
        Fields::Unit => (quote!(#ty::#variant), Vec::new()),
    }
}

/// The borrowed data type (serialized into `data`), the owned one (decoded from it, and the
/// schema), an expression building the borrowed one from the bound fields, and one building
/// the variant from a decoded `data`.
fn data_structs(
    variant: &Ident,
    fields: &Fields,
    data_ref: &Ident,
    data: &Ident,
    bindings: &[Ident],
) -> (TokenStream, TokenStream, TokenStream, TokenStream) {
    match fields {
        Fields::Named(named) => {
            let (mut refs, mut owned) = (Vec::new(), Vec::new());
            for f in &named.named {
                let (name, ty) = (&f.ident, &f.ty);
                let serde_attrs: Vec<&Attribute> = f
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("serde"))
                    .collect();
                let schema_attrs: Vec<&Attribute> = f
                    .attrs
                    .iter()
                    .filter(|a| {
                        a.path().is_ident("serde")
                            || a.path().is_ident("schemars")
                            || a.path().is_ident("doc")
                    })
                    .collect();
                refs.push(quote!(#(#serde_attrs)* #name: &'a #ty));
                owned.push(quote!(#(#schema_attrs)* #name: #ty));
            }
            (
                quote!(struct #data_ref<'a> { #(#refs),* }),
                quote!(struct #data { #(#owned),* }),
                quote!(#data_ref { #(#bindings),* }),
                quote!(Self::#variant { #(#bindings: data.#bindings),* }),
            )
        }
        _ => {
            let types: Vec<&syn::Type> = fields.iter().map(|f| &f.ty).collect();
            let index = (0..types.len()).map(syn::Index::from);
            (
                quote!(struct #data_ref<'a>(#(&'a #types),*);),
                quote!(struct #data(#(#types),*);),
                quote!(#data_ref(#(#bindings),*)),
                quote!(Self::#variant(#(data.#index),*)),
            )
        }
    }
}

/// A message template with `{0}`-style positions renamed to the bound tuple fields
/// (`{__0}`), so that the template captures them by name like named fields.
fn positional_names(template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 8);
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '{' {
            if chars.peek() == Some(&'{') {
                out.push('{');
                chars.next();
            } else if chars.peek().is_some_and(char::is_ascii_digit) {
                out.push_str("__");
            }
        }
    }
    out
}

fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let joined = segments.join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_become_names() {
        assert_eq!(positional_names("{0} and {1:?}"), "{__0} and {__1:?}");
        assert_eq!(positional_names("{{0}} {name}"), "{{0}} {name}");
        assert_eq!(positional_names("plain"), "plain");
    }

    fn messages(input: TokenStream) -> Vec<String> {
        let input: DeriveInput = syn::parse2(input).unwrap_or_else(|e| panic!("{e}"));
        match derive(&input) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn mistakes_are_reported_together() {
        let errors = messages(quote! {
            enum E {
                #[code(-32001)]
                #[message("x")]
                Reserved,
                #[message("y")]
                NoCode,
                #[code(7)]
                NoMessage,
                #[code(8)]
                #[message("a")]
                A,
                #[code(8)]
                #[message("b")]
                B,
            }
        });
        assert_eq!(
            errors,
            [
                "code -32001 is reserved by JSON-RPC 2.0 (-32768 to -32000) for the protocol and the server; pick one outside that range",
                "this variant needs its error code: `#[code(4001)]`",
                "this variant needs its message: `#[message(\"..\")]`, with `{field}` for a field",
                "code 8 is already `A`'s",
            ]
        );
        assert_eq!(
            messages(quote!(
                struct S;
            )),
            ["#[derive(RpcError)] goes on an enum: one variant per error"]
        );
    }
}
