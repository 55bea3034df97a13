//! Validators built from the official schemas vendored in tests/schemas/, and a runner for
//! tests/node/validate.mjs (`@asyncapi/parser`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use jsonschema::{Draft, Registry, Validator};

use crate::tools;
use serde_json::{Value, json};

const DRAFT07: &str = "http://json-schema.org/draft-07/schema#";

fn vendored(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) fn asyncapi_validator() -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&vendored("asyncapi-3.0.0.json"))
        .expect("the AsyncAPI 3.0.0 schema compiles")
}

pub(crate) fn openrpc_validator() -> Validator {
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

pub(crate) fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

/// A validator for `schema`, a schema inside `doc` whose `$ref`s point into `doc`.
pub(crate) fn validator_in(doc: &Value, schema: &Value) -> Validator {
    let mut root = json!({ "allOf": [schema] });
    root["components"] = doc["components"].clone();
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
}

/// Every `$ref` resolves inside the document; no draft 2019-09/2020-12 keyword anywhere.
pub(crate) fn check_self_contained_and_draft07(name: &str, doc: &Value) {
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

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether node and tests/node/node_modules are there; prints SKIPPED (or fails under
/// `VOLLEY_REQUIRE_ALL=1`) when they are not.
pub(crate) fn parser_ready() -> bool {
    tools::require(&[
        tools::node_available(),
        tools::npm_packages(&root(), "tests/node"),
        tools::has_dir(
            &root(),
            "tests/node/node_modules/@asyncapi/parser",
            "cd tests/node && npm ci",
        ),
    ])
}

/// Runs tests/node/validate.mjs on `files`: whether it passed, and what it printed.
pub(crate) async fn run_parser(files: &[PathBuf]) -> (bool, String) {
    let child = tokio::process::Command::new("node")
        .arg(root().join("tests/node/validate.mjs"))
        .arg("--fail-on-warnings")
        .args(files)
        .current_dir(root().join("tests/node"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the parser ran longer than 120 s")
        .expect("node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
