//! Renders the typed stub `<Trait>Client` and its `RemoteService` impl.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{GenericArgument, Ident, PathArguments, Type};

use super::{describe, private, private_at};
use crate::ast::{Kind, Method, ParamStyle, Service};

/// The stub struct, its methods, and its `RemoteService` impl (which holds the description).
pub(crate) fn render(service: &Service) -> TokenStream {
    let Service { vis, client, .. } = service;
    let p = private(service);
    let name = &service.name;
    let struct_docs = [
        format!(" Calls [`{name}`] on a remote peer."),
        String::new(),
        format!(
            " Make one from any connection's `Peer` with [`{client}::new`]; it is cheap to create \
             and to clone. Each method sends one JSON-RPC request or notification, named in its \
             docs, with the params by name."
        ),
        String::new(),
        " A call ends with the remote result, with the remote error (`Error::Remote`), or with \
          the local reason no answer came (disconnected, timed out, cancelled)."
            .to_owned(),
    ];
    let new_doc = format!(" A stub that calls `{name}` on `peer`.");
    let methods = service.methods.iter().map(|m| method(service, m));
    let description = describe::render(service);
    quote! {
        #(#[doc = #struct_docs])*
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #[allow(dead_code)]
        #vis struct #client {
            peer: #p::Peer,
            timeout: ::core::option::Option<::core::time::Duration>,
        }

        #[allow(dead_code, unreachable_pub)]
        impl #client {
            #[doc = #new_doc]
            #[doc = ""]
            #[doc = " Calls use the peer's default deadline until [`with_timeout`](Self::with_timeout) sets another."]
            pub fn new(peer: &#p::Peer) -> Self {
                Self {
                    peer: ::core::clone::Clone::clone(peer),
                    timeout: ::core::option::Option::None,
                }
            }

            /// Sets the deadline of every call made through this stub, instead of the peer's
            /// default. A call that gets no answer in time ends with a timeout error and is
            /// cancelled on the remote side. Notifications have no deadline.
            #[must_use]
            pub fn with_timeout(mut self, timeout: ::core::time::Duration) -> Self {
                self.timeout = ::core::option::Option::Some(timeout);
                self
            }

            /// The peer this stub calls.
            pub fn peer(&self) -> &#p::Peer {
                &self.peer
            }

            #(#methods)*
        }

        impl #p::RemoteService for #client {
            const DESCRIPTION: &'static #p::ServiceDescription = #description;

            fn from_peer(peer: &#p::Peer) -> Self {
                Self::new(peer)
            }
        }
    }
}

/// How a stub method takes and encodes its params.
pub(super) struct Encoding {
    /// `name: Type` for the signature.
    pub(super) sig_params: Vec<TokenStream>,
    /// Starts the param writer (none without params).
    pub(super) start: Option<TokenStream>,
    /// Adds each param (`?` on an encoding error).
    pub(super) writes: Vec<TokenStream>,
    /// The encoded params: `Option<EncodedParams>`.
    pub(super) encoded: TokenStream,
}

pub(super) fn encoding(service: &Service, m: &Method) -> Encoding {
    let p = private(service);
    let builder = Ident::new("params", Span::mixed_site());
    // The params are written into the request that carries them, after its method.
    let wire = &m.wire_name;
    let sig_params = m.params.iter().map(|param| {
        let (attrs, ident, ty) = (&param.attrs, &param.ident, &param.ty);
        quote!(#(#attrs)* #ident: #ty)
    });
    let encoded = if m.params.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        quote!(#builder.finish())
    };
    let writes = m.params.iter().map(|param| {
        let (ty, name) = (&param.ty, &param.name);
        let mut ident = param.ident.clone();
        ident.set_span(ty.span());
        // A name that needs no escaping goes in as its whole key, written here.
        let plain =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if plain {
            let key = format!("\"{name}\":");
            quote_spanned!(ty.span()=> #builder.field(#key, &#ident)?;)
        } else {
            quote_spanned!(ty.span()=> #builder.add(#name, &#ident)?;)
        }
    });
    Encoding {
        sig_params: sig_params.collect(),
        start: (!m.params.is_empty()).then(|| {
            let writer = match m.param_style {
                Some(ParamStyle::Positional) => quote!(#p::ParamWriter::positional(#wire)),
                _ => quote!(#p::ParamWriter::new(#wire)),
            };
            quote!(let mut #builder = #writer;)
        }),
        writes: writes.collect(),
        encoded,
    }
}

/// Whether the stub of a method returning `ty` returns its own error type
/// (`CallError<E>`): yes for `Result<T, E>` with any `E` but volley's `Error` or
/// `ErrorObject` (plain, or under a `volley` path); no for `volley::Result<T>` and the like.
pub(super) fn typed_error(ty: &Type) -> bool {
    let mut inner = ty;
    while let Type::Paren(p) = inner {
        inner = &p.elem;
    }
    let Type::Path(path) = inner else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let (Some(_), Some(Type::Path(err))) = (types.next(), types.next()) else {
        return false;
    };
    let segments = &err.path.segments;
    let volleys = segments.len() == 1
        || segments
            .iter()
            .any(|s| s.ident == "volley" || s.ident == "volley_core");
    let named = segments
        .last()
        .is_some_and(|s| s.ident == "Error" || s.ident == "ErrorObject");
    !(named && volleys)
}

/// The stub's output: `Result<ok>` or, with its own error type, `Result<ok, CallError<err>>`.
fn typed_output(p: &TokenStream, ty: &Type, ok: TokenStream, err: TokenStream) -> TokenStream {
    if typed_error(ty) {
        quote!(#p::Result<#ok, #p::CallError<#err>>)
    } else {
        quote!(#p::Result<#ok>)
    }
}

/// The stub's call, with a remote error decoded into the method's error type when it has one.
fn typed_send(p: &TokenStream, ty: &Type, send: TokenStream, err: TokenStream) -> TokenStream {
    if typed_error(ty) {
        quote! {
            #send.map_err(|e| {
                #[allow(unused_imports)]
                use #p::{Decodes as _, Undecodable as _};
                (&#p::ErrorProbe::<#err>::new()).call_error(e)
            })
        }
    } else {
        send
    }
}

/// `Some(Duration)` for a method with `#[rpc(timeout = ..)]`, else `None`.
pub(super) fn method_timeout(m: &Method) -> TokenStream {
    match m.timeout_ms {
        Some(ms) => quote!(::core::option::Option::Some(::core::time::Duration::from_millis(#ms))),
        None => quote!(::core::option::Option::None),
    }
}

fn method(service: &Service, m: &Method) -> TokenStream {
    let p = private(service);
    let Method {
        stub_attrs,
        ident,
        wire_name,
        ..
    } = m;
    let peer = Ident::new("peer", Span::mixed_site());
    let timeout = Ident::new("timeout", Span::mixed_site());
    let method_timeout = method_timeout(m);
    let idempotent = m.idempotent;
    let Encoding {
        sig_params,
        start,
        writes,
        encoded,
    } = encoding(service, m);

    let (doc, output, send) = match (&m.kind, &m.output) {
        (Kind::Stream, Some(ty)) => {
            let span = ty.span();
            let p = private_at(service, span);
            let (item, unsubscribe) = m
                .stream
                .as_ref()
                .map(|s| (s.item.as_str(), s.unsubscribe.as_str()))
                .unwrap_or_default();
            (
                format!(
                    " Opens the stream `{wire_name}`: resolves once the producer has answered, \
                     with its items (`{item}` notifications) as a `Subscription`. Dropping it \
                     cancels the stream (`{unsubscribe}`)."
                ),
                typed_output(
                    &p,
                    ty,
                    quote_spanned!(span=> #p::Subscription<<#ty as #p::StreamResult>::Item>),
                    quote_spanned!(span=> <#ty as #p::StreamResult>::Err),
                ),
                typed_send(
                    &p,
                    ty,
                    quote_spanned! {span=>
                        #p::subscribe(&#peer, #wire_name, #item, #unsubscribe, #encoded, #timeout.or(#method_timeout)).await
                    },
                    quote_spanned!(span=> <#ty as #p::StreamResult>::Err),
                ),
            )
        }
        (Kind::Request, Some(ty)) => {
            let span = ty.span();
            let p = private_at(service, span);
            (
                format!(" Sends the request `{wire_name}` and waits for its result."),
                typed_output(
                    &p,
                    ty,
                    quote_spanned!(span=> <#ty as #p::RpcResult>::Ok),
                    quote_spanned!(span=> <#ty as #p::RpcResult>::Err),
                ),
                typed_send(
                    &p,
                    ty,
                    quote_spanned! {span=>
                        #p::call(&#peer, #wire_name, #encoded, #timeout.or(#method_timeout), #idempotent).await
                    },
                    quote_spanned!(span=> <#ty as #p::RpcResult>::Err),
                ),
            )
        }
        _ => (
            format!(" Sends the notification `{wire_name}`; no answer is awaited, none comes."),
            quote!(#p::Result<()>),
            quote!(#p::notify(&#peer, #wire_name, #encoded).await),
        ),
    };
    // Spanned at the return type, so "must return Result" errors point at the user's type.
    let future_span = match (&m.kind, &m.output) {
        (Kind::Request | Kind::Stream, Some(ty)) => ty.span(),
        _ => Span::call_site(),
    };
    let future = quote_spanned! {future_span=>
        impl ::core::future::Future<Output = #output> + ::core::marker::Send + 'static
    };
    let many_arguments =
        (m.params.len() >= 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let complexity = quote!(#[allow(clippy::type_complexity)]);
    let separator = (!m.docs.is_empty()).then(|| quote!(#[doc = ""]));
    // A notification can also be queued without waiting, for broadcasts that must not be held
    // up by a peer that stopped reading.
    let try_variant = matches!(m.kind, Kind::Notification).then(|| {
        let try_ident = format_ident!("try_{}", ident.unraw());
        let doc = format!(
            " Queues the notification `{wire_name}` only if the peer's outgoing queue has room \
             now: `Error::Busy` when it is full (the peer is not reading), \
             `Error::Disconnected` when the connection is closed. Never waits."
        );
        quote! {
            #(#stub_attrs)*
            #separator
            #[doc = #doc]
            #many_arguments
            pub fn #try_ident(&self, #(#sig_params),*) -> #p::Result<()> {
                #start
                #(#writes)*
                #p::try_notify(&self.peer, #wire_name, #encoded)
            }
        }
    });
    quote! {
        #try_variant

        #(#stub_attrs)*
        #separator
        #[doc = #doc]
        #many_arguments
        #complexity
        ///
        /// The returned future owns what it needs (it does not borrow the stub), so calls
        /// to many peers can be built in a loop and awaited together.
        pub fn #ident(&self, #(#sig_params),*) -> #future {
            let #peer = ::core::clone::Clone::clone(&self.peer);
            let #timeout = self.timeout;
            async move {
                #start
                #(#writes)*
                #send
            }
        }
    }
}
