//! The operations of a stream (PROTOCOL.md, "Streams"): the subscribe request answered with a
//! subscription id, the unsubscribe request answered with a boolean, and the item
//! notifications the serving end sends, then the last one that ends the stream.

use serde_json::{Value, json};

use super::messages::{
    Builder, ERROR, Method, SUBSCRIPTION_CORRELATION, SUBSCRIPTION_ID, VERSION, channel_ref,
    correlation, describe, envelope, message_ref, schema_ref,
};
use crate::example::example_value;
use crate::names::component_key;
use crate::stream;

/// Adds the operations and messages of the stream `m`, whose items come as `item`
/// notifications and which `unsubscribe` cancels.
pub(super) fn add(b: &mut Builder<'_>, m: &Method<'_, '_>, item: &str, unsubscribe: &str) {
    b.streams = true;
    let subscribe = m.name();

    // The subscribe request, answered with the subscription id.
    let call = b.call(m, true);
    let mut operation = b.operation(m, call);
    operation["x-stream"] = json!({ "item": item, "unsubscribe": unsubscribe });
    let summary = format!(
        "The answer to a successful `{subscribe}` request: the subscription id, which the \
         `{item}` notifications that follow carry."
    );
    operation["reply"] = b.reply(
        m,
        schema_ref(SUBSCRIPTION_ID),
        json!(stream::EXAMPLE_ID),
        summary,
        m.d.error.as_ref(),
        &m.d.errors,
    );
    b.operations.insert(m.key.clone(), operation);

    // The unsubscribe request, answered with whether a stream was cancelled.
    let cancel = Method {
        key: b.key(m.side, unsubscribe),
        ..*m
    };
    let request_key = format!("{}.request", cancel.key);
    let params = json!({
        "type": "array",
        "items": schema_ref(SUBSCRIPTION_ID),
        "minItems": 1,
        "maxItems": 1,
    });
    let mut request = envelope(unsubscribe, true, params, Some(json!([stream::EXAMPLE_ID])));
    request["title"] = format!("{unsubscribe} request ({})", m.to).into();
    request["examples"][0]["summary"] = format!("Cancels subscription 1 of `{subscribe}`").into();
    request["tags"] = m.tags();
    let (summary, description) = (
        stream::unsubscribe_summary(subscribe),
        stream::unsubscribe_description(item),
    );
    describe(
        &mut request,
        Some(summary.clone()),
        Some(description.clone()),
    );
    b.messages.insert(request_key.clone(), request);
    let mut operation = json!({
        "action": m.action(),
        "channel": channel_ref(),
        "title": unsubscribe,
        "messages": [message_ref(&request_key)],
        "tags": m.tags(),
        "x-unsubscribes": subscribe,
    });
    describe(&mut operation, Some(summary), Some(description));
    let answer = format!("The answer to `{unsubscribe}`: whether a running stream was cancelled.");
    operation["reply"] = b.reply(
        &cancel,
        stream::unsubscribed(),
        json!(true),
        answer,
        None,
        &[],
    );
    b.operations.insert(cancel.key.clone(), operation);

    // The items and the end, sent by the serving end.
    let key = b.key(m.side, item);
    let item_key = format!("{key}.item");
    let end_key = format!("{key}.end");
    let item_schema = m.d.result.clone().unwrap_or_else(|| json!({}));
    let item_example = example_value(&item_schema, b.root);
    let notification = |params: Value| {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["jsonrpc", "method", "params"],
            "properties": {
                "jsonrpc": schema_ref(VERSION),
                "method": { "type": "string", "const": item },
                "params": params,
            },
        })
    };
    let wire = |params: Value| json!({ "jsonrpc": "2.0", "method": item, "params": params });
    b.messages.insert(
        item_key.clone(),
        json!({
            "name": item,
            "title": format!("{item} item ({})", m.from),
            "summary": stream::item_summary(subscribe),
            "description": format!(
                "`result` is the item; `subscription` is the id the answer to `{subscribe}` gave."
            ),
            "contentType": "application/json",
            "correlationId": correlation(SUBSCRIPTION_CORRELATION),
            "payload": notification(json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["subscription", "result"],
                "properties": {
                    "subscription": schema_ref(SUBSCRIPTION_ID),
                    "result": item_schema,
                },
            })),
            "examples": [{
                "name": format!("{}-item", component_key(item)),
                "payload": wire(json!({ "subscription": stream::EXAMPLE_ID, "result": item_example })),
            }],
            "tags": m.tags(),
        }),
    );
    b.messages.insert(
        end_key.clone(),
        json!({
            "name": item,
            "title": format!("{item} end ({})", m.from),
            "summary": stream::end_summary(subscribe),
            "description": "The last notification of the stream: no item follows it.",
            "contentType": "application/json",
            "correlationId": correlation(SUBSCRIPTION_CORRELATION),
            "payload": notification(json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["subscription", "error"],
                "properties": {
                    "subscription": schema_ref(SUBSCRIPTION_ID),
                    "error": { "oneOf": [{ "type": "null" }, schema_ref(ERROR)] },
                },
            })),
            "examples": [
                {
                    "name": format!("{}-finished", component_key(item)),
                    "summary": "The stream finished.",
                    "payload": wire(json!({ "subscription": stream::EXAMPLE_ID, "error": null })),
                },
                {
                    "name": format!("{}-failed", component_key(item)),
                    "summary": "The stream failed.",
                    "payload": wire(json!({
                        "subscription": stream::EXAMPLE_ID,
                        "error": { "code": -32603, "message": "Internal error" },
                    })),
                },
            ],
            "tags": m.tags(),
        }),
    );
    let action = match m.action() {
        "receive" => "send",
        _ => "receive",
    };
    b.operations.insert(
        key,
        json!({
            "action": action,
            "channel": channel_ref(),
            "title": item,
            "summary": format!("The items of a `{subscribe}` stream, then its end."),
            "description": format!(
                "After answering `{subscribe}` with a subscription id, the {} sends each item as \
                 a `{item}` notification, in order, then one more that ends the stream, unless \
                 the stream is cancelled with `{unsubscribe}` first.",
                m.side.as_str()
            ),
            "messages": [message_ref(&item_key), message_ref(&end_key)],
            "tags": m.tags(),
        }),
    );
}
