//! Streams in both documents: what OpenRPC and AsyncAPI say about a stream each end serves,
//! and the frames of a running server's stream checked against its AsyncAPI payloads.

use super::*;

#[test]
fn openrpc_describes_a_stream_and_its_unsubscribe_method() {
    let docs = documents();
    let doc = &docs["canvas.openrpc"];
    let names: Vec<&str> = doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    // The unsubscribe method follows its stream.
    let at = names
        .iter()
        .position(|n| *n == "draw.subscribe_shapes")
        .expect("draw.subscribe_shapes");
    assert_eq!(names[at + 1], "draw.unsubscribe_shapes");

    let shapes = method(doc, "draw.subscribe_shapes");
    assert_eq!(shapes["paramStructure"], "either");
    assert_eq!(param(shapes, "drawing")["required"], true);
    // The answer is the subscription id; the items are described by `x-stream`.
    assert_eq!(shapes["result"]["name"], "subscription");
    assert_eq!(
        shapes["result"]["schema"]["type"],
        json!(["integer", "string"])
    );
    assert_eq!(
        shapes["x-stream"],
        json!({
            "item": "draw.shapes",
            "unsubscribe": "draw.unsubscribe_shapes",
            "schema": { "$ref": "#/components/schemas/Shape" },
        })
    );
    assert_eq!(shapes["examples"][0]["result"]["value"], 1);
    // What the method's own attributes say still holds.
    assert_eq!(shapes["x-timeout-ms"], 5000);
    assert_eq!(shapes["x-error-data"]["name"], "DrawError");

    let unsubscribe = method(doc, "draw.unsubscribe_shapes");
    assert_eq!(unsubscribe["x-unsubscribes"], "draw.subscribe_shapes");
    assert_eq!(unsubscribe["x-implemented-by"], json!(["server"]));
    assert_eq!(unsubscribe["paramStructure"], "by-position");
    assert_eq!(param(unsubscribe, "subscription")["required"], true);
    assert_eq!(unsubscribe["result"]["schema"]["type"], "boolean");

    // A stream the client serves.
    let track = method(doc, "ui.track");
    assert_eq!(track["x-implemented-by"], json!(["client"]));
    assert_eq!(track["x-stream"]["item"], "ui.pointer");
    assert_eq!(track["x-stream"]["unsubscribe"], "ui.stop_pointer");
    assert_eq!(
        method(doc, "ui.stop_pointer")["x-implemented-by"],
        json!(["client"])
    );

    let declared: Vec<&str> = doc["x-extensions"]
        .as_array()
        .expect("x-extensions")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(declared.contains(&"x-stream") && declared.contains(&"x-unsubscribes"));
    // Without streams, neither is declared.
    let calc = &docs["calc.openrpc"];
    assert!(!calc["x-extensions"].to_string().contains("x-stream"));
}

/// The keys of the messages an operation sends, and of its reply.
fn operation_messages(op: &Value) -> (Vec<&str>, Vec<&str>) {
    fn keys(list: &Value) -> Vec<&str> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["$ref"].as_str())
            .map(|r| r.rsplit('/').next().unwrap_or(r))
            .collect()
    }
    (keys(&op["messages"]), keys(&op["reply"]["messages"]))
}

#[test]
fn asyncapi_describes_a_stream_both_ways() {
    let docs = documents();
    let doc = &docs["canvas.asyncapi"];
    let ops = &doc["operations"];

    // Served by the server: subscribe and unsubscribe come in, items and the end go out.
    let subscribe = &ops["server.draw.subscribe_shapes"];
    assert_eq!(subscribe["action"], "receive");
    assert_eq!(
        subscribe["x-stream"],
        json!({ "item": "draw.shapes", "unsubscribe": "draw.unsubscribe_shapes" })
    );
    assert_eq!(
        operation_messages(subscribe),
        (
            vec!["server.draw.subscribe_shapes.request"],
            vec![
                "server.draw.subscribe_shapes.result",
                "server.draw.subscribe_shapes.error",
                "jsonrpc.error"
            ]
        )
    );
    let unsubscribe = &ops["server.draw.unsubscribe_shapes"];
    assert_eq!(unsubscribe["action"], "receive");
    assert_eq!(unsubscribe["x-unsubscribes"], "draw.subscribe_shapes");
    assert_eq!(
        operation_messages(unsubscribe).1,
        ["server.draw.unsubscribe_shapes.result", "jsonrpc.error"]
    );
    let items = &ops["server.draw.shapes"];
    assert_eq!(items["action"], "send");
    assert!(items.get("reply").is_none());
    assert_eq!(
        operation_messages(items).0,
        ["server.draw.shapes.item", "server.draw.shapes.end"]
    );

    // Served by clients: the other way round.
    assert_eq!(ops["client.ui.track"]["action"], "send");
    assert_eq!(ops["client.ui.stop_pointer"]["action"], "send");
    assert_eq!(ops["client.ui.pointer"]["action"], "receive");

    // The wire of PROTOCOL.md, message by message.
    let messages = &doc["components"]["messages"];
    let accepts =
        |key: &str, frame: Value| validator_in(doc, &messages[key]["payload"]).is_valid(&frame);
    let shape = json!({ "Circle": { "center": { "x": 0.0, "y": 1.0 }, "radius": 2.0 } });
    let cases = [
        (
            "server.draw.subscribe_shapes.request",
            json!({"jsonrpc": "2.0", "id": 7, "method": "draw.subscribe_shapes", "params": {"drawing": "d"}}),
            true,
        ),
        (
            "server.draw.subscribe_shapes.result",
            json!({"jsonrpc": "2.0", "id": 7, "result": 1}),
            true,
        ),
        (
            "server.draw.subscribe_shapes.result",
            json!({"jsonrpc": "2.0", "id": 7, "result": "a1"}),
            true,
        ),
        (
            "server.draw.shapes.item",
            json!({"jsonrpc": "2.0", "method": "draw.shapes", "params": {"subscription": 1, "result": shape}}),
            true,
        ),
        (
            "server.draw.shapes.item",
            json!({"jsonrpc": "2.0", "method": "draw.shapes", "params": {"subscription": 1, "result": 5}}),
            false,
        ),
        (
            "server.draw.shapes.item",
            json!({"jsonrpc": "2.0", "method": "draw.shapes", "params": {"subscription": 1, "error": null}}),
            false,
        ),
        (
            "server.draw.shapes.end",
            json!({"jsonrpc": "2.0", "method": "draw.shapes", "params": {"subscription": 1, "error": null}}),
            true,
        ),
        (
            "server.draw.shapes.end",
            json!({"jsonrpc": "2.0", "method": "draw.shapes", "params": {"subscription": 1, "error": {"code": 4000, "message": "ran dry", "data": {"after": 3}}}}),
            true,
        ),
        (
            "server.draw.shapes.end",
            json!({"jsonrpc": "2.0", "method": "draw.shapes", "params": {"subscription": 1, "result": shape}}),
            false,
        ),
        (
            "server.draw.unsubscribe_shapes.request",
            json!({"jsonrpc": "2.0", "id": 8, "method": "draw.unsubscribe_shapes", "params": [1]}),
            true,
        ),
        (
            "server.draw.unsubscribe_shapes.request",
            json!({"jsonrpc": "2.0", "id": 8, "method": "draw.unsubscribe_shapes", "params": []}),
            false,
        ),
        (
            "server.draw.unsubscribe_shapes.result",
            json!({"jsonrpc": "2.0", "id": 8, "result": true}),
            true,
        ),
        (
            "client.ui.pointer.item",
            json!({"jsonrpc": "2.0", "method": "ui.pointer", "params": {"subscription": 3, "result": {"col": 1, "row": 2}}}),
            true,
        ),
    ];
    for (key, frame, valid) in cases {
        assert_eq!(accepts(key, frame.clone()), valid, "{key}: {frame}");
    }
    // Items and ends are correlated by their subscription id.
    assert_eq!(
        messages["server.draw.shapes.item"]["correlationId"]["$ref"],
        "#/components/correlationIds/jsonrpcSubscription"
    );
    assert_eq!(
        doc["components"]["correlationIds"]["jsonrpcSubscription"]["location"],
        "$message.payload#/params/subscription"
    );
    // Documents without streams carry none of it.
    let calc = &docs["calc.asyncapi"];
    assert!(
        calc["components"]["schemas"]
            .get("JsonRpcSubscriptionId")
            .is_none()
    );
    assert!(
        calc["components"]["correlationIds"]
            .get("jsonrpcSubscription")
            .is_none()
    );
}

/// A stream a running server serves, to check its documents against its frames.
#[volley::rpc]
pub trait Ticks {
    /// Numbers from `from`: `count` of them, or for as long as the caller wants.
    #[rpc(stream)]
    async fn subscribe_ticks(
        &self,
        from: u64,
        count: Option<u64>,
    ) -> volley::Result<volley::ItemStream<u64>>;
}

struct Ticker;

impl Ticks for Ticker {
    async fn subscribe_ticks(
        &self,
        from: u64,
        count: Option<u64>,
    ) -> volley::Result<volley::ItemStream<u64>> {
        Ok(match count {
            Some(count) => volley::ItemStream::iter(from..from + count),
            None => volley::ItemStream::iter(from..),
        })
    }
}

#[tokio::test]
async fn a_running_stream_sends_the_frames_its_documents_describe() {
    let server = Server::builder().add_service(Ticker.into_service()).build();
    let openrpc = docs::openrpc(server.api(), None);
    let asyncapi = docs::asyncapi(server.api(), "/ws");
    validate::assert_openrpc("ticks.openrpc", &openrpc);
    validate::assert_asyncapi("ticks.asyncapi", &asyncapi);
    // The unsubscribe method jsonrpsee registers is described with its stream, not listed
    // as a method without a description.
    let names: Vec<&str> = openrpc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["subscribe_ticks", "unsubscribe_ticks"]);
    assert_eq!(
        method(&openrpc, "unsubscribe_ticks")["x-unsubscribes"],
        "subscribe_ticks"
    );

    let payload = |key: &str| {
        validator_in(
            &asyncapi,
            &asyncapi["components"]["messages"][key]["payload"],
        )
    };
    let (request, result) = (
        payload("server.subscribe_ticks.request"),
        payload("server.subscribe_ticks.result"),
    );
    let (item, end) = (payload("server.ticks.item"), payload("server.ticks.end"));
    let (cancel, cancelled) = (
        payload("server.unsubscribe_ticks.request"),
        payload("server.unsubscribe_ticks.result"),
    );
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let mut raw = common::raw_connect(&running.ws_url()).await;
    let send =
        async |raw: &mut common::RawClient, validator: &validate::Validator, frame: Value| {
            assert!(validator.is_valid(&frame), "{frame}");
            raw.send_json(&frame).await;
        };

    // A stream that ends by itself: the answer, three items, the end.
    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "subscribe_ticks", "params": {"from": 5, "count": 3}});
    send(&mut raw, &request, subscribe).await;
    let answer = raw.recv().await;
    assert!(result.is_valid(&answer), "{answer}");
    for n in 5..8 {
        let frame = raw.recv().await;
        assert!(item.is_valid(&frame) && !end.is_valid(&frame), "{frame}");
        assert_eq!(frame["params"]["result"], n);
        assert_eq!(frame["params"]["subscription"], answer["result"]);
    }
    let last = raw.recv().await;
    assert!(end.is_valid(&last) && !item.is_valid(&last), "{last}");

    // A stream that runs until it is cancelled (the id by position, as documented).
    let subscribe =
        json!({"jsonrpc": "2.0", "id": 2, "method": "subscribe_ticks", "params": {"from": 0}});
    send(&mut raw, &request, subscribe).await;
    let answer = raw.recv().await;
    assert!(result.is_valid(&answer), "{answer}");
    let first = raw.recv().await;
    assert!(item.is_valid(&first), "{first}");
    let unsubscribe = json!({"jsonrpc": "2.0", "id": 3, "method": "unsubscribe_ticks", "params": [answer["result"]]});
    send(&mut raw, &cancel, unsubscribe).await;
    let reply = t(async {
        loop {
            let frame = raw.recv().await;
            if frame.get("id") == Some(&json!(3)) {
                return frame;
            }
            // Items already on their way still arrive.
            assert!(item.is_valid(&frame), "{frame}");
        }
    })
    .await;
    assert!(cancelled.is_valid(&reply), "{reply}");
    assert_eq!(reply["result"], true);
    t(running.shutdown()).await;
}
