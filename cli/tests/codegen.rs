//! `volley codegen` against example-callbacks: from the running server (`rpc.discover`) and
//! from an OpenRPC file, the TypeScript client and both documents are what the server
//! itself generates (`--print-typescript`, `--print-openrpc`, `--print-asyncapi`,
//! `/openrpc.json`, `/asyncapi.json`). And each example's API, written as OpenRPC and read
//! back, is the same API to every generator.

mod common;

use common::{Server, example, scratch, volley};
use serde_json::Value;
use volley_codegen::{TypeScriptOptions, asyncapi, openrpc, read_openrpc, typescript};
use volley_testing::{http, process};

/// What `example-callbacks --print-<what>` prints.
async fn printed(what: &str) -> String {
    let bin = example("example-callbacks").await;
    let out = process::output(bin.to_str().unwrap(), &[&format!("--print-{what}")]).await;
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[tokio::test]
async fn from_a_server_the_output_is_the_servers_own() {
    let server = Server::callbacks(&[]).await;
    let url = server.url.as_str();
    let module = volley(&["codegen", "typescript", "--from", url]).await.ok();
    assert_eq!(module.trim_end(), printed("typescript").await.trim_end());

    // The documents name the URL they came from, as the server's own routes do for the
    // address they are asked at.
    let openrpc_document = volley(&["codegen", "openrpc", "--from", url]).await.json();
    let served = http::get(server.addr(), "/openrpc.json").await;
    assert_eq!(openrpc_document, json(&served.body));
    assert_eq!(openrpc_document["servers"][0]["url"], url);
    let asyncapi_document = volley(&["codegen", "asyncapi", "--from", url]).await.json();
    let served = http::get(server.addr(), "/asyncapi.json").await;
    assert_eq!(asyncapi_document, json(&served.body));
    server.stop().await;
}

#[tokio::test]
async fn from_a_file_the_output_is_the_servers_own() {
    let dir = scratch("codegen-file");
    let file = dir.join("openrpc.json");
    let document = printed("openrpc").await;
    std::fs::write(&file, &document).expect("write the document");
    let from = file.to_str().unwrap();

    // Byte for byte: the same generators, the same layout.
    let again = volley(&["codegen", "openrpc", "--from", from]).await.ok();
    assert_eq!(again, document);
    let asyncapi_document = volley(&["codegen", "asyncapi", "--from", from]).await.ok();
    assert_eq!(asyncapi_document, printed("asyncapi").await);
    let out = dir.join("api.ts");
    let args = [
        "codegen",
        "typescript",
        "--from",
        from,
        "-o",
        out.to_str().unwrap(),
    ];
    assert_eq!(
        volley(&args).await.ok(),
        "",
        "written to the file, not stdout"
    );
    let module = std::fs::read_to_string(&out).expect("the module");
    assert_eq!(module.trim_end(), printed("typescript").await.trim_end());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn what_cannot_be_read_exits_4_and_says_why() {
    let dir = scratch("codegen-bad");
    let missing = dir.join("missing.json");
    let out = volley(&["codegen", "typescript", "--from", missing.to_str().unwrap()]).await;
    assert_eq!(out.code(), Some(4), "{out:?}");
    assert!(out.stderr().starts_with("volley: cannot read "), "{out:?}");

    let not_json = dir.join("notes.txt");
    std::fs::write(&not_json, "hello").expect("write");
    let out = volley(&["codegen", "openrpc", "--from", not_json.to_str().unwrap()]).await;
    assert_eq!(out.code(), Some(4), "{out:?}");
    assert!(out.stderr().contains("is not JSON"), "{out:?}");

    let not_openrpc = dir.join("package.json");
    std::fs::write(&not_openrpc, r#"{"name": "x"}"#).expect("write");
    let out = volley(&[
        "codegen",
        "asyncapi",
        "--from",
        not_openrpc.to_str().unwrap(),
    ])
    .await;
    assert_eq!(out.code(), Some(4), "{out:?}");
    assert!(
        out.stderr().ends_with(
            "as OpenRPC: not an OpenRPC document: no `methods` array at the top level\n"
        ),
        "{out:?}"
    );
    let refused = common::refusing_url().await;
    let out = volley(&["codegen", "openrpc", "--from", &refused]).await;
    assert_eq!(out.code(), Some(2), "{out:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each example's API, without a process: written as OpenRPC, read back, and written again
/// by each generator: the same documents and the same TypeScript client.
#[tokio::test]
async fn every_examples_api_reads_back_into_the_same_documents_and_client() {
    // The chat room starts a task: a runtime is needed to build its server.
    let servers = [
        ("callbacks", example_callbacks::server()),
        ("chat", example_chat::server()),
        ("dashboard", example_dashboard::server()),
        ("ping", example_ping::server()),
    ];
    let url = "ws://127.0.0.1:8080/ws";
    let options = TypeScriptOptions::default();
    for (name, server) in &servers {
        let api = server.api();
        let document = openrpc(api, Some(url));
        let read = read_openrpc(&document).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(openrpc(&read, Some(url)), document, "{name}");
        assert_eq!(asyncapi(&read, url), asyncapi(api, url), "{name}");
        let (module, again) = (typescript(api, &options), typescript(&read, &options));
        assert!(module == again, "{name}:\n{module}\n---\n{again}");
    }
}
