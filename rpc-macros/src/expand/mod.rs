//! Renders the IR into the generated code: the trait re-declared with `into_service`
//! (`server`), the stub `<Trait>Client` (`client`), the fan-out stub `<Trait>Fanout`
//! (`fanout`) and the static description the stub and
//! every service carry (`describe`). Pure functions of a valid [`Service`]: nothing here fails.

mod client;
mod describe;
mod fanout;
mod server;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ast::Service;
use crate::respan::respan;

/// Everything the attribute expands to.
pub(crate) fn render(service: &Service) -> TokenStream {
    let server = server::render(service);
    let client = client::render(service);
    let fanout = fanout::render(service);
    quote!(#server #client #fanout)
}

/// `<crate>::__private`, where the generated code finds its runtime.
fn private(service: &Service) -> TokenStream {
    let krate = &service.krate;
    quote!(#krate::__private)
}

/// `<crate>::__private` with every token at `span`, so that an error in an expression
/// built from it points at the user's token there rather than at the attribute.
fn private_at(service: &Service, span: Span) -> TokenStream {
    respan(private(service), span)
}
