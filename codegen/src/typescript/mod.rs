//! A typed TypeScript client, generated from the same descriptions as the documents.
//!
//! [`typescript()`] takes an [`Api`] (the traits the server serves and the traits its clients
//! serve) and returns one ES module (TypeScript source) that imports `volley.js` and exports:
//!
//! - one declaration per JSON Schema definition (Rust structs become `interface`s, enums
//!   become unions), with the Rust doc comments as `/** */` comments;
//! - `ServerMethods` and `ClientMethods`: each method's wire name mapped to
//!   `{ kind: "request" | "notification" | "stream"; params: {...}; result: ... }`, in both
//!   directions (a stream's `result` is the type of its items; its `item` and `unsubscribe`
//!   name its item notification and its unsubscribe method);
//! - `ClientHandlers`: what the client must serve, one required member per method,
//!   `(params, context) => Result | Promise<Result>`, and for a stream
//!   `(params, context) => StreamItems<Item>` (an async generator, say);
//! - `connectApi(url, handlers, options?)`, resolving with an `Api` whose `server` member
//!   calls the server (`await api.server.add({ a: 1, b: 2 })`; notifications return `void`;
//!   streams resolve with a volley.js `Subscription<Item>`, an async iterable:
//!   `for await (const n of await api.server.subscribe_numbers({ count: 3 }))`), whose
//!   `call`/`notify`/`subscribe` take a wire name, and whose `peer` is the raw volley.js
//!   `Peer`; `createApi(peer)` and `clientHandlers(handlers)` are the two halves of it.
//!
//! Streams follow PROTOCOL.md's "Streams" through volley.js: `peer.subscribe` with the
//! stream's item notification and unsubscribe method, and for the streams the client serves,
//! handlers made with volley.js's `stream`, which also serves their unsubscribe methods.
//!
//! Calls take params as one object, and send it as it is, by name; a method declared
//! `params = "positional"` sends the values as one array, in declaration order, instead (the
//! object left out, nothing is sent). Handlers always get an object too: params sent
//! by position are named by the generated code, and unknown names or extra positions are
//! answered with -32602, as a volley server does. Values are not validated at run time.
//!
//! Wire names with dots nest: `calc.add` is `api.server.calc.add(...)`. When a method is
//! named like a group (both `calc` and `calc.add` exist), or a name has an empty segment,
//! the dotted method keeps its wire name as a quoted key: `api.server["calc.add"](...)`.
//! `ClientHandlers` members are keyed by wire name (`"ui.confirm": ...`), as volley.js
//! looks them up.
//!
//! Schemas come from one schemars generator in draft-07 mode. JSON Schema maps to
//! TypeScript as follows: `integer` and `number` are `number` (64-bit formats too: their
//! declaration says so in a comment, as values beyond 2^53 lose precision in JavaScript);
//! `enum` and `const` are literal types; `oneOf`/`anyOf` are unions and `allOf`
//! intersections; `type: [.., "null"]` adds `| null`; `items` arrays and `prefixItems` are
//! tuples; `additionalProperties` becomes an index signature; a missing schema is `unknown`.
//! Definition names that are not TypeScript identifiers, or that clash with a name the
//! module declares, get `_` for bad characters and a number suffix (`Api2`).

use std::collections::HashSet;

use serde_json::Value;

use volley_core::describe::{MethodDescription, ServiceDescription};

use crate::api::Api;
use crate::collect::{ErrorCase, MethodSchemas};
use crate::schema::{Definitions, Dialect, Schemas};

mod convert;
mod declarations;
mod docs;
mod errors;
mod glue;
mod names;
mod print;
mod runtime;
mod ts;

use convert::Convert;

/// How [`typescript()`] writes the module.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeScriptOptions {
    /// The module specifier that imports volley.js (default `"./volley.js"`).
    pub volley_js: String,
}

impl Default for TypeScriptOptions {
    fn default() -> Self {
        Self {
            volley_js: "./volley.js".to_owned(),
        }
    }
}

impl TypeScriptOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Imports volley.js by `specifier` instead of `"./volley.js"` (a package name, a URL,
    /// another relative path).
    pub fn volley_js(mut self, specifier: impl Into<String>) -> Self {
        self.volley_js = specifier.into();
        self
    }
}

/// The TypeScript module of a browser or Node client of `api`: it calls what
/// [`Api::server_serves`] and serves what [`Api::client_serves`] (see the
/// [module docs](self)).
///
/// A wire name that appears twice in one direction is generated once, from its first
/// description (a server refuses such duplicates anyway).
pub fn typescript(api: &Api, options: &TypeScriptOptions) -> String {
    let (server_serves, client_serves) = (api.server_serves(), api.client_serves());
    let mut schemas = Schemas::new(DIALECT);
    let server = collect(server_serves, &mut schemas);
    let client = collect(client_serves, &mut schemas);

    let definitions = schemas.finish(names::namer());
    let server = Method::all(server, &definitions);
    let client = Method::all(client, &definitions);

    let cx = Convert {
        definitions: &definitions,
    };
    let mut out = String::new();
    declarations::header(&mut out, server_serves, client_serves, options);
    declarations::types(&mut out, &cx);
    let error_types = errors::declare(&mut out, &cx, server.iter().chain(&client));
    declarations::method_maps(&mut out, &cx, &server, &client, &error_types);
    glue::api(&mut out, &server, &client);
    out
}

/// How the module wants its schemas: as schemars writes draft-07 (definitions under
/// `#/definitions/`, boolean schemas kept), with doc comments cleaned where they are written.
const DIALECT: Dialect = Dialect {
    definitions: "#/definitions/",
    object_schemas: false,
    plain_descriptions: false,
};

/// The methods of `services` with their schemas, each wire name once (its first description).
fn collect(
    services: &[&ServiceDescription],
    schemas: &mut Schemas,
) -> Vec<(&'static MethodDescription, MethodSchemas)> {
    let mut seen = HashSet::new();
    let mut methods = Vec::new();
    for service in services {
        for desc in service.methods {
            if seen.insert(desc.name) {
                let found = MethodSchemas::collect(schemas, desc).with_error_cases(schemas, desc);
                methods.push((desc, found));
            }
        }
    }
    methods
}

/// One method with its schemas, their `$ref`s pointing at the module's type names.
struct Method {
    desc: &'static MethodDescription,
    params: Vec<Param>,
    /// The result schema of a request (`None` inside: the type has none); `None` for a
    /// notification.
    result: Option<Option<Value>>,
    /// Its own errors, when its error type is an `RpcError`.
    errors: Vec<ErrorCase>,
}

/// A parameter of a [`Method`].
struct Param {
    name: &'static str,
    docs: &'static str,
    required: bool,
    /// `None`: the type has no schema.
    schema: Option<Value>,
}

impl Method {
    /// The methods [`collect`] found, their `$ref`s pointed at `definitions`.
    fn all(
        methods: Vec<(&'static MethodDescription, MethodSchemas)>,
        definitions: &Definitions,
    ) -> Vec<Method> {
        (methods.into_iter())
            .map(|(desc, schemas)| Method::new(desc, schemas, definitions))
            .collect()
    }

    fn new(
        desc: &'static MethodDescription,
        mut schemas: MethodSchemas,
        definitions: &Definitions,
    ) -> Self {
        schemas.fix(definitions);
        let params = (desc.params.iter().zip(schemas.params))
            .map(|(p, schema)| Param {
                name: p.name,
                docs: p.docs,
                required: (p.required)(),
                schema,
            })
            .collect();
        Method {
            desc,
            params,
            result: schemas.result,
            errors: schemas.errors,
        }
    }

    /// Whether every parameter may be left out.
    fn all_optional(&self) -> bool {
        self.params.iter().all(|p| !p.required)
    }
}

/// The indentation of `level`, two spaces a level.
fn pad(level: usize) -> String {
    "  ".repeat(level)
}

#[cfg(test)]
mod tests {
    use volley_core::describe::{
        MethodKind, ParamDescription, ParamStructure, Schema, SchemaGenerator,
    };

    use super::*;

    fn no_schema(_: &mut SchemaGenerator) -> Option<Schema> {
        None
    }

    fn string_schema(g: &mut SchemaGenerator) -> Option<Schema> {
        Some(g.subschema_for::<String>())
    }

    fn yes() -> bool {
        true
    }

    const QUESTION: &[ParamDescription] = &[ParamDescription {
        name: "question",
        rust_type: "String",
        docs: "",
        schema: string_schema,
        required: yes,
    }];

    const fn method(name: &'static str, kind: MethodKind) -> MethodDescription {
        MethodDescription {
            rust_name: "m",
            name,
            docs: "",
            kind,
            params: QUESTION,
            result_type: "String",
            error_type: None,
            result_schema: string_schema,
            error_schema: no_schema,
            requires: None,
            timeout_ms: None,
            idempotent: false,
            errors: || &[],
            param_structure: ParamStructure::Either,
        }
    }

    static SERVER: ServiceDescription = ServiceDescription {
        name: "Server",
        docs: "",
        namespace: None,
        methods: &[
            method("calc", MethodKind::Request),
            method("calc.add", MethodKind::Request),
            method("x.y.z", MethodKind::Request),
            method("x.w", MethodKind::Notification),
            method("a..b", MethodKind::Request),
            method("__proto__", MethodKind::Request),
            method("my-method", MethodKind::Request),
            method("x.w", MethodKind::Request),
            MethodDescription {
                rust_name: "opaque",
                name: "opaque",
                docs: "",
                kind: MethodKind::Request,
                params: &[ParamDescription {
                    name: "handle",
                    rust_type: "Handle",
                    docs: "An opaque handle.",
                    schema: no_schema,
                    required: yes,
                }],
                result_type: "Handle",
                error_type: None,
                result_schema: no_schema,
                error_schema: no_schema,
                requires: None,
                timeout_ms: None,
                idempotent: false,
                errors: || &[],
                param_structure: ParamStructure::Either,
            },
        ],
    };

    static CLIENT: ServiceDescription = ServiceDescription {
        name: "Client",
        docs: "",
        namespace: Some("ui"),
        methods: &[method("ui.ask", MethodKind::Request)],
    };

    const TICKS: MethodKind = MethodKind::Stream {
        item: "feed.tick",
        unsubscribe: "feed.stop",
    };

    static FEED: ServiceDescription = ServiceDescription {
        name: "Feed",
        docs: "",
        namespace: Some("feed"),
        methods: &[MethodDescription {
            timeout_ms: Some(250),
            ..method("feed.subscribe_ticks", TICKS)
        }],
    };

    static SOURCE: ServiceDescription = ServiceDescription {
        name: "Source",
        docs: "",
        namespace: None,
        methods: &[method(
            "subscribe_lines",
            MethodKind::Stream {
                item: "lines",
                unsubscribe: "unsubscribe_lines",
            },
        )],
    };

    #[test]
    fn streams_are_subscribed_and_served_under_their_own_names() {
        let api = Api::new(crate::Side::Server)
            .with_served([&FEED])
            .with_remote([&SOURCE]);
        let module = typescript(&api, &TypeScriptOptions::default());
        for expected in [
            // The method maps name the item notification and the unsubscribe method.
            "\n    kind: \"stream\";\n",
            "\n    item: \"feed.tick\";\n",
            "\n    unsubscribe: \"feed.stop\";\n",
            // The caller's options come after the deadline and before the names.
            "subscribe_ticks: (params, options) => peer.subscribe(\"feed.subscribe_ticks\", params, \
             { timeoutMs: 250, ...options, item: \"feed.tick\", unsubscribe: \"feed.stop\" }),",
            "subscribe_ticks(params: ServerMethods[\"feed.subscribe_ticks\"][\"params\"], options?: \
             SubscribeOptions): Promise<volley.Subscription<ServerMethods[\"feed.subscribe_ticks\"][\"result\"]>>;",
            "\n    \"feed.subscribe_ticks\": { item: \"feed.tick\", unsubscribe: \"feed.stop\", timeoutMs: 250 },\n",
            // A stream the client serves: its handler returns the items, volley.js serves it.
            "=> StreamItems<ClientMethods[\"subscribe_lines\"][\"result\"]>;",
            "\n    subscribe_lines: volley.stream(\n      (params, context) =>\n        handlers[\"subscribe_lines\"](",
            "\n      { item: \"lines\", unsubscribe: \"unsubscribe_lines\" },\n    ),\n",
        ] {
            assert!(module.contains(expected), "{expected:?} not in\n{module}");
        }
        assert!(!module.contains("/*@"), "a placeholder is left");
        // Without streams, the table is empty.
        let module = typescript(&Api::new(crate::Side::Server), &TypeScriptOptions::new());
        assert!(module.contains("StreamDefaults } = {};\n"));
    }

    #[test]
    fn dotted_names_nest_unless_a_method_is_named_like_the_group() {
        let api = Api::new(crate::Side::Server)
            .with_served([&SERVER])
            .with_remote([&CLIENT]);
        let module = typescript(&api, &TypeScriptOptions::default());
        let api = &module[module
            .find("export interface ServerApi")
            .expect("ServerApi")..];
        let api = &api[..api.find("\n}\n").expect("its end")];
        for expected in [
            "\n  calc(params: ServerMethods[\"calc\"][\"params\"]",
            "\n  \"calc.add\"(params: ServerMethods[\"calc.add\"][\"params\"]",
            "\n  readonly x: {\n    /** Methods under `x.y.`. */\n    readonly y: {\n      z(",
            "\n    w(params: ServerMethods[\"x.w\"][\"params\"]): void;",
            "\n  \"a..b\"(",
            "\n  __proto__(",
            "\n  \"my-method\"(",
        ] {
            assert!(api.contains(expected), "{expected:?} not in\n{api}");
        }
        // Types without a schema are `unknown`.
        assert!(module.contains(
            "  opaque: {\n    kind: \"request\";\n    params: {\n      /** An opaque handle. */\n      \
             handle: unknown;\n    };\n    result: unknown;\n  };"
        ));
        // The first description of a wire name wins.
        assert_eq!(module.matches("\n  \"x.w\": {").count(), 1);
        assert!(module.contains("[\"__proto__\"]: (params, options) => peer.call(\"__proto__\""));
        assert!(module.contains("\n    \"ui.ask\": (params, context) =>\n"));
        assert!(module.contains("\n  handlers: ClientHandlers,\n"));
        assert!(module.contains("\nfunction namedParams("));
        assert!(module.contains("import * as volley from \"./volley.js\";"));
        assert!(!module.contains("/*@"), "a placeholder is left");
        let api = Api::new(crate::Side::Server).with_served([&SERVER]);
        let module = typescript(&api, &TypeScriptOptions::new().volley_js("volley-js"));
        assert!(module.contains("import * as volley from \"volley-js\";"));
        assert!(module.contains("export interface ClientHandlers {}"));
        assert!(module.contains("\n  handlers: ClientHandlers = {},\n"));
        assert!(module.ends_with("  void handlers;\n  return {};\n}\n"));
        assert!(!module.contains("namedParams"));
        assert!(!module.contains("/*@"), "a placeholder is left");
        let module = typescript(&Api::new(crate::Side::Server), &TypeScriptOptions::new());
        assert!(module.contains("export interface ServerApi {}\n"));
        assert!(module.contains("\n  const server: ServerApi = {};\n"));
    }
}
