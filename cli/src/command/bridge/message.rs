//! What passes the bridge: each message checked to be JSON (without being rebuilt), put on
//! one line for lines framing, the Parse error answer to one that is not, and close reasons
//! that fit a close frame.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::output;

/// The longest reason a close frame can carry, in bytes.
const MAX_REASON: usize = 123;

/// How much of a message that is not JSON goes into the log, in bytes.
const MAX_SHOWN: usize = 1000;

/// `message` as text, when it is one JSON value (a message or a batch); else why not.
pub(crate) fn check(message: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(message).map_err(|_| "not UTF-8 text".to_owned())?;
    serde_json::from_str::<&RawValue>(text).map_err(|e| e.to_string())?;
    Ok(text)
}

/// Whether `message` is only whitespace (an empty line between messages, skipped quietly).
pub(crate) fn is_blank(message: &[u8]) -> bool {
    message.iter().all(u8::is_ascii_whitespace)
}

/// `json` (valid JSON text) on one line: as it is when it has no line break, else without
/// the whitespace between its tokens. Strings, numbers and key order are kept as written, and
/// a string cannot hold a raw line break in valid JSON, so nothing else changes.
pub(crate) fn one_line(json: &str) -> Cow<'_, str> {
    if json.contains(['\n', '\r']) {
        Cow::Owned(output::compact(json))
    } else {
        Cow::Borrowed(json)
    }
}

/// The JSON-RPC answer to a frame that is not JSON: -32700 with id null, `why` as its data.
pub(crate) fn parse_error(why: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32700, "message": "Parse error", "data": why },
    })
    .to_string()
}

/// `text` cut to what a close frame carries, at a character boundary.
pub(crate) fn reason(text: &str) -> String {
    cut(text, MAX_REASON).to_owned()
}

/// A message as the log shows it: as text, its start only when it is long.
pub(crate) fn shown(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    if text.len() <= MAX_SHOWN {
        return text.into_owned();
    }
    format!("{}… ({} bytes)", cut(&text, MAX_SHOWN), message.len())
}

fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_passes_and_anything_else_says_why() {
        assert_eq!(check(b" {\"a\": [1, 2]} "), Ok(" {\"a\": [1, 2]} "));
        assert_eq!(
            check(b"[{\"id\":1},{\"id\":2}]"),
            Ok("[{\"id\":1},{\"id\":2}]")
        );
        assert_eq!(
            check(b"{\"a\":"),
            Err("EOF while parsing a value at line 1 column 5".to_owned())
        );
        assert_eq!(
            check(b"{} {}"),
            Err("trailing characters at line 1 column 4".to_owned())
        );
        assert_eq!(check(b"\xff"), Err("not UTF-8 text".to_owned()));
        assert!(is_blank(b" \r\t") && is_blank(b"") && !is_blank(b" 1"));
    }

    #[test]
    fn a_message_with_line_breaks_is_put_on_one_line_unchanged_otherwise() {
        let text = "{\n  \"s\": \"a b\\n\",\r\n  \"n\": 1.50e3,\n  \"z\": 0, \"a\": [ ]\n}";
        assert_eq!(one_line(text), r#"{"s":"a b\n","n":1.50e3,"z":0,"a":[]}"#);
        assert!(matches!(
            one_line("{ \"a\": 1 }"),
            Cow::Borrowed("{ \"a\": 1 }")
        ));
    }

    #[test]
    fn the_parse_error_is_a_json_rpc_error_with_id_null() {
        let answer: serde_json::Value = serde_json::from_str(&parse_error("why")).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32700, "message": "Parse error", "data": "why"}})
        );
    }

    #[test]
    fn reasons_fit_a_close_frame() {
        assert_eq!(reason("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(reason(&long).len(), 122);
        assert_eq!(shown(b"not json"), "not json");
        let shown = shown(&[b'x'; 1500]);
        assert!(shown.ends_with("… (1500 bytes)"), "{shown}");
    }
}
