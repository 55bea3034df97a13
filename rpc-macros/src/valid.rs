//! Naming rules, checked on the IR: wire names are unique and not reserved, parameter names are
//! unique within a method, and no method shadows a name the macro generates.

use crate::ast::{Kind, Method, Service};
use crate::ctxt::Errors;

/// The inherent methods of the generated stub, which no rpc method may shadow.
const STUB_METHODS: &[&str] = &["new", "with_timeout", "peer", "audience"];

/// The provided trait method the macro adds.
const INTO_SERVICE: &str = "into_service";

/// Records in `errors` every naming rule `service` breaks.
pub(crate) fn check(service: &Service, errors: &mut Errors) {
    for (index, method) in service.methods.iter().enumerate() {
        generated_name(service, method, errors);
        reserved_name(method, errors);
        duplicate_params(method, errors);
        duplicate_method(&service.methods[..index], method, errors);
        stream_names(&service.methods, method, errors);
    }
    try_names(service, errors);
}

/// A method named like a method of the stub or like `into_service`.
fn generated_name(service: &Service, method: &Method, errors: &mut Errors) {
    let (trait_ident, rust_name) = (&service.ident, &method.rust_name);
    if STUB_METHODS.contains(&rust_name.as_str()) {
        let stub = if rust_name == "audience" {
            "Fanout"
        } else {
            "Client"
        };
        errors.at(
            method.ident.span(),
            format!(
                "a method named `{rust_name}` clashes with `{trait_ident}{stub}::{rust_name}`; \
                 rename it and keep the wire name with `#[rpc(name = \"{rust_name}\")]`"
            ),
        );
    } else if rust_name == INTO_SERVICE {
        errors.at(
            method.ident.span(),
            format!(
                "a method named `{INTO_SERVICE}` clashes with the method the macro adds; rename \
                 it and keep the wire name with `#[rpc(name = \"{INTO_SERVICE}\")]`"
            ),
        );
    }
}

/// JSON-RPC keeps names starting with `rpc.` for extensions.
fn reserved_name(method: &Method, errors: &mut Errors) {
    let wire_name = &method.wire_name;
    if wire_name.starts_with("rpc.") {
        errors.at(
            method.name_span,
            format!(
                "the method name `{wire_name}` is reserved: JSON-RPC keeps names starting with \
                 `rpc.` for extensions"
            ),
        );
    }
}

/// Two parameters of one method with the same name on the wire.
fn duplicate_params(method: &Method, errors: &mut Errors) {
    for (index, param) in method.params.iter().enumerate() {
        if method.params[..index].iter().any(|p| p.name == param.name) {
            errors.at(
                param.name_span,
                format!("duplicate parameter name `{}`", param.name),
            );
        }
    }
}

/// A method with the wire name of one of the methods before it.
fn duplicate_method(before: &[Method], method: &Method, errors: &mut Errors) {
    if before.iter().any(|m| m.wire_name == method.wire_name) {
        errors.at(
            method.name_span,
            format!(
                "duplicate method name `{}`; each method needs its own wire name",
                method.wire_name
            ),
        );
    }
}

/// A stream's unsubscribe method is served next to the trait's methods, so it needs a name of
/// its own; neither it nor the item notification may take the reserved `rpc.` prefix.
fn stream_names(methods: &[Method], method: &Method, errors: &mut Errors) {
    let Some(names) = &method.stream else { return };
    for (name, span) in [
        (&names.item, names.item_span),
        (&names.unsubscribe, names.unsubscribe_span),
    ] {
        if name.starts_with("rpc.") {
            errors.at(
                span,
                format!(
                    "the method name `{name}` is reserved: JSON-RPC keeps names starting with \
                     `rpc.` for extensions"
                ),
            );
        }
    }
    let unsubscribe = &names.unsubscribe;
    let clash = methods.iter().any(|m| {
        &m.wire_name == unsubscribe
            || m.stream
                .as_ref()
                .is_some_and(|s| !std::ptr::eq(m, method) && &s.unsubscribe == unsubscribe)
    });
    if clash {
        errors.at(
            names.unsubscribe_span,
            format!(
                "the stream `{}` cancels with `{unsubscribe}`, which another method already \
                 uses; name it with `#[rpc(unsubscribe = \"..\")]`",
                method.wire_name
            ),
        );
    }
}

/// Every notification also gets a non-waiting `try_<name>` on the stub, which no method may
/// shadow.
fn try_names(service: &Service, errors: &mut Errors) {
    let methods = &service.methods;
    for method in methods {
        if let Some(base) = method.rust_name.strip_prefix("try_")
            && methods
                .iter()
                .any(|n| matches!(n.kind, Kind::Notification) && n.rust_name == base)
        {
            errors.at(
                method.ident.span(),
                format!(
                    "a method named `{}` clashes with `{}Client::{}`, the non-waiting form of \
                     the notification `{base}`; rename it and keep the wire name with \
                     `#[rpc(name = \"{}\")]`",
                    method.rust_name, service.ident, method.rust_name, method.rust_name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The messages of parsing then checking, in the order the attribute reports them.
    fn messages(args: TokenStream, item: TokenStream) -> Vec<String> {
        let item = syn::parse2(item).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Errors::default();
        let service = crate::parse::service(args, &item, &mut errors);
        check(&service, &mut errors);
        errors.messages()
    }

    #[test]
    fn duplicates() {
        let errors = messages(
            quote!(),
            quote!(
                trait T {
                    async fn a(&self) -> R;
                    #[rpc(name = "a")]
                    async fn b(&self, x: u8, #[rpc(name = "x")] y: u8) -> R;
                }
            ),
        );
        assert_eq!(
            errors,
            [
                "duplicate parameter name `x`",
                "duplicate method name `a`; each method needs its own wire name"
            ]
        );
    }

    #[test]
    fn reserved_and_generated_names() {
        let errors = messages(
            quote!(namespace = "rpc"),
            quote!(
                trait T {
                    async fn peer(&self) -> R;
                    #[rpc(name = "into_service")]
                    async fn into_service(&self) -> R;
                    #[rpc(notification)]
                    async fn tick(&self);
                    async fn try_tick(&self) -> R;
                }
            ),
        );
        assert_eq!(
            errors,
            [
                "a method named `peer` clashes with `TClient::peer`; rename it and keep the \
                 wire name with `#[rpc(name = \"peer\")]`",
                "the method name `rpc.peer` is reserved: JSON-RPC keeps names starting with \
                 `rpc.` for extensions",
                "a method named `into_service` clashes with the method the macro adds; rename \
                 it and keep the wire name with `#[rpc(name = \"into_service\")]`",
                "the method name `rpc.into_service` is reserved: JSON-RPC keeps names starting \
                 with `rpc.` for extensions",
                "the method name `rpc.tick` is reserved: JSON-RPC keeps names starting with \
                 `rpc.` for extensions",
                "the method name `rpc.try_tick` is reserved: JSON-RPC keeps names starting with \
                 `rpc.` for extensions",
                "a method named `try_tick` clashes with `TClient::try_tick`, the non-waiting \
                 form of the notification `tick`; rename it and keep the wire name with \
                 `#[rpc(name = \"try_tick\")]`",
            ]
        );
    }

    #[test]
    fn renamed_methods_pass() {
        let errors = messages(
            quote!(namespace = "calc"),
            quote!(
                trait T {
                    #[rpc(name = "peer")]
                    async fn get_peer(&self) -> R;
                    #[rpc(notification)]
                    async fn tick(&self);
                    #[rpc(name = "try_tick")]
                    async fn try_once(&self) -> R;
                }
            ),
        );
        assert!(errors.is_empty(), "{errors:?}");
    }
}
