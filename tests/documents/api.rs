//! The test API: every shape of type the documents must describe.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use volley::schemars;

/// Points on a plane.
pub mod geometry {
    use serde::{Deserialize, Serialize};
    use volley::schemars;

    /// A point in plane coordinates.
    #[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
    pub struct Point {
        pub x: f64,
        pub y: f64,
    }
}

/// Cells on a screen.
pub mod screen {
    use serde::{Deserialize, Serialize};
    use volley::schemars;

    /// A cell on the screen: same name as `geometry::Point`, different type.
    #[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
    pub struct Point {
        pub col: u16,
        pub row: u16,
    }
}

/// A shape (externally tagged enum).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Shape {
    /// A circle.
    Circle {
        center: geometry::Point,
        radius: f64,
    },
    /// A closed polygon.
    Polygon(Vec<geometry::Point>),
    /// Nothing.
    Empty,
}

/// An input event (internally tagged enum).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Click { at: screen::Point, double: bool },
    Key { code: u32 },
}

/// A colour (unit enum).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Red,
    Green,
    Blue,
}

/// A recursive type.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tree {
    pub value: i64,
    pub children: Vec<Tree>,
    pub parent_hint: Option<Box<Tree>>,
}

/// A nested document.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Drawing {
    pub name: String,
    pub shapes: Vec<Shape>,
    pub colour: Option<Colour>,
    pub labels: HashMap<String, String>,
    pub bounds: (geometry::Point, geometry::Point),
    #[serde(default)]
    pub layer: u8,
    pub id: uuid_like::Id,
}

/// A type with a custom schema.
pub mod uuid_like {
    use serde::{Deserialize, Serialize};
    use volley::schemars;

    /// An id, `format: uuid`.
    #[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
    #[schemars(transparent)]
    pub struct Id(#[schemars(with = "String", extend("format" = "uuid"))] pub String);
}

/// A type without a JSON Schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Opaque(pub Vec<u8>);

/// Why drawing failed: the error's `data`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DrawError {
    pub reason: String,
    pub shape: Option<u32>,
}

impl From<DrawError> for volley::ErrorObject {
    fn from(e: DrawError) -> Self {
        volley::ErrorObject::owned(1000, "draw failed", Some(e))
    }
}

/// Draws shapes on named drawings.
///
/// Every method works on one drawing at a time.
#[volley::rpc(namespace = "draw")]
pub trait Canvas {
    /// Adds a shape to a drawing and returns its index.
    ///
    /// Fails with a `DrawError` when the drawing does not exist.
    async fn add_shape(
        &self,
        /// The drawing's name.
        drawing: String,
        /// What to add.
        shape: Shape,
    ) -> Result<u32, DrawError>;
    /// Tuples in and out.
    async fn pair(
        &self,
        pair: (i32, String),
        maybe: Option<(u8, bool)>,
    ) -> volley::Result<(i64, Option<String>)>;
    /// Two types called `Point`.
    async fn locate(
        &self,
        plane: geometry::Point,
        cell: screen::Point,
    ) -> volley::Result<Vec<screen::Point>>;
    /// A recursive result.
    async fn tree(&self, depth: u8) -> volley::Result<Tree>;
    /// A whole drawing.
    async fn drawing(&self, name: String, colour: Option<Colour>) -> volley::Result<Drawing>;
    /// Types without a schema.
    async fn opaque(&self, blob: Opaque) -> volley::Result<Opaque>;
    /// No params, no result; only for callers allowed to administer.
    #[rpc(requires = "admin")]
    async fn reset(&self) -> volley::Result<()>;
    /// Clears a drawing; nobody answers.
    #[rpc(notification)]
    async fn clear(&self, drawing: String);
    /// Every shape added to a drawing from now on, as it is added.
    ///
    /// Fails to start with a `DrawError` when the drawing does not exist.
    #[rpc(stream, timeout = "5s")]
    async fn subscribe_shapes(
        &self,
        /// The drawing to watch.
        drawing: String,
    ) -> Result<volley::ItemStream<Shape>, DrawError>;
}

/// What a canvas client (a viewer) serves.
#[volley::rpc(namespace = "ui")]
pub trait Viewer {
    /// Asks the user to pick a shape.
    async fn pick(&self, options: Vec<Shape>, event: Event) -> Result<Option<u32>, DrawError>;
    /// Redraws an area, or everything.
    #[rpc(notification)]
    async fn redraw(&self, area: Option<(geometry::Point, geometry::Point)>);
    /// Where the pointer is, until the server stops watching.
    ///
    /// One position every `every_ms` milliseconds, or one at each move when it is none.
    #[rpc(stream, item = "pointer", unsubscribe = "stop_pointer")]
    async fn track(
        &self,
        every_ms: Option<u32>,
    ) -> volley::Result<volley::ItemStream<screen::Point>>;
}
