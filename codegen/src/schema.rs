//! JSON Schemas of parameter, result and error types: one schemars generator per output,
//! draft-07, with its type definitions renamed to keys the output can declare.

use std::borrow::Cow;
use std::collections::HashMap;

use schemars::generate::SchemaSettings;
use schemars::transform::ReplaceBoolSchemas;
use serde_json::{Map, Value, json};

use volley_core::describe::{SchemaFn, SchemaGenerator};

use crate::names::Namer;
use crate::text::plain;

/// Where type definitions live in both documents.
pub(crate) const DEFINITIONS: &str = "#/components/schemas/";

/// How an output wants its schemas written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// Where `$ref`s to type definitions point: a URI fragment ending in `/`.
    pub(crate) definitions: &'static str,
    /// Whether boolean schemas are written as objects (`{}` for "anything"); the
    /// `additionalProperties` of objects stay booleans.
    pub(crate) object_schemas: bool,
    /// Whether every `description` loses its rustdoc-only markup here (else the output does
    /// that where it shows them).
    pub(crate) plain_descriptions: bool,
}

/// The schemas of both documents: definitions under [`DEFINITIONS`], no boolean schemas,
/// plain descriptions.
pub(crate) const DOCUMENT: Dialect = Dialect {
    definitions: DEFINITIONS,
    object_schemas: true,
    plain_descriptions: true,
};

/// Collects the schemas of one output.
pub(crate) struct Schemas {
    generator: SchemaGenerator,
    dialect: Dialect,
}

impl Schemas {
    /// A draft-07 generator writing schemas in `dialect`.
    pub(crate) fn new(dialect: Dialect) -> Self {
        let mut settings = SchemaSettings::draft07().with(|s| {
            s.definitions_path = dialect.definitions.trim_end_matches('/').into();
            s.meta_schema = None;
        });
        if dialect.object_schemas {
            let mut bools = ReplaceBoolSchemas::default();
            bools.skip_additional_properties = true;
            settings = settings.with_transform(bools);
        }
        Self {
            generator: settings.into_generator(),
            dialect,
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
        if self.dialect.plain_descriptions {
            plain_schema(&mut value);
        }
        Some(value)
    }

    /// Every type definition collected, transformed, under a key from `namer` (given in the
    /// order of the names schemars chose).
    pub(crate) fn finish(mut self, namer: Namer) -> Definitions {
        let mut definitions = self.generator.take_definitions(true);
        if self.dialect.plain_descriptions {
            definitions.values_mut().for_each(plain_schema);
        }
        Definitions::new(self.dialect.definitions, definitions, namer)
    }
}

/// The collected type definitions, under the keys the output declares them by.
pub(crate) struct Definitions {
    /// The definitions, by key.
    pub(crate) schemas: Map<String, Value>,
    /// The keys of `schemas`, in the order of the names schemars chose.
    keys: Vec<String>,
    /// `$ref` as schemars wrote it -> `$ref` to the key.
    renames: HashMap<String, String>,
    /// Where `$ref`s to definitions point, ending in `/`.
    path: &'static str,
}

impl Definitions {
    /// `definitions` (by the names schemars chose, referred to under `path`) under keys from
    /// `namer`, their `$ref`s pointing at the keys.
    pub(crate) fn new(
        path: &'static str,
        definitions: Map<String, Value>,
        mut namer: Namer,
    ) -> Self {
        let mut out = Self {
            schemas: Map::new(),
            keys: Vec::new(),
            renames: HashMap::new(),
            path,
        };
        let mut schemas = Map::new();
        for (name, schema) in definitions {
            let key = namer.name(&name);
            out.renames.insert(
                format!("{path}{}", encode_ref_name(&name)),
                format!("{path}{key}"),
            );
            out.keys.push(key.clone());
            schemas.insert(key, schema);
        }
        for schema in schemas.values_mut() {
            out.fix(schema);
        }
        out.schemas = schemas;
        out
    }

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

    /// The key of the definition a `$ref` (after [`fix`](Self::fix)) points at, if any.
    pub(crate) fn resolve<'r>(&self, reference: &'r str) -> Option<&'r str> {
        reference
            .strip_prefix(self.path)
            .filter(|key| self.schemas.contains_key(*key))
    }

    /// Every definition with its key, in the order of the names schemars chose.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.keys
            .iter()
            .filter_map(|key| Some((key.as_str(), self.schemas.get(key)?)))
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

/// Applies [`plain`] to every `description` in a JSON Schema.
pub(crate) fn plain_schema(schema: &mut Value) {
    for_each_subschema(schema, &mut |map| {
        if let Some(Value::String(d)) = map.get_mut("description")
            && let Cow::Owned(p) = plain(d)
        {
            *d = p;
        }
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::component_key;

    #[test]
    fn schema_descriptions_are_cleaned_everywhere() {
        let mut schema = json!({
            "description": "A [`Lot`].",
            "properties": { "bid": { "description": "See [`Bid`]." } }
        });
        plain_schema(&mut schema);
        assert_eq!(schema["description"], "A `Lot`.");
        assert_eq!(schema["properties"]["bid"]["description"], "See `Bid`.");
    }

    #[test]
    fn definitions_are_renamed_and_refs_follow() {
        let definitions: Map<String, Value> = [
            ("a/b c", json!({ "$ref": "#/x/Page%3CPoint%3E" })),
            (
                "Page<Point>",
                json!({ "items": { "$ref": "#/x/a~1b%20c" } }),
            ),
            ("error", json!({})),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let definitions =
            Definitions::new("#/x/", definitions, Namer::new(component_key, &["error"]));
        let keys: Vec<&str> = definitions.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["Page_Point_", "a_b_c", "error2"]);
        assert_eq!(
            definitions.schemas["a_b_c"],
            json!({ "$ref": "#/x/Page_Point_" })
        );
        let mut schema =
            json!({ "anyOf": [{ "$ref": "#/x/a~1b%20c" }, { "$ref": "#/x/Missing" }] });
        definitions.fix(&mut schema);
        assert_eq!(schema["anyOf"][0]["$ref"], "#/x/a_b_c");
        assert_eq!(definitions.resolve("#/x/a_b_c"), Some("a_b_c"));
        assert_eq!(definitions.resolve("#/x/Missing"), None);
        assert_eq!(definitions.resolve("#/y/a_b_c"), None);
    }
}
