//! Decoding one value from its raw JSON text, as `serde_json::from_str` does, with the
//! common scalars read directly: an integer of up to 18 digits, a string without escapes,
//! `true` and `false`. A type that asks for anything else, and every error, goes to
//! serde_json, so the outcome (the value, or the error and its wording) is serde_json's.
//!
//! Setting up serde_json's deserializer and checking the text's end costs several times
//! what reading `42` does; a call's params and results are mostly such values.

use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde_json::de::StrRead;

/// Decodes a `T` from `text`: what `serde_json::from_str(text)` gives.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    match T::deserialize(Scalar(text)) {
        Ok(value) => Ok(value),
        // serde_json decides, and words the error with its position.
        Err(_) => serde_json::from_str(text),
    }
}

/// Decodes a `T` from `bytes`, JSON text already checked as UTF-8 elsewhere (a part of a
/// frame the reader checked): what `serde_json::from_slice(bytes)` gives. An integer,
/// `true` or `false` is read without looking at the bytes as UTF-8 again, a plain string
/// checks only its inside, anything else checks the whole text once, as `from_slice` does.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match T::deserialize(Scalar(Checked(bytes))) {
        Ok(value) => Ok(value),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// One value's raw JSON text, as a `str` or as [`Checked`] bytes.
struct Scalar<T>(T);

/// Bytes checked as UTF-8 elsewhere, not looked at as such again unless a `str` is needed.
#[derive(Clone, Copy)]
struct Checked<'a>(&'a [u8]);

/// Where a [`Scalar`]'s text is: its bytes, and a part of it (or all of it) as a `str`.
trait Text<'a>: Copy {
    fn bytes(self) -> &'a [u8];
    /// The text without its first and last bytes (a string's quotes).
    fn inside(self) -> Option<&'a str>;
    fn whole(self) -> serde_json::Result<&'a str>;
}

impl<'a> Text<'a> for &'a str {
    fn bytes(self) -> &'a [u8] {
        self.as_bytes()
    }
    fn inside(self) -> Option<&'a str> {
        self.get(1..self.len().checked_sub(1)?)
    }
    fn whole(self) -> serde_json::Result<&'a str> {
        Ok(self)
    }
}

impl<'a> Text<'a> for Checked<'a> {
    fn bytes(self) -> &'a [u8] {
        self.0
    }
    fn inside(self) -> Option<&'a str> {
        std::str::from_utf8(self.0.get(1..self.0.len().checked_sub(1)?)?).ok()
    }
    fn whole(self) -> serde_json::Result<&'a str> {
        std::str::from_utf8(self.0).map_err(serde::de::Error::custom)
    }
}

/// An integer as serde_json reads it: `U` when not negative, `I` when negative.
enum Int {
    U(u64),
    I(i64),
}

impl<'a, S: Text<'a>> Scalar<S> {
    /// The text as an integer, when it is one without a leading zero and of at most 18
    /// digits (so it never overflows). `-0` is left out: serde_json reads it as a float.
    fn integer(&self) -> Option<Int> {
        let (negative, digits) = match self.0.bytes() {
            [b'-', rest @ ..] => (true, rest),
            all => (false, all),
        };
        let ([first, ..], 1..=18) = (digits, digits.len()) else {
            return None;
        };
        if *first == b'0' && (digits.len() > 1 || negative) {
            return None;
        }
        let mut n: u64 = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u64::from(d - b'0');
        }
        Some(if negative {
            // At most 18 digits: within i64.
            Int::I(-(n as i64))
        } else {
            Int::U(n)
        })
    }

    /// The inside of a string without escapes or control characters.
    fn plain_string(&self) -> Option<&'a str> {
        let [b'"', inside @ .., b'"'] = self.0.bytes() else {
            return None;
        };
        if !inside.iter().all(|&c| c != b'"' && c != b'\\' && c >= 0x20) {
            return None;
        }
        self.0.inside()
    }

    /// What serde_json's deserializer reads with `read`, when the text holds nothing more.
    fn json<T>(
        &self,
        read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'a>>) -> serde_json::Result<T>,
    ) -> serde_json::Result<T> {
        let mut de = serde_json::Deserializer::from_str(self.0.whole()?);
        let value = read(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

/// Methods that read a number: an integer is visited as serde_json visits it, anything
/// else goes to serde_json.
macro_rules! number {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.integer() {
                Some(Int::U(n)) => visitor.visit_u64(n),
                Some(Int::I(n)) => visitor.visit_i64(n),
                None => self.json(|de| de.$method(visitor)),
            }
        }
    )*};
}

/// Methods left to serde_json whole.
macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.json(|de| de.$method(visitor))
        }
    )*};
}

impl<'a, S: Text<'a>> Deserializer<'a> for Scalar<S> {
    type Error = serde_json::Error;

    number! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_f32 deserialize_f64
    }

    forward! {
        deserialize_any deserialize_i128 deserialize_u128 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0.bytes() {
            b"true" => visitor.visit_bool(true),
            b"false" => visitor.visit_bool(false),
            _ => self.json(|de| de.deserialize_bool(visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.plain_string() {
            Some(inside) => visitor.visit_borrowed_str(inside),
            None => self.json(|de| de.deserialize_str(visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // serde_json reads `null` (after whitespace) as none and anything else as some.
        match self.0.bytes().first() {
            Some(b'n' | b' ' | b'\t' | b'\n' | b'\r') | None => {
                self.json(|de| de.deserialize_option(visitor))
            }
            Some(_) => visitor.visit_some(self),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.json(|de| de.deserialize_unit_struct(name, visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.json(|de| de.deserialize_newtype_struct(name, visitor))
    }

    fn deserialize_tuple<V: Visitor<'a>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.json(|de| de.deserialize_tuple(len, visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.json(|de| de.deserialize_tuple_struct(name, len, visitor))
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.json(|de| de.deserialize_struct(name, fields, visitor))
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.json(|de| de.deserialize_enum(name, variants, visitor))
    }
}

#[cfg(test)]
#[path = "scalar_tests.rs"]
mod tests;
