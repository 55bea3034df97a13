//! Renders the trait: each method as `fn -> impl Future + Send`, plus `into_service`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::{private, private_at};
use crate::ast::{Kind, Method, Service};

/// Names of generated locals: resolved at the macro's own site, so they never clash with a
/// parameter the user named `this` or `params`.
struct Locals {
    this: Ident,
    module: Ident,
    params: Ident,
    reader: Ident,
    args: Ident,
    cx: Ident,
}

impl Locals {
    fn new() -> Self {
        let local = |name: &str| Ident::new(name, Span::mixed_site());
        Self {
            this: local("this"),
            module: local("module"),
            params: local("params"),
            reader: local("reader"),
            args: local("args"),
            cx: local("cx"),
        }
    }
}

/// The trait, re-declared.
pub(crate) fn render(service: &Service) -> TokenStream {
    let Service {
        attrs,
        vis,
        trait_token,
        ident,
        supertraits,
        ..
    } = service;
    let user_bounds = supertraits.iter();
    let methods = service.methods.iter().map(trait_method);
    let into_service = into_service(service);
    quote! {
        #(#attrs)*
        #vis #trait_token #ident:
            #(#user_bounds +)*
            ::core::marker::Send + ::core::marker::Sync + 'static
        {
            #(#methods)*
            #into_service
        }
    }
}

/// `async fn f(&self, args) -> R` becomes `fn f(&self, args) -> impl Future<Output = R> + Send`.
fn trait_method(m: &Method) -> TokenStream {
    let Method {
        attrs,
        fn_token,
        ident,
        receiver,
        ..
    } = m;
    let context = m.context.iter().map(|cx| {
        let (attrs, ident, ty) = (&cx.attrs, &cx.ident, &cx.ty);
        quote!(#(#attrs)* #ident: #ty,)
    });
    let params = m.params.iter().map(|p| {
        let (attrs, ident, ty) = (&p.attrs, &p.ident, &p.ty);
        quote!(#(#attrs)* #ident: #ty)
    });
    let (output, span) = match &m.output {
        Some(ty) => (quote!(#ty), ty.span()),
        None => (quote!(()), m.output_span),
    };
    let future = quote_spanned! {span=>
        impl ::core::future::Future<Output = #output> + ::core::marker::Send
    };
    quote! {
        #(#attrs)*
        #fn_token #ident(#receiver, #(#context)* #(#params),*) -> #future;
    }
}

fn into_service(service: &Service) -> TokenStream {
    let p = private(service);
    let client = &service.client;
    let locals = Locals::new();
    let Locals { this, module, .. } = &locals;
    let docs = into_service_docs(service);
    let registrations = service
        .methods
        .iter()
        .map(|m| registration(service, &locals, m));
    let keep_self = if service.methods.is_empty() {
        quote!(::core::mem::drop(self);)
    } else {
        quote!(let #this = ::std::sync::Arc::new(self);)
    };
    quote! {
        #(#[doc = #docs])*
        #[allow(deprecated)]
        fn into_service(self) -> #p::Service
        where
            Self: ::core::marker::Sized,
        {
            #keep_self
            let mut #module = #p::new_module();
            #(#registrations)*
            #p::service(
                #module,
                <#client as #p::RemoteService>::DESCRIPTION,
            )
        }
    }
}

fn into_service_docs(service: &Service) -> Vec<String> {
    let name = &service.name;
    let mut docs = vec![
        " Turns this implementation into a `Service` that a volley server or client serves."
            .to_owned(),
        String::new(),
        format!(
            " The service answers every method of [`{name}`] under its JSON-RPC name and carries \
             the trait's description, from which volley builds its OpenRPC and AsyncAPI documents. \
             Calls run concurrently, each on a shared reference to `self`."
        ),
    ];
    if !service.methods.is_empty() {
        docs.push(String::new());
        docs.push(" | method | JSON-RPC name | kind |".to_owned());
        docs.push(" | --- | --- | --- |".to_owned());
        for m in &service.methods {
            let kind = match (&m.kind, &m.stream) {
                (Kind::Stream, Some(s)) => {
                    format!("stream of `{}` (cancel: `{}`)", s.item, s.unsubscribe)
                }
                (Kind::Notification, _) => "notification".to_owned(),
                _ => "request".to_owned(),
            };
            docs.push(format!(
                " | [`{}`](Self::{}) | `{}` | {kind} |",
                m.rust_name, m.ident, m.wire_name
            ));
        }
    }
    docs
}

/// Registers one method: decode the params, call the implementation, encode its result.
fn registration(service: &Service, locals: &Locals, m: &Method) -> TokenStream {
    let p = private(service);
    let trait_ident = &service.ident;
    let Locals {
        this,
        module,
        params,
        reader,
        args,
        cx,
    } = locals;
    let method = &m.ident;
    let wire = &m.wire_name;

    let names: Vec<_> = m.params.iter().map(|p| &p.name).collect();
    let idents: Vec<&Ident> = m.params.iter().map(|p| &p.ident).collect();
    let read = if m.params.is_empty() {
        quote!(#p::ParamReader::new(#params.as_str(), &[])?;)
    } else {
        let gets = m.params.iter().enumerate().map(|(i, p)| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote_spanned!(ty.span()=> let #ident: #ty = #reader.get(#i)?;)
        });
        quote! {
            let (#(#idents,)*) = {
                let #reader = #p::ParamReader::new(
                    #params.as_str(),
                    &[#(#names),*],
                )?;
                #(#gets)*
                (#(#idents,)*)
            };
        }
    };

    let cx_arg = m.context.as_ref().map(|_| quote!(&#cx,));
    if let (Kind::Stream, Some(ty), Some(names)) = (&m.kind, &m.output, &m.stream) {
        let span = ty.span();
        let pp = private_at(service, span);
        let (mut trait_ident, mut method) = (trait_ident.clone(), method.clone());
        trait_ident.set_span(span);
        method.set_span(span);
        let (item, unsubscribe) = (&names.item, &names.unsubscribe);
        let cx_param = match &m.context {
            Some(_) => quote!(#cx: ::core::option::Option<#p::Context>),
            None => quote!(_: ::core::option::Option<#p::Context>),
        };
        // Without a connection context (a bare jsonrpsee call) a method taking one refuses.
        let unwrap_cx = m.context.as_ref().map(|_| {
            quote! {
                let ::core::option::Option::Some(#cx) = #cx else {
                    return ::core::result::Result::Err(#p::no_context());
                };
            }
        });
        return quote! {
            {
                let #this = ::core::clone::Clone::clone(&#this);
                #p::register_stream(
                    &mut #module,
                    #wire,
                    #item,
                    #unsubscribe,
                    move |#params: #p::JsonParams<'static>, #cx_param| {
                        let #this = ::core::clone::Clone::clone(&#this);
                        async move {
                            #unwrap_cx
                            #read
                            #pp::into_stream(
                                <Self as #trait_ident>::#method(&*#this, #cx_arg #(#idents),*).await
                            )
                        }
                    },
                );
            }
        };
    }
    // Requests and notifications decode their params when called, before their future is
    // made: the params are borrowed from the frame, and the future holds the values.
    let decode = if m.params.is_empty() {
        quote!(#p::ParamReader::of(&#params, &[]).map(|_| ()))
    } else {
        let gets = m.params.iter().enumerate().map(|(i, p)| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote_spanned!(ty.span()=> let #ident: #ty = #reader.get(#i)?;)
        });
        quote! {
            (|| -> #p::Args<_> {
                let #reader = #p::ParamReader::of(&#params, &[#(#names),*])?;
                #(#gets)*
                ::core::result::Result::Ok((#(#idents,)*))
            })()
        }
    };
    let respond = match (&m.kind, &m.output) {
        (Kind::Request, Some(ty)) => {
            let span = ty.span();
            let p = private_at(service, span);
            let (mut trait_ident, mut method) = (trait_ident.clone(), method.clone());
            trait_ident.set_span(span);
            method.set_span(span);
            quote_spanned! {span=>
                #p::into_response(
                    <Self as #trait_ident>::#method(&*#this, #cx_arg #(#idents),*).await
                )
            }
        }
        _ => quote! {
            <Self as #trait_ident>::#method(&*#this, #cx_arg #(#idents),*).await;
            #p::unit_response()
        },
    };

    let (register, cx_param) = match &m.context {
        Some(_) => (
            format_ident!("register_with_context"),
            quote!(, #cx: #p::Context),
        ),
        None => (format_ident!("register"), quote!()),
    };
    quote! {
        {
            let #this = ::core::clone::Clone::clone(&#this);
            #p::#register(
                &mut #module,
                #wire,
                move |#params: #p::CallParams<'_> #cx_param| {
                    let #this = ::core::clone::Clone::clone(&#this);
                    let #args = #decode;
                    async move {
                        let (#(#idents,)*) = #args?;
                        #respond
                    }
                },
            );
        }
    }
}
