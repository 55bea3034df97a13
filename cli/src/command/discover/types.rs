//! A short name for the type a JSON Schema describes, for one cell of the table:
//! `int64`, `string | null`, `Point[]`, `{string: Room}`.

use serde_json::{Map, Value};

/// The type `schema` describes, briefly.
pub(super) fn type_of(schema: &Value) -> String {
    match schema {
        Value::Bool(false) => "never".to_owned(),
        Value::Object(map) => object(map),
        _ => "any".to_owned(),
    }
}

fn object(map: &Map<String, Value>) -> String {
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if let Some(value) = map.get("const") {
        return value.to_string();
    }
    if let Some(Value::Array(values)) = map.get("enum") {
        return union(values.iter().map(Value::to_string));
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = map.get(keyword) {
            return union(branches.iter().map(type_of));
        }
    }
    if let Some(Value::Array(all)) = map.get("allOf") {
        let parts: Vec<String> = all.iter().map(type_of).collect();
        return parts.join(" & ");
    }
    match map.get("type") {
        Some(Value::String(ty)) => named(ty, map),
        Some(Value::Array(types)) => union(
            types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| named(t, map)),
        ),
        _ if map.contains_key("properties") => "object".to_owned(),
        _ if map.contains_key("items") => named("array", map),
        _ => "any".to_owned(),
    }
}

/// The type of the JSON Schema type `ty`, with what `map` says more about it.
fn named(ty: &str, map: &Map<String, Value>) -> String {
    match ty {
        "integer" => map
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("integer")
            .to_owned(),
        "array" => match map.get("items") {
            Some(Value::Array(tuple)) => {
                let items: Vec<String> = tuple.iter().map(type_of).collect();
                format!("[{}]", items.join(", "))
            }
            Some(items) => {
                let item = type_of(items);
                if item.contains(' ') {
                    format!("({item})[]")
                } else {
                    format!("{item}[]")
                }
            }
            None => "any[]".to_owned(),
        },
        "object" => match map.get("additionalProperties") {
            Some(values @ Value::Object(_)) if !map.contains_key("properties") => {
                format!("{{string: {}}}", type_of(values))
            }
            _ => "object".to_owned(),
        },
        other => other.to_owned(),
    }
}

/// `types` joined by ` | `, each once.
fn union(types: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for ty in types {
        if !seen.contains(&ty) {
            seen.push(ty);
        }
    }
    seen.join(" | ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schemas_have_short_names() {
        for (schema, name) in [
            (json!({ "type": "integer", "format": "int64" }), "int64"),
            (json!({ "type": "integer" }), "integer"),
            (json!({ "type": ["string", "null"] }), "string | null"),
            (json!({ "$ref": "#/components/schemas/Point" }), "Point"),
            (
                json!({ "type": "array", "items": { "$ref": "#/components/schemas/Point" } }),
                "Point[]",
            ),
            (
                json!({ "type": "array", "items": { "type": ["string", "null"] } }),
                "(string | null)[]",
            ),
            (
                json!({ "type": "array", "items": [{ "type": "string" }, { "type": "boolean" }] }),
                "[string, boolean]",
            ),
            (
                json!({ "type": "object", "additionalProperties": { "type": "integer", "format": "uint32" } }),
                "{string: uint32}",
            ),
            (
                json!({ "type": "object", "properties": { "a": {} } }),
                "object",
            ),
            (
                json!({ "anyOf": [{ "$ref": "#/components/schemas/Point" }, { "type": "null" }] }),
                "Point | null",
            ),
            (json!({ "enum": ["a", "b"] }), "\"a\" | \"b\""),
            (json!({ "const": 1 }), "1"),
            (
                json!({ "allOf": [{ "$ref": "#/x/A" }, { "$ref": "#/x/B" }] }),
                "A & B",
            ),
            (json!({}), "any"),
            (json!(true), "any"),
            (json!(false), "never"),
            (
                json!({ "description": "No JSON Schema is available for `Handle`" }),
                "any",
            ),
        ] {
            assert_eq!(type_of(&schema), name, "{schema}");
        }
    }
}
