//! AsyncAPI 3.0: a server's view of its one WebSocket channel, both directions.

use serde_json::{Map, Value, json};

use crate::api::{Api, Side};
use crate::collect::{DEFAULT_DESCRIPTION, describe};
use crate::endpoint::Endpoint;

mod messages;
mod stream;

use messages::{
    Builder, CHANNEL, CORRELATION, ERROR, ERROR_RESPONSE, GENERIC_ERROR, ID,
    SUBSCRIPTION_CORRELATION, SUBSCRIPTION_ID, VERSION, correlation, schema_ref,
};

/// The AsyncAPI version written.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

/// An AsyncAPI 3.0 document of a server that serves [`Api::server_serves`] and calls
/// [`Api::client_serves`] on its clients, at `url` (`ws://host:port/path`, or just the path, in which
/// case the host reads `localhost`).
///
/// Written from the server's side, as AsyncAPI 3 wants: one server entry (protocol `ws` or
/// `wss`), one channel whose address is the WebSocket path, and per method:
///
/// - served by the server: a `receive` operation, with a `reply` (the result message and the
///   error messages) unless it is a notification;
/// - served by clients: a `send` operation, with a `reply` unless it is a notification;
/// - a stream (`#[rpc(stream)]`) served by the server: a `receive` operation for the subscribe
///   request, whose reply is the subscription id (`x-stream` names the item notification and
///   the unsubscribe method), a `receive` operation for the unsubscribe method (params
///   `[id]`, a boolean reply, `x-unsubscribes` naming the stream method), and a `send`
///   operation for the item notifications (`.item`: `params` is `{"subscription", "result"}`)
///   and the one that ends the stream (`.end`: `{"subscription", "error"}`, `error` null or
///   an error object); a stream clients serve has the same operations with the actions the
///   other way round.
///
/// Operation keys are `server.<method>` and `client.<method>` (characters outside
/// `[a-zA-Z0-9.-_]` become `_`); message keys add `.request`, `.notification`, `.result`,
/// `.error` (when the error type has a schema), `.item` and `.end`; `jsonrpc.error` is any
/// error response. Payloads are whole JSON-RPC messages (`jsonrpc`, `id`, `method` as a
/// `const`, `params` by name), requests and responses are correlated by
/// `$message.payload#/id` (a stream's notifications by `$message.payload#/params/subscription`),
/// and every message has an example generated from its schema.
pub fn asyncapi(api: &Api, url: &str) -> Value {
    let info = api.info();
    let (methods, definitions) = describe(
        &[
            (Some(Side::Server), api.server_serves()),
            (Some(Side::Client), api.client_serves()),
        ],
        &[VERSION, ID, ERROR, ERROR_RESPONSE, SUBSCRIPTION_ID],
    );
    let root = json!({ "components": { "schemas": definitions.schemas } });
    let mut builder = Builder::new(&root);
    for d in &methods {
        builder.method(d);
    }
    let Builder {
        operations,
        mut messages,
        mut tags,
        streams,
        ..
    } = builder;

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
            "correlationId": correlation(CORRELATION),
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
    let mut correlation_ids = Map::new();
    correlation_ids.insert(
        CORRELATION.into(),
        json!({
            "description": "The JSON-RPC id: a response echoes its request's id.",
            "location": "$message.payload#/id",
        }),
    );
    if streams {
        schemas.insert(SUBSCRIPTION_ID.into(), crate::stream::subscription_id());
        correlation_ids.insert(
            SUBSCRIPTION_CORRELATION.into(),
            json!({
                "description": "A stream's subscription id: the answer to the subscribe \
                    request gives it, and every notification of the stream carries it.",
                "location": "$message.payload#/params/subscription",
            }),
        );
    }
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
            "correlationIds": correlation_ids,
        },
    })
}
