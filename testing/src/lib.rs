//! volley's own test support, shared by the root crate's tests and every example's: a
//! dev-dependency only, never published.
//!
//! - [`tools`]: the outside programs some tests need (node, npm packages, python3, chromium,
//!   redis-server);
//!   a missing one prints `SKIPPED: ...` and the test passes, unless `VOLLEY_REQUIRE_ALL=1`.
//! - [`validate`]: AsyncAPI 3.0 and OpenRPC documents checked against the official schemas
//!   vendored in `testing/schemas/`, and by `@asyncapi/parser` (`tests/node/validate.mjs`).
//! - [`typescript`]: a generated TypeScript module through `tsc` with the strict options of
//!   `tests/ts/tsconfig.json`.
//! - [`snapshot`]: compare with a file, rewrite it under `VOLLEY_UPDATE_SNAPSHOTS=1`.
//! - [`browser`]: runs the Chromium scripts of `tests/browser/` and answers their requests.
//! - [`process`]: an example's binary run as a user runs it, under a deadline.
//! - [`http`]: a plain HTTP/1.1 request to a test server.
//! - [`proxy`]: a TCP proxy that cuts, freezes or refuses connections on command.
//! - [`redis`]: a `redis-server` of the test's own, on a free port, stopped and restarted on
//!   command.
//! - [`example_document_tests!`]: the document tests of an example, written once.
//!
//! Paths to the node packages, scripts and schemas start at [`workspace_root`].

pub mod browser;
pub mod documents;
pub mod http;
pub mod process;
pub mod proxy;
pub mod redis;
pub mod snapshot;
pub mod tools;
pub mod typescript;
pub mod validate;

use std::path::Path;

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testing/ sits in the workspace root")
}
