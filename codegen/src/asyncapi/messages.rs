//! The messages and operations of the AsyncAPI document, added one method at a time.

use serde_json::{Map, Value, json};

use volley_core::ErrorDescription;
use volley_core::describe::{MethodKind, ParamStructure};

use crate::api::Side;
use crate::collect::{Described, ErrorCase, split_docs};
use crate::example::example_value;
use crate::names::{Namer, component_key, error_type_name};
use crate::schema::{DEFINITIONS, with_description};
use crate::text::plain;

pub(super) const CHANNEL: &str = "jsonrpc";
pub(super) const VERSION: &str = "JsonRpcVersion";
pub(super) const ID: &str = "JsonRpcId";
pub(super) const ERROR: &str = "JsonRpcError";
pub(super) const ERROR_RESPONSE: &str = "JsonRpcErrorResponse";
pub(super) const SUBSCRIPTION_ID: &str = "JsonRpcSubscriptionId";
pub(super) const GENERIC_ERROR: &str = "jsonrpc.error";
pub(super) const CORRELATION: &str = "jsonrpcId";
pub(super) const SUBSCRIPTION_CORRELATION: &str = "jsonrpcSubscription";

/// A `$ref` to the component schema `name`.
pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{DEFINITIONS}{name}") })
}

/// A `$ref` to the channel.
pub(super) fn channel_ref() -> Value {
    json!({ "$ref": format!("#/channels/{CHANNEL}") })
}

/// A `$ref` to the channel's message `key`.
pub(super) fn message_ref(key: &str) -> Value {
    json!({ "$ref": format!("#/channels/{CHANNEL}/messages/{key}") })
}

/// A `$ref` to the correlation id `name`.
pub(super) fn correlation(name: &str) -> Value {
    json!({ "$ref": format!("#/components/correlationIds/{name}") })
}

/// One method being added, with what all of its messages need.
pub(super) struct Method<'a, 'd> {
    /// The method and its schemas.
    pub(super) d: &'a Described<'d>,
    /// Which end serves it.
    pub(super) side: Side,
    /// Its operation key, `<side>.<method>`; its messages' keys start with it.
    pub(super) key: String,
    /// The direction of its calls (`client to server` for the server's methods).
    pub(super) to: &'static str,
    /// The direction of its answers.
    pub(super) from: &'static str,
}

impl Method<'_, '_> {
    /// The wire name.
    pub(super) fn name(&self) -> &'static str {
        self.d.method.name
    }

    /// The action of an operation of the serving end: `receive` on the server.
    pub(super) fn action(&self) -> &'static str {
        match self.side {
            Side::Server => "receive",
            Side::Client => "send",
        }
    }

    /// The side and trait tags of its messages and operations.
    pub(super) fn tags(&self) -> Value {
        json!([{ "name": self.side.as_str() }, { "name": self.d.service.name }])
    }
}

/// What the document collects, method by method.
pub(super) struct Builder<'r> {
    /// The document's type definitions, for examples.
    pub(super) root: &'r Value,
    pub(super) operations: Map<String, Value>,
    pub(super) messages: Map<String, Value>,
    /// The traits, as tags, in order.
    pub(super) tags: Vec<Value>,
    /// Whether a stream was added (its shared schema and correlation id are needed).
    pub(super) streams: bool,
    keys: Namer,
}

impl<'r> Builder<'r> {
    pub(super) fn new(root: &'r Value) -> Self {
        Self {
            root,
            operations: Map::new(),
            messages: Map::new(),
            tags: Vec::new(),
            streams: false,
            keys: Namer::new(component_key, &[]),
        }
    }

    /// A unique operation key for the method `name` served by `side`.
    pub(super) fn key(&mut self, side: Side, name: &str) -> String {
        self.keys
            .unique(format!("{}.{}", side.as_str(), component_key(name)))
    }

    /// Adds a described method: its operations and messages.
    pub(super) fn method(&mut self, d: &Described<'_>) {
        let side = d.side.unwrap_or(Side::Server);
        let (to, from) = match side {
            Side::Server => ("client to server", "server to client"),
            Side::Client => ("server to client", "client to server"),
        };
        let m = Method {
            d,
            side,
            key: self.key(side, d.method.name),
            to,
            from,
        };
        if !self.tags.iter().any(|t| t["name"] == d.service.name) {
            let mut tag = json!({ "name": d.service.name });
            if !d.service.docs.is_empty() {
                tag["description"] = plain(d.service.docs).into();
            }
            self.tags.push(tag);
        }
        match d.method.kind {
            MethodKind::Request => {
                let call = self.call(&m, true);
                let mut operation = self.operation(&m, call);
                let result = d.result.clone().unwrap_or_else(|| json!({}));
                let example = example_value(&result, self.root);
                let summary = format!("The answer to a successful `{}` request.", m.name());
                operation["reply"] =
                    self.reply(&m, result, example, summary, d.error.as_ref(), &d.errors);
                self.operations.insert(m.key.clone(), operation);
            }
            MethodKind::Notification => {
                let call = self.call(&m, false);
                let operation = self.operation(&m, call);
                self.operations.insert(m.key.clone(), operation);
            }
            MethodKind::Stream { item, unsubscribe } => {
                super::stream::add(self, &m, item, unsubscribe);
            }
        }
    }

    /// Adds the request (or notification) message of `m` and returns its key.
    pub(super) fn call(&mut self, m: &Method<'_, '_>, is_request: bool) -> String {
        let method = m.d.method;
        let (params, example) = if method.param_structure == ParamStructure::ByPosition {
            self.positional_params(m)
        } else {
            self.named_params(m)
        };
        let kind = if is_request {
            "request"
        } else {
            "notification"
        };
        let key = format!("{}.{kind}", m.key);
        let mut call = envelope(m.name(), is_request, params, example);
        call["title"] = format!("{} {kind} ({})", m.name(), m.to).into();
        call["examples"][0]["summary"] = format!("A `{}` {kind}", m.name()).into();
        call["tags"] = m.tags();
        let (summary, description) = split_docs(method.docs);
        describe(&mut call, summary, description);
        self.messages.insert(key.clone(), call);
        key
    }

    /// `params` by name, an object of the named parameters, and an example of it.
    fn named_params(&self, m: &Method<'_, '_>) -> (Value, Option<Value>) {
        let method = m.d.method;
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut params_example = Map::new();
        for (p, schema) in method.params.iter().zip(&m.d.params) {
            properties.insert(
                p.name.into(),
                with_description(schema.clone(), &plain(p.docs)),
            );
            if (p.required)() {
                required.push(Value::from(p.name));
            }
            params_example.insert(p.name.into(), example_value(schema, self.root));
        }
        let mut params = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": properties,
        });
        if !required.is_empty() {
            params["required"] = required.into();
        }
        let example = (!method.params.is_empty()).then_some(Value::Object(params_example));
        (params, example)
    }

    /// `params` by position (`params = "positional"`): an array of the parameters in order,
    /// each item titled with its name; the items up to the last required one are required.
    fn positional_params(&self, m: &Method<'_, '_>) -> (Value, Option<Value>) {
        let method = m.d.method;
        let mut items = Vec::new();
        let mut example = Vec::new();
        let mut min_items = 0;
        for (i, (p, schema)) in method.params.iter().zip(&m.d.params).enumerate() {
            // Titled with the param's name: in place, or around a `$ref` (draft-07 ignores
            // its siblings).
            let item = match with_description(schema.clone(), &plain(p.docs)) {
                Value::Object(mut map) if !map.contains_key("$ref") => {
                    map.entry("title").or_insert_with(|| p.name.into());
                    Value::Object(map)
                }
                other => json!({ "allOf": [other], "title": p.name }),
            };
            items.push(item);
            if (p.required)() {
                min_items = i + 1;
            }
            example.push(example_value(schema, self.root));
        }
        let mut params = json!({
            "type": "array",
            "items": items,
            "additionalItems": false,
            "maxItems": method.params.len(),
        });
        if min_items > 0 {
            params["minItems"] = min_items.into();
        }
        let example = (!method.params.is_empty()).then_some(Value::Array(example));
        (params, example)
    }

    /// The operation of `m` that sends or receives its call `message`, with the method's docs
    /// and extensions.
    pub(super) fn operation(&self, m: &Method<'_, '_>, message: String) -> Value {
        let method = m.d.method;
        let mut operation = json!({
            "action": m.action(),
            "channel": channel_ref(),
            "title": m.name(),
            "messages": [message_ref(&message)],
            "tags": m.tags(),
        });
        let (summary, description) = split_docs(method.docs);
        describe(&mut operation, summary, description);
        if let Some(required) = method.requires {
            operation["x-requires"] = required.into();
        }
        if let Some(ms) = method.timeout_ms {
            operation["x-timeout-ms"] = ms.into();
        }
        if method.idempotent {
            operation["x-idempotent"] = true.into();
        }
        operation
    }

    /// Adds the answers to a request of `m` (`result`, an example of it, and what a success
    /// is) and its own errors: one message per error of its `RpcError` type (`cases`, with
    /// each code and `data`), or else one for its typed `error` (the schema of its `data`)
    /// when it has one; returns the operation's `reply`.
    pub(super) fn reply(
        &mut self,
        m: &Method<'_, '_>,
        result: Value,
        example: Value,
        summary: String,
        error: Option<&Value>,
        cases: &[ErrorCase],
    ) -> Value {
        let name = m.name();
        let result_key = format!("{}.result", m.key);
        self.messages.insert(
            result_key.clone(),
            json!({
                "name": format!("{name}.result"),
                "title": format!("{name} result ({})", m.from),
                "summary": summary,
                "contentType": "application/json",
                "correlationId": correlation(CORRELATION),
                "payload": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["jsonrpc", "id", "result"],
                    "properties": {
                        "jsonrpc": schema_ref(VERSION),
                        "id": schema_ref(ID),
                        "result": result,
                    },
                },
                "examples": [{
                    "name": format!("{}-result", component_key(name)),
                    "payload": { "jsonrpc": "2.0", "id": 1, "result": example },
                }],
            }),
        );
        let mut replies = vec![message_ref(&result_key)];
        // One message per error of the type, shared by every method that answers with it.
        let error_type = error_type_name(m.d.method.error_type.unwrap_or("Error"));
        for case in cases {
            let key = format!("error.{error_type}.{}", case.desc.code);
            if !self.messages.contains_key(&key) {
                let message = self.error_case(&error_type, case);
                self.messages.insert(key.clone(), message);
            }
            replies.push(message_ref(&key));
        }
        if let (Some(error_schema), true) = (error, cases.is_empty()) {
            let error_key = format!("{}.error", m.key);
            let error_type = m.d.method.error_type.unwrap_or("error");
            let data_example = example_value(error_schema, self.root);
            self.messages.insert(
                error_key.clone(),
                json!({
                    "name": format!("{name}.error"),
                    "title": format!("{name} error ({})", m.from),
                    "summary": format!(
                        "An application error of `{name}`: `data` is a `{error_type}`."
                    ),
                    "contentType": "application/json",
                    "correlationId": correlation(CORRELATION),
                    "payload": error_payload(json!({
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": { "type": "integer" },
                            "message": { "type": "string" },
                            "data": error_schema,
                        },
                    })),
                    "examples": [{
                        "name": format!("{}-error", component_key(name)),
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
        json!({ "channel": channel_ref(), "messages": replies })
    }
}

impl Builder<'_> {
    /// The error answer with the code of `case`, one of the errors of `error_type`: its
    /// message template, and its `data`.
    fn error_case(&self, error_type: &str, case: &ErrorCase) -> Value {
        let ErrorDescription {
            variant,
            code,
            message,
            docs,
            ..
        } = case.desc;
        let mut error = json!({
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": { "const": code },
                "message": { "type": "string", "description": format!("\"{message}\", with the fields filled in") },
            },
        });
        let mut example = json!({ "code": code, "message": message });
        if let Some(data) = &case.data {
            error["properties"]["data"] = data.clone();
            error["required"] = json!(["code", "message", "data"]);
            example["data"] = example_value(data, self.root);
        }
        let mut out = json!({
            "name": format!("{error_type}.{code}"),
            "title": format!("{error_type} {code}: {variant}"),
            "summary": format!("An error answer: `{error_type}::{variant}` ({code})."),
            "contentType": "application/json",
            "correlationId": correlation(CORRELATION),
            "payload": error_payload(error),
            "examples": [{
                "name": format!("{}-{code}", component_key(error_type)),
                "payload": { "jsonrpc": "2.0", "id": 1, "error": example },
            }],
        });
        let docs = plain(docs);
        if !docs.trim().is_empty() {
            out["description"] = docs.trim().into();
        }
        out
    }
}

/// The payload of an error answer whose `error` member is `error`.
fn error_payload(error: Value) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["jsonrpc", "id", "error"],
        "properties": {
            "jsonrpc": schema_ref(VERSION),
            "id": schema_ref(ID),
            "error": error,
        },
    })
}

/// A request (`is_request`) or notification message of the method `name`, whole JSON-RPC
/// messages with `params` (required when it requires any property) and one example, with
/// `params_example` when there is one.
pub(super) fn envelope(
    name: &str,
    is_request: bool,
    params: Value,
    params_example: Option<Value>,
) -> Value {
    let mut required = vec!["jsonrpc"];
    let mut properties = Map::new();
    properties.insert("jsonrpc".into(), schema_ref(VERSION));
    if is_request {
        required.push("id");
        properties.insert("id".into(), schema_ref(ID));
    }
    required.push("method");
    properties.insert("method".into(), json!({ "type": "string", "const": name }));
    if params.get("required").is_some() || params.get("minItems").is_some() {
        required.push("params");
    }
    properties.insert("params".into(), params);

    let mut example = json!({ "jsonrpc": "2.0" });
    if is_request {
        example["id"] = 1.into();
    }
    example["method"] = name.into();
    if let Some(params) = params_example {
        example["params"] = params;
    }
    let mut message = json!({
        "name": name,
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": properties,
        },
        "examples": [{ "name": component_key(name), "payload": example }],
    });
    if is_request {
        message["correlationId"] = correlation(CORRELATION);
    }
    message
}

/// Sets `summary` and `description` on a message or operation.
pub(super) fn describe(target: &mut Value, summary: Option<String>, description: Option<String>) {
    if let Some(s) = summary {
        target["summary"] = s.into();
    }
    if let Some(s) = description {
        target["description"] = s.into();
    }
}
