//! The example's own documents, through the tests every example runs
//! ([`volley_testing::example_document_tests!`]): AsyncAPI and OpenRPC valid against the
//! official schemas (examples too), `@asyncapi/parser` reports nothing, both match
//! `tests/snapshots/`, and the TypeScript module passes `tsc --strict`.
//!
//! The parser and tsc need Node and the npm packages of tests/node and tests/ts (installed
//! from their lock files); without them those tests print `SKIPPED: ...` and pass, unless
//! `VOLLEY_REQUIRE_ALL=1`. `VOLLEY_UPDATE_SNAPSHOTS=1` rewrites the snapshots.

volley_testing::example_document_tests!(example_dashboard, "example-dashboard");
