//! Validators built from the official schemas vendored in `testing/schemas/`, the checks every
//! generated AsyncAPI and OpenRPC document must pass, and a runner for `@asyncapi/parser`
//! (`tests/node/validate.mjs`).
//!
//! ```no_run
//! # async fn check(asyncapi: serde_json::Value, openrpc: serde_json::Value) {
//! use volley_testing::validate;
//!
//! validate::assert_asyncapi("my.asyncapi", &asyncapi);
//! validate::assert_asyncapi_examples("my.asyncapi", &asyncapi);
//! validate::assert_openrpc("my.openrpc", &openrpc);
//! validate::assert_openrpc_examples("my.openrpc", &openrpc);
//! if validate::parser_ready() {
//!     validate::assert_parser_accepts(&[("my.asyncapi", &asyncapi)]).await;
//! }
//! # }
//! ```

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use jsonschema::Validator;
use jsonschema::{Draft, Registry};
use serde_json::{Value, json};

use crate::{tools, workspace_root};

const DRAFT07: &str = "http://json-schema.org/draft-07/schema#";

/// How long one `@asyncapi/parser` run may take.
const PARSER_DEADLINE: Duration = Duration::from_secs(120);

fn vendored(name: &str) -> Value {
    let path = workspace_root().join("testing/schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The official AsyncAPI 3.0.0 document schema, compiled.
pub fn asyncapi_validator() -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&vendored("asyncapi-3.0.0.json"))
        .expect("the AsyncAPI 3.0.0 schema compiles")
}

/// The OpenRPC meta-schema, compiled.
pub fn openrpc_validator() -> Validator {
    // Both declare the draft-07 based dialect `https://meta.json-schema.tools/`: compile them as
    // draft-07 and serve the JSON Schema tools meta-schema from the registry.
    let mut tools = vendored("json-schema-tools-meta-schema.json");
    tools["$schema"] = DRAFT07.into();
    let mut meta = vendored("openrpc-meta-schema.json");
    meta["$schema"] = DRAFT07.into();
    let registry = Registry::new()
        .draft(Draft::Draft7)
        .add("https://meta.json-schema.tools/", tools.clone())
        .and_then(|r| r.add("https://meta.json-schema.tools", tools))
        .and_then(|r| r.prepare())
        .expect("registry");
    // The registry only needs to live while the validator is built.
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&meta)
        .expect("the OpenRPC meta-schema compiles")
}

/// Every error `validator` finds in `instance`, with where it is.
pub fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

/// A validator for `schema`, a schema inside `doc` whose `$ref`s point into `doc`.
pub fn validator_in(doc: &Value, schema: &Value) -> Validator {
    let mut root = json!({ "allOf": [schema] });
    root["components"] = doc["components"].clone();
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
}

/// Panics unless every `$ref` resolves inside the document and no draft 2019-09/2020-12
/// keyword appears anywhere.
pub fn assert_self_contained_and_draft07(name: &str, doc: &Value) {
    fn walk(name: &str, doc: &Value, v: &Value, path: &str) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let here = format!("{path}/{k}");
                    if k == "$ref" {
                        let r = child.as_str().unwrap_or_default();
                        let pointer = r
                            .strip_prefix('#')
                            .unwrap_or_else(|| panic!("{name}: external $ref {r} at {here}"));
                        assert!(
                            doc.pointer(pointer).is_some(),
                            "{name}: $ref {r} at {here} does not resolve"
                        );
                    }
                    for banned in [
                        "$defs",
                        "prefixItems",
                        "unevaluatedProperties",
                        "unevaluatedItems",
                        "dependentRequired",
                        "dependentSchemas",
                        "$anchor",
                        "$dynamicRef",
                        "$dynamicAnchor",
                        "$recursiveRef",
                        "$schema",
                    ] {
                        // Example payloads are data; everything else is schema or document.
                        if k == banned && !path.contains("/examples") {
                            panic!("{name}: `{banned}` at {here}");
                        }
                    }
                    walk(name, doc, child, &here);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(name, doc, child, &format!("{path}/{i}"));
                }
            }
            _ => {}
        }
    }
    walk(name, doc, doc, "");
}

/// Panics unless `doc` (called `name` in messages) is valid AsyncAPI 3.0: against the
/// official schema, self-contained draft-07, and with every component, operation, channel,
/// server and message key matching `^[a-zA-Z0-9\.\-_]+$`.
pub fn assert_asyncapi(name: &str, doc: &Value) {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    let errs = errors(VALIDATOR.get_or_init(asyncapi_validator), doc);
    assert!(
        errs.is_empty(),
        "{name} is not valid AsyncAPI 3.0:\n{}",
        errs.join("\n")
    );
    assert_self_contained_and_draft07(name, doc);
    // The schema checks component keys only where they match; the spec requires all to.
    let mut maps = vec![&doc["operations"], &doc["channels"], &doc["servers"]];
    maps.extend(doc["components"].as_object().expect("components").values());
    maps.push(&doc["channels"]["jsonrpc"]["messages"]);
    for map in maps {
        for key in map.as_object().expect("a map").keys() {
            assert!(
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
                "{name}: key {key:?} does not match ^[a-zA-Z0-9\\.\\-_]+$"
            );
        }
    }
}

/// Panics unless `doc` is valid OpenRPC: against the meta-schema, self-contained draft-07,
/// with every extension value valid against its `x-extensions` schema and every method-level
/// extension declared there.
pub fn assert_openrpc(name: &str, doc: &Value) {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    let errs = errors(VALIDATOR.get_or_init(openrpc_validator), doc);
    assert!(
        errs.is_empty(),
        "{name} is not valid OpenRPC:\n{}",
        errs.join("\n")
    );
    assert_self_contained_and_draft07(name, doc);
    // Extension values type-check against the schemas declared in `x-extensions`.
    for ext in doc["x-extensions"].as_array().expect("x-extensions") {
        let field = ext["name"].as_str().expect("extension name");
        let check = validator_in(doc, &ext["schema"]);
        for method in doc["methods"].as_array().expect("methods") {
            if let Some(value) = method.get(field) {
                let errs = errors(&check, value);
                assert!(
                    errs.is_empty(),
                    "{name}: {} {field}: {errs:?}",
                    method["name"]
                );
            }
        }
    }
    // Every method-level extension used is declared.
    for method in doc["methods"].as_array().expect("methods") {
        for key in method.as_object().expect("method").keys() {
            if key.starts_with("x-") {
                assert!(
                    doc["x-extensions"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|x| x["name"] == *key)),
                    "{name}: {key} is not declared in x-extensions"
                );
            }
        }
    }
}

/// Panics unless every message of the AsyncAPI document `doc` has an example and every
/// example validates against its message's payload.
pub fn assert_asyncapi_examples(name: &str, doc: &Value) {
    let messages = doc["components"]["messages"].as_object().expect("messages");
    for (key, message) in messages {
        let validator = validator_in(doc, &message["payload"]);
        let examples = message["examples"].as_array().expect("examples");
        assert!(!examples.is_empty(), "{name}: {key} has no example");
        for example in examples {
            let errs = errors(&validator, &example["payload"]);
            assert!(
                errs.is_empty(),
                "{name}: example of {key} does not match its payload: {errs:?}\n{}",
                example["payload"]
            );
        }
    }
}

/// Panics unless every example of every method of the OpenRPC document `doc` names each
/// param once, in order, with a value valid against its schema, and has a valid result
/// exactly when the method has one.
pub fn assert_openrpc_examples(name: &str, doc: &Value) {
    for method in doc["methods"].as_array().expect("methods") {
        let params = method["params"].as_array().expect("params");
        for example in method["examples"].as_array().into_iter().flatten() {
            let values = example["params"].as_array().expect("example params");
            assert_eq!(values.len(), params.len(), "{name}: {}", method["name"]);
            for (param, value) in params.iter().zip(values) {
                assert_eq!(param["name"], value["name"]);
                let errs = errors(&validator_in(doc, &param["schema"]), &value["value"]);
                assert!(
                    errs.is_empty(),
                    "{name}: {} {}: {errs:?}",
                    method["name"],
                    param["name"]
                );
            }
            match (method.get("result"), example.get("result")) {
                (Some(result), Some(value)) => {
                    let errs = errors(&validator_in(doc, &result["schema"]), &value["value"]);
                    assert!(
                        errs.is_empty(),
                        "{name}: {} result: {errs:?}",
                        method["name"]
                    );
                }
                (None, None) => {}
                _ => panic!("{name}: {} example and result disagree", method["name"]),
            }
        }
    }
}

/// Whether node and tests/node/node_modules are there (installed from the lock file when
/// missing); prints SKIPPED (or fails under `VOLLEY_REQUIRE_ALL=1`) when they are not.
pub fn parser_ready() -> bool {
    let root = workspace_root();
    tools::require(&[
        tools::node_available(),
        tools::npm_packages(root, "tests/node"),
        tools::has_dir(
            root,
            "tests/node/node_modules/@asyncapi/parser",
            "cd tests/node && npm ci",
        ),
    ])
}

/// What one `@asyncapi/parser` run said.
#[derive(Debug)]
pub struct Parsed {
    /// Whether every document passed, with no error and no warning.
    pub ok: bool,
    /// What the parser printed: a line per diagnostic, `<file>: ok (...)` per clean document,
    /// and `N passed, M failed`.
    pub output: String,
    /// The file each document was written to, in order (removed after the run).
    pub files: Vec<PathBuf>,
}

/// Runs tests/node/validate.mjs `--fail-on-warnings` on `docs`, each written to
/// `<name>.json` in a fresh temporary directory; panics when it runs longer than 120 s.
pub async fn run_parser(docs: &[(&str, &Value)]) -> Parsed {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("volley-asyncapi-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files: Vec<PathBuf> = docs
        .iter()
        .map(|(name, doc)| {
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(doc).expect("json")).expect("write");
            path
        })
        .collect();
    let root = workspace_root();
    let child = tokio::process::Command::new("node")
        .arg(root.join("tests/node/validate.mjs"))
        .arg("--fail-on-warnings")
        .args(&files)
        .current_dir(root.join("tests/node"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let out = tokio::time::timeout(PARSER_DEADLINE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the parser ran longer than {PARSER_DEADLINE:?}"))
        .expect("node");
    let _ = std::fs::remove_dir_all(&dir);
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Parsed {
        ok: out.status.success(),
        output,
        files,
    }
}

/// Panics unless `@asyncapi/parser` reports no error and no warning for any of `docs`, and
/// says `ok` for each of them. Call [`parser_ready`] first.
pub async fn assert_parser_accepts(docs: &[(&str, &Value)]) {
    let Parsed { ok, output, files } = run_parser(docs).await;
    println!("{output}");
    assert!(ok, "@asyncapi/parser found problems:\n{output}");
    // Every document was parsed and passed, each with its own `ok` line.
    assert!(
        output
            .lines()
            .any(|l| l == format!("{} passed, 0 failed", files.len())),
        "not every document was checked:\n{output}"
    );
    for file in &files {
        let ok_line = format!("{}: ok (", file.display());
        assert!(
            output.lines().any(|l| l.starts_with(&ok_line)),
            "no `ok` for {}:\n{output}",
            file.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validators_accept_a_minimal_document_and_reject_an_empty_one() {
        let asyncapi = asyncapi_validator();
        let minimal = json!({ "asyncapi": "3.0.0", "info": { "title": "t", "version": "1" } });
        assert_eq!(errors(&asyncapi, &minimal), Vec::<String>::new());
        assert!(!asyncapi.is_valid(&json!({})));
        let openrpc = openrpc_validator();
        let minimal = json!({
            "openrpc": "1.3.2",
            "info": { "title": "t", "version": "1" },
            "methods": [],
        });
        assert_eq!(errors(&openrpc, &minimal), Vec::<String>::new());
        assert!(!openrpc.is_valid(&json!({ "openrpc": "1.3.2" })));
    }

    #[test]
    #[should_panic(expected = "does not resolve")]
    fn a_dangling_ref_is_refused() {
        let doc = json!({ "a": { "$ref": "#/components/schemas/Nope" } });
        assert_self_contained_and_draft07("doc", &doc);
    }

    #[test]
    #[should_panic(expected = "`$defs` at /components/$defs")]
    fn a_newer_draft_keyword_is_refused() {
        assert_self_contained_and_draft07("doc", &json!({ "components": { "$defs": {} } }));
    }

    #[test]
    fn keywords_inside_examples_are_data() {
        let doc = json!({ "examples": [{ "$schema": "x" }], "b": { "$ref": "#/examples" } });
        assert_self_contained_and_draft07("doc", &doc);
    }
}
