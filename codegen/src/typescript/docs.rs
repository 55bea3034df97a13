//! Doc comments: lines from Rust docs and from schemas (with notes on 64-bit integers), and
//! how they are written as `/** */` comments.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::{Method, pad};
use crate::text::plain;

/// The lines of Rust docs, without rustdoc-only markup and leading or trailing blank lines.
pub(super) fn doc_lines(text: &str) -> Vec<String> {
    let text = plain(text);
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |i| i + 1);
    lines[start..end].to_vec()
}

/// Doc lines of a schema: title, description, deprecation, default; with `integers`, a note
/// on 64-bit integers in it, outside its properties (which carry their own) and refs.
pub(super) fn schema_docs(schema: &Value, integers: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(object) = schema.as_object() else {
        return lines;
    };
    for k in ["title", "description"] {
        if let Some(text) = object.get(k).and_then(Value::as_str) {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.extend(plain(text).lines().map(str::to_owned));
        }
    }
    if integers && let Some(note) = integer_note(&[schema], false) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(note);
    }
    if let Some(default) = object.get("default") {
        lines.push(format!("@default {default}"));
    }
    if object.get("deprecated") == Some(&Value::Bool(true)) {
        lines.push("@deprecated".to_owned());
    }
    lines
}

/// The doc lines of a method: its docs, and a note on 64-bit integers in its params/result.
pub(super) fn method_docs(m: &Method) -> Vec<String> {
    let mut lines = doc_lines(m.desc.docs);
    let mut schemas: Vec<&Value> = m.params.iter().filter_map(|p| p.schema.as_ref()).collect();
    if let Some(Some(result)) = &m.result {
        schemas.push(result);
    }
    if let Some(note) = integer_note(&schemas, true) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(note);
    }
    if let Some(required) = m.desc.requires {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!(
            "Requires `{required}`: a caller without it gets error -32013 (Forbidden)."
        ));
    }
    if let Some(ms) = m.desc.timeout_ms {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!(
            "Deadline {ms} ms: callers wait that long by default; past it the handler is \
             cancelled and the caller gets error -32014 (Timed out)."
        ));
    }
    if m.desc.idempotent {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(
            "Idempotent: a call in flight when the connection drops is sent again after the \
             reconnect."
                .to_owned(),
        );
    }
    lines
}

/// Formats whose values may not fit a JavaScript number exactly.
const WIDE_FORMATS: &[&str] = &["int64", "uint64", "int128", "uint128", "int", "uint"];

/// A note for schemas that carry 64-bit (or wider) integers; `properties` says whether to
/// look into object properties.
fn integer_note(schemas: &[&Value], properties: bool) -> Option<String> {
    fn scan(schema: &Value, properties: bool, found: &mut BTreeSet<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(format)) = map.get("format")
                    && WIDE_FORMATS.contains(&format.as_str())
                {
                    found.insert(format.clone());
                }
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("const" | "enum" | "default" | "examples", _) => {}
                        ("properties", _) if !properties => {}
                        // Maps of schemas: their keys are names, not keywords.
                        ("properties" | "patternProperties" | "definitions", Value::Object(m)) => {
                            m.values().for_each(|v| scan(v, properties, found));
                        }
                        _ => scan(v, properties, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| scan(v, properties, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    for schema in schemas {
        scan(schema, properties, &mut found);
    }
    if found.is_empty() {
        return None;
    }
    let formats: Vec<String> = found.into_iter().map(|f| format!("`{f}`")).collect();
    Some(format!(
        "Integers of format {} are typed `number`: JSON numbers, exact up to 2^53 - 1 in \
         JavaScript.",
        formats.join(", ")
    ))
}

/// A doc comment at `level`, or nothing for no lines.
pub(super) fn write_docs(out: &mut String, level: usize, lines: &[String]) {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.trim_end().replace("*/", "*\\/"))
        .collect();
    let pad = pad(level);
    match lines.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "{pad}/** {one} */");
        }
        many => {
            let _ = writeln!(out, "{pad}/**");
            for line in many {
                if line.is_empty() {
                    let _ = writeln!(out, "{pad} *");
                } else {
                    let _ = writeln!(out, "{pad} * {line}");
                }
            }
            let _ = writeln!(out, "{pad} */");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn doc_comments_cannot_end_early() {
        let mut out = String::new();
        write_docs(&mut out, 1, &["a */ b".to_owned()]);
        assert_eq!(out, "  /** a *\\/ b */\n");
    }

    #[test]
    fn doc_lines_are_plain_and_trimmed() {
        assert_eq!(
            doc_lines("\n\nCalls [`Peer::call`].  \n\n"),
            ["Calls `Peer::call`."]
        );
        assert!(doc_lines("  \n").is_empty());
    }

    #[test]
    fn wide_integers_get_a_note_outside_properties_and_data() {
        let schema = json!({
            "description": "A count.",
            "type": "integer",
            "format": "uint64",
            "properties": { "id": { "type": "integer", "format": "int64" } },
            "default": { "format": "int128" },
        });
        assert_eq!(
            schema_docs(&schema, true),
            [
                "A count.",
                "",
                "Integers of format `uint64` are typed `number`: JSON numbers, exact up to \
                 2^53 - 1 in JavaScript.",
                "@default {\"format\":\"int128\"}",
            ]
        );
        let note = integer_note(&[&schema], true).unwrap_or_default();
        assert!(
            note.starts_with("Integers of format `int64`, `uint64` are"),
            "{note}"
        );
    }
}
