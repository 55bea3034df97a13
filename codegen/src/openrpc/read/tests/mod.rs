//! The reader against the writer: documents of described APIs read back and written again,
//! and documents from elsewhere.

use serde_json::{Value, json};

use volley_core::describe::{MethodKind, ParamStructure};

use super::method::{schemaless_type, type_name, variant_name};
use super::*;
use crate::schema::no_schema;
use crate::{TypeScriptOptions, asyncapi, openrpc, typescript};

mod services;

use services::{BROWSER, CALCULATOR, callbacks, canvas, lookup};
/// `api` written, read back, and written again by every generator gives the same output.
fn assert_round_trip(name: &str, api: &Api, url: &str) {
    let document = openrpc(api, Some(url));
    let read = read_openrpc(&document).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        openrpc(&read, Some(url)),
        document,
        "{name}: the OpenRPC document"
    );
    assert_eq!(
        asyncapi(&read, url),
        asyncapi(api, url),
        "{name}: the AsyncAPI document"
    );
    let options = TypeScriptOptions::default();
    let (original, again) = (typescript(api, &options), typescript(&read, &options));
    assert!(
        original == again,
        "{name}: the TypeScript module\n--- original\n{original}\n--- read\n{again}"
    );
    assert_eq!(read.side(), api.side());
    assert_eq!(read.info(), api.info());
    assert_eq!(read.undescribed(), api.undescribed());
}

#[test]
fn the_callbacks_api_reads_back_as_it_was_written() {
    assert_round_trip("callbacks", &callbacks(), "ws://127.0.0.1:8080/ws");
    let read = read_openrpc(&openrpc(&callbacks(), None)).expect("read");
    let (server, client) = (read.server_serves(), read.client_serves());
    assert_eq!((server.len(), client.len()), (1, 1));
    assert_eq!(server[0].name, "Calculator");
    assert_eq!(server[0].docs, "What the server offers.");
    let add = server[0].method("add").expect("add");
    assert_eq!(add.docs, CALCULATOR.methods[0].docs);
    assert!(add.idempotent);
    assert_eq!(
        add.params.iter().map(|p| p.name).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let tick = client[0].method("tick").expect("tick");
    assert_eq!(tick.kind, MethodKind::Notification);
    assert_eq!(tick.param_structure, ParamStructure::ByPosition);
}

#[test]
fn every_shape_reads_back_as_it_was_written() {
    let api = canvas();
    assert_round_trip("canvas", &api, "wss://canvas.example.com/rpc");
    let read = read_openrpc(&openrpc(&api, None)).expect("read");
    let canvas = read.served()[0];
    assert_eq!(canvas.namespace, Some("canvas"));
    let draw = canvas.method("canvas.draw").expect("draw");
    assert_eq!(draw.rust_name, "draw");
    assert_eq!(
        (draw.requires, draw.timeout_ms, draw.error_type),
        (Some("artist"), Some(5000), Some("DrawError"))
    );
    assert_eq!(draw.result_type, "Page");
    assert!(!(draw.params[1].required)());
    let tree = canvas.method("canvas.tree").expect("tree");
    assert_eq!(tree.docs, "The whole tree, summed up\nover two lines.");
    let opaque = canvas.method("canvas.opaque").expect("opaque");
    assert_eq!(
        (opaque.params[0].rust_type, opaque.result_type),
        ("Handle", "Handle")
    );
    // The unsubscribe methods are not read as methods of their own.
    assert!(canvas.method("canvas.unsubscribe_points").is_none());
    assert_eq!(
        read.remote().iter().map(|s| s.name).collect::<Vec<_>>(),
        ["Ping", "Viewer"]
    );
    assert_eq!(read.undescribed(), ["raw.echo", "raw.stats"]);
    let show = read.remote()[1].method("show").expect("show");
    assert_eq!(show.result_type, "Wrapped_Point_");
}

#[test]
fn errors_of_their_own_read_back_by_code_message_and_data() {
    let api = lookup();
    let document = openrpc(&api, None);
    let read = read_openrpc(&document).expect("read");
    assert_eq!(openrpc(&read, None), document);
    let find = read.served()[0].method("find").expect("find");
    let errors = (find.errors)();
    let read_back: Vec<_> = errors
        .iter()
        .map(|e| (e.variant, e.code, e.message))
        .collect();
    assert_eq!(
        read_back,
        [("NotFound", 404, "not found"), ("Denied", 403, "denied")]
    );
    let mut schemas = crate::schema::Schemas::new(crate::schema::DOCUMENT);
    assert_eq!(
        schemas.schema(errors[0].data_schema),
        Some(json!({ "type": "string" }))
    );
    assert_eq!(schemas.schema(errors[1].data_schema), None);
    // The type's name and the variants' docs are in the document (`x-error-type`).
    assert_eq!(find.error_type, Some("LookupError"));
    assert_eq!(
        errors.iter().map(|e| e.docs).collect::<Vec<_>>(),
        ["Nothing has that name.", ""]
    );
    // Without `x-error-type`, the type is unnamed and the variants are named by message.
    let mut anonymous = document.clone();
    for method in anonymous["methods"].as_array_mut().expect("methods") {
        if let Some(method) = method.as_object_mut() {
            method.remove("x-error-type");
        }
    }
    let read = read_openrpc(&anonymous).expect("read");
    let find = read.served()[0].method("find").expect("find");
    let variants: Vec<_> = (find.errors)().iter().map(|e| e.variant).collect();
    assert_eq!(
        (find.error_type, variants),
        (None, vec!["NotFound", "Denied"])
    );
    assert_eq!(
        variant_name("bid too low: at least {minimum}", 1, &[]),
        "BidTooLow"
    );
    assert_eq!(variant_name("404", -32050, &[]), "E32050");
    let taken = [("Gone".to_owned(), 410, "gone", "", None)];
    assert_eq!(variant_name("gone", 411, &taken), "Gone411");
}

#[test]
fn an_empty_api_reads_back_empty() {
    let api = Api::new(Side::Server);
    assert_round_trip("empty", &api, "/ws");
    // A client's own document: its methods come first.
    let api = Api::new(Side::Client)
        .with_served([&BROWSER])
        .with_remote([&CALCULATOR]);
    assert_round_trip("client", &api, "/ws");
}

#[test]
fn documents_from_elsewhere_are_read_as_far_as_they_go() {
    let document = json!({
        "openrpc": "1.2.6",
        "info": { "title": "Petstore", "version": "1.0.0" },
        "methods": [
            {
                "name": "list_pets",
                "summary": "Lists pets",
                "description": "At most `limit`.",
                "tags": [{ "$ref": "#/components/tags/pets" }],
                "params": [{ "$ref": "#/components/contentDescriptors/Limit" }],
                "result": {
                    "name": "pets",
                    "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Pet" } }
                }
            },
            { "$ref": "#/components/methods/poke" }
        ],
        "components": {
            "contentDescriptors": {
                "Limit": { "name": "limit", "required": true, "schema": { "type": "integer" } }
            },
            "schemas": {
                "Pet": {
                    "type": "object",
                    "properties": { "name": { "type": "string" }, "owner": { "$ref": "#/components/schemas/Person" } }
                },
                "Person": { "type": "object", "properties": { "name": { "type": "string" } } }
            },
            "tags": { "pets": { "name": "pets", "description": "Everything about pets" } },
            "methods": { "poke": { "name": "poke", "params": [{ "name": "id", "schema": { "type": "integer" } }] } }
        }
    });
    let api = read_openrpc(&document).expect("read");
    assert_eq!(api.side(), Side::Server);
    assert_eq!(api.info(), Info::new("Petstore", "1.0.0"));
    let served: Vec<_> = api.served().iter().map(|s| (s.name, s.docs)).collect();
    assert_eq!(
        served,
        [("pets", "Everything about pets"), ("Petstore", "")]
    );
    let list = api.served()[0].method("list_pets").expect("list_pets");
    assert_eq!(list.docs, "Lists pets\nAt most `limit`.");
    assert_eq!(list.kind, MethodKind::Request);
    assert!((list.params[0].required)());
    let poke = api.served()[1].method("poke").expect("poke");
    assert_eq!(poke.kind, MethodKind::Notification);
    assert!(!(poke.params[0].required)(), "OpenRPC's default");

    let written = openrpc(&api, None);
    assert_eq!(written["methods"][0]["x-implemented-by"], json!(["server"]));
    assert_eq!(
        written["components"]["schemas"]["Pet"],
        document["components"]["schemas"]["Pet"]
    );
    assert!(written["components"]["schemas"]["Person"].is_object());
    let module = typescript(&api, &TypeScriptOptions::default());
    assert!(module.contains("export interface Pet {"), "{module}");
    assert!(module.contains("owner?: Person;"), "{module}");
}

#[test]
fn what_is_not_a_document_is_refused_with_the_reason() {
    assert_eq!(read_openrpc(&json!([])).err(), Some(ReadError::NotOpenRpc));
    assert_eq!(
        read_openrpc(&json!({ "methods": {} })).err(),
        Some(ReadError::NotOpenRpc)
    );
    let nameless = json!({ "methods": [{ "name": "a" }, { "params": [] }] });
    let error = read_openrpc(&nameless).expect_err("an error");
    assert_eq!(error.to_string(), "method 1: no name");
    let params = json!({ "methods": [{ "name": "a", "params": {} }] });
    assert_eq!(
        read_openrpc(&params)
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some("method 0: `params` is not an array")
    );
    let param = json!({ "methods": [{ "name": "a", "params": [{ "schema": {} }] }] });
    assert!(matches!(
        read_openrpc(&param),
        Err(ReadError::Method { method: 0, .. })
    ));
    assert_eq!(
        ReadError::NotOpenRpc.to_string(),
        "not an OpenRPC document: no `methods` array at the top level"
    );
}

#[test]
fn type_names_come_from_the_schema() {
    assert_eq!(
        type_name(&json!({ "$ref": "#/components/schemas/Point" })),
        "Point"
    );
    assert_eq!(
        type_name(&json!({ "type": "integer", "format": "int64" })),
        "int64"
    );
    assert_eq!(type_name(&json!({ "type": "string" })), "string");
    assert_eq!(type_name(&json!({})), "any");
    assert_eq!(
        schemaless_type(&no_schema("a::B<C>")).as_deref(),
        Some("a::B<C>")
    );
    assert_eq!(
        schemaless_type(&json!({ "description": "No JSON Schema" })),
        None
    );
    let _: Value = no_schema("x");
}

/// The workspace's document snapshots (`tests/snapshots/`, written by the `volley` crate's
/// tests from its test traits): each OpenRPC document reads back into the API that wrote
/// it, and into its AsyncAPI document (and the calculator's into its TypeScript module).
#[test]
fn the_workspace_snapshots_read_back_into_their_other_documents() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/snapshots");
    let load = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let json = |name: &str| -> Value {
        serde_json::from_str(&load(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    for name in ["calc", "canvas", "mixed", "empty"] {
        let document = json(&format!("{name}.openrpc.json"));
        let api = read_openrpc(&document).unwrap_or_else(|e| panic!("{name}: {e}"));
        let url = document["servers"][0]["url"].as_str();
        assert_eq!(openrpc(&api, url), document, "{name}.openrpc.json");
        let asyncapi_document = json(&format!("{name}.asyncapi.json"));
        assert_eq!(
            asyncapi(&api, url.unwrap_or("/ws")),
            asyncapi_document,
            "{name}.asyncapi.json"
        );
        if name == "calc" {
            let module = typescript(&api, &TypeScriptOptions::default());
            assert!(
                module.trim_end() == load("typescript_calc.ts.snap").trim_end(),
                "typescript_calc.ts.snap:\n{module}"
            );
        }
    }
}
