//! Reading params by position or by name, and writing them by name.

use std::borrow::Cow;

use serde::{Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorObject, codes, error_object};
use crate::scan::Split;

fn invalid(detail: String) -> ErrorObject {
    error_object(codes::INVALID_PARAMS, detail)
}

enum Shape<'a> {
    Absent,
    /// A positional array whose elements' places the scanner found.
    Placed(&'a str, Split),
    Positional(Items<'a>),
    Named(Vec<(Cow<'a, str>, &'a RawValue)>),
}

/// A call's params as a handler made by `#[volley::rpc]` gets them: the raw JSON text of the
/// params (`None` when the request had none) and, when volley found them while it read the
/// message, where the elements of a positional array are, so that [`ParamReader::of`] does
/// not scan them a second time.
#[derive(Debug, Clone, Default)]
pub struct CallParams<'a> {
    text: Option<Cow<'a, str>>,
    split: Split,
}

impl<'a> CallParams<'a> {
    /// Params given as their raw JSON text (`None` for none).
    pub fn new(text: Option<&'a str>) -> Self {
        Self {
            text: text.map(Cow::Borrowed),
            split: Split::default(),
        }
    }

    /// Params read by volley's scanner, with the places of their elements.
    pub(crate) fn scanned(text: Option<&'a str>, split: Split) -> Self {
        Self {
            text: text.map(Cow::Borrowed),
            split,
        }
    }

    /// The raw JSON text of the params, `None` when the request had none.
    pub fn as_str(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The same params, owning their text.
    pub fn into_owned(self) -> CallParams<'static> {
        CallParams {
            text: self.text.map(|t| Cow::Owned(t.into_owned())),
            split: self.split,
        }
    }
}

/// Reads a method's params, accepting both an array (by position) and an object (by name).
///
/// Absent params read as `null`, so `Option` parameters may be left out either way. Extra
/// positional params, unknown names and duplicate names are refused with -32602.
pub struct ParamReader<'a> {
    shape: Shape<'a>,
    names: &'static [&'static str],
}

impl<'a> ParamReader<'a> {
    /// Reads a call's params; a positional array whose elements volley has found already is
    /// not scanned again.
    pub fn of(
        params: &'a CallParams<'_>,
        names: &'static [&'static str],
    ) -> Result<Self, ErrorObject> {
        let text = params.as_str();
        match (text, params.split.len()) {
            (Some(text), Some(len)) => {
                check_count(len, names)?;
                Ok(Self {
                    shape: Shape::Placed(text, params.split),
                    names,
                })
            }
            _ => Self::new(text, names),
        }
    }

    /// Parses the raw params text (`None` when the request had no `params`).
    pub fn new(raw: Option<&'a str>, names: &'static [&'static str]) -> Result<Self, ErrorObject> {
        let raw = match raw.map(str::trim_start) {
            None => {
                return Ok(Self {
                    shape: Shape::Absent,
                    names,
                });
            }
            Some(s) => s,
        };
        let shape = match raw.as_bytes().first() {
            Some(b'[') => {
                let mut items = Items::default();
                // The scanner splits the common array; what it leaves, serde_json reads (and
                // words the error).
                if crate::scan::elements(raw, |e| items.push(e)).is_none() {
                    use serde::de::DeserializeSeed;
                    let mut de = serde_json::Deserializer::from_str(raw);
                    items = Positional
                        .deserialize(&mut de)
                        .and_then(|items| de.end().map(|()| items))
                        .map_err(|e| invalid(format!("params are not a JSON array: {e}")))?;
                }
                check_count(items.len(), names)?;
                Shape::Positional(items)
            }
            Some(b'{') => {
                let fields: Vec<(Cow<'a, str>, &'a RawValue)> =
                    serde_json::from_str::<NamedParams<'a>>(raw)
                        .map_err(|e| invalid(format!("params are not a JSON object: {e}")))?
                        .0;
                for (i, (k, _)) in fields.iter().enumerate() {
                    if !names.contains(&k.as_ref()) {
                        return Err(invalid(format!("unknown parameter `{k}`")));
                    }
                    if fields[..i].iter().any(|(p, _)| p == k) {
                        return Err(invalid(format!("duplicate parameter `{k}`")));
                    }
                }
                Shape::Named(fields)
            }
            Some(b'n') if raw.trim_end() == "null" => Shape::Absent,
            _ => return Err(invalid("params must be an array or an object".to_owned())),
        };
        Ok(Self { shape, names })
    }

    /// Decodes the parameter at `index` (by position) or called `names[index]` (by name).
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<T, ErrorObject> {
        let raw = match &self.shape {
            Shape::Placed(text, split) => split.get(text, index),
            Shape::Absent => None,
            Shape::Positional(items) => items.get(index),
            Shape::Named(fields) => {
                let name = self.name(index);
                fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.get())
            }
        };
        match raw {
            Some(v) => match crate::scalar::from_str(v) {
                Ok(value) => Ok(value),
                Err(e) => Err(self.refused(index, &e)),
            },
            None => serde_json::from_str("null").map_err(|_| self.missing(index)),
        }
    }

    /// The name of the parameter at `index`.
    fn name(&self, index: usize) -> &'static str {
        self.names.get(index).copied().unwrap_or("?")
    }

    /// -32602 for a parameter that does not decode (out of the way of the decoding).
    #[cold]
    fn refused(&self, index: usize, e: &serde_json::Error) -> ErrorObject {
        invalid(format!("invalid parameter `{}`: {e}", self.name(index)))
    }

    /// -32602 for a required parameter left out.
    #[cold]
    fn missing(&self, index: usize) -> ErrorObject {
        invalid(format!("missing parameter `{}`", self.name(index)))
    }
}

/// Refuses more positional params than the method has.
fn check_count(given: usize, names: &[&str]) -> Result<(), ErrorObject> {
    if given > names.len() {
        return Err(invalid(format!(
            "expected at most {} positional params, got {given}",
            names.len(),
        )));
    }
    Ok(())
}

/// Positional params kept in place without an allocation, up to this many (more go to a
/// vector).
const INLINE: usize = Split::MAX;

/// Positional params, in order: the raw JSON text of each.
#[derive(Default)]
struct Items<'a> {
    first: [Option<&'a str>; INLINE],
    rest: Vec<&'a str>,
    len: usize,
}

impl<'a> Items<'a> {
    fn push(&mut self, item: &'a str) {
        match self.first.get_mut(self.len) {
            Some(slot) => *slot = Some(item),
            None => self.rest.push(item),
        }
        self.len += 1;
    }

    fn get(&self, index: usize) -> Option<&'a str> {
        match index.checked_sub(INLINE) {
            None => self.first[index],
            Some(i) => self.rest.get(i).copied(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Reads positional params.
struct Positional;

impl<'de> serde::de::DeserializeSeed<'de> for Positional {
    type Value = Items<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Positional {
    type Value = Items<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Items::default();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item.get());
        }
        Ok(items)
    }
}

struct NamedParams<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for NamedParams<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = NamedParams<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(4));
                while let Some((k, v)) = m.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(NamedParams(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Writes params as a JSON object, one named field at a time (what volley's stubs send).
#[derive(Debug)]
pub struct ParamWriter {
    buf: Vec<u8>,
    /// `{` for named params, `[` for positional ones.
    open: u8,
}

impl Default for ParamWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ParamWriter {
    /// An empty object: params by name.
    pub fn new() -> Self {
        Self {
            buf: Vec::with_capacity(64),
            open: b'{',
        }
    }

    /// An empty array: params by position, in the order they are added.
    pub fn positional() -> Self {
        Self {
            buf: Vec::with_capacity(64),
            open: b'[',
        }
    }

    /// Appends the next param: `"name": value` by name, `value` by position.
    pub fn add<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        self.buf
            .push(if self.buf.is_empty() { self.open } else { b',' });
        if self.open == b'{' {
            // A Rust parameter's name needs no escaping; any other goes through serde_json.
            if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                self.buf.push(b'"');
                self.buf.extend_from_slice(name.as_bytes());
                self.buf.push(b'"');
            } else {
                serde_json::to_writer(&mut self.buf, name).map_err(Error::InvalidParams)?;
            }
            self.buf.push(b':');
        }
        serde_json::to_writer(&mut self.buf, value).map_err(Error::InvalidParams)
    }

    /// The finished object or array, or `None` when nothing was added (params are then left
    /// out).
    pub fn finish(mut self) -> Option<EncodedParams> {
        if self.buf.is_empty() {
            return None;
        }
        self.buf.push(if self.open == b'[' { b']' } else { b'}' });
        // serde_json writes UTF-8; the check never fails, and there is no fallible path left.
        String::from_utf8(self.buf).ok().map(EncodedParams)
    }
}

/// Params a [`ParamWriter`] encoded: JSON text that is valid by construction, sent as it is
/// (no second parse to prove it, as `RawValue::from_string` would).
#[derive(Debug, Clone)]
pub struct EncodedParams(String);

impl EncodedParams {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As a `RawValue`, for the paths that keep one (fan-out, streams).
    pub fn into_raw(self) -> Box<RawValue> {
        RawValue::from_string(self.0).expect("ParamWriter builds valid JSON")
    }
}

/// Encodes any `Serialize` value as params; it must encode to an array or an object
/// (a `()` or `null` value means no params).
pub fn encode_params<P: Serialize + ?Sized>(params: &P) -> Result<Option<Box<RawValue>>, Error> {
    let raw = serde_json::value::to_raw_value(params).map_err(Error::InvalidParams)?;
    match raw.get().as_bytes().first() {
        Some(b'[') | Some(b'{') => Ok(Some(raw)),
        Some(b'n') => Ok(None),
        _ => Err(Error::InvalidParams(serde::ser::Error::custom(
            "params must encode to a JSON array or object",
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["a", "b"];

    #[test]
    fn positional_and_named() {
        let r = ParamReader::new(Some("[1, 2]"), NAMES).unwrap();
        assert_eq!((r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()), (1, 2));
        let r = ParamReader::new(Some(r#"{"b":2,"a":1}"#), NAMES).unwrap();
        assert_eq!((r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()), (1, 2));
    }

    #[test]
    fn missing_optional_and_required() {
        let r = ParamReader::new(Some("[1]"), NAMES).unwrap();
        assert_eq!(r.get::<Option<i64>>(1).unwrap(), None);
        let e = r.get::<i64>(1).unwrap_err();
        assert_eq!(e.code(), codes::INVALID_PARAMS);
        assert_eq!(e.message(), "Invalid params");
        let r = ParamReader::new(None, NAMES).unwrap();
        assert_eq!(r.get::<Option<String>>(0).unwrap(), None);
    }

    #[test]
    fn positions_before_at_and_past_the_inline_ones() {
        const EIGHT: &[&str] = &["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
        for n in [INLINE - 1, INLINE, INLINE + 1, EIGHT.len()] {
            let text = format!(
                "[{}]",
                (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
            );
            let r = ParamReader::new(Some(&text), EIGHT).unwrap();
            for i in 0..EIGHT.len() {
                let expected = (i < n).then_some(i as i64);
                assert_eq!(
                    r.get::<Option<i64>>(i).unwrap(),
                    expected,
                    "{n} given, #{i}"
                );
            }
        }
        let nine = "[0,1,2,3,4,5,6,7,8]";
        let e = ParamReader::new(Some(nine), EIGHT).err().unwrap();
        assert!(
            e.to_string().contains("at most 8 positional params, got 9"),
            "{e}"
        );
    }

    #[test]
    fn refuses_bad_shapes() {
        for bad in ["[1,2,3]", r#"{"c":1}"#, r#"{"a":1,"a":2}"#, "5", "\"x\""] {
            assert!(ParamReader::new(Some(bad), NAMES).is_err(), "{bad}");
        }
        let r = ParamReader::new(Some(r#"["x"]"#), NAMES).unwrap();
        assert!(r.get::<i64>(0).is_err());
    }

    /// `params` as volley's reader hands them over: scanned within a request, its elements
    /// placed when they fit.
    fn scanned(params: &str) -> (String, CallParams<'static>) {
        let text = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{params}}}"#);
        let m = crate::scan::members(&text).expect("scanned");
        let call = CallParams::scanned(m.params, m.split).into_owned();
        (text, call)
    }

    #[test]
    fn params_placed_by_the_scanner_read_as_params_scanned_again() {
        const EIGHT: &[&str] = &["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
        let eight = |names: &'static [&'static str], params: &str| {
            let (_, call) = scanned(params);
            let placed = ParamReader::of(&call, names).map(|r| {
                (0..names.len())
                    .map(|i| {
                        r.get::<Option<serde_json::Value>>(i)
                            .map_err(|e| e.to_string())
                    })
                    .collect::<Vec<_>>()
            });
            let again = ParamReader::new(Some(params), names).map(|r| {
                (0..names.len())
                    .map(|i| {
                        r.get::<Option<serde_json::Value>>(i)
                            .map_err(|e| e.to_string())
                    })
                    .collect::<Vec<_>>()
            });
            assert_eq!(
                placed.map_err(|e| e.to_string()),
                again.map_err(|e| e.to_string()),
                "{params}"
            );
        };
        for params in [
            "[]",
            "[1, \"two\", [3], {\"four\": 4}, null, true]",
            "[0,1,2,3,4,5,6]",
            "[0,1,2,3,4,5,6,7,8]",
            "{\"p1\": 1}",
        ] {
            eight(EIGHT, params);
        }
        // More positional params than names: the same refusal either way.
        eight(NAMES, "[1,2,3]");
        let (_, call) = scanned("[1,2,3]");
        let e = ParamReader::of(&call, NAMES).err().expect("refused");
        assert!(
            e.to_string().contains("at most 2 positional params, got 3"),
            "{e}"
        );
        // Placed within whitespace, read from their places.
        let (_, call) = scanned("[ 40 , 2 ]");
        let r = ParamReader::of(&call, NAMES).expect("read");
        assert_eq!(
            (r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()),
            (40, 2)
        );
        assert!(matches!(r.shape, Shape::Placed(..)));
    }

    #[test]
    fn writer_round_trips() {
        let mut w = ParamWriter::new();
        w.add("a", &1).unwrap();
        w.add("q\"x", "hi").unwrap();
        let encoded = w.finish().unwrap();
        assert_eq!(encoded.as_str(), r#"{"a":1,"q\"x":"hi"}"#);
        // Valid JSON without being checked when made: a RawValue accepts it as it is.
        assert_eq!(encoded.clone().into_raw().get(), encoded.as_str());
        assert!(ParamWriter::new().finish().is_none());
        let mut w = ParamWriter::positional();
        w.add("a", &1).unwrap();
        w.add("b", &[true]).unwrap();
        w.add("c", &None::<u8>).unwrap();
        let encoded = w.finish().unwrap();
        assert_eq!(encoded.as_str(), r#"[1,[true],null]"#);
        assert_eq!(encoded.clone().into_raw().get(), encoded.as_str());
        assert!(ParamWriter::positional().finish().is_none());
    }
}
