//! The document tests every example runs on its own server, written once:
//! [`example_document_tests!`](crate::example_document_tests).

/// Expands to an example's document tests: its AsyncAPI and OpenRPC documents (naming the
/// server's path, as a server that is not listening does) are valid against the official
/// schemas, every message and method example too; `@asyncapi/parser` reports nothing; both
/// match `tests/snapshots/{asyncapi,openrpc}.json` of the example (rewritten under
/// `VOLLEY_UPDATE_SNAPSHOTS=1`); and its TypeScript module passes `tsc --strict`.
///
/// `example_document_tests!(example_ping, "example-ping")` in `examples/ping/tests/`: the
/// crate whose `server()` builds the example's server, and the package name. The calling
/// crate depends on `volley`, `tokio` and `volley-testing`. Every test runs on a runtime
/// (a server may start tasks when it is built).
#[macro_export]
macro_rules! example_document_tests {
    ($krate:ident, $package:literal) => {
        /// The AsyncAPI and OpenRPC documents of the example's server.
        fn documents() -> [(&'static str, ::serde_json::Value); 2] {
            let server = $krate::server();
            [
                (
                    concat!($package, ".asyncapi"),
                    ::volley::codegen::asyncapi(server.api(), server.path()),
                ),
                (
                    concat!($package, ".openrpc"),
                    ::volley::codegen::openrpc(server.api(), Some(server.path())),
                ),
            ]
        }

        #[::tokio::test]
        async fn the_asyncapi_document_and_its_examples_are_valid() {
            let [(name, doc), _] = documents();
            $crate::validate::assert_asyncapi(name, &doc);
            $crate::validate::assert_asyncapi_examples(name, &doc);
        }

        #[::tokio::test]
        async fn the_openrpc_document_and_its_examples_are_valid() {
            let [_, (name, doc)] = documents();
            $crate::validate::assert_openrpc(name, &doc);
            $crate::validate::assert_openrpc_examples(name, &doc);
        }

        #[::tokio::test]
        async fn the_documents_match_their_snapshots() {
            let dir = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
            let [(_, asyncapi), (_, openrpc)] = documents();
            $crate::snapshot::assert_all(
                [
                    $crate::snapshot::check_json(&dir.join("asyncapi.json"), &asyncapi),
                    $crate::snapshot::check_json(&dir.join("openrpc.json"), &openrpc),
                ],
                concat!("cargo test -p ", $package, " --test documents"),
            );
        }

        #[::tokio::test]
        async fn asyncapi_parser_reports_no_errors_or_warnings() {
            if !$crate::validate::parser_ready() {
                return;
            }
            let [(name, doc), _] = documents();
            $crate::validate::assert_parser_accepts(&[(name, &doc)]).await;
        }

        #[::tokio::test]
        async fn the_typescript_module_passes_tsc_strict() {
            if !$crate::typescript::ready() {
                return;
            }
            let server = $krate::server();
            let options = ::volley::codegen::TypeScriptOptions::default();
            let module = ::volley::codegen::typescript(server.api(), &options);
            if let Err(errors) =
                $crate::typescript::type_check(&[(stringify!($krate), &module)]).await
            {
                panic!("{errors}");
            }
        }
    };
}
