//! Renders the static `ServiceDescription` of a trait.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{GenericArgument, PathArguments, Type};

use super::private;
use crate::ast::{Kind, Method, ParamStyle, Service};

/// The expression `&ServiceDescription { ... }`, usable in a `const`.
pub(crate) fn render(service: &Service) -> TokenStream {
    let p = private(service);
    let name = &service.name;
    let docs = &service.docs;
    let namespace = match &service.namespace {
        Some(ns) => quote!(::core::option::Option::Some(#ns)),
        None => quote!(::core::option::Option::None),
    };
    let methods = service.methods.iter().map(|m| method(&p, m));
    quote! {
        &#p::ServiceDescription {
            name: #name,
            docs: #docs,
            namespace: #namespace,
            methods: &[#(#methods),*],
        }
    }
}

fn method(p: &TokenStream, m: &Method) -> TokenStream {
    let rust_name = &m.rust_name;
    let name = &m.wire_name;
    let docs = &m.docs;
    let kind = match (m.kind, &m.stream) {
        (Kind::Stream, Some(s)) => {
            let (item, unsubscribe) = (&s.item, &s.unsubscribe);
            quote!(#p::MethodKind::Stream { item: #item, unsubscribe: #unsubscribe })
        }
        (Kind::Notification, _) => quote!(#p::MethodKind::Notification),
        _ => quote!(#p::MethodKind::Request),
    };
    let params = m.params.iter().map(|param| {
        let name = &param.name;
        let rust_type = type_text(&param.ty);
        let docs = &param.docs;
        let ty = &param.ty;
        let schema = schema_fn(p, quote!(#p::Probe::<#ty>));
        quote!(#p::ParamDescription {
            name: #name,
            rust_type: #rust_type,
            docs: #docs,
            schema: #schema,
            required: || {
                #[allow(unused_imports)]
                use #p::{Nullable as _, NotNullable as _};
                !(&#p::Probe::<#ty>::new()).optional()
            },
        })
    });
    let (result_schema, error_schema) = match (&m.output, m.kind) {
        (Some(ty), Kind::Request) => (
            schema_fn(p, quote!(#p::OkProbe::<#ty>)),
            schema_fn(p, quote!(#p::ErrProbe::<#ty>)),
        ),
        (Some(ty), Kind::Stream) => (
            schema_fn(p, quote!(#p::ItemProbe::<#ty>)),
            schema_fn(p, quote!(#p::StreamErrProbe::<#ty>)),
        ),
        _ => (quote!(#p::no_schema), quote!(#p::no_schema)),
    };
    let (result_type, error_type) = match (&m.output, m.kind) {
        (Some(ty), Kind::Request) => result_parts(ty),
        (Some(ty), Kind::Stream) => {
            let (ok, err) = result_parts(ty);
            (item_of(&ok), err)
        }
        _ => ("()".to_owned(), None),
    };
    let error_type = match error_type {
        Some(e) => quote!(::core::option::Option::Some(#e)),
        None => quote!(::core::option::Option::None),
    };
    let requires = match &m.requires {
        Some(r) => quote!(::core::option::Option::Some(#r)),
        None => quote!(::core::option::Option::None),
    };
    let timeout_ms = match m.timeout_ms {
        Some(ms) => quote!(::core::option::Option::Some(#ms)),
        None => quote!(::core::option::Option::None),
    };
    let idempotent = m.idempotent;
    let errors = match (&m.output, m.kind) {
        (Some(ty), Kind::Request) => errors_fn(p, quote!(<#ty as #p::RpcResult>::Err)),
        (Some(ty), Kind::Stream) => errors_fn(p, quote!(<#ty as #p::StreamResult>::Err)),
        _ => quote!(|| &[]),
    };
    let param_structure = match m.param_style {
        None => quote!(#p::ParamStructure::Either),
        Some(ParamStyle::Named) => quote!(#p::ParamStructure::ByName),
        Some(ParamStyle::Positional) => quote!(#p::ParamStructure::ByPosition),
    };
    quote! {
        #p::MethodDescription {
            rust_name: #rust_name,
            name: #name,
            docs: #docs,
            kind: #kind,
            params: &[#(#params),*],
            result_type: #result_type,
            error_type: #error_type,
            result_schema: #result_schema,
            error_schema: #error_schema,
            requires: #requires,
            timeout_ms: #timeout_ms,
            idempotent: #idempotent,
            errors: #errors,
            param_structure: #param_structure,
        }
    }
}

/// The `errors` of a method whose error type is `err`: its variants when it is an
/// `RpcError`, else none.
fn errors_fn(p: &TokenStream, err: TokenStream) -> TokenStream {
    quote! {
        || {
            #[allow(unused_imports)]
            use #p::{Decodes as _, Undecodable as _};
            (&#p::ErrorProbe::<#err>::new()).errors()
        }
    }
}

/// A `SchemaFn` for a probe (`Probe::<T>`, `OkProbe::<R>`, `ErrProbe::<R>`): the probed
/// type's JSON Schema when it implements `JsonSchema`, else `None`.
fn schema_fn(p: &TokenStream, probe: TokenStream) -> TokenStream {
    quote! {
        |generator: &mut #p::SchemaGenerator| {
            #[allow(unused_imports)]
            use #p::{HasSchema as _, NoSchema as _};
            (&#probe::new()).schema(generator)
        }
    }
}

/// The success and error types of a return type written `...Result<T>` or `...Result<T, E>`.
///
/// The macro sees tokens, not types: for any other spelling (an alias with another name) the
/// whole return type is the result type and the error type is unknown.
pub(crate) fn result_parts(ty: &Type) -> (String, Option<String>) {
    let mut inner = ty;
    while let Type::Paren(p) = inner {
        inner = &p.elem;
    }
    if let Type::Path(path) = inner
        && path.qself.is_none()
        && let Some(last) = path.path.segments.last()
        && last.ident == "Result"
        && let PathArguments::AngleBracketed(args) = &last.arguments
    {
        let mut types = args.args.iter().filter_map(|arg| match arg {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        });
        if let Some(ok) = types.next() {
            return (type_text(ok), types.next().map(type_text));
        }
    }
    (type_text(ty), None)
}

/// The item type of a stream type written `...ItemStream<T>`; any other spelling as is.
fn item_of(stream: &str) -> String {
    stream
        .split_once("ItemStream<")
        .and_then(|(_, rest)| rest.strip_suffix('>'))
        .map_or_else(|| stream.to_owned(), str::to_owned)
}

/// A type as a person would write it: `Vec<(i64, &'static str)>`, not
/// `Vec < (i64 , & 'static str) >` as `to_string` gives.
pub(crate) fn type_text(ty: &Type) -> String {
    let mut out = String::new();
    write_tokens(ty.to_token_stream(), &mut out, &mut Prev::Start);
    out
}

/// What the previous token was, which decides the space before the next one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Nothing yet, or a token after which nothing is spaced (`<`, `::`, `&`, `(`...).
    Start,
    /// An identifier, literal or lifetime: a following word needs a space.
    Word,
    /// A keyword after which `::` or `(` needs a space (`as`, `dyn`, `mut`...).
    Keyword,
    /// `>`, `)` or `]`: a following word needs a space.
    Close,
    /// `'` of a lifetime: its name follows without a space.
    Tick,
    /// `-` of `->`.
    Minus,
    /// `:` of `::`.
    Colon,
}

const KEYWORDS: &[&str] = &[
    "as", "dyn", "impl", "mut", "const", "for", "unsafe", "extern",
];

fn write_tokens(tokens: TokenStream, out: &mut String, prev: &mut Prev) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                if matches!(prev, Prev::Word | Prev::Keyword | Prev::Close) {
                    out.push(' ');
                }
                let text = ident.to_string();
                *prev = if *prev != Prev::Tick && KEYWORDS.contains(&text.as_str()) {
                    Prev::Keyword
                } else {
                    Prev::Word
                };
                out.push_str(&text);
            }
            TokenTree::Literal(lit) => {
                if matches!(prev, Prev::Word | Prev::Keyword | Prev::Close) {
                    out.push(' ');
                }
                out.push_str(&lit.to_string());
                *prev = Prev::Word;
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                if group.delimiter() == Delimiter::None {
                    write_tokens(group.stream(), out, prev);
                    continue;
                }
                if *prev == Prev::Keyword {
                    out.push(' ');
                }
                out.push_str(open);
                *prev = Prev::Start;
                write_tokens(group.stream(), out, prev);
                out.push_str(close);
                *prev = Prev::Close;
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                let joint = punct.spacing() == Spacing::Joint;
                match c {
                    '\'' => {
                        if matches!(prev, Prev::Word | Prev::Keyword | Prev::Close) {
                            out.push(' ');
                        }
                        out.push(c);
                        *prev = Prev::Tick;
                    }
                    ':' if joint => {
                        if *prev == Prev::Keyword {
                            out.push(' ');
                        }
                        out.push(c);
                        *prev = Prev::Colon;
                    }
                    ':' if *prev == Prev::Colon => {
                        out.push(c);
                        *prev = Prev::Start;
                    }
                    '-' if joint => {
                        out.push_str(" -");
                        *prev = Prev::Minus;
                    }
                    '>' if *prev == Prev::Minus => {
                        out.push_str("> ");
                        *prev = Prev::Start;
                    }
                    ',' | ';' => {
                        out.push(c);
                        out.push(' ');
                        *prev = Prev::Start;
                    }
                    '+' | '=' => {
                        out.push(' ');
                        out.push(c);
                        out.push(' ');
                        *prev = Prev::Start;
                    }
                    '<' => {
                        if *prev == Prev::Keyword {
                            out.push(' ');
                        }
                        out.push(c);
                        *prev = Prev::Start;
                    }
                    '>' => {
                        out.push(c);
                        *prev = Prev::Close;
                    }
                    _ => {
                        if matches!(prev, Prev::Word | Prev::Keyword | Prev::Close) {
                            out.push(' ');
                        }
                        out.push(c);
                        *prev = Prev::Start;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(ty: TokenStream) -> String {
        type_text(&syn::parse2(ty).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn types_read_naturally() {
        let cases = [
            (quote!(i64), "i64"),
            (quote!(Option<String>), "Option<String>"),
            (
                quote!(::std::vec::Vec<(i64, &'static str)>),
                "::std::vec::Vec<(i64, &'static str)>",
            ),
            (quote!([u8; 4]), "[u8; 4]"),
            (
                quote!(Box<dyn Fn(i64) -> i64 + Send>),
                "Box<dyn Fn(i64) -> i64 + Send>",
            ),
            (quote!(<T as ::x::Y>::Z), "<T as ::x::Y>::Z"),
            (quote!(&mut ::a::B), "&mut ::a::B"),
            (
                quote!(HashMap<String, Vec<Vec<u8>>>),
                "HashMap<String, Vec<Vec<u8>>>",
            ),
            (quote!(()), "()"),
            (quote!(*const u8), "*const u8"),
            (quote!(Foo<'a, 'static>), "Foo<'a, 'static>"),
            (quote!(Foo<N = 3>), "Foo<N = 3>"),
            (quote!(&'a mut [T]), "&'a mut [T]"),
        ];
        for (tokens, expected) in cases {
            assert_eq!(text(tokens), expected);
        }
    }

    #[test]
    fn result_types() {
        let parts =
            |t: TokenStream| result_parts(&syn::parse2(t).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(parts(quote!(volley::Result<i64>)), ("i64".to_owned(), None));
        assert_eq!(
            parts(quote!(Result<Vec<u8>, MyError>)),
            ("Vec<u8>".to_owned(), Some("MyError".to_owned()))
        );
        assert_eq!(parts(quote!(Answer)), ("Answer".to_owned(), None));
    }
}
