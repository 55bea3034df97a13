//! OpenRPC 1.3.2: the methods a peer serves, for `rpc.discover`, `/openrpc.json` and `/docs`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use volley_core::describe::{MethodKind, ServiceDescription};

use crate::api::{Api, Info, Side};
use crate::collect::{DEFAULT_DESCRIPTION, Described, describe, split_docs};
use crate::endpoint::Endpoint;
use crate::example::example_value;
use crate::stream;
use crate::text::plain;

mod extensions;
mod read;

use extensions::Extension;
pub use read::{ReadError, read_openrpc};

/// The OpenRPC version written.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// The OpenRPC 1.3.2 document of `api`, as `rpc.discover` returns it: the methods its end
/// serves (`"x-implemented-by": ["server"]` on a server), the methods the other end serves
/// (`["client"]`), and by name only the methods no description covers (hand-written
/// jsonrpsee modules); the `x-implemented-by` extension is declared in `x-extensions`.
///
/// Every method has a `paramStructure`: `"either"` unless its trait or the method declares a
/// param style (`"by-name"` for `params = "named"`, `"by-position"` for `params =
/// "positional"`); a volley peer serving it accepts both shapes either way,
/// params with `required` and a schema, a `result` unless it is a notification, an example,
/// `x-requires` on a guarded method (its requirement, an extension declared in
/// `x-extensions`), `x-timeout-ms` and `x-idempotent` on a method with a deadline or marked
/// idempotent (extensions declared likewise), and, when its error type has a JSON Schema, `x-error-data` (the schema of the error
/// object's `data`, an extension declared in `x-extensions`: an OpenRPC error object needs a
/// fixed code, which an error type does not have). A method whose error type derives
/// `volley::RpcError` lists each variant in `errors` (code, message, example `data`), with
/// `x-error-schemas` (each code's `data` schema) and `x-error-type` (the type's name, and each
/// code's variant with its docs), both declared in `x-extensions`. `url` (`ws://host:port/path`) becomes the
/// `servers` entry.
///
/// A stream method (`#[rpc(stream)]`) has the subscription id as its `result` (`subscription`,
/// an integer or a string) and `x-stream`: the name of its item notifications, of its
/// unsubscribe method, and the item's schema. Its unsubscribe method follows it, with the
/// subscription id as its one param (`paramStructure: "by-position"`), a boolean result and
/// `x-unsubscribes` naming the stream method. Both extensions are declared in `x-extensions`.
pub fn openrpc(api: &Api, url: Option<&str>) -> Value {
    let own = api.side();
    render(
        &api.info(),
        &[
            Group {
                side: own,
                services: api.served(),
                undescribed: api.undescribed(),
            },
            Group {
                side: own.other(),
                services: api.remote(),
                undescribed: &[],
            },
        ],
        url,
    )
}

struct Group<'a> {
    side: Side,
    services: &'a [&'a ServiceDescription],
    undescribed: &'a [&'a str],
}

fn render(info: &Info, groups: &[Group<'_>], url: Option<&str>) -> Value {
    let described_groups: Vec<_> = groups.iter().map(|g| (Some(g.side), g.services)).collect();
    let (methods, definitions) = describe(&described_groups, &[]);
    let root = json!({ "components": { "schemas": definitions.schemas } });

    let mut out: Vec<Value> = Vec::new();
    let mut used = BTreeSet::from([Extension::ImplementedBy]);
    for d in &methods {
        push(&mut out, d.side, || method(d, &root, &mut used));
        if let MethodKind::Stream { item, unsubscribe } = d.method.kind {
            push(&mut out, d.side, || {
                unsubscribe_method(d, item, unsubscribe, &mut used)
            });
        }
    }
    for group in groups {
        for name in group.undescribed {
            if out.iter().any(|v| v["name"] == *name) {
                continue;
            }
            let mut method = json!({
                "name": name,
                "description": "Served without a description (a hand-written jsonrpsee \
                    module): its params and result are not known.",
                "paramStructure": "either",
                "params": [],
                "result": { "name": "result", "schema": {} },
            });
            method["x-implemented-by"] = json!([group.side.as_str()]);
            method["tags"] = json!([{ "name": group.side.as_str() }]);
            out.push(method);
        }
    }

    let mut info_v = json!({ "title": info.title, "version": info.version });
    info_v["description"] = info
        .description
        .as_deref()
        .unwrap_or(DEFAULT_DESCRIPTION)
        .into();
    let extensions: Vec<Value> = used.iter().map(|e| e.declaration()).collect();
    let mut doc = json!({
        "openrpc": OPENRPC_VERSION,
        "info": info_v,
        "x-extensions": extensions,
        "methods": out,
    });
    if let Some(url) = url.and_then(|u| Endpoint::parse(u).url()) {
        doc["servers"] = json!([{ "name": "websocket", "url": url }]);
    }
    let schemas = root["components"]["schemas"].clone();
    if schemas.as_object().is_some_and(|s| !s.is_empty()) {
        doc["components"] = json!({ "schemas": schemas });
    }
    doc
}

/// Adds the method `make` builds to `out`; when `out` already has a method of that name (both
/// ends serve it), marks that one as served by `side` too instead.
fn push(out: &mut Vec<Value>, side: Option<Side>, make: impl FnOnce() -> Map<String, Value>) {
    let method = make();
    let Some(existing) = out.iter_mut().find(|v| v["name"] == method["name"]) else {
        out.push(Value::Object(method));
        return;
    };
    let Some(side) = side else { return };
    let label = json!(side.as_str());
    let listed = existing["x-implemented-by"]
        .as_array()
        .is_some_and(|l| l.contains(&label));
    if !listed {
        if let Some(list) = existing["x-implemented-by"].as_array_mut() {
            list.push(label);
        }
        if let Some(tags) = existing["tags"].as_array_mut() {
            tags.push(json!({ "name": side.as_str() }));
        }
    }
}

/// The start of a method object: name, summary, description, tags, `x-implemented-by`.
fn head(
    d: &Described<'_>,
    name: &str,
    docs: (Option<String>, Option<String>),
) -> Map<String, Value> {
    let mut method = Map::new();
    method.insert("name".into(), name.into());
    let (summary, description) = docs;
    if let Some(s) = summary {
        method.insert("summary".into(), s.into());
    }
    if let Some(s) = description {
        method.insert("description".into(), s.into());
    }
    let mut tags = Vec::new();
    if let Some(side) = d.side {
        tags.push(json!({ "name": side.as_str() }));
    }
    let mut tag = json!({ "name": d.service.name });
    if !d.service.docs.is_empty() {
        tag["description"] = plain(d.service.docs).into();
    }
    tags.push(tag);
    method.insert("tags".into(), tags.into());
    if let Some(side) = d.side {
        method.insert("x-implemented-by".into(), json!([side.as_str()]));
    }
    method
}

/// The method object of a described method.
fn method(d: &Described<'_>, root: &Value, used: &mut BTreeSet<Extension>) -> Map<String, Value> {
    let m = d.method;
    let mut method = head(d, m.name, split_docs(m.docs));
    method.insert("paramStructure".into(), m.param_structure.as_str().into());
    let params: Vec<Value> = m
        .params
        .iter()
        .zip(&d.params)
        .map(|(p, schema)| {
            let mut v = json!({
                "name": p.name,
                "required": (p.required)(),
                "schema": schema,
            });
            if !p.docs.is_empty() {
                v["description"] = plain(p.docs).into();
            }
            v
        })
        .collect();
    method.insert("params".into(), params.into());
    // What the answer is, and an example of it.
    let result = match (m.kind, &d.result) {
        (MethodKind::Stream { item, unsubscribe }, item_schema) => {
            used.insert(Extension::Stream);
            let item_schema = item_schema.clone().unwrap_or_else(|| json!({}));
            method.insert(
                Extension::Stream.name().into(),
                json!({ "item": item, "unsubscribe": unsubscribe, "schema": item_schema }),
            );
            let result = json!({
                "name": "subscription",
                "description": stream::subscribe_result(item, unsubscribe),
                "schema": stream::subscription_id(),
            });
            Some((result, json!(stream::EXAMPLE_ID)))
        }
        (_, Some(schema)) => {
            let result = json!({ "name": "result", "schema": schema });
            Some((result, example_value(schema, root)))
        }
        (_, None) => None,
    };
    if let Some((result, _)) = &result {
        method.insert("result".into(), result.clone());
    }
    if let Some(required) = m.requires {
        used.insert(Extension::Requires);
        method.insert(Extension::Requires.name().into(), required.into());
    }
    if let Some(ms) = m.timeout_ms {
        used.insert(Extension::TimeoutMs);
        method.insert(Extension::TimeoutMs.name().into(), ms.into());
    }
    if m.idempotent {
        used.insert(Extension::Idempotent);
        method.insert(Extension::Idempotent.name().into(), true.into());
    }
    if !d.errors.is_empty() {
        let errors: Vec<Value> = d
            .errors
            .iter()
            .map(|e| {
                let mut error = json!({ "code": e.desc.code, "message": e.desc.message });
                if let Some(data) = &e.data {
                    error["data"] = example_value(data, root);
                }
                error
            })
            .collect();
        method.insert("errors".into(), errors.into());
        let schemas: Map<String, Value> = d
            .errors
            .iter()
            .filter_map(|e| Some((e.desc.code.to_string(), e.data.clone()?)))
            .collect();
        if !schemas.is_empty() {
            used.insert(Extension::ErrorSchemas);
            method.insert(Extension::ErrorSchemas.name().into(), schemas.into());
        }
        if let Some(name) = m.error_type {
            let variants: Map<String, Value> = d
                .errors
                .iter()
                .map(|e| {
                    let mut variant = json!({ "name": e.desc.variant });
                    let docs = plain(e.desc.docs);
                    if !docs.trim().is_empty() {
                        variant["description"] = docs.trim().into();
                    }
                    (e.desc.code.to_string(), variant)
                })
                .collect();
            used.insert(Extension::ErrorType);
            method.insert(
                Extension::ErrorType.name().into(),
                json!({ "name": name, "variants": variants }),
            );
        }
    }
    if let Some(error) = &d.error {
        used.insert(Extension::ErrorData);
        method.insert(
            Extension::ErrorData.name().into(),
            json!({ "name": m.error_type.unwrap_or("error"), "schema": error }),
        );
    }
    let mut example = json!({
        "name": format!("{} example", m.name),
        "params": m.params.iter().zip(&d.params).map(|(p, schema)| {
            json!({ "name": p.name, "value": example_value(schema, root) })
        }).collect::<Vec<_>>(),
    });
    if let Some((result, value)) = result {
        example["result"] = json!({ "name": result["name"], "value": value });
    }
    method.insert("examples".into(), json!([example]));
    method
}

/// The method object of the unsubscribe method of the stream `d`.
fn unsubscribe_method(
    d: &Described<'_>,
    item: &str,
    unsubscribe: &str,
    used: &mut BTreeSet<Extension>,
) -> Map<String, Value> {
    let subscribe = d.method.name;
    let docs = (
        Some(stream::unsubscribe_summary(subscribe)),
        Some(stream::unsubscribe_description(item)),
    );
    let mut method = head(d, unsubscribe, docs);
    method.insert("paramStructure".into(), "by-position".into());
    method.insert(
        "params".into(),
        json!([{ "name": "subscription", "required": true, "schema": stream::subscription_id() }]),
    );
    method.insert(
        "result".into(),
        json!({ "name": "unsubscribed", "schema": stream::unsubscribed() }),
    );
    used.insert(Extension::Unsubscribes);
    method.insert(Extension::Unsubscribes.name().into(), subscribe.into());
    method.insert(
        "examples".into(),
        json!([{
            "name": format!("{unsubscribe} example"),
            "params": [{ "name": "subscription", "value": stream::EXAMPLE_ID }],
            "result": { "name": "unsubscribed", "value": true },
        }]),
    );
    method
}
