//! Renders the typed fan-out stub `<Trait>Fanout` and its `RemoteFanout` impl: the trait's
//! notifications sent to an audience (encoded once), its requests called on every recipient.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::client::{Encoding, encoding, method_timeout};
use super::{private, private_at};
use crate::ast::{Kind, Method, Service};

pub(crate) fn render(service: &Service) -> TokenStream {
    let Service {
        vis,
        fanout,
        client,
        ..
    } = service;
    let p = private(service);
    let name = &service.name;
    let struct_docs = [
        format!(" Sends [`{name}`]'s notifications to many peers, and calls its methods on each."),
        String::new(),
        format!(
            " Make one from an audience: `{fanout}::new(peers.group(\"room\").except(me))`. \
             A notification is encoded once and queued for every recipient without waiting \
             (a recipient that stopped reading is handled by its connection's overflow \
             policy). A request goes to every recipient at once, each under its own deadline, \
             and gives one outcome per recipient: `.await` them all, or read them as they \
             arrive."
        ),
    ];
    // Streams are opened one peer at a time, through `<Trait>Client`.
    let methods = service
        .methods
        .iter()
        .filter(|m| m.kind != Kind::Stream)
        .map(|m| method(service, m));
    quote! {
        #(#[doc = #struct_docs])*
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #[allow(dead_code)]
        #vis struct #fanout {
            audience: #p::Audience,
            timeout: ::core::option::Option<::core::time::Duration>,
        }

        #[allow(dead_code, unreachable_pub)]
        impl #fanout {
            /// A stub sending to `audience`, resolved again at each send.
            pub fn new(audience: #p::Audience) -> Self {
                Self {
                    audience,
                    timeout: ::core::option::Option::None,
                }
            }

            /// Sets each recipient's deadline for every call made through this stub,
            /// instead of the method's or the connection's default.
            #[must_use]
            pub fn with_timeout(mut self, timeout: ::core::time::Duration) -> Self {
                self.timeout = ::core::option::Option::Some(timeout);
                self
            }

            /// The audience this stub sends to.
            pub fn audience(&self) -> &#p::Audience {
                &self.audience
            }

            #(#methods)*
        }

        impl #p::RemoteFanout for #fanout {
            const DESCRIPTION: &'static #p::ServiceDescription =
                <#client as #p::RemoteService>::DESCRIPTION;

            fn from_audience(audience: #p::Audience) -> Self {
                Self::new(audience)
            }
        }
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
    let Encoding {
        sig_params,
        start,
        writes,
        encoded,
    } = encoding(service, m);
    let (doc, output, send) = match (&m.kind, &m.output) {
        (Kind::Request, Some(ty)) => {
            let span = ty.span();
            let p = private_at(service, span);
            let method_timeout = method_timeout(m);
            let idempotent = m.idempotent;
            (
                format!(
                    " Sends the request `{wire_name}` to every recipient at once; each answer \
                     is bounded by its own deadline."
                ),
                quote_spanned!(span=> #p::Result<#p::Replies<<#ty as #p::RpcResult>::Ok>>),
                quote_spanned! {span=>
                    #p::fanout_call(&self.audience, #wire_name, #encoded, self.timeout.or(#method_timeout), #idempotent)
                },
            )
        }
        _ => (
            format!(
                " Sends the notification `{wire_name}` to every recipient: encoded once, \
                 queued for each without waiting."
            ),
            quote!(#p::Result<#p::Delivery>),
            quote!(#p::fanout_notify(&self.audience, #wire_name, #encoded)),
        ),
    };
    let many_arguments =
        (m.params.len() >= 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let separator = (!m.docs.is_empty()).then(|| quote!(#[doc = ""]));
    quote! {
        #(#stub_attrs)*
        #separator
        #[doc = #doc]
        #many_arguments
        #[allow(clippy::type_complexity)]
        pub fn #ident(&self, #(#sig_params),*) -> #output {
            #start
            #(#writes)*
            ::core::result::Result::Ok(#send)
        }
    }
}
