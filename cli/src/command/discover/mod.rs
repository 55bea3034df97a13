//! `volley discover`: the server's `rpc.discover` document, as a table of the methods of both
//! directions or as it is.

use serde_json::Value;
use serde_json::value::RawValue;

use crate::connect::{self, ConnectArgs};
use crate::failure::Failure;
use crate::output;

mod types;

use types::type_of;

const EXAMPLES: &str = "\
Examples:
  volley discover ws://127.0.0.1:8080/ws            the methods of example-callbacks, both ways
  volley discover ws://127.0.0.1:8080/ws --json     its OpenRPC document
  volley discover wss://api.example.com/ws --token SECRET

SERVED BY says which end serves a method (OpenRPC's x-implemented-by; `server` when the
document does not say): clients call what the server serves, and the server calls what
clients serve. POLICY lists what the document says of a method: the authorization it
requires (x-requires), its deadline (x-timeout-ms), idempotent (x-idempotent), streams
(x-stream) and their cancel methods, notifications, how params must be sent, and the
type and codes of its own errors.";

/// Lists the methods a server describes.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct DiscoverArgs {
    /// The server's WebSocket URL (ws:// or wss://)
    url: String,
    /// Print the OpenRPC document as the server sent it instead of a table
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Fetches the document and prints it.
pub(crate) async fn run(args: DiscoverArgs) -> Result<(), Failure> {
    let raw = document(&args.url, &args.connect).await?;
    if args.json {
        output::json(raw.get());
        return Ok(());
    }
    let document: Value = serde_json::from_str(raw.get())
        .map_err(|e| Failure::input("the server's rpc.discover answer is not JSON", e))?;
    output::stdout(table(&document).trim_end());
    Ok(())
}

/// The server's answer to `rpc.discover`.
pub(crate) async fn document(url: &str, args: &ConnectArgs) -> Result<Box<RawValue>, Failure> {
    let client = connect::connect(url, args, None).await?;
    let outcome = client
        .peer()
        .request_raw("rpc.discover", None, Some(args.timeout))
        .await;
    let _ = connect::close(&client, args.timeout).await;
    match outcome {
        Ok(document) => Ok(document),
        Err(volley_core::Error::Remote(error)) => Err(Failure::Remote(error)),
        Err(source) => Err(Failure::NoAnswer {
            method: "rpc.discover".to_owned(),
            source,
        }),
    }
}

/// The title line and the table of every method of `document`.
pub(crate) fn table(document: &Value) -> String {
    let text = |pointer: &str| document.pointer(pointer).and_then(Value::as_str);
    let methods: Vec<&Value> = methods(document).collect();
    let mut rows = vec![["METHOD", "SERVED BY", "PARAMS", "RESULT", "POLICY"].map(String::from)];
    rows.extend(methods.iter().map(|m| row(document, m)));
    let title = [text("/info/title"), text("/info/version")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let count = match methods.len() {
        1 => "1 method".to_owned(),
        n => format!("{n} methods"),
    };
    let mut out = if title.is_empty() {
        format!("{count}\n\n")
    } else {
        format!("{title}: {count}\n\n")
    };
    out.push_str(&columns(&rows));
    out
}

/// The methods of `document`, each with its `$ref` followed.
pub(crate) fn methods(document: &Value) -> impl Iterator<Item = &Value> {
    document
        .get("methods")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| resolve(document, m))
}

/// The cells of one method: name, served by, params, result, policy.
pub(crate) fn row(document: &Value, method: &Value) -> [String; 5] {
    let name = method.get("name").and_then(Value::as_str).unwrap_or("?");
    let served_by = match method.get("x-implemented-by").and_then(Value::as_array) {
        Some(sides) => sides
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        None => "server".to_owned(),
    };
    let params: Vec<String> = method
        .get("params")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let p = resolve(document, p);
            let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
            let optional = if p.get("required") == Some(&Value::Bool(true)) {
                ""
            } else {
                "?"
            };
            let ty = p.get("schema").map_or_else(|| "any".to_owned(), type_of);
            format!("{name}{optional}: {ty}")
        })
        .collect();
    let stream = method.get("x-stream");
    let result = match (stream, method.get("result").map(|r| resolve(document, r))) {
        (Some(stream), _) => format!(
            "stream of {}",
            stream
                .get("schema")
                .map_or_else(|| "any".to_owned(), type_of)
        ),
        (None, Some(result)) => result
            .get("schema")
            .map_or_else(|| "any".to_owned(), type_of),
        (None, None) => "-".to_owned(),
    };
    [
        name.to_owned(),
        served_by,
        params.join(", "),
        result,
        policy(method).join(", "),
    ]
}

/// What the document says of how `method` may be called.
fn policy(method: &Value) -> Vec<String> {
    let text = |key: &str| method.get(key).and_then(Value::as_str);
    let mut policy = Vec::new();
    if stream_or_result(method).is_none() {
        policy.push("notification".to_owned());
    }
    if let Some(stream) = method.get("x-stream") {
        let name = |key: &str| stream.get(key).and_then(Value::as_str).unwrap_or("?");
        policy.push(format!(
            "stream (items {}, cancel {})",
            name("item"),
            name("unsubscribe")
        ));
    }
    if let Some(stream) = text("x-unsubscribes") {
        policy.push(format!("cancels {stream}"));
    }
    if let Some(requirement) = text("x-requires") {
        policy.push(format!("requires {requirement}"));
    }
    if let Some(ms) = method.get("x-timeout-ms").and_then(Value::as_u64) {
        policy.push(format!("timeout {ms} ms"));
    }
    if method.get("x-idempotent") == Some(&Value::Bool(true)) {
        policy.push("idempotent".to_owned());
    }
    match text("paramStructure") {
        Some("by-position") => policy.push("params by position".to_owned()),
        Some("by-name") => policy.push("params by name".to_owned()),
        _ => {}
    }
    if let Some(name) = method.pointer("/x-error-data/name").and_then(Value::as_str) {
        policy.push(format!("error data {name}"));
    }
    let codes: Vec<String> = method
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("code"))
        .map(Value::to_string)
        .collect();
    if !codes.is_empty() {
        let name = method.pointer("/x-error-type/name").and_then(Value::as_str);
        let name = name.map(|n| format!("{n} ")).unwrap_or_default();
        policy.push(format!("errors {name}{}", codes.join(" ")));
    }
    policy
}

/// The method's stream or result: `None` for a notification.
fn stream_or_result(method: &Value) -> Option<&Value> {
    method
        .get("x-stream")
        .or_else(|| method.get("result"))
        .filter(|v| !v.is_null())
}

/// `value`, or what it refers to when it is a `$ref` into the document.
pub(crate) fn resolve<'d>(document: &'d Value, mut value: &'d Value) -> &'d Value {
    for _ in 0..32 {
        let target = value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| document.pointer(p));
        match target {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

/// `rows` in columns two spaces apart, the first row being the header.
fn columns(rows: &[[String; 5]]) -> String {
    let mut widths = [0; 5];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let pad = widths[i] - cell.chars().count();
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_method_is_a_row_with_who_serves_it_and_its_policy() {
        let document = json!({
            "info": { "title": "Shop", "version": "1.0.0" },
            "methods": [
                {
                    "name": "buy",
                    "params": [
                        { "name": "item", "required": true, "schema": { "$ref": "#/components/schemas/Item" } },
                        { "name": "note", "schema": { "type": ["string", "null"] } }
                    ],
                    "result": { "name": "result", "schema": { "type": "integer", "format": "uint64" } },
                    "x-requires": "customer",
                    "x-timeout-ms": 5000,
                    "x-idempotent": true,
                    "errors": [{ "code": 4001, "message": "sold out" }, { "code": 4002, "message": "closed" }],
                    "x-error-type": { "name": "ShopError", "variants": {} },
                    "x-implemented-by": ["server"]
                },
                { "$ref": "#/components/methods/seen" },
                {
                    "name": "subscribe_prices",
                    "params": [],
                    "result": { "name": "subscription", "schema": {} },
                    "x-stream": { "item": "prices", "unsubscribe": "unsubscribe_prices", "schema": { "type": "number" } },
                    "paramStructure": "by-name",
                    "x-implemented-by": ["server", "client"]
                }
            ],
            "components": {
                "methods": {
                    "seen": {
                        "name": "seen",
                        "params": [{ "name": "n", "required": true, "schema": { "type": "integer" } }],
                        "paramStructure": "by-position",
                        "x-implemented-by": ["client"]
                    }
                }
            }
        });
        assert_eq!(
            table(&document),
            "Shop 1.0.0: 3 methods\n\n\
             METHOD            SERVED BY       PARAMS                            RESULT            POLICY\n\
             buy               server          item: Item, note?: string | null  uint64            requires customer, timeout 5000 ms, idempotent, errors ShopError 4001 4002\n\
             seen              client          n: integer                        -                 notification, params by position\n\
             subscribe_prices  server, client                                    stream of number  stream (items prices, cancel unsubscribe_prices), params by name\n"
        );
    }
}
