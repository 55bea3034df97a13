//! JSON Schema (draft-07, as schemars writes it) to TypeScript types.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::schema::Definitions;
use crate::typescript::docs::schema_docs;
use crate::typescript::ts::{Prop, Ts, intersection, union};

/// Converts schemas, resolving `$ref`s to the names of the module's type definitions.
pub(super) struct Convert<'a> {
    /// The type definitions, under their TypeScript names.
    pub(super) definitions: &'a Definitions,
}

impl Convert<'_> {
    /// The type of the values `schema` accepts (as far as TypeScript can say).
    pub(super) fn convert(&self, schema: &Value) -> Ts {
        let object = match schema {
            Value::Bool(true) => return Ts::atom("unknown"),
            Value::Bool(false) => return Ts::atom("never"),
            Value::Object(object) => object,
            _ => return Ts::atom("unknown"),
        };
        let composed = ["$ref", "allOf", "oneOf", "anyOf"]
            .iter()
            .any(|k| object.contains_key(*k));
        let mut parts = Vec::new();
        if let Some(value) = object.get("const") {
            parts.push(literal(value));
        } else if let Some(values) = object.get("enum").and_then(Value::as_array) {
            parts.push(union(values.iter().map(|v| (literal(v), vec![])).collect()));
        } else if let Some(ty) = self.by_type(object, composed) {
            parts.push(ty);
        }
        if let Some(Value::String(reference)) = object.get("$ref") {
            parts.push(self.reference(reference));
        }
        if let Some(all) = object.get("allOf").and_then(Value::as_array) {
            parts.extend(all.iter().map(|s| self.convert(s)));
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(any) = object.get(keyword).and_then(Value::as_array) {
                parts.push(union(
                    any.iter()
                        .map(|s| (self.convert(s), schema_docs(s, false)))
                        .collect(),
                ));
            }
        }
        intersection(parts)
    }

    fn reference(&self, reference: &str) -> Ts {
        match self.definitions.resolve(reference) {
            Some(name) => Ts::atom(name),
            None => Ts::atom("unknown"),
        }
    }

    /// The type the `type` keyword (or, without it, the object and array keywords) gives.
    /// `None` when it adds nothing: no such keywords, or a bare `"type": "object"` beside
    /// `$ref`/`allOf`/`oneOf`/`anyOf` (which say what the object is).
    fn by_type(&self, object: &Map<String, Value>, composed: bool) -> Option<Ts> {
        let types: Vec<&str> = match object.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => {
                let mut inferred = Vec::new();
                if ["properties", "additionalProperties", "patternProperties"]
                    .iter()
                    .any(|k| object.contains_key(*k))
                {
                    inferred.push("object");
                }
                if ["items", "prefixItems"]
                    .iter()
                    .any(|k| object.contains_key(*k))
                {
                    inferred.push("array");
                }
                inferred
            }
        };
        if types.is_empty() {
            return None;
        }
        let bare_object = !["properties", "additionalProperties", "patternProperties"]
            .iter()
            .any(|k| object.contains_key(*k));
        if composed && bare_object && types == ["object"] {
            return None;
        }
        let members = types
            .into_iter()
            .map(|t| {
                let ty = match t {
                    "string" => Ts::atom("string"),
                    "number" | "integer" => Ts::atom("number"),
                    "boolean" => Ts::atom("boolean"),
                    "null" => Ts::atom("null"),
                    "array" => self.array(object),
                    "object" => self.object(object),
                    _ => Ts::atom("unknown"),
                };
                (ty, vec![])
            })
            .collect();
        Some(union(members))
    }

    fn array(&self, object: &Map<String, Value>) -> Ts {
        let (tuple, rest) = match (object.get("prefixItems"), object.get("items")) {
            (Some(Value::Array(prefix)), rest) => (prefix, rest),
            (_, Some(Value::Array(items))) => (items, object.get("additionalItems")),
            (_, Some(items)) => return Ts::Array(Box::new(self.convert(items))),
            (_, None) => return Ts::Array(Box::new(Ts::atom("unknown"))),
        };
        let count = |k: &str| {
            object
                .get(k)
                .and_then(Value::as_u64)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let closed_by_max = count("maxItems").is_some_and(|max| max <= tuple.len());
        let rest = match rest {
            _ if closed_by_max => None,
            Some(Value::Bool(false)) => None,
            Some(schema) => Some(Box::new(self.convert(schema))),
            None => Some(Box::new(Ts::atom("unknown"))),
        };
        Ts::Tuple {
            items: tuple.iter().map(|s| self.convert(s)).collect(),
            required: count("minItems").unwrap_or(0).min(tuple.len()),
            rest,
        }
    }

    fn object(&self, object: &Map<String, Value>) -> Ts {
        let required: HashSet<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut props: Vec<Prop> = object
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| {
                properties
                    .iter()
                    .map(|(name, schema)| Prop {
                        name: name.clone(),
                        optional: !required.contains(name.as_str()),
                        ty: self.convert(schema),
                        docs: schema_docs(schema, true),
                    })
                    .collect()
            })
            .unwrap_or_default();
        props.sort_by(|a, b| a.name.cmp(&b.name));

        let mut index = Vec::new();
        match object.get("additionalProperties") {
            None | Some(Value::Bool(false)) => {}
            Some(schema) => index.push((self.convert(schema), vec![])),
        }
        if let Some(patterns) = object.get("patternProperties").and_then(Value::as_object) {
            index.extend(patterns.values().map(|s| (self.convert(s), vec![])));
        }
        let open = !matches!(object.get("additionalProperties"), Some(Value::Bool(false)));
        if index.is_empty() && props.is_empty() && open {
            index.push((Ts::atom("unknown"), vec![]));
        }
        let index = if index.is_empty() {
            None
        } else {
            // An index signature covers the declared properties too.
            index.extend(props.iter().map(|p| (p.ty.clone(), vec![])));
            Some(Box::new(union(index)))
        };
        Ts::Object { props, index }
    }
}

/// The literal type of a JSON value.
fn literal(value: &Value) -> Ts {
    match value {
        Value::Array(items) => Ts::Tuple {
            required: items.len(),
            items: items.iter().map(literal).collect(),
            rest: None,
        },
        Value::Object(map) => {
            let mut props: Vec<Prop> = map
                .iter()
                .map(|(name, v)| Prop {
                    name: name.clone(),
                    optional: false,
                    ty: literal(v),
                    docs: vec![],
                })
                .collect();
            props.sort_by(|a, b| a.name.cmp(&b.name));
            Ts::Object { props, index: None }
        }
        other => Ts::Atom(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::typescript::DIALECT;
    use crate::typescript::names::namer;
    use crate::typescript::print::print;

    fn convert(mut schema: Value, definitions: &[&str]) -> String {
        let definitions: Map<String, Value> = definitions
            .iter()
            .map(|d| ((*d).to_owned(), json!({})))
            .collect();
        let definitions = Definitions::new(DIALECT.definitions, definitions, namer());
        definitions.fix(&mut schema);
        print(
            &Convert {
                definitions: &definitions,
            }
            .convert(&schema),
            0,
        )
    }

    #[test]
    fn schemas_become_types() {
        let cases = [
            (json!(true), "unknown"),
            (json!(false), "never"),
            (json!({}), "unknown"),
            (json!({ "type": "string" }), "string"),
            (json!({ "type": ["string", "null"] }), "string | null"),
            (json!({ "type": "integer", "format": "int64" }), "number"),
            (json!({ "type": "null" }), "null"),
            (json!({ "enum": ["a", "b"] }), r#""a" | "b""#),
            (
                json!({ "type": "string", "enum": ["a", "b\"c"] }),
                r#""a" | "b\"c""#,
            ),
            (
                json!({ "enum": [1, 2.5, null, true] }),
                "1 | 2.5 | null | true",
            ),
            (json!({ "const": "x" }), r#""x""#),
            (json!({ "const": [1, "a"] }), r#"[1, "a"]"#),
            (json!({ "type": "array" }), "unknown[]"),
            (
                json!({ "type": "array", "items": { "type": "string" } }),
                "string[]",
            ),
            (
                json!({ "type": "array", "items": { "type": ["string", "null"] } }),
                "(string | null)[]",
            ),
            (
                json!({ "type": "array", "items": [{ "type": "string" }, { "type": "number" }],
                        "minItems": 2, "maxItems": 2 }),
                "[string, number]",
            ),
            (
                json!({ "type": "array", "items": [{ "type": "string" }, { "type": "number" }],
                        "minItems": 1, "additionalItems": false }),
                "[string, number?]",
            ),
            (
                json!({ "type": "array", "items": [{ "type": "string" }], "minItems": 1 }),
                "[string, ...unknown[]]",
            ),
            (
                json!({ "type": "array", "prefixItems": [{ "type": "string" }],
                        "items": { "type": "boolean" }, "minItems": 1 }),
                "[string, ...boolean[]]",
            ),
            (
                json!({ "type": "array", "prefixItems": [{ "type": "string" }],
                        "items": false, "minItems": 1 }),
                "[string]",
            ),
            (
                json!({ "anyOf": [{ "$ref": "#/definitions/A" }, { "type": "null" }] }),
                "A | null",
            ),
            (
                json!({ "oneOf": [{ "type": "string" }, { "type": "string" }] }),
                "string",
            ),
            (json!({ "anyOf": [{ "type": "string" }, true] }), "unknown"),
            (
                json!({ "allOf": [{ "$ref": "#/definitions/A" }, { "$ref": "#/definitions/B" }] }),
                "A & B",
            ),
            (
                json!({ "allOf": [{ "$ref": "#/definitions/A" }], "description": "sibling" }),
                "A",
            ),
            (json!({ "$ref": "#/definitions/Missing" }), "unknown"),
            (json!({ "$ref": "https://example.com/schema" }), "unknown"),
            (json!({ "$ref": "#/definitions/a~1b%20c" }), "a_b_c"),
            (
                json!({ "$ref": "#/definitions/Page%3CPoint%3E" }),
                "Page_Point_",
            ),
            (json!({ "type": "object" }), "{ [key: string]: unknown }"),
            (
                json!({ "type": "object", "additionalProperties": { "type": "integer" } }),
                "{ [key: string]: number }",
            ),
            (
                json!({ "type": "object", "patternProperties": { "^x": { "type": "string" } } }),
                "{ [key: string]: string }",
            ),
            (
                json!({ "type": "object", "properties": {}, "additionalProperties": false }),
                "Record<string, never>",
            ),
            (
                json!({ "type": "object", "oneOf": [{ "$ref": "#/definitions/A" },
                                                    { "$ref": "#/definitions/B" }] }),
                "A | B",
            ),
        ];
        for (schema, expected) in cases {
            let text = schema.to_string();
            assert_eq!(
                convert(schema, &["A", "B", "a/b c", "Page<Point>"]),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn objects_list_properties_with_docs_and_optionality() {
        let schema = json!({
            "type": "object",
            "properties": {
                "b": { "type": "integer", "format": "uint64", "description": "Bee." },
                "a-b": { "type": ["string", "null"], "default": null, "deprecated": true },
                "a": { "$ref": "#/definitions/A" },
            },
            "required": ["a", "b"],
            "additionalProperties": { "type": "boolean" },
        });
        assert_eq!(
            convert(schema, &["A"]),
            "{\n  a: A;\n  /**\n   * @default null\n   * @deprecated\n   */\n  \"a-b\"?: string | null;\n  \
             /**\n   * Bee.\n   *\n   * Integers of format `uint64` are typed `number`: JSON numbers, \
             exact up to 2^53 - 1 in JavaScript.\n   */\n  b: number;\n  \
             [key: string]: boolean | A | string | null | number;\n}"
        );
    }

    #[test]
    fn flattened_enums_intersect_with_their_object() {
        let schema = json!({
            "type": "object",
            "properties": { "id": { "type": "string" } },
            "required": ["id"],
            "oneOf": [
                { "type": "object", "properties": { "a": { "const": 1 } }, "required": ["a"] },
                { "type": "object", "properties": { "b": { "const": 2 } }, "required": ["b"] },
            ],
        });
        let expected =
            "{\n  id: string;\n} & (\n  | {\n      a: 1;\n    }\n  | {\n      b: 2;\n    }\n)";
        assert_eq!(convert(schema, &[]), expected);
    }
}
