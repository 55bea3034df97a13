//! OpenRPC 1.3.2: the methods a peer serves, for `rpc.discover`, `/openrpc.json` and `/docs`.

use serde_json::{Map, Value, json};

use volley_core::describe::ServiceDescription;

use crate::api::{Api, Info, Side};
use crate::collect::{DEFAULT_DESCRIPTION, describe, split_docs};
use crate::endpoint::Endpoint;
use crate::example::example_value;
use crate::text::plain;

/// The OpenRPC version written.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// The OpenRPC 1.3.2 document of `api`, as `rpc.discover` returns it: the methods its end
/// serves (`"x-implemented-by": ["server"]` on a server), the methods the other end serves
/// (`["client"]`), and by name only the methods no description covers (hand-written
/// jsonrpsee modules); the `x-implemented-by` extension is declared in `x-extensions`.
///
/// Every method has `paramStructure: "either"` (volley accepts params by name and by position),
/// params with `required` and a schema, a `result` unless it is a notification, an example,
/// `x-requires` on a guarded method (its requirement, an extension declared in
/// `x-extensions`), `x-timeout-ms` and `x-idempotent` on a method with a deadline or marked
/// idempotent (extensions declared likewise), and, when its error type has a JSON Schema, `x-error-data` (the schema of the error
/// object's `data`, an extension declared in `x-extensions`: an OpenRPC error object needs a
/// fixed code, which an error type does not have). `url` (`ws://host:port/path`) becomes the
/// `servers` entry.
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
    let mut uses_error_data = false;
    let mut uses_requires = false;
    let mut uses_timeout = false;
    let mut uses_idempotent = false;
    for d in &methods {
        let m = d.method;
        // A method both ends serve under one name is listed once, implemented by both.
        if let Some(existing) = out.iter_mut().find(|v| v["name"] == m.name) {
            if let Some(side) = d.side {
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
            continue;
        }
        let mut method = Map::new();
        method.insert("name".into(), m.name.into());
        let (summary, description) = split_docs(m.docs);
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
        method.insert("paramStructure".into(), "either".into());
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
        if let Some(result) = &d.result {
            method.insert(
                "result".into(),
                json!({ "name": "result", "schema": result }),
            );
        }
        if let Some(required) = m.requires {
            uses_requires = true;
            method.insert("x-requires".into(), required.into());
        }
        if let Some(ms) = m.timeout_ms {
            uses_timeout = true;
            method.insert("x-timeout-ms".into(), ms.into());
        }
        if m.idempotent {
            uses_idempotent = true;
            method.insert("x-idempotent".into(), true.into());
        }
        if let Some(error) = &d.error {
            uses_error_data = true;
            method.insert(
                "x-error-data".into(),
                json!({ "name": m.error_type.unwrap_or("error"), "schema": error }),
            );
        }
        let mut example = json!({
            "name": format!("{} example", m.name),
            "params": m.params.iter().zip(&d.params).map(|(p, schema)| {
                json!({ "name": p.name, "value": example_value(schema, &root) })
            }).collect::<Vec<_>>(),
        });
        if let Some(result) = &d.result {
            example["result"] = json!({ "name": "result", "value": example_value(result, &root) });
        }
        method.insert("examples".into(), json!([example]));
        out.push(Value::Object(method));
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
    let mut extensions = vec![implemented_by_extension()];
    if uses_error_data {
        extensions.push(error_data_extension());
    }
    if uses_requires {
        extensions.push(requires_extension());
    }
    if uses_timeout {
        extensions.push(timeout_extension());
    }
    if uses_idempotent {
        extensions.push(idempotent_extension());
    }
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

/// The declaration of `x-implemented-by` (the shape of open-rpc/tools'
/// `packages/extensions/src/x-implemented-by`).
fn implemented_by_extension() -> Value {
    json!({
        "openrpcExtension": "0.0.0-development",
        "name": "x-implemented-by",
        "version": "0.0.1",
        "summary": "Which peer handles inbound requests for this method (default [\"server\"])",
        "description": "Same shape as open-rpc/tools packages/extensions/src/x-implemented-by",
        "restricted": ["methodObject"],
        "schema": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": true,
            "items": { "type": "string", "minLength": 1 }
        }
    })
}

/// The declaration of `x-requires`: what a caller must be allowed to call the method.
fn requires_extension() -> Value {
    json!({
        "openrpcExtension": "0.0.0-development",
        "name": "x-requires",
        "version": "0.0.1",
        "summary": "What a caller must be allowed to call this method",
        "description": "The name of a requirement the server's authorization policy checks \
            before the handler runs (for example a role). A caller that does not meet it gets \
            error -32013 (Forbidden) and the method does not run.",
        "restricted": ["methodObject"],
        "schema": { "type": "string", "minLength": 1 }
    })
}

/// The declaration of `x-timeout-ms`: the method's own deadline.
fn timeout_extension() -> Value {
    json!({
        "openrpcExtension": "0.0.0-development",
        "name": "x-timeout-ms",
        "version": "0.0.1",
        "summary": "The method's deadline, in milliseconds",
        "description": "Generated callers wait this long for the answer by default. The \
            serving side cancels the handler once it has run this long and answers error \
            -32014 (Timed out).",
        "restricted": ["methodObject"],
        "schema": { "type": "integer", "minimum": 1 }
    })
}

/// The declaration of `x-idempotent`: the method may safely run more than once.
fn idempotent_extension() -> Value {
    json!({
        "openrpcExtension": "0.0.0-development",
        "name": "x-idempotent",
        "version": "0.0.1",
        "summary": "Whether running the method twice does no harm",
        "description": "A call in flight when the connection drops, on a connection that \
            does not resume its session, is sent again after the reconnect (up to a bound); \
            a call to a method without it fails with a disconnected error instead.",
        "restricted": ["methodObject"],
        "schema": { "type": "boolean" }
    })
}

/// The declaration of `x-error-data`: the JSON Schema of the `data` of the method's
/// application errors, named after the error type.
fn error_data_extension() -> Value {
    json!({
        "openrpcExtension": "0.0.0-development",
        "name": "x-error-data",
        "version": "0.0.1",
        "summary": "The JSON Schema of the `data` member of this method's application errors",
        "description": "`name` is the error type; `schema` describes the `data` of the error \
            objects the method answers with. Their codes and messages are chosen at run time.",
        "restricted": ["methodObject"],
        "schema": {
            "type": "object",
            "required": ["name", "schema"],
            "properties": {
                "name": { "type": "string", "minLength": 1 },
                "schema": { "type": ["object", "boolean"] }
            }
        }
    })
}
