//! The `#[volley::rpc]` attribute, which turns a trait into a JSON-RPC service.
//!
//! Use it through the `volley` crate, which re-exports it together with the runtime the
//! generated code calls; depending on this crate alone is not enough. Everything about the
//! attribute is documented on [`macro@rpc`].

mod ast;
mod attr;
mod ctxt;
mod expand;
mod fallback;
mod parse;
mod respan;
mod rpc_error;
mod valid;

use proc_macro2::TokenStream;

use crate::ctxt::Errors;

/// Turns a trait into a JSON-RPC 2.0 service that either end of a volley connection can serve
/// or call.
///
/// ```
/// /// What the server offers.
/// #[volley::rpc(namespace = "calc")]
/// pub trait Calculator {
///     /// Adds two numbers.
///     async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
///     /// Asks the calling peer to confirm something.
///     async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
///     /// Writes a line to the log; the caller gets no answer.
///     #[rpc(notification)]
///     async fn log(&self, line: String);
///     /// Sets the precision; called `setPrecision` on the wire.
///     #[rpc(name = "setPrecision")]
///     async fn set_precision(&self, #[rpc(name = "digits")] n: u8) -> volley::Result<()>;
/// }
///
/// struct Calc;
///
/// impl Calculator for Calc {
///     async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
///         Ok(a + b)
///     }
///     async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
///         cx.peer().call("confirm", &[question]).await
///     }
///     async fn log(&self, line: String) {
///         println!("{line}");
///     }
///     async fn set_precision(&self, _n: u8) -> volley::Result<()> {
///         Ok(())
///     }
/// }
///
/// // Serve it: hand the service to a volley server or client.
/// let service = Calc.into_service();
/// assert_eq!(
///     service.method_names(),
///     ["calc.add", "calc.ask", "calc.log", "calc.setPrecision"],
/// );
///
/// // Call it on a remote peer through the generated stub.
/// async fn remote_sum(peer: &volley::Peer) -> volley::Result<i64> {
///     CalculatorClient::new(peer).add(1, 2).await
/// }
/// ```
///
/// # What it generates
///
/// - **The trait**, with `Send + Sync + 'static` added to its supertraits and each
///   `async fn m(&self, ..) -> R` declared as `fn m(&self, ..) -> impl Future<Output = R> + Send`.
///   Implement it with plain `async fn`s; the compiler checks that their futures are `Send`
///   so the service can run on a multi-threaded runtime.
/// - **`into_service(self)`**, a provided method that registers every method under its wire
///   name and returns the `volley::Service` a server or client serves. Calls run concurrently,
///   sharing the value through an `Arc`.
/// - **`<Trait>Client`**, a typed stub with the trait's visibility: `new(&peer)`,
///   `with_timeout(duration)`, `peer()`, and one `async fn` per method taking the same params
///   (without the context) and returning `volley::Result<T>`, where `T` is the method's success
///   type. Requests wait for the answer; notifications return once sent. Params are sent by
///   name, or by position under `params = "positional"` (see Options). It implements
///   `volley::RemoteService`, so `peer.client::<CalculatorClient>()` works.
/// - **A static description** of the trait (names, docs, params, result and error types as
///   written), at `<CalculatorClient as volley::RemoteService>::DESCRIPTION` and inside every
///   service made by `into_service`. volley builds its OpenRPC and AsyncAPI documents from it.
///
/// # Rules
///
/// - Every item is an `async fn` taking `&self`: no generics, no `where` clause, no default
///   body, no associated types or constants. The trait itself cannot be generic.
/// - A first parameter after `&self` whose type is a reference to a type named `Context`
///   (`cx: &volley::Context`) receives the calling context; it is not sent on the wire. It
///   must come first.
/// - Other parameters are plain identifiers whose types are `Serialize + DeserializeOwned`.
///   They are accepted by position (a JSON array) or by name (an object); a missing `Option`
///   parameter reads as `None`. Doc comments on parameters are allowed and land in the
///   description.
/// - A request returns `Result<T, E>` under any alias (`volley::Result<T>` is the usual one),
///   with `T: Serialize + DeserializeOwned` and `E: Into<volley::ErrorObject>`; the error
///   object is sent as the JSON-RPC error. A notification returns nothing.
/// - The stub's inherent methods (`new`, `with_timeout`, `peer`) and `into_service` cannot be
///   method names; rename the method and keep its wire name with `#[rpc(name = "..")]`.
///
/// # Options
///
/// On the attribute, or in a separate `#[rpc(..)]` on the trait:
///
/// | option | effect |
/// | --- | --- |
/// | `namespace = "calc"` | wire names become `calc.<name>` |
/// | `namespace_separator = "/"` | joins namespace and name (default `"."`) |
/// | `crate = "path::to::volley"` | where the generated code finds volley, for crates that re-export it |
/// | `params = "positional"` or `params = "named"` | how callers send every method's params (below) |
///
/// On a method, `#[rpc(notification)]` makes it a notification (no response, no return type)
/// and `#[rpc(name = "otherName")]` sets its wire name; the namespace still applies
/// (`calc.otherName`). `#[rpc(params = "..")]` on a method overrides the trait's.
///
/// `params` is part of the contract: `"positional"` makes the generated stubs (Rust and
/// TypeScript) send one array in declaration order and the OpenRPC document declare
/// `paramStructure: "by-position"`; `"named"` sends one object and declares `"by-name"`.
/// Without it, stubs send by name and the document declares `"either"`. Serving accepts both
/// shapes whatever it says; declare `"positional"` on a trait the other end serves when that
/// end takes no named params. On a parameter, `#[rpc(name = "camelCase")]` sets the name used in
/// by-name params. Without it, the Rust name is used, without any `r#`.
///
/// Wire names must be unique within a trait and may not start with `rpc.`, which JSON-RPC
/// reserves for extensions.
#[proc_macro_attribute]
pub fn rpc(
    args: proc_macro::TokenStream,
    input: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    attribute(args.into(), input.into()).into()
}

/// Makes an enum an error type of the contract: each variant a JSON-RPC error with its own
/// code and message, its fields the error's `data`.
///
/// ```
/// #[derive(Debug, volley::RpcError)]
/// pub enum BidError {
///     /// The bid is below the current price.
///     #[code(4001)]
///     #[message("bid too low: at least {minimum}")]
///     TooLow { minimum: u64 },
///     /// The auction has ended.
///     #[code(4002)]
///     #[message("the auction is closed")]
///     Closed,
///     /// Tuple fields are `{0}`, `{1}`, ...
///     #[code(4003)]
///     #[message("unknown lot {0}")]
///     UnknownLot(String),
/// }
///
/// let object: volley::ErrorObject = BidError::TooLow { minimum: 5 }.into();
/// assert_eq!(object.code(), 4001);
/// assert_eq!(object.message(), "bid too low: at least 5");
/// assert_eq!(object.data().map(|d| d.get()), Some(r#"{"minimum":5}"#));
/// use volley::RpcError as _;
/// assert!(matches!(
///     BidError::from_error_object(&object),
///     Some(BidError::TooLow { minimum: 5 })
/// ));
/// ```
///
/// It implements:
/// - `From<E> for volley::ErrorObject`: the variant's code, its message with the fields
///   filled in, and its fields as `data` (an object for named fields, the value for one
///   unnamed field, an array for several, none for a unit variant);
/// - `Display` (the same message) and `std::error::Error`;
/// - `volley::RpcError`: the variants for the documents (code, message template, docs and
///   the JSON Schema of `data`), and the decoding of an error object back into the enum,
///   which generated stubs use to return `volley::CallError::App(e)`.
///
/// Each variant needs `#[code(n)]`, unique in the enum and outside JSON-RPC's reserved
/// `-32768..=-32000`, and `#[message("..")]`, a format string whose `{name}` (or `{0}`) are
/// the variant's fields. Fields must be `Serialize`, `Deserialize` and `JsonSchema`;
/// `#[serde(..)]` on a named field (a rename, say) applies to `data`. The enum cannot be
/// generic. `#[rpc_error(crate = "path::to::volley")]` says where volley is, for crates that
/// re-export it.
#[proc_macro_derive(RpcError, attributes(code, message, rpc_error, serde, schemars))]
pub fn derive_rpc_error(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => rpc_error::derive(&input).unwrap_or_else(syn::Error::into_compile_error),
        Err(e) => e.into_compile_error(),
    }
    .into()
}

/// Parse, validate, render; when the input breaks a rule, the fallback: the trait with only the
/// macro's own syntax removed plus the errors, so that the rest of the crate still type-checks.
fn attribute(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match parse::trait_item(input.clone()) {
        Ok(item) => item,
        Err(error) => return fallback::unchanged(input, &error),
    };
    let mut errors = Errors::default();
    let service = parse::service(args, &item, &mut errors);
    valid::check(&service, &mut errors);
    match errors.finish() {
        Ok(()) => expand::render(&service),
        Err(errors) => fallback::stripped(item, &errors),
    }
}
