//! The APIs the reader is tested on, described as `#[volley::rpc]` describes traits.
#![allow(dead_code)]

use schemars::JsonSchema;
use volley_core::describe::{
    MethodDescription, MethodKind, ParamDescription, ParamStructure, Schema, SchemaFn,
    SchemaGenerator, ServiceDescription,
};
use volley_core::jsonrpsee::RpcModule;
use volley_core::{ErrorDescription, Service};

use crate::{Api, Info, Side};

use super::super::method::{no, yes};
use super::super::slots::{self, no_errors};

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Option<Schema> {
    Some(g.subschema_for::<T>())
}

const fn param(name: &'static str, schema: SchemaFn, required: fn() -> bool) -> ParamDescription {
    ParamDescription {
        name,
        rust_type: "T",
        docs: "",
        schema,
        required,
    }
}

const fn method(
    name: &'static str,
    docs: &'static str,
    params: &'static [ParamDescription],
    result_schema: SchemaFn,
) -> MethodDescription {
    MethodDescription {
        rust_name: name,
        name,
        docs,
        kind: MethodKind::Request,
        params,
        result_type: "T",
        error_type: None,
        result_schema,
        error_schema: slots::no_schema,
        requires: None,
        timeout_ms: None,
        idempotent: false,
        errors: no_errors,
        param_structure: ParamStructure::Either,
    }
}

// The traits of example-callbacks, as `#[volley::rpc]` describes them.

pub(super) static CALCULATOR: ServiceDescription = ServiceDescription {
    name: "Calculator",
    docs: "What the server offers.",
    namespace: None,
    methods: &[
        MethodDescription {
            idempotent: true,
            ..method(
                "add",
                "Adds two numbers.\n\nSafe to run twice: a client that reconnects sends it \
                 again if the answer was lost.",
                &[
                    param("a", schema::<i64>, yes),
                    param("b", schema::<i64>, yes),
                ],
                schema::<i64>,
            )
        },
        method(
            "ask",
            "Asks the calling client to `confirm` the question, and returns its answer.",
            &[param("question", schema::<String>, yes)],
            schema::<bool>,
        ),
    ],
};

pub(super) static BROWSER: ServiceDescription = ServiceDescription {
    name: "Browser",
    docs: "What every connected client offers the server. Its params travel by position\n\
           (`confirm([\"Proceed?\"])`, `tick([7])`).",
    namespace: None,
    methods: &[
        MethodDescription {
            param_structure: ParamStructure::ByPosition,
            ..method(
                "confirm",
                "Answers a yes/no question.",
                &[param("question", schema::<String>, yes)],
                schema::<bool>,
            )
        },
        MethodDescription {
            kind: MethodKind::Notification,
            param_structure: ParamStructure::ByPosition,
            ..method(
                "tick",
                "The server's clock: `n` counts up, once a second.",
                &[param("n", schema::<u64>, yes)],
                slots::no_schema,
            )
        },
    ],
};

// An API with every shape the documents describe.

/// A point on the canvas.
#[derive(JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

mod geo {
    /// A point on Earth, named like the canvas's.
    #[derive(schemars::JsonSchema)]
    pub(super) struct Point {
        lat: f64,
        lon: f64,
    }
}

/// A shape, drawn from [`Point`]s.
#[derive(JsonSchema)]
enum Shape {
    Dot(Point),
    Line { from: Point, to: Point },
    Nothing,
}

/// A tree of labels.
#[derive(JsonSchema)]
struct Tree {
    label: String,
    children: Vec<Tree>,
}

/// One page of items.
#[derive(JsonSchema)]
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

/// A point, under a name that is not a component key.
#[derive(JsonSchema)]
#[schemars(rename = "Wrapped<Point>")]
struct Wrapped {
    point: Point,
}

/// Why drawing failed.
#[derive(JsonSchema)]
struct DrawError {
    reason: String,
}

static CANVAS: ServiceDescription = ServiceDescription {
    name: "Canvas",
    docs: "Shapes.\n\nDrawn [`Point`] by point.",
    namespace: Some("canvas"),
    methods: &[
        MethodDescription {
            error_type: Some("DrawError"),
            error_schema: schema::<DrawError>,
            requires: Some("artist"),
            timeout_ms: Some(5000),
            ..method(
                "canvas.draw",
                "Draws a shape.\n\nFails when the [`Shape`] is `Nothing`.",
                &[
                    param("shape", schema::<Shape>, yes),
                    param("at", schema::<Option<Point>>, no),
                ],
                schema::<Page<Point>>,
            )
        },
        method(
            "canvas.tree",
            "The whole tree, summed up\nover two lines.",
            &[],
            schema::<Tree>,
        ),
        MethodDescription {
            param_structure: ParamStructure::ByName,
            ..method(
                "canvas.locate",
                "",
                &[ParamDescription {
                    docs: "Where, on Earth.",
                    ..param("place", schema::<geo::Point>, yes)
                }],
                schema::<Point>,
            )
        },
        MethodDescription {
            kind: MethodKind::Stream {
                item: "canvas.point",
                unsubscribe: "canvas.unsubscribe_points",
            },
            idempotent: true,
            ..method(
                "canvas.subscribe_points",
                "Every point drawn from now on.",
                &[param("every", schema::<u32>, yes)],
                schema::<Point>,
            )
        },
        MethodDescription {
            result_type: "Handle",
            ..method(
                "canvas.opaque",
                "Takes and gives what has no schema.",
                &[ParamDescription {
                    rust_type: "Handle",
                    ..param("handle", slots::no_schema, yes)
                }],
                slots::no_schema,
            )
        },
        MethodDescription {
            kind: MethodKind::Notification,
            param_structure: ParamStructure::ByPosition,
            ..method(
                "canvas.touch",
                "Marks a drawing as seen.",
                &[param("id", schema::<u64>, yes)],
                slots::no_schema,
            )
        },
    ],
};

static PING: ServiceDescription = ServiceDescription {
    name: "Ping",
    docs: "Served by both ends.",
    namespace: None,
    methods: &[method("ping", "Answers.", &[], schema::<String>)],
};

static VIEWER: ServiceDescription = ServiceDescription {
    name: "Viewer",
    docs: "",
    namespace: None,
    methods: &[
        method(
            "show",
            "Shows a page of points.",
            &[param("page", schema::<Page<Point>>, yes)],
            schema::<Wrapped>,
        ),
        MethodDescription {
            kind: MethodKind::Stream {
                item: "clicks",
                unsubscribe: "unsubscribe_clicks",
            },
            ..method("subscribe_clicks", "Every click.", &[], schema::<u32>)
        },
        MethodDescription {
            kind: MethodKind::Notification,
            ..method(
                "changed",
                "",
                &[param("tree", schema::<Tree>, yes)],
                slots::no_schema,
            )
        },
    ],
};

pub(super) fn callbacks() -> Api {
    Api::new(Side::Server)
        .with_served([&CALCULATOR])
        .with_remote([&BROWSER])
}

pub(super) fn canvas() -> Api {
    let mut raw = RpcModule::new(());
    for name in ["raw.stats", "raw.echo"] {
        raw.register_method(name, |_, _, _| ()).expect("a new name");
    }
    Api::of_service(Side::Server, &Service::from(raw))
        .with_served([&CANVAS, &PING])
        .with_remote([&PING, &VIEWER])
        .with_info(Info::new("Canvas", "0.1.0").with_description("Shapes, both ways."))
}

// A method with errors of its own, as `#[derive(volley::RpcError)]` describes them.

const LOOKUP_ERRORS: &[ErrorDescription] = &[
    ErrorDescription {
        variant: "NotFound",
        code: 404,
        message: "not found",
        docs: "Nothing has that name.",
        data_schema: schema::<String>,
    },
    ErrorDescription {
        variant: "Denied",
        code: 403,
        message: "denied",
        docs: "",
        data_schema: slots::no_schema,
    },
];

fn lookup_errors() -> &'static [ErrorDescription] {
    LOOKUP_ERRORS
}

static LOOKUP: ServiceDescription = ServiceDescription {
    name: "Lookup",
    docs: "",
    namespace: None,
    methods: &[MethodDescription {
        error_type: Some("LookupError"),
        errors: lookup_errors,
        ..method(
            "find",
            "Finds a name.",
            &[param("name", schema::<String>, yes)],
            schema::<u64>,
        )
    }],
};

pub(super) fn lookup() -> Api {
    Api::new(Side::Server).with_served([&LOOKUP])
}
