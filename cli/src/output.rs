//! What goes where: results on stdout (JSON, pretty for a terminal and one line for a pipe),
//! errors on stderr, and progress on stderr only when a person is watching it.
//!
//! JSON from the server is re-laid out as text, not parsed into values and written again, so
//! numbers keep every digit and objects keep the server's key order.

use std::io::{IsTerminal, Write};

/// Prints the JSON text `json` (valid JSON) to stdout: indented when stdout is a terminal,
/// on one line otherwise.
pub(crate) fn json(json: &str) {
    let text = if std::io::stdout().is_terminal() {
        pretty(json)
    } else {
        compact(json)
    };
    stdout(&text);
}

/// Prints `text` and a line break to stdout.
pub(crate) fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`volley call ... | head -c 1`) is not worth a panic.
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Prints `text` and a line break to stderr.
pub(crate) fn stderr(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints `volley: <message>` to stderr.
pub(crate) fn error(message: &str) {
    stderr(&format!("volley: {message}"));
}

/// Prints `message` to stderr when stderr is a terminal (not when a script reads it).
pub(crate) fn progress(message: &str) {
    if std::io::stderr().is_terminal() {
        stderr(message);
    }
}

/// `json` (valid JSON text) on one line, without whitespace between tokens.
pub(crate) fn compact(json: &str) -> String {
    layout(json, None)
}

/// `json` (valid JSON text) indented by two spaces a level, `"key": value`, as
/// `serde_json::to_string_pretty` writes it.
pub(crate) fn pretty(json: &str) -> String {
    layout(json, Some("  "))
}

fn layout(json: &str, indent: Option<&str>) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        if let Some(unit) = indent {
            out.push('\n');
            out.push_str(&unit.repeat(depth));
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays `{}` or `[]`.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => {
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
            }
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_laid_out_without_being_reparsed() {
        let text = "{ \"b\" : [1, 2.50, 18446744073709551616],\n \"a\": {}, \"s\": \"x, y: {\\\"z\\\"} \" , \"e\": [ ] }";
        assert_eq!(
            compact(text),
            r#"{"b":[1,2.50,18446744073709551616],"a":{},"s":"x, y: {\"z\"} ","e":[]}"#
        );
        assert_eq!(
            pretty(text),
            "{\n  \"b\": [\n    1,\n    2.50,\n    18446744073709551616\n  ],\n  \"a\": {},\n  \
             \"s\": \"x, y: {\\\"z\\\"} \",\n  \"e\": []\n}"
        );
        assert_eq!(pretty("true"), "true");
        assert_eq!(compact(" \"a\\\\\" "), "\"a\\\\\"");
    }

    #[test]
    fn pretty_is_what_serde_json_writes() {
        let value = serde_json::json!({ "a": [1, { "b": null }], "c": {}, "d": "é" });
        assert_eq!(
            pretty(&value.to_string()),
            serde_json::to_string_pretty(&value).expect("json")
        );
    }
}
