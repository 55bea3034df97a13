//! Generated API documents: AsyncAPI 3.0 and OpenRPC 1.3.2 of the test traits
//! (tests/common/services.rs) and of a test API that covers structs, enums, `Option`, tuples,
//! nested and recursive types, same-named types from two modules, namespaced traits,
//! notifications and streams both ways, a type without a schema and an error type with one.
//! (Each example checks its own documents in its `tests/documents.rs`.)
//!
//! - Every AsyncAPI document validates against the official AsyncAPI 3.0.0 JSON Schema and
//!   every OpenRPC document against the OpenRPC meta-schema (testing/schemas/, vendored), with
//!   the `jsonschema` crate; every example validates against the schema it illustrates
//!   (`volley_testing::validate`).
//! - With Node and `tests/node/node_modules`, `@asyncapi/parser` 3.6.3 reports no error and no
//!   warning for any AsyncAPI document; without them the test prints `SKIPPED: ...` and passes,
//!   unless `VOLLEY_REQUIRE_ALL=1`.
//! - Snapshots in tests/snapshots/; `VOLLEY_UPDATE_SNAPSHOTS=1` rewrites them.
//! - The server serves both documents and answers `rpc.discover` with both directions.
//! - A running server's stream sends the frames its documents describe.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::services::*;
use common::{method, t};
use serde_json::{Value, json};
use volley::codegen::{self as docs, Api, Info, Side};
use volley::describe::ServiceDescription;
use volley::{PeerEvent, RemoteService, Server};
use volley_testing::validate::{self, asyncapi_validator, errors, openrpc_validator, validator_in};
use volley_testing::{http, snapshot};

/// The test API: every shape of type the documents must describe.
// `type_complexity`: the stub `#[volley::rpc]` generates for `pair` trips it.
#[allow(dead_code, missing_docs, unreachable_pub, clippy::type_complexity)]
#[path = "documents/api.rs"]
mod api;

use api::{CanvasClient, ViewerClient};

/// Streams in both documents, and a running server's stream frames against them.
#[path = "documents/streams.rs"]
mod streams;

const TIMEOUT: Duration = Duration::from_secs(10);

fn d<C: RemoteService>() -> &'static ServiceDescription {
    C::DESCRIPTION
}

/// The API of a server serving `server` whose clients serve `client`.
fn api(
    info: Info,
    server: &[&'static ServiceDescription],
    client: &[&'static ServiceDescription],
) -> Api {
    Api::new(Side::Server)
        .with_served(server.iter().copied())
        .with_remote(client.iter().copied())
        .with_info(info)
}

/// The URL a server's documents name when no request tells: its listen address, else the path.
fn default_url(server: &Server) -> String {
    match server.local_addr() {
        Some(addr) => format!("ws://{addr}{}", server.path()),
        None => server.path().to_owned(),
    }
}

fn calc_server() -> Server {
    Server::builder()
        .add_service(Calc::new().into_service())
        .add_remote_service::<BrowserClient>()
        .info(Info::new("Calculator", "1.2.3"))
        .build()
}

/// Every document under test, by snapshot name.
fn documents() -> BTreeMap<&'static str, Value> {
    let server = calc_server();
    let calc = server.api();
    let canvas = api(
        Info::new("Canvas", "0.1.0").with_description("Shapes, both ways."),
        &[d::<CanvasClient>()],
        &[d::<ViewerClient>()],
    );
    // Browser on both ends: the same method names served by both.
    let mixed = api(
        Info::default(),
        &[
            d::<CalculatorClient>(),
            d::<BrowserClient>(),
            d::<ViewerClient>(),
        ],
        &[d::<BrowserClient>(), d::<CanvasClient>()],
    );
    let empty = api(Info::default(), &[], &[]);
    let canvas_url = "wss://canvas.example.com/rpc";
    BTreeMap::from([
        ("calc.asyncapi", docs::asyncapi(calc, &default_url(&server))),
        (
            "calc.openrpc",
            docs::openrpc(calc, Some(&default_url(&server))),
        ),
        ("canvas.asyncapi", docs::asyncapi(&canvas, canvas_url)),
        ("canvas.openrpc", docs::openrpc(&canvas, Some(canvas_url))),
        ("mixed.asyncapi", docs::asyncapi(&mixed, "/ws")),
        ("mixed.openrpc", docs::openrpc(&mixed, None)),
        ("empty.asyncapi", docs::asyncapi(&empty, "/ws")),
        ("empty.openrpc", docs::openrpc(&empty, None)),
    ])
}

fn asyncapi_documents() -> Vec<(&'static str, Value)> {
    documents()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".asyncapi"))
        .collect()
}

fn openrpc_documents() -> Vec<(&'static str, Value)> {
    documents()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".openrpc"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Official schemas

#[test]
fn asyncapi_documents_validate_against_the_asyncapi_3_schema() {
    for (name, doc) in asyncapi_documents() {
        validate::assert_asyncapi(name, &doc);
    }
}

#[test]
fn openrpc_documents_validate_against_the_openrpc_meta_schema() {
    for (name, doc) in openrpc_documents() {
        validate::assert_openrpc(name, &doc);
    }
}

#[test]
fn the_validators_reject_broken_documents() {
    let asyncapi = asyncapi_validator();
    let mut doc = documents()["calc.asyncapi"].clone();
    doc["operations"]["server.add"]["action"] = "respond".into();
    assert!(!asyncapi.is_valid(&doc), "a bad action must fail");
    let mut doc = documents()["calc.asyncapi"].clone();
    doc["servers"]["websocket"]["protocol"] = json!(["ws"]);
    assert!(
        !asyncapi.is_valid(&doc),
        "a protocol that is not a string must fail"
    );
    let mut doc = documents()["calc.asyncapi"].clone();
    doc["components"]["messages"]["server.add.request"]["payload"]["properties"]["params"]["type"] =
        json!(5);
    assert!(
        !asyncapi.is_valid(&doc),
        "a broken payload schema must fail"
    );
    let mut doc = documents()["calc.asyncapi"].clone();
    doc["components"]["schemas"]["JsonRpcId"]["type"] = json!("tuple");
    assert!(
        !asyncapi.is_valid(&doc),
        "a broken component schema must fail"
    );

    let openrpc = openrpc_validator();
    let mut doc = documents()["calc.openrpc"].clone();
    doc["methods"][0]["paramStructure"] = "sideways".into();
    assert!(!openrpc.is_valid(&doc), "a bad paramStructure must fail");
    let mut doc = documents()["calc.openrpc"].clone();
    doc["methods"][0]["params"][0]["schema"] = json!({ "type": 5 });
    assert!(!openrpc.is_valid(&doc), "a bad schema must fail");
    let mut doc = documents()["calc.openrpc"].clone();
    doc["methods"][0]["x-implemented-by"] = json!([]);
    let ext = validator_in(&doc, &doc["x-extensions"][0]["schema"]);
    assert!(
        !ext.is_valid(&doc["methods"][0]["x-implemented-by"]),
        "an empty x-implemented-by must fail"
    );
}

#[test]
fn every_asyncapi_message_example_validates_against_its_payload() {
    for (name, doc) in asyncapi_documents() {
        validate::assert_asyncapi_examples(name, &doc);
    }
}

#[test]
fn every_openrpc_example_validates_against_its_schemas() {
    for (name, doc) in openrpc_documents() {
        validate::assert_openrpc_examples(name, &doc);
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes

fn param<'a>(method: &'a Value, name: &str) -> &'a Value {
    method["params"]
        .as_array()
        .expect("params")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no param {name}"))
}

#[test]
fn asyncapi_describes_both_directions_of_one_channel() {
    let docs = documents();
    let doc = &docs["canvas.asyncapi"];
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!(doc["info"]["title"], "Canvas");
    assert_eq!(doc["info"]["description"], "Shapes, both ways.");
    let server = &doc["servers"]["websocket"];
    assert_eq!(server["host"], "canvas.example.com");
    assert_eq!(server["protocol"], "wss");
    assert_eq!(doc["channels"]["jsonrpc"]["address"], "/rpc");

    let ops = doc["operations"].as_object().expect("operations");
    let keys: Vec<&str> = ops.keys().map(String::as_str).collect();
    for key in &keys {
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
            "{key}"
        );
    }
    // Requests the server serves: receive + reply; its notifications: receive, no reply.
    let add = &ops["server.draw.add_shape"];
    assert_eq!(add["action"], "receive");
    assert_eq!(add["title"], "draw.add_shape");
    assert_eq!(
        add["summary"],
        "Adds a shape to a drawing and returns its index."
    );
    assert_eq!(
        add["description"],
        "Fails with a `DrawError` when the drawing does not exist."
    );
    let replies: Vec<&str> = add["reply"]["messages"]
        .as_array()
        .expect("reply messages")
        .iter()
        .map(|m| m["$ref"].as_str().expect("ref"))
        .collect();
    assert_eq!(
        replies,
        [
            "#/channels/jsonrpc/messages/server.draw.add_shape.result",
            "#/channels/jsonrpc/messages/server.draw.add_shape.error",
            "#/channels/jsonrpc/messages/jsonrpc.error",
        ]
    );
    let clear = &ops["server.draw.clear"];
    assert_eq!(clear["action"], "receive");
    assert!(clear.get("reply").is_none());
    // Methods clients serve: send (+ reply for requests).
    assert_eq!(ops["client.ui.pick"]["action"], "send");
    assert_eq!(
        ops["client.ui.pick"]["reply"]["messages"][0]["$ref"],
        "#/channels/jsonrpc/messages/client.ui.pick.result"
    );
    assert_eq!(ops["client.ui.redraw"]["action"], "send");
    assert!(ops["client.ui.redraw"].get("reply").is_none());

    // The request envelope: method pinned, params by name with `required`.
    let messages = &doc["components"]["messages"];
    let request = &messages["server.draw.add_shape.request"];
    assert_eq!(
        request["correlationId"]["$ref"],
        "#/components/correlationIds/jsonrpcId"
    );
    assert_eq!(
        doc["components"]["correlationIds"]["jsonrpcId"]["location"],
        "$message.payload#/id"
    );
    let payload = &request["payload"];
    assert_eq!(
        payload["required"],
        json!(["jsonrpc", "id", "method", "params"])
    );
    assert_eq!(
        payload["properties"]["method"],
        json!({ "type": "string", "const": "draw.add_shape" })
    );
    assert_eq!(
        payload["properties"]["params"]["required"],
        json!(["drawing", "shape"])
    );
    assert_eq!(
        payload["properties"]["params"]["additionalProperties"],
        false
    );
    // Param docs describe the params' properties (around a `$ref`, with `allOf`).
    let params = &payload["properties"]["params"]["properties"];
    assert_eq!(
        params["drawing"],
        json!({ "type": "string", "description": "The drawing's name." })
    );
    assert_eq!(
        params["shape"],
        json!({ "allOf": [{ "$ref": "#/components/schemas/Shape" }], "description": "What to add." })
    );
    // `Option` params are not required; a method whose params are all optional needs none.
    let drawing = &messages["server.draw.drawing.request"]["payload"]["properties"]["params"];
    assert_eq!(drawing["required"], json!(["name"]));
    let redraw = &messages["client.ui.redraw.notification"];
    assert!(redraw.get("correlationId").is_none());
    assert_eq!(redraw["payload"]["required"], json!(["jsonrpc", "method"]));
    assert!(redraw["payload"]["properties"].get("id").is_none());
    // Typed errors describe `error.data`.
    let error = &messages["server.draw.add_shape.error"]["payload"]["properties"]["error"];
    assert_eq!(
        error["properties"]["data"]["$ref"],
        "#/components/schemas/DrawError"
    );
    // Every channel message is a component message and every operation message is on the
    // channel.
    let channel_messages = doc["channels"]["jsonrpc"]["messages"]
        .as_object()
        .expect("msgs");
    assert_eq!(
        channel_messages.keys().collect::<Vec<_>>(),
        messages
            .as_object()
            .expect("messages")
            .keys()
            .collect::<Vec<_>>()
    );
    for op in ops.values() {
        let refs = op["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(op["reply"]["messages"].as_array().into_iter().flatten());
        for r in refs {
            let r = r["$ref"].as_str().expect("ref");
            assert!(doc.pointer(r.trim_start_matches('#')).is_some(), "{r}");
        }
    }
}

#[test]
fn a_path_alone_gives_localhost_and_the_path() {
    let docs = documents();
    let doc = &docs["mixed.asyncapi"];
    assert_eq!(doc["servers"]["websocket"]["host"], "localhost");
    assert_eq!(doc["servers"]["websocket"]["protocol"], "ws");
    assert_eq!(doc["channels"]["jsonrpc"]["address"], "/ws");
    assert!(docs["mixed.openrpc"].get("servers").is_none());
    assert_eq!(
        docs["canvas.openrpc"]["servers"],
        json!([{ "name": "websocket", "url": "wss://canvas.example.com/rpc" }])
    );
}

#[test]
fn schemas_are_draft07_with_definitions_under_components() {
    let docs = documents();
    for name in ["canvas.asyncapi", "canvas.openrpc"] {
        let doc = &docs[name];
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        // Same name, two modules: two schemas, and each method points at its own.
        assert!(
            schemas.contains_key("Point") && schemas.contains_key("Point2"),
            "{name}"
        );
        let (plane, cell) = if name.ends_with("openrpc") {
            let locate = method(doc, "draw.locate");
            (
                param(locate, "plane")["schema"].clone(),
                param(locate, "cell")["schema"].clone(),
            )
        } else {
            let p = &doc["components"]["messages"]["server.draw.locate.request"]["payload"]["properties"]
                ["params"]["properties"];
            (p["plane"].clone(), p["cell"].clone())
        };
        let resolve = |s: &Value| {
            let r = s["$ref"].as_str().expect("a $ref").to_owned();
            doc.pointer(r.trim_start_matches('#'))
                .expect("resolves")
                .clone()
        };
        let (plane, cell) = (resolve(&plane), resolve(&cell));
        assert!(plane["properties"].get("x").is_some(), "{name}: {plane}");
        assert!(cell["properties"].get("col").is_some(), "{name}: {cell}");
        // Tuples are draft-07 `items` arrays, never `prefixItems`.
        let drawing = &schemas["Drawing"];
        let bounds = &drawing["properties"]["bounds"];
        assert!(bounds["items"].is_array(), "{name}: {bounds}");
        assert_eq!(bounds["minItems"], 2);
        assert_eq!(bounds["maxItems"], 2);
        // `format` survives; recursive types refer to themselves.
        assert_eq!(schemas["Id"]["format"], "uuid");
        assert_eq!(
            schemas["Tree"]["properties"]["children"]["items"]["$ref"],
            "#/components/schemas/Tree"
        );
    }
    let doc = &docs["canvas.openrpc"];
    let pair = method(doc, "draw.pair");
    let tuple = &param(pair, "pair")["schema"];
    assert_eq!(tuple["type"], "array");
    assert!(tuple["items"].is_array(), "{tuple}");
    assert!(tuple.get("prefixItems").is_none());
}

#[test]
fn a_type_without_a_schema_gets_an_empty_schema_that_says_so() {
    let docs = documents();
    let opaque = method(&docs["canvas.openrpc"], "draw.opaque");
    let schema = &param(opaque, "blob")["schema"];
    let text = schema["description"].as_str().expect("a description");
    assert!(
        text.contains("No JSON Schema is available for `Opaque`"),
        "{text}"
    );
    assert_eq!(schema.as_object().map(|o| o.len()), Some(1), "{schema}");
    assert_eq!(opaque["result"]["schema"], *schema);
    // The calc example's AppError has no schema: no x-error-data, no typed error message.
    let find = method(&docs["calc.openrpc"], "find");
    assert!(find.get("x-error-data").is_none());
    assert!(
        docs["calc.asyncapi"]["components"]["messages"]
            .get("server.find.error")
            .is_none()
    );
}

#[test]
fn openrpc_marks_who_implements_each_method() {
    let docs = documents();
    let doc = &docs["calc.openrpc"];
    assert_eq!(doc["openrpc"], "1.3.2");
    assert_eq!(doc["info"]["title"], "Calculator");
    assert_eq!(doc["info"]["version"], "1.2.3");
    assert_eq!(doc["x-extensions"][0]["name"], "x-implemented-by");
    assert_eq!(
        doc["x-extensions"][0]["restricted"],
        json!(["methodObject"])
    );
    for name in [
        "add", "ask", "boom", "echo", "wait", "release", "find", "log", "whoami",
    ] {
        let m = method(doc, name);
        assert_eq!(m["x-implemented-by"], json!(["server"]), "{name}");
        assert_eq!(m["paramStructure"], "either");
    }
    for name in ["confirm", "tick"] {
        assert_eq!(
            method(doc, name)["x-implemented-by"],
            json!(["client"]),
            "{name}"
        );
    }
    // Notifications have no result.
    assert!(method(doc, "log").get("result").is_none());
    assert!(method(doc, "tick").get("result").is_none());
    assert!(method(doc, "add").get("result").is_some());
    let find = method(doc, "find");
    assert_eq!(param(find, "name")["required"], true);
    assert_eq!(param(find, "strict")["required"], false);
    assert_eq!(find["summary"], "Fails with an application error.");

    let doc = &docs["canvas.openrpc"];
    let add = method(doc, "draw.add_shape");
    // Param docs: the content descriptor's description; the schema stays as it is.
    assert_eq!(param(add, "drawing")["description"], "The drawing's name.");
    assert_eq!(param(add, "drawing")["schema"], json!({ "type": "string" }));
    assert_eq!(
        param(add, "shape")["schema"],
        json!({ "$ref": "#/components/schemas/Shape" })
    );
    assert_eq!(add["x-error-data"]["name"], "DrawError");
    assert_eq!(
        add["x-error-data"]["schema"]["$ref"],
        "#/components/schemas/DrawError"
    );
    assert_eq!(add["tags"][1]["name"], "Canvas");
    assert_eq!(
        add["tags"][1]["description"],
        "Draws shapes on named drawings.\n\nEvery method works on one drawing at a time."
    );

    // One name served by both ends is listed once, implemented by both.
    let doc = &docs["mixed.openrpc"];
    let confirms: Vec<_> = doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .filter(|m| m["name"] == "confirm")
        .collect();
    assert_eq!(confirms.len(), 1);
    assert_eq!(confirms[0]["x-implemented-by"], json!(["server", "client"]));
    // AsyncAPI keeps them apart.
    let ops = &docs["mixed.asyncapi"]["operations"];
    assert_eq!(ops["server.confirm"]["action"], "receive");
    assert_eq!(ops["client.confirm"]["action"], "send");
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn documents_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    snapshot::assert_all(
        documents()
            .iter()
            .map(|(name, doc)| snapshot::check_json(&dir.join(format!("{name}.json")), doc)),
        "cargo test -p volley --test documents",
    );
}

// ---------------------------------------------------------------------------------------------
// @asyncapi/parser

#[tokio::test]
async fn asyncapi_parser_reports_no_errors_or_warnings() {
    if !validate::parser_ready() {
        return;
    }
    let docs = asyncapi_documents();
    let docs: Vec<(&str, &Value)> = docs.iter().map(|(name, doc)| (*name, doc)).collect();
    validate::assert_parser_accepts(&docs).await;

    // The parser is live: an operation whose message is not on its channel is an error.
    let mut broken = documents()["calc.asyncapi"].clone();
    broken["channels"]["jsonrpc"]["messages"]
        .as_object_mut()
        .expect("messages")
        .remove("server.add.request");
    let parsed = validate::run_parser(&[("broken", &broken)]).await;
    assert!(
        !parsed.ok && parsed.output.contains(" error "),
        "a broken document passed:\n{}",
        parsed.output
    );
}

// ---------------------------------------------------------------------------------------------
// The server

/// A plain HTTP GET: the status, the headers (lower-case names) and the body.
/// A request as written, answered as (status, headers, body).
async fn get(addr: SocketAddr, request: String) -> (u16, BTreeMap<String, String>, String) {
    let response = http::send(addr, &request).await;
    (response.status, response.headers, response.body)
}

#[tokio::test]
async fn the_server_serves_both_documents_for_the_host_it_was_reached_at() {
    let server = calc_server();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let addr = running.local_addr();

    let (status, headers, body) = get(
        addr,
        http::request("/asyncapi.json", "api.example.test:8443"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["servers"]["websocket"]["host"], "api.example.test:8443");
    assert_eq!(doc["servers"]["websocket"]["protocol"], "ws");
    assert_eq!(doc["channels"]["jsonrpc"]["address"], "/ws");
    assert_eq!(doc["info"]["title"], "Calculator");
    assert_eq!(
        doc,
        docs::asyncapi(server.api(), "ws://api.example.test:8443/ws")
    );

    // Behind a TLS-terminating proxy.
    let request = "GET /openrpc.json HTTP/1.1\r\nHost: internal:80\r\nX-Forwarded-Proto: https\r\n\
        X-Forwarded-Host: rpc.example.test\r\nConnection: close\r\n\r\n"
        .to_owned();
    let (status, headers, body) = get(addr, request).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["servers"][0]["url"], "wss://rpc.example.test/ws");
    assert_eq!(
        method(&doc, "confirm")["x-implemented-by"],
        json!(["client"])
    );

    // No Host header (HTTP/1.0): the bound address.
    let (status, _, body) = get(addr, "GET /asyncapi.json HTTP/1.0\r\n\r\n".to_owned()).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["servers"]["websocket"]["host"], addr.to_string());
    assert_eq!(
        docs::asyncapi(server.api(), &default_url(&server))["servers"]["websocket"]["host"],
        addr.to_string()
    );

    t(running.shutdown()).await;
}

#[tokio::test]
async fn mounted_under_a_prefix_the_documents_name_the_prefixed_path() {
    let server = calc_server();
    let app = axum::Router::new().nest("/api", server.router());
    let running = t(server.listen_with("127.0.0.1:0", app))
        .await
        .expect("listen");
    let (status, _, body) = get(
        running.local_addr(),
        http::request("/api/asyncapi.json", "h:1"),
    )
    .await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["channels"]["jsonrpc"]["address"], "/api/ws");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn documents_can_be_switched_off() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .documents(false)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    for path in ["/asyncapi.json", "/openrpc.json"] {
        let (status, _, _) = get(running.local_addr(), http::request(path, "localhost")).await;
        assert_eq!(status, 404, "{path}");
    }
    // Only the documents are gone: the same server still serves its other routes.
    let (status, headers, _) = get(
        running.local_addr(),
        http::request("/volley.js", "localhost"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"].starts_with("text/javascript"),
        "{headers:?}"
    );
    // The documents are still there to render by hand.
    assert_eq!(
        docs::openrpc(server.api(), Some(&default_url(&server)))["openrpc"],
        "1.3.2"
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn rpc_discover_describes_both_directions_on_the_server_and_the_clients_side_on_the_client() {
    let server = calc_server();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let mut events = server.peers().subscribe();
    let client = t(volley::Client::builder()
        .add_service(TestBrowser::new(true).into_service())
        .connect(&running.ws_url()))
    .await
    .expect("connect");
    let PeerEvent::Connected(peer) = t(events.recv()).await.expect("an event") else {
        panic!("expected the client to connect")
    };

    // The server's rpc.discover: what it serves and what its clients serve.
    let raw = t(client
        .peer()
        .request_raw("rpc.discover", None, Some(TIMEOUT)))
    .await
    .expect("rpc.discover");
    let doc: Value = serde_json::from_str(raw.get()).expect("json");
    let mut expected = docs::openrpc(server.api(), Some(&default_url(&server)));
    expected.as_object_mut().expect("doc").remove("servers");
    assert_eq!(doc, expected);
    assert_eq!(method(&doc, "add")["x-implemented-by"], json!(["server"]));
    assert_eq!(
        method(&doc, "confirm")["x-implemented-by"],
        json!(["client"])
    );
    assert_eq!(doc["info"]["title"], "Calculator");
    let errs = errors(&openrpc_validator(), &doc);
    assert!(errs.is_empty(), "{errs:?}");

    // The client's rpc.discover, called by the server: what the client serves.
    let raw = t(peer.request_raw("rpc.discover", None, Some(TIMEOUT)))
        .await
        .expect("rpc.discover on the client");
    let doc: Value = serde_json::from_str(raw.get()).expect("json");
    let names: Vec<&str> = doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["confirm", "tick"]);
    assert!(method(&doc, "tick").get("result").is_none());
    let errs = errors(&openrpc_validator(), &doc);
    assert!(errs.is_empty(), "{errs:?}");

    client.close();
    t(running.shutdown()).await;
}
