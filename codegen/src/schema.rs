//! JSON Schemas of parameter, result and error types: one schemars generator per document,
//! draft-07, type definitions under `#/components/schemas` with keys valid in both documents.

use std::collections::{HashMap, HashSet};

use schemars::generate::SchemaSettings;
use schemars::transform::ReplaceBoolSchemas;
use serde_json::{Map, Value, json};

use volley_core::describe::{SchemaFn, SchemaGenerator};

use crate::names::{component_key, unique_key};
use crate::text::plain_schema;

/// Where type definitions live in both documents.
pub(crate) const DEFINITIONS: &str = "#/components/schemas/";

/// Collects the schemas of one document.
pub(crate) struct Schemas {
    generator: SchemaGenerator,
}

impl Schemas {
    /// A draft-07 generator whose `$ref`s point at `#/components/schemas/...`, with boolean
    /// schemas written as objects (`{}` for "anything").
    pub(crate) fn new() -> Self {
        let mut bools = ReplaceBoolSchemas::default();
        bools.skip_additional_properties = true;
        let settings = SchemaSettings::draft07()
            .with(|s| {
                s.definitions_path = DEFINITIONS.trim_end_matches('/').into();
                s.meta_schema = None;
            })
            .with_transform(bools);
        Self {
            generator: settings.into_generator(),
        }
    }

    /// The schema `f` gives, with the generator's transforms applied (so no draft 2020-12
    /// keyword such as `prefixItems` survives in inline subschemas either); `None` when the
    /// type has no schema.
    pub(crate) fn schema(&mut self, f: SchemaFn) -> Option<Value> {
        let mut schema = f(&mut self.generator)?;
        for transform in self.generator.transforms_mut() {
            transform.transform(&mut schema);
        }
        let mut value = schema.to_value();
        plain_schema(&mut value);
        Some(value)
    }

    /// The schema `f` gives, or an empty schema saying why there is none.
    pub(crate) fn schema_or_any(&mut self, f: SchemaFn, rust_type: &str) -> Value {
        self.schema(f).unwrap_or_else(|| no_schema(rust_type))
    }

    /// Every type definition collected, transformed, under keys that match
    /// `^[a-zA-Z0-9.\-_]+$` and avoid `reserved` (the document's own schema names).
    pub(crate) fn finish(mut self, reserved: &[&str]) -> Definitions {
        let definitions = self.generator.take_definitions(true);
        let mut taken: HashSet<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
        let mut renames = HashMap::new();
        let mut schemas = Map::new();
        for (name, mut schema) in definitions {
            plain_schema(&mut schema);
            let key = unique_key(component_key(&name), &mut taken);
            renames.insert(
                format!("{DEFINITIONS}{}", encode_ref_name(&name)),
                format!("{DEFINITIONS}{key}"),
            );
            schemas.insert(key, schema);
        }
        let mut out = Definitions { schemas, renames };
        let mut schemas = std::mem::take(&mut out.schemas);
        for schema in schemas.values_mut() {
            out.fix(schema);
        }
        out.schemas = schemas;
        out
    }
}

/// The collected type definitions and how their names changed.
pub(crate) struct Definitions {
    /// The definitions, by component key.
    pub(crate) schemas: Map<String, Value>,
    /// `$ref` as schemars wrote it -> `$ref` to the component key.
    renames: HashMap<String, String>,
}

impl Definitions {
    /// Rewrites every `$ref` in `schema` that points at a renamed definition.
    pub(crate) fn fix(&self, schema: &mut Value) {
        for_each_subschema(schema, &mut |s| {
            if let Some(Value::String(r)) = s.get_mut("$ref")
                && let Some(new) = self.renames.get(r.as_str())
            {
                *r = new.clone();
            }
        });
    }
}

/// Calls `f` on `schema` and every subschema in it (draft-07 keywords only: values that are
/// data, like `const` or `default`, are not visited).
pub(crate) fn for_each_subschema(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Value::Object(map) = schema else { return };
    f(map);
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "additionalProperties"
            | "additionalItems"
            | "contains"
            | "propertyNames"
            | "not"
            | "if"
            | "then"
            | "else" => for_each_subschema(value, f),
            "items" | "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(items) => items.iter_mut().for_each(|v| for_each_subschema(v, f)),
                other => for_each_subschema(other, f),
            },
            "properties" | "patternProperties" | "definitions" | "dependencies" => {
                if let Value::Object(members) = value {
                    members.values_mut().for_each(|v| for_each_subschema(v, f));
                }
            }
            _ => {}
        }
    }
}

/// A name as a JSON Pointer token in a URI fragment, as schemars writes it in `$ref`s.
fn encode_ref_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        match byte {
            b'~' => out.push_str("~0"),
            b'/' => out.push_str("~1"),
            b'!' | b'$' | b'&'..=b';' | b'=' | b'?'..=b'Z' | b'_' | b'a'..=b'z' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:2X}")),
        }
    }
    out
}

/// The schema of a type that has none: anything, with a description saying so.
pub(crate) fn no_schema(rust_type: &str) -> Value {
    json!({
        "description": format!(
            "No JSON Schema is available for `{rust_type}` (the type does not implement \
             `JsonSchema`); any JSON value is accepted here."
        )
    })
}

/// `schema` with a description: added in place, or around a `$ref` with `allOf` (draft-07
/// ignores the siblings of `$ref`).
pub(crate) fn with_description(schema: Value, description: &str) -> Value {
    if description.is_empty() {
        return schema;
    }
    match schema {
        Value::Object(mut map) if !map.contains_key("$ref") => {
            if !map.contains_key("description") {
                map.insert("description".into(), description.into());
            }
            Value::Object(map)
        }
        other => json!({ "allOf": [other], "description": description }),
    }
}
