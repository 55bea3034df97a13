//! Classifying incoming JSON-RPC messages and writing outgoing ones (no I/O here).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{ErrorObject, codes, error_object};
use crate::frame::Frame;
use crate::scan;

/// One JSON-RPC message, classified per PROTOCOL.md. Borrows from the frame text: ids and
/// params are the raw JSON text of their values.
#[derive(Debug)]
pub(crate) enum Message<'a> {
    /// Has `method` and `id`.
    Request {
        id: &'a str,
        method: Cow<'a, str>,
        params: Option<&'a str>,
        /// Where a positional `params`'s elements are, when the scanner found them.
        split: scan::Split,
    },
    /// Has `method`, no `id`.
    Notification {
        method: Cow<'a, str>,
        params: Option<&'a str>,
        split: scan::Split,
    },
    /// Has `result` or `error`, and `id`.
    Response {
        id: &'a str,
        outcome: Result<&'a str, &'a str>,
    },
    /// Anything else: answered with -32600; `id` is set when it could be read.
    Invalid { id: Option<&'a str>, detail: String },
    /// Not JSON at all (a single frame's text): answered with -32700.
    Unparsable(String),
}

/// A whole frame: one message, or a batch (JSON array).
#[derive(Debug)]
pub(crate) enum Parsed<'a> {
    /// One message's text; an object is parsed once, by [`classify`], which tells when it is
    /// not JSON.
    Single(&'a str),
    Batch(Vec<&'a RawValue>),
    /// A batch with this many elements, over the connection's limit.
    TooLarge(usize),
}

/// A batch's elements, keeping at most `max + 1` of them (the rest are only counted), so an
/// oversized batch costs no memory before it is refused.
struct Bounded<'a> {
    items: Vec<&'a RawValue>,
    len: usize,
}

struct BoundedSeed(usize);

impl<'de> serde::de::DeserializeSeed<'de> for BoundedSeed {
    type Value = Bounded<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for BoundedSeed {
    type Value = Bounded<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        let mut len = 0;
        loop {
            if len <= self.0 {
                match seq.next_element::<&'de RawValue>()? {
                    Some(item) => items.push(item),
                    None => break,
                }
            } else if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                break;
            }
            len += 1;
        }
        Ok(Bounded { items, len })
    }
}

/// Parses a frame's text; `Err` is the -32700 error response to send back. A batch longer
/// than `max_batch` comes back as [`Parsed::TooLarge`] without its elements.
pub(crate) fn parse_frame(bytes: &[u8], max_batch: usize) -> Result<Parsed<'_>, ErrorObject> {
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(&e))?;
    parse_text(text, max_batch)
}

/// The -32700 error for a frame that is not UTF-8.
pub(crate) fn not_utf8(e: &std::str::Utf8Error) -> ErrorObject {
    error_object(codes::PARSE_ERROR, format!("frame is not UTF-8: {e}"))
}

/// [`parse_frame`] for a frame's text.
pub(crate) fn parse_text(text: &str, max_batch: usize) -> Result<Parsed<'_>, ErrorObject> {
    if starts_object(text) {
        return Ok(Parsed::Single(text));
    }
    let raw: &RawValue =
        serde_json::from_str(text).map_err(|e| error_object(codes::PARSE_ERROR, e.to_string()))?;
    if raw.get().starts_with('[') {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_str(raw.get());
        let batch = BoundedSeed(max_batch)
            .deserialize(&mut de)
            .map_err(|e| error_object(codes::PARSE_ERROR, e.to_string()))?;
        if batch.len > max_batch {
            Ok(Parsed::TooLarge(batch.len))
        } else {
            Ok(Parsed::Batch(batch.items))
        }
    } else {
        Ok(Parsed::Single(raw.get()))
    }
}

/// Whether `text`'s first character after JSON's whitespace is `{`.
fn starts_object(text: &str) -> bool {
    text.bytes()
        .find(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(b'{')
}

fn some_raw<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow, deserialize_with = "some_raw")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "some_raw")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "some_raw")]
    method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "some_raw")]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "some_raw")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "some_raw")]
    error: Option<&'a RawValue>,
}

/// Whether a raw id is of an allowed type (string, number, null).
fn id_is_valid(id: &str) -> bool {
    matches!(
        id.as_bytes().first(),
        Some(b'"' | b'-' | b'0'..=b'9' | b'n')
    )
}

/// Classifies one message (an element of a batch, or a whole single frame), parsing it
/// once: a single frame's text is validated here. The common shape is read by the
/// [`scan`](crate::scan) scanner; whatever it leaves (a response, an escaped key, invalid
/// JSON) by serde_json.
pub(crate) fn classify(text: &str) -> Message<'_> {
    if !starts_object(text) {
        return invalid(None, "a message must be a JSON object");
    }
    if let Some(m) = scan::members(text) {
        return classify_members(m);
    }
    let env: Envelope<'_> = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) if e.is_syntax() || e.is_eof() => return Message::Unparsable(e.to_string()),
        // Not a message's shape (a duplicate key, say); JSON-wise it may still be broken
        // further on, which is the error to report.
        Err(e) => {
            return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Err(syntax) => Message::Unparsable(syntax.to_string()),
                Ok(_) => Message::Invalid {
                    id: None,
                    detail: e.to_string(),
                },
            };
        }
    };
    classify_members(scan::Members {
        jsonrpc: env.jsonrpc.map(RawValue::get),
        id: env.id.map(RawValue::get),
        method: env.method.map(RawValue::get),
        params: env.params.map(RawValue::get),
        result: env.result.map(RawValue::get),
        error: env.error.map(RawValue::get),
        split: scan::Split::default(),
    })
}

fn invalid<'a>(id: Option<&'a str>, detail: &str) -> Message<'a> {
    Message::Invalid {
        id,
        detail: detail.to_owned(),
    }
}

/// Classifies a message by its members' raw texts. (Inlined: the message is then made in
/// place rather than copied out of the members.)
#[inline(always)]
fn classify_members(members: scan::Members<'_>) -> Message<'_> {
    let scan::Members {
        jsonrpc,
        id,
        method,
        params,
        result,
        error,
        split,
    } = members;
    if let Some(id) = id
        && !id_is_valid(id)
    {
        return invalid(None, "id must be a string, a number or null");
    }
    // Only a request's id is ours to echo: a malformed *response* carries an id from our own
    // id space, and echoing it would answer one of the other side's calls. So without
    // `method`, errors go out with `id: null`.
    let echo = if method.is_some() { id } else { None };
    if jsonrpc != Some("\"2.0\"") {
        return invalid(echo, "jsonrpc must be \"2.0\"");
    }
    if let Some(m) = method {
        // The text is valid JSON already: a string without escapes is its own inside.
        let plain = m
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| !t.contains('\\'));
        let method: Cow<'_, str> = match plain {
            Some(name) => Cow::Borrowed(name),
            None => match serde_json::from_str(m) {
                Ok(m) => m,
                Err(_) => return invalid(id, "method must be a string"),
            },
        };
        if let Some(p) = params
            && !matches!(p.as_bytes().first(), Some(b'[' | b'{'))
        {
            return invalid(id, "params must be an array or an object");
        }
        return match id {
            Some(id) => Message::Request {
                id,
                method,
                params,
                split,
            },
            None => Message::Notification {
                method,
                params,
                split,
            },
        };
    }
    match (id, result, error) {
        (Some(id), Some(r), None) => Message::Response { id, outcome: Ok(r) },
        (Some(id), None, Some(e)) => Message::Response {
            id,
            outcome: Err(e),
        },
        (_, Some(_), Some(_)) => invalid(None, "a response has either result or error, not both"),
        _ => invalid(None, "not a request, notification or response"),
    }
}

/// Whether `s` goes into a JSON string as it is (no quote, backslash or control character).
pub(crate) fn is_plain(s: &str) -> bool {
    !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

fn push_json_str(buf: &mut String, s: &str) {
    // Method names almost never need escaping: write them as they are.
    if is_plain(s) {
        buf.push('"');
        buf.push_str(s);
        buf.push('"');
        return;
    }
    buf.push_str(&serde_json::to_string(s).expect("strings always encode"));
}

/// The fixed parts of a request: `{"jsonrpc":"2.0",`, `"method":`, the method's quotes, `}`.
const REQUEST_LEN: usize = 17 + 9 + 2 + 1;

/// `{"jsonrpc":"2.0","id":<id>,"method":<method>,"params":<params>}`; without an id, a
/// notification.
/// `params` is the JSON text of an array or an object. The text fills its buffer exactly when
/// the method needs no escaping (so a frame made of it shares it without another
/// allocation).
pub(crate) fn request(id: Option<u64>, method: &str, params: Option<&str>) -> String {
    let mut s = String::with_capacity(request_len(id, method, params));
    write_request(&mut s, id, method, params);
    s
}

/// [`request`] as the frame of a call or notification to one peer, written in a spare
/// buffer (see [`Frame::one`]).
pub(crate) fn request_one(id: Option<u64>, method: &str, params: Option<&str>) -> Frame {
    let mut s = crate::frame::spare_string(request_len(id, method, params));
    write_request(&mut s, id, method, params);
    Frame::one(s)
}

/// The length of a request's text, for a method without escapes.
fn request_len(id: Option<u64>, method: &str, params: Option<&str>) -> usize {
    let digits = id.map_or(0, |id| id.checked_ilog10().unwrap_or(0) as usize + 1);
    // `"id":` and `,` around the id; `,"params":` before the params.
    REQUEST_LEN + id.map_or(0, |_| 6 + digits) + method.len() + params.map_or(0, |p| 10 + p.len())
}

/// Writes a request in as few pieces as it has (each piece is a copy of its own).
fn write_request(s: &mut String, id: Option<u64>, method: &str, params: Option<&str>) {
    match id {
        Some(id) => {
            s.push_str(r#"{"jsonrpc":"2.0","id":"#);
            s.push_str(itoa::Buffer::new().format(id));
            s.push_str(r#","method":"#);
        }
        None => s.push_str(r#"{"jsonrpc":"2.0","method":"#),
    }
    push_json_str(s, method);
    if let Some(p) = params {
        s.push_str(r#","params":"#);
        s.push_str(p);
    }
    s.push('}');
}

/// `{"jsonrpc":"2.0","id":` `,"result":` `}`
const SUCCESS_LEN: usize = 22 + 10 + 1;
/// `{"jsonrpc":"2.0","id":` `,"error":` `}`
const FAILURE_LEN: usize = 22 + 9 + 1;

/// A success response echoing `id` exactly as it was written.
pub(crate) fn success(id: &str, result: &str) -> String {
    // Exactly the length: a frame whose capacity is its length becomes shared bytes without
    // another allocation.
    let mut s = String::with_capacity(SUCCESS_LEN + id.len() + result.len());
    s.push_str(r#"{"jsonrpc":"2.0","id":"#);
    s.push_str(id);
    s.push_str(r#","result":"#);
    s.push_str(result);
    s.push('}');
    s
}

/// An error response echoing `id` (`null` when `None`).
pub(crate) fn failure(id: Option<&str>, error: &ErrorObject) -> String {
    let err = serde_json::to_string(error).expect("error objects always encode");
    let id = id.unwrap_or("null");
    let mut s = String::with_capacity(FAILURE_LEN + id.len() + err.len());
    s.push_str(r#"{"jsonrpc":"2.0","id":"#);
    s.push_str(id);
    s.push_str(r#","error":"#);
    s.push_str(&err);
    s.push('}');
    s
}

/// Rewrites a jsonrpsee response built with `Id::Null` so that it carries `id` verbatim.
pub(crate) fn with_id(response: &RawValue, id: &str) -> String {
    const PREFIX: &str = r#"{"jsonrpc":"2.0","id":null,"#;
    match response.get().strip_prefix(PREFIX) {
        Some(rest) => {
            let mut s = String::with_capacity(response.get().len() + id.len());
            s.push_str(r#"{"jsonrpc":"2.0","id":"#);
            s.push_str(id);
            s.push(',');
            s.push_str(rest);
            s
        }
        None => {
            // Not the layout jsonrpsee writes today: rebuild through a generic value.
            let mut v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(response.get()).unwrap_or_default();
            let id_value: serde_json::Value =
                serde_json::from_str(id).unwrap_or(serde_json::Value::Null);
            v.insert("id".into(), id_value);
            v.insert("jsonrpc".into(), "2.0".into());
            serde_json::to_string(&v).expect("values always encode")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cls(s: &str) -> String {
        format!("{:?}", classify(s))
    }

    #[test]
    fn classifies() {
        assert!(cls(r#"{"jsonrpc":"2.0","id":1,"method":"a"}"#).starts_with("Request"));
        assert!(cls(r#"{"jsonrpc":"2.0","id":null,"method":"a"}"#).starts_with("Request"));
        assert!(cls(r#"{"jsonrpc":"2.0","method":"a","params":[1]}"#).starts_with("Notification"));
        assert!(cls(r#"{"jsonrpc":"2.0","id":1,"result":null}"#).starts_with("Response"));
        assert!(
            cls(r#"{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}"#)
                .starts_with("Response")
        );
        for bad in [
            r#"{"jsonrpc":"2.0","id":true,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":{},"method":"a"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"a"}"#,
            r#"{"id":1,"method":"a"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":5}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":["a"]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":3}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a","id":2}"#,
            "5",
        ] {
            assert!(cls(bad).starts_with("Invalid"), "{bad}");
        }
        for broken in [
            r#"{"jsonrpc":"2.0","id":1,"method":"a""#,
            r#"{"jsonrpc":"2.0","id":1,"method":"a"} x"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"a",}"#,
            r#"  {"jsonrpc":"2.0","method":x}"#,
        ] {
            assert!(cls(broken).starts_with("Unparsable"), "{broken}");
        }
        assert!(cls(" \n{\"jsonrpc\":\"2.0\",\"method\":\"a\"} ").starts_with("Notification"));
    }

    #[test]
    fn a_single_object_is_left_to_classify_and_anything_else_is_parsed_first() {
        assert!(matches!(
            parse_frame(b"{not json", 4),
            Ok(Parsed::Single("{not json"))
        ));
        assert!(matches!(parse_frame(b" 5 ", 4), Ok(Parsed::Single("5"))));
        assert!(parse_frame(b"[1,", 4).is_err());
        assert!(parse_frame(b"\xff", 4).is_err());
        assert!(matches!(parse_frame(b"[1,2]", 4), Ok(Parsed::Batch(v)) if v.len() == 2));
        assert!(matches!(
            parse_frame(b"[1,2,3]", 2),
            Ok(Parsed::TooLarge(3))
        ));
    }

    #[test]
    fn a_request_fills_its_buffer_exactly() {
        for id in [None, Some(0), Some(9), Some(10), Some(u64::MAX)] {
            for params in [None, Some("[]"), Some(r#"{"a":[1,"x"]}"#)] {
                let text = request(id, "m.x", params);
                assert_eq!(text.len(), text.capacity(), "{text}");
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["method"], "m.x");
                assert_eq!(
                    v.get("id").and_then(serde_json::Value::as_u64),
                    id,
                    "{text}"
                );
                let want = params.map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap());
                assert_eq!(v.get("params").cloned(), want, "{text}");
            }
        }
    }

    #[test]
    fn method_names_are_read_with_and_without_escapes() {
        for (text, name) in [
            (r#"{"jsonrpc":"2.0","method":"a.b"}"#, "a.b"),
            (r#"{"jsonrpc":"2.0","method":"a\"b"}"#, "a\"b"),
            (r#"{"jsonrpc":"2.0","method":"\u0061"}"#, "a"),
            (r#"{"jsonrpc":"2.0","method":""}"#, ""),
        ] {
            match classify(text) {
                Message::Notification { method, .. } => assert_eq!(method, name, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn ids_are_echoed_verbatim() {
        let r: Box<RawValue> =
            serde_json::from_str(r#"{"jsonrpc":"2.0","id":null,"result":7}"#).unwrap();
        assert_eq!(
            with_id(&r, "1.5e300"),
            r#"{"jsonrpc":"2.0","id":1.5e300,"result":7}"#
        );
        let answer = success("-0", "1");
        assert_eq!(answer, r#"{"jsonrpc":"2.0","id":-0,"result":1}"#);
        assert_eq!(answer.len(), answer.capacity());
        let refusal = failure(
            Some("7"),
            &error_object(codes::INVALID_REQUEST, "x".to_owned()),
        );
        assert_eq!(refusal.len(), refusal.capacity(), "{refusal}");
        let refusal = failure(None, &error_object(codes::INVALID_REQUEST, "x".to_owned()));
        assert_eq!(refusal.len(), refusal.capacity(), "{refusal}");
    }

    #[test]
    fn writes_requests() {
        let p: Box<RawValue> = serde_json::from_str("[1]").unwrap();
        assert_eq!(
            request(Some(3), "a\"b", Some(p.get())),
            r#"{"jsonrpc":"2.0","id":3,"method":"a\"b","params":[1]}"#
        );
        assert_eq!(
            request(None, "n", None),
            r#"{"jsonrpc":"2.0","method":"n"}"#
        );
    }
}
