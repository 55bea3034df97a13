//! Example values generated from JSON Schemas, for the examples in generated documents.

use serde_json::{Map, Number, Value};

/// How deep `$ref`s are followed before giving up on a branch.
const MAX_REFS: usize = 32;

/// A value that validates against `schema` (draft-07), for examples in documents.
///
/// Follows `$ref`s of the form `#/...` as JSON Pointers into `root` (the document the schema
/// lives in, or the schema itself), and uses, in order: `examples`, `const`, `enum`, `default`,
/// `allOf` (merged), `oneOf`/`anyOf` (the first branch that yields a value, preferring
/// non-`null` ones), then `type` with `properties`/`required`, `items`, `minItems`, `format`,
/// `minimum`/`maximum`, `multipleOf`, `minLength`/`maxLength`. Recursive types end at their
/// first optional or nullable edge. A schema it cannot satisfy (`false`, a required recursive
/// field) gives `null`; `pattern` is not honoured.
pub fn example_value(schema: &Value, root: &Value) -> Value {
    Examples {
        root,
        refs: Vec::new(),
    }
    .value(schema)
    .unwrap_or(Value::Null)
}

struct Examples<'a> {
    root: &'a Value,
    refs: Vec<String>,
}

impl<'a> Examples<'a> {
    fn value(&mut self, schema: &Value) -> Option<Value> {
        let map = match schema {
            Value::Bool(true) => return Some(Value::Null),
            Value::Object(map) => map,
            _ => return None,
        };
        if let Some(Value::Array(examples)) = map.get("examples")
            && let Some(first) = examples.first()
        {
            return Some(first.clone());
        }
        if let Some(value) = map.get("const") {
            return Some(value.clone());
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            return values.first().cloned();
        }
        if let Some(Value::String(reference)) = map.get("$ref") {
            return self.reference(reference);
        }
        if let Some(value) = map.get("default") {
            return Some(value.clone());
        }
        if let Some(Value::Array(all)) = map.get("allOf") {
            return self.all_of(map, all);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = map.get(key) {
                return self.first_branch(branches);
            }
        }
        self.typed(map)
    }

    fn reference(&mut self, reference: &str) -> Option<Value> {
        if self.refs.len() >= MAX_REFS || self.refs.iter().any(|r| r == reference) {
            return None;
        }
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| self.root.pointer(pointer))?;
        self.refs.push(reference.to_owned());
        let value = self.value(target);
        self.refs.pop();
        value
    }

    fn all_of(&mut self, map: &Map<String, Value>, all: &[Value]) -> Option<Value> {
        let mut merged: Option<Value> = None;
        let mut rest = map.clone();
        rest.remove("allOf");
        let rest = Value::Object(rest);
        let parts = all.iter().chain(has_type_keywords(&rest).then_some(&rest));
        for part in parts {
            let value = self.value(part)?;
            merged = Some(match (merged, value) {
                (Some(Value::Object(mut a)), Value::Object(b)) => {
                    a.extend(b);
                    Value::Object(a)
                }
                (Some(a), _) => a,
                (None, b) => b,
            });
        }
        merged
    }

    fn first_branch(&mut self, branches: &[Value]) -> Option<Value> {
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        let (nulls, others): (Vec<&Value>, Vec<&Value>) = branches.iter().partition(|b| is_null(b));
        others
            .into_iter()
            .chain(nulls)
            .find_map(|branch| self.value(branch))
    }

    fn typed(&mut self, map: &Map<String, Value>) -> Option<Value> {
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if map.contains_key("properties") || map.contains_key("required") => vec!["object"],
            _ if map.contains_key("items") => vec!["array"],
            _ => return Some(Value::Null),
        };
        // Non-null types first; `null` is the way out of a recursive type.
        let mut order: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        order.extend(types.iter().copied().filter(|t| *t == "null"));
        order.into_iter().find_map(|t| match t {
            "null" => Some(Value::Null),
            "boolean" => Some(Value::Bool(true)),
            "integer" => Some(integer(map)),
            "number" => Some(number(map)),
            "string" => Some(Value::String(string(map))),
            "array" => self.array(map),
            "object" => self.object(map),
            _ => None,
        })
    }

    fn object(&mut self, map: &Map<String, Value>) -> Option<Value> {
        let required: Vec<&str> = match map.get("required") {
            Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let empty = Map::new();
        let properties = map
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut out = Map::new();
        for (name, schema) in properties {
            match self.value(schema) {
                Some(v) => {
                    out.insert(name.clone(), v);
                }
                None if required.contains(&name.as_str()) => return None,
                None => {}
            }
        }
        // Required names without a property schema, and room asked for by minProperties.
        let extra = map.get("additionalProperties");
        for name in &required {
            if !out.contains_key(*name) {
                let v = match extra {
                    Some(schema @ Value::Object(_)) => self.value(schema)?,
                    _ => Value::Null,
                };
                out.insert((*name).to_owned(), v);
            }
        }
        let min = map
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        if out.len() < min {
            let schema = match extra {
                Some(Value::Bool(false)) => return None,
                Some(schema @ Value::Object(_)) => schema.clone(),
                _ => Value::Bool(true),
            };
            let v = self.value(&schema)?;
            let mut i = 1;
            while out.len() < min {
                out.entry(format!("key{i}")).or_insert_with(|| v.clone());
                i += 1;
            }
        }
        Some(Value::Object(out))
    }

    fn array(&mut self, map: &Map<String, Value>) -> Option<Value> {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = map
            .get("maxItems")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        match map.get("items") {
            Some(Value::Array(tuple)) => {
                let mut out = Vec::with_capacity(tuple.len());
                for item in tuple {
                    out.push(self.value(item)?);
                }
                if out.len() < min {
                    let extra = match map.get("additionalItems") {
                        Some(Value::Bool(false)) => return None,
                        Some(schema @ Value::Object(_)) => self.value(schema)?,
                        _ => Value::Null,
                    };
                    out.resize(min, extra);
                }
                Some(Value::Array(out))
            }
            Some(items) => {
                let want = min.max(1).min(max.unwrap_or(usize::MAX));
                if want == 0 {
                    return Some(Value::Array(Vec::new()));
                }
                match self.value(items) {
                    Some(v) if want == 1 || !unique(map) => Some(Value::Array(vec![v; want])),
                    Some(_) => None,
                    None if min == 0 => Some(Value::Array(Vec::new())),
                    None => None,
                }
            }
            None => {
                let want = min;
                Some(Value::Array(vec![Value::Null; want]))
            }
        }
    }
}

fn has_type_keywords(schema: &Value) -> bool {
    ["type", "properties", "items", "required"]
        .iter()
        .any(|k| schema.get(k).is_some())
}

fn unique(map: &Map<String, Value>) -> bool {
    map.get("uniqueItems").and_then(Value::as_bool) == Some(true)
}

fn bounds(map: &Map<String, Value>) -> (Option<f64>, Option<f64>, bool, bool) {
    let get = |k: &str| map.get(k).and_then(Value::as_f64);
    // Draft-04 style boolean exclusive bounds are not produced by schemars; draft-07 numbers are.
    let (low, low_excl) = match (get("minimum"), get("exclusiveMinimum")) {
        (m, Some(e)) if m.is_none_or(|m| e >= m) => (Some(e), true),
        (m, _) => (m, false),
    };
    let (high, high_excl) = match (get("maximum"), get("exclusiveMaximum")) {
        (m, Some(e)) if m.is_none_or(|m| e <= m) => (Some(e), true),
        (m, _) => (m, false),
    };
    (low, high, low_excl, high_excl)
}

fn integer(map: &Map<String, Value>) -> Value {
    let (low, high, low_excl, high_excl) = bounds(map);
    let low = low.map(|l| if low_excl { l.floor() + 1.0 } else { l.ceil() });
    let high = high.map(|h| if high_excl { h.ceil() - 1.0 } else { h.floor() });
    let mut v = 1.0_f64;
    if let Some(l) = low {
        v = v.max(l);
    }
    if let Some(h) = high {
        v = v.min(h);
    }
    if let Some(step) = map.get("multipleOf").and_then(Value::as_f64)
        && step > 0.0
    {
        v = (v / step).ceil() * step;
        if high.is_some_and(|h| v > h) {
            v -= step;
        }
    }
    if v.fract() == 0.0 && v >= i64::MIN as f64 && v <= i64::MAX as f64 {
        if v >= 0.0 && v > i64::MAX as f64 / 2.0 {
            return Value::Number(Number::from(v as u64));
        }
        return Value::Number(Number::from(v as i64));
    }
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn number(map: &Map<String, Value>) -> Value {
    let (low, high, low_excl, high_excl) = bounds(map);
    let mut v = 1.5_f64;
    if let Some(l) = low
        && (v < l || (low_excl && v <= l))
    {
        v = if low_excl { l + 1.0 } else { l };
    }
    if let Some(h) = high {
        if v > h || (high_excl && v >= h) {
            v = if high_excl { h - 1.0 } else { h };
        }
        if let Some(l) = low
            && v < l
        {
            v = (l + h) / 2.0;
        }
    }
    if let Some(step) = map.get("multipleOf").and_then(Value::as_f64)
        && step > 0.0
    {
        v = (v / step).ceil() * step;
    }
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn string(map: &Map<String, Value>) -> String {
    let base = match map.get("format").and_then(Value::as_str) {
        Some("date-time") => "2024-01-01T12:00:00Z",
        Some("date") => "2024-01-01",
        Some("time") => "12:00:00Z",
        Some("duration") => "PT1S",
        Some("email" | "idn-email") => "user@example.com",
        Some("hostname" | "idn-hostname") => "example.com",
        Some("ipv4") => "192.0.2.1",
        Some("ipv6") => "2001:db8::1",
        Some("uri" | "iri") => "https://example.com/",
        Some("uri-reference" | "iri-reference") => "/example",
        Some("uri-template") => "/example/{id}",
        Some("json-pointer") => "/example",
        Some("relative-json-pointer") => "0",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        Some("regex") => ".*",
        _ => "string",
    };
    let mut s: String = base.to_owned();
    let count = |s: &str| s.chars().count();
    if let Some(min) = map.get("minLength").and_then(Value::as_u64) {
        while (count(&s) as u64) < min {
            s.push('x');
        }
    }
    if let Some(max) = map.get("maxLength").and_then(Value::as_u64)
        && count(&s) as u64 > max
    {
        s = s.chars().take(max as usize).collect();
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ex(schema: Value) -> Value {
        example_value(&schema, &schema)
    }

    #[test]
    fn scalars_respect_their_bounds() {
        assert_eq!(ex(json!({"type": "integer", "minimum": 5})), json!(5));
        assert_eq!(ex(json!({"type": "integer", "maximum": -3})), json!(-3));
        assert_eq!(
            ex(json!({"type": "integer", "exclusiveMinimum": 1})),
            json!(2)
        );
        assert_eq!(
            ex(json!({"type": "integer", "minimum": 0, "multipleOf": 4})),
            json!(4)
        );
        assert_eq!(ex(json!({"type": "number"})), json!(1.5));
        assert_eq!(ex(json!({"type": "number", "maximum": 1})), json!(1.0));
        assert_eq!(
            ex(json!({"type": "string", "maxLength": 1, "minLength": 1})),
            json!("s")
        );
        assert_eq!(
            ex(json!({"type": "string", "format": "uuid"}))
                .as_str()
                .map(str::len),
            Some(36)
        );
        assert_eq!(ex(json!({"type": ["null", "boolean"]})), json!(true));
        assert_eq!(ex(json!({"const": "2.0"})), json!("2.0"));
        assert_eq!(ex(json!({"enum": ["a", "b"]})), json!("a"));
        assert_eq!(ex(json!({})), Value::Null);
    }

    #[test]
    fn objects_arrays_and_tuples() {
        let schema = json!({
            "type": "object",
            "required": ["a", "pair"],
            "properties": {
                "a": {"type": "string"},
                "pair": {"type": "array", "items": [{"type": "integer"}, {"type": "boolean"}], "minItems": 2, "maxItems": 2},
                "list": {"type": "array", "items": {"type": "integer"}},
                "empty": {"type": "array", "maxItems": 0}
            }
        });
        assert_eq!(
            ex(schema),
            json!({"a": "string", "pair": [1, true], "list": [1], "empty": []})
        );
    }

    #[test]
    fn recursive_types_end_at_an_optional_edge() {
        let root = json!({"definitions": {"Node": {
            "type": "object",
            "required": ["value", "children"],
            "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                "parent": {"anyOf": [{"$ref": "#/definitions/Node"}, {"type": "null"}]}
            }
        }}});
        let v = example_value(&json!({"$ref": "#/definitions/Node"}), &root);
        assert_eq!(v, json!({"value": 1, "children": [], "parent": null}));
    }

    #[test]
    fn branches_and_all_of() {
        assert_eq!(
            ex(json!({"oneOf": [{"type": "null"}, {"type": "string", "const": "x"}]})),
            json!("x")
        );
        assert_eq!(
            ex(json!({"allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}},
                {"type": "object", "properties": {"b": {"type": "boolean"}}}
            ]})),
            json!({"a": 1, "b": true})
        );
    }
}
