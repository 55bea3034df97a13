//! AsyncAPI 3.0: a server's view of its one WebSocket channel, both directions.

use serde_json::{Map, Value, json};

use volley_core::describe::MethodKind;

use crate::api::{Api, Side};
use crate::collect::{DEFAULT_DESCRIPTION, describe, split_docs};
use crate::endpoint::Endpoint;
use crate::example::example_value;
use crate::names::{Namer, component_key};
use crate::schema::{DEFINITIONS, with_description};
use crate::text::plain;

/// The AsyncAPI version written.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

const CHANNEL: &str = "jsonrpc";
const VERSION: &str = "JsonRpcVersion";
const ID: &str = "JsonRpcId";
const ERROR: &str = "JsonRpcError";
const ERROR_RESPONSE: &str = "JsonRpcErrorResponse";
const GENERIC_ERROR: &str = "jsonrpc.error";
const CORRELATION: &str = "jsonrpcId";

/// An AsyncAPI 3.0 document of a server that serves [`Api::server_serves`] and calls
/// [`Api::client_serves`] on its clients, at `url` (`ws://host:port/path`, or just the path, in which
/// case the host reads `localhost`).
///
/// Written from the server's side, as AsyncAPI 3 wants: one server entry (protocol `ws` or
/// `wss`), one channel whose address is the WebSocket path, and per method:
///
/// - served by the server: a `receive` operation, with a `reply` (the result message and the
///   error messages) unless it is a notification;
/// - served by clients: a `send` operation, with a `reply` unless it is a notification.
///
/// Operation keys are `server.<method>` and `client.<method>` (characters outside
/// `[a-zA-Z0-9.-_]` become `_`); message keys add `.request`, `.notification`, `.result`,
/// `.error` (when the error type has a schema); `jsonrpc.error` is any error response.
/// Payloads are whole JSON-RPC messages (`jsonrpc`, `id`, `method` as a `const`, `params` by
/// name), requests and responses are correlated by `$message.payload#/id`, and every message
/// has an example generated from its schema.
pub fn asyncapi(api: &Api, url: &str) -> Value {
    let info = api.info();
    let (methods, definitions) = describe(
        &[
            (Some(Side::Server), api.server_serves()),
            (Some(Side::Client), api.client_serves()),
        ],
        &[VERSION, ID, ERROR, ERROR_RESPONSE],
    );
    let root = json!({ "components": { "schemas": definitions.schemas } });
    let schema_ref = |name: &str| json!({ "$ref": format!("{DEFINITIONS}{name}") });
    let channel_ref = json!({ "$ref": format!("#/channels/{CHANNEL}") });
    let message_ref = |key: &str| json!({ "$ref": format!("#/channels/{CHANNEL}/messages/{key}") });
    let correlation = json!({ "$ref": format!("#/components/correlationIds/{CORRELATION}") });

    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut keys = Namer::new(component_key, &[]);
    let mut tags: Vec<Value> = Vec::new();
    for d in &methods {
        let m = d.method;
        let side = d.side.unwrap_or(Side::Server);
        let action = match side {
            Side::Server => "receive",
            Side::Client => "send",
        };
        let (to, from) = match side {
            Side::Server => ("client to server", "server to client"),
            Side::Client => ("server to client", "client to server"),
        };
        let key = keys.unique(format!("{}.{}", side.as_str(), component_key(m.name)));
        if !tags.iter().any(|t| t["name"] == d.service.name) {
            let mut tag = json!({ "name": d.service.name });
            if !d.service.docs.is_empty() {
                tag["description"] = plain(d.service.docs).into();
            }
            tags.push(tag);
        }
        let (summary, description) = split_docs(m.docs);
        let describe_into = |target: &mut Value| {
            if let Some(s) = &summary {
                target["summary"] = s.as_str().into();
            }
            if let Some(s) = &description {
                target["description"] = s.as_str().into();
            }
        };

        // params: an object of the named parameters.
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut params_example = Map::new();
        for (p, schema) in m.params.iter().zip(&d.params) {
            properties.insert(
                p.name.into(),
                with_description(schema.clone(), &plain(p.docs)),
            );
            if (p.required)() {
                required.push(Value::from(p.name));
            }
            params_example.insert(p.name.into(), example_value(schema, &root));
        }
        let mut params = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": properties,
        });
        if !required.is_empty() {
            params["required"] = required.clone().into();
        }
        let is_request = m.kind == MethodKind::Request;
        let mut envelope_required = vec!["jsonrpc"];
        let mut envelope = Map::new();
        envelope.insert("jsonrpc".into(), schema_ref(VERSION));
        if is_request {
            envelope_required.push("id");
            envelope.insert("id".into(), schema_ref(ID));
        }
        envelope_required.push("method");
        envelope.insert(
            "method".into(),
            json!({ "type": "string", "const": m.name }),
        );
        if !required.is_empty() {
            envelope_required.push("params");
        }
        envelope.insert("params".into(), params);

        let mut example = json!({ "jsonrpc": "2.0" });
        if is_request {
            example["id"] = 1.into();
        }
        example["method"] = m.name.into();
        if !m.params.is_empty() {
            example["params"] = params_example.into();
        }
        let kind = if is_request {
            "request"
        } else {
            "notification"
        };
        let call_key = format!("{key}.{kind}");
        let mut call = json!({
            "name": m.name,
            "title": format!("{} {kind} ({to})", m.name),
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "additionalProperties": false,
                "required": envelope_required,
                "properties": envelope,
            },
            "examples": [{
                "name": component_key(m.name),
                "summary": format!("A `{}` {kind}", m.name),
                "payload": example,
            }],
            "tags": [{ "name": side.as_str() }, { "name": d.service.name }],
        });
        describe_into(&mut call);
        if is_request {
            call["correlationId"] = correlation.clone();
        }
        messages.insert(call_key.clone(), call);

        let mut operation = json!({
            "action": action,
            "channel": channel_ref,
            "title": m.name,
            "messages": [message_ref(&call_key)],
            "tags": [{ "name": side.as_str() }, { "name": d.service.name }],
        });
        describe_into(&mut operation);
        if let Some(required) = m.requires {
            operation["x-requires"] = required.into();
        }
        if let Some(ms) = m.timeout_ms {
            operation["x-timeout-ms"] = ms.into();
        }
        if m.idempotent {
            operation["x-idempotent"] = true.into();
        }

        if is_request {
            let result_schema = d.result.clone().unwrap_or_else(|| json!({}));
            let result_key = format!("{key}.result");
            let result_example = example_value(&result_schema, &root);
            messages.insert(
                result_key.clone(),
                json!({
                    "name": format!("{}.result", m.name),
                    "title": format!("{} result ({from})", m.name),
                    "summary": format!("The answer to a successful `{}` request.", m.name),
                    "contentType": "application/json",
                    "correlationId": correlation,
                    "payload": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["jsonrpc", "id", "result"],
                        "properties": {
                            "jsonrpc": schema_ref(VERSION),
                            "id": schema_ref(ID),
                            "result": result_schema,
                        },
                    },
                    "examples": [{
                        "name": format!("{}-result", component_key(m.name)),
                        "payload": { "jsonrpc": "2.0", "id": 1, "result": result_example },
                    }],
                }),
            );
            let mut replies = vec![message_ref(&result_key)];
            if let Some(error_schema) = &d.error {
                let error_key = format!("{key}.error");
                let error_type = m.error_type.unwrap_or("error");
                let data_example = example_value(error_schema, &root);
                messages.insert(
                    error_key.clone(),
                    json!({
                        "name": format!("{}.error", m.name),
                        "title": format!("{} error ({from})", m.name),
                        "summary": format!(
                            "An application error of `{}`: `data` is a `{error_type}`.",
                            m.name
                        ),
                        "contentType": "application/json",
                        "correlationId": correlation,
                        "payload": {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["jsonrpc", "id", "error"],
                            "properties": {
                                "jsonrpc": schema_ref(VERSION),
                                "id": schema_ref(ID),
                                "error": {
                                    "type": "object",
                                    "required": ["code", "message"],
                                    "properties": {
                                        "code": { "type": "integer" },
                                        "message": { "type": "string" },
                                        "data": error_schema,
                                    },
                                },
                            },
                        },
                        "examples": [{
                            "name": format!("{}-error", component_key(m.name)),
                            "payload": {
                                "jsonrpc": "2.0",
                                "id": 1,
                                "error": { "code": 1, "message": error_type, "data": data_example },
                            },
                        }],
                    }),
                );
                replies.push(message_ref(&error_key));
            }
            replies.push(message_ref(GENERIC_ERROR));
            operation["reply"] = json!({ "channel": channel_ref, "messages": replies });
        }
        operations.insert(key, operation);
    }

    messages.insert(
        GENERIC_ERROR.into(),
        json!({
            "name": "error",
            "title": "JSON-RPC error response (either direction)",
            "summary": "The answer to a request that failed.",
            "description": "Standard codes: -32700 parse error, -32600 invalid request, \
                -32601 method not found, -32602 invalid params, -32603 internal error, \
                -32800 request cancelled; other codes are the application's. `id` is null \
                only when the request's id could not be read.",
            "contentType": "application/json",
            "correlationId": correlation,
            "payload": schema_ref(ERROR_RESPONSE),
            "examples": [{
                "name": "method-not-found",
                "payload": {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": { "code": -32601, "message": "Method not found" },
                },
            }],
        }),
    );

    let mut schemas = Map::new();
    schemas.insert(
        VERSION.into(),
        json!({ "description": "The JSON-RPC version.", "type": "string", "const": "2.0" }),
    );
    schemas.insert(
        ID.into(),
        json!({
            "description": "A request id (a string or a number); the response echoes it.",
            "type": ["string", "number"],
        }),
    );
    schemas.insert(
        ERROR.into(),
        json!({
            "description": "A JSON-RPC error object.",
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": { "type": "integer" },
                "message": { "type": "string" },
                "data": {},
            },
        }),
    );
    schemas.insert(
        ERROR_RESPONSE.into(),
        json!({
            "description": "A JSON-RPC error response.",
            "type": "object",
            "additionalProperties": false,
            "required": ["jsonrpc", "id", "error"],
            "properties": {
                "jsonrpc": schema_ref(VERSION),
                "id": { "type": ["string", "number", "null"] },
                "error": schema_ref(ERROR),
            },
        }),
    );
    if let Value::Object(types) = &root["components"]["schemas"] {
        schemas.extend(types.clone());
    }

    let endpoint = Endpoint::parse(url);
    let channel_messages: Map<String, Value> = messages
        .keys()
        .map(|k| {
            (
                k.clone(),
                json!({ "$ref": format!("#/components/messages/{k}") }),
            )
        })
        .collect();

    let mut info_v = json!({
        "title": info.title,
        "version": info.version,
        "description": info.description.as_deref().unwrap_or(DEFAULT_DESCRIPTION),
    });
    tags.push(json!({ "name": "server", "description": "Methods the server serves." }));
    tags.push(json!({
        "name": "client",
        "description": "Methods every connected client serves (the server calls them).",
    }));
    info_v["tags"] = tags.into();

    let server_description = match &endpoint.host {
        Some(_) => "The WebSocket endpoint; every message travels on one connection.",
        None => "The WebSocket endpoint (the host is not known here: use your server's).",
    };
    json!({
        "asyncapi": ASYNCAPI_VERSION,
        "info": info_v,
        "defaultContentType": "application/json",
        "servers": {
            "websocket": {
                "host": endpoint.host.as_deref().unwrap_or("localhost"),
                "protocol": endpoint.protocol,
                "description": server_description,
            },
        },
        "channels": {
            CHANNEL: {
                "address": endpoint.path,
                "title": "JSON-RPC over WebSocket",
                "description": "The one WebSocket endpoint. Every message below travels on it: \
                    `receive` operations are requests and notifications clients send to the \
                    server, `send` operations are those the server sends to a client; a \
                    response carries the `id` of its request.",
                "messages": channel_messages,
                "bindings": { "ws": { "method": "GET", "bindingVersion": "0.1.0" } },
            },
        },
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {
                CORRELATION: {
                    "description": "The JSON-RPC id: a response echoes its request's id.",
                    "location": "$message.payload#/id",
                },
            },
        },
    })
}
