//! Params and results of user-defined and generic types, including `Option` params that a
//! caller may leave out, and a result type named through an alias.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use volley::RemoteService;

/// A point on the plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal.
    pub x: f64,
    /// Vertical.
    pub y: f64,
}

/// A generic wrapper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tagged<T> {
    /// The tag.
    pub tag: String,
    /// The value.
    pub value: T,
}

/// An alias whose name does not say `Result`.
pub type Answer<T> = Result<T, volley::ErrorObject>;

/// Geometry.
#[volley::rpc(namespace = "geo", namespace_separator = "/")]
pub trait Geometry {
    /// The centre of some points.
    async fn centre(
        &self,
        points: Vec<Point>,
        weights: Option<BTreeMap<String, f64>>,
    ) -> volley::Result<Option<Point>>;
    /// Tags a list.
    async fn tag(&self, items: Vec<Tagged<[u8; 2]>>, prefix: Option<String>)
    -> Answer<Vec<String>>;
}

struct Impl;

impl Geometry for Impl {
    async fn centre(
        &self,
        points: Vec<Point>,
        _weights: Option<BTreeMap<String, f64>>,
    ) -> volley::Result<Option<Point>> {
        if points.is_empty() {
            return Ok(None);
        }
        let n = points.len() as f64;
        let (x, y) = points
            .iter()
            .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
        Ok(Some(Point { x: x / n, y: y / n }))
    }

    async fn tag(
        &self,
        items: Vec<Tagged<[u8; 2]>>,
        prefix: Option<String>,
    ) -> Answer<Vec<String>> {
        let prefix = prefix.unwrap_or_default();
        Ok(items
            .into_iter()
            .map(|t| format!("{prefix}{}{:?}", t.tag, t.value))
            .collect())
    }
}

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn main() {
    let service = Impl.into_service();
    let methods = service.methods();

    let centre: Option<Point> = block_on(methods.call(
        "geo/centre",
        [vec![Point { x: 0.0, y: 0.0 }, Point { x: 2.0, y: 4.0 }]],
    ))
    .unwrap();
    assert_eq!(centre, Some(Point { x: 1.0, y: 2.0 }));

    let tags: Vec<String> = block_on(methods.call(
        "geo/tag",
        (
            vec![Tagged {
                tag: "a".to_owned(),
                value: [1u8, 2],
            }],
            "p-",
        ),
    ))
    .unwrap();
    assert_eq!(tags, ["p-a[1, 2]"]);

    let description = GeometryClient::DESCRIPTION;
    let centre = description.method("geo/centre").unwrap();
    let types: Vec<_> = centre.params.iter().map(|p| p.rust_type).collect();
    assert_eq!(types, ["Vec<Point>", "Option<BTreeMap<String, f64>>"]);
    assert_eq!(centre.result_type, "Option<Point>");
    let tag = description.method("geo/tag").unwrap();
    assert_eq!(tag.params[0].rust_type, "Vec<Tagged<[u8; 2]>>");
    // The macro reads tokens: an alias not named `...Result` is reported as written.
    assert_eq!(
        (tag.result_type, tag.error_type),
        ("Answer<Vec<String>>", None)
    );

    #[allow(dead_code)]
    async fn call(client: &GeometryClient) -> volley::Result<Vec<String>> {
        let _: Option<Point> = client.centre(Vec::new(), None).await?;
        client.tag(Vec::new(), Some("x".to_owned())).await
    }
}
