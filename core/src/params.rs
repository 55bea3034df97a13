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

/// Writes a call's params, one at a time, into the request frame that will carry them: the
/// buffer starts with `{"jsonrpc":"2.0","method":<method>,"params":`, the params follow, and
/// the call's id (known once it is registered) and the closing brace are appended after
/// them, so the params are encoded once, in place, and never copied.
#[derive(Debug)]
pub struct ParamWriter {
    buf: Vec<u8>,
    /// Where the params begin in `buf`.
    at: usize,
    /// `{` for named params, `[` for positional ones.
    open: u8,
}

/// Room for most requests and their params, so that one is written without growing.
const REQUEST_ROOM: usize = 128;

impl ParamWriter {
    /// Params by name (an object) of a request for `method`.
    pub fn new(method: &str) -> Self {
        Self::start(method, b'{')
    }

    /// Params by position (an array, in the order they are added) of a request for `method`.
    pub fn positional(method: &str) -> Self {
        Self::start(method, b'[')
    }

    fn start(method: &str, open: u8) -> Self {
        let mut buf = crate::frame::spare_bytes(REQUEST_ROOM);
        buf.extend_from_slice(br#"{"jsonrpc":"2.0","method":"#);
        if crate::message::is_plain(method) {
            buf.push(b'"');
            buf.extend_from_slice(method.as_bytes());
            buf.push(b'"');
        } else if serde_json::to_writer(&mut buf, method).is_err() {
            // A `str` always encodes.
            buf.extend_from_slice(b"\"\"");
        }
        buf.extend_from_slice(br#","params":"#);
        let at = buf.len();
        Self { buf, at, open }
    }

    /// Before the next param: the opening bracket or a comma.
    #[inline]
    fn next(&mut self) {
        let sep = if self.buf.len() == self.at {
            self.open
        } else {
            b','
        };
        self.buf.push(sep);
    }

    /// Appends the next param: `"name": value` by name, `value` by position.
    pub fn add<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        self.next();
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

    /// Appends the next named param whose key, `"name":`, the stub wrote out in full (a name
    /// that needs no escaping); by position, the key is left out.
    pub fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        debug_assert!(
            key.len() > 3
                && key.starts_with('"')
                && key.ends_with("\":")
                && crate::message::is_plain(&key[1..key.len() - 2]),
            "a whole key: {key}"
        );
        self.next();
        if self.open == b'{' {
            self.buf.extend_from_slice(key.as_bytes());
        }
        serde_json::to_writer(&mut self.buf, value).map_err(Error::InvalidParams)
    }

    /// The finished object or array, or `None` when nothing was added (params are then left
    /// out).
    pub fn finish(mut self) -> Option<EncodedParams> {
        if self.buf.len() == self.at {
            return None;
        }
        self.buf.push(if self.open == b'[' { b']' } else { b'}' });
        Some(EncodedParams {
            buf: self.buf,
            at: self.at,
        })
    }
}

/// Params a [`ParamWriter`] encoded, in the request that will carry them: JSON text that is
/// valid by construction, sent as it is (no second parse to prove it, as
/// `RawValue::from_string` would).
#[derive(Debug, Clone)]
pub struct EncodedParams {
    /// `{"jsonrpc":"2.0","method":<method>,"params":<params>`.
    buf: Vec<u8>,
    /// Where the params begin.
    at: usize,
}

impl EncodedParams {
    /// The params' JSON text, as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.at..]
    }

    /// As a `RawValue`, for the paths that keep one (fan-out, streams).
    pub fn into_raw(self) -> Box<RawValue> {
        let text = String::from_utf8_lossy(self.as_bytes()).into_owned();
        RawValue::from_string(text).expect("ParamWriter builds valid JSON")
    }

    /// The request's frame: a call's with `id` (the id last:
    /// `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}`), a notification's without.
    pub(crate) fn into_frame(mut self, id: Option<u64>) -> crate::frame::Frame {
        close(&mut self.buf, id);
        crate::frame::Frame::one_json(self.buf)
    }

    /// The request's text with `id` (kept for an idempotent call's re-sends).
    pub(crate) fn request(&self, id: u64) -> String {
        let mut buf = self.buf.clone();
        close(&mut buf, Some(id));
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Ends a request after its params: `,"id":<id>}`, or `}` without an id.
fn close(buf: &mut Vec<u8>, id: Option<u64>) {
    if let Some(id) = id {
        buf.extend_from_slice(br#","id":"#);
        buf.extend_from_slice(itoa::Buffer::new().format(id).as_bytes());
    }
    buf.push(b'}');
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
#[path = "params_tests.rs"]
mod tests;
