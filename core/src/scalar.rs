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

/// One value's raw JSON text.
struct Scalar<'a>(&'a str);

/// An integer as serde_json reads it: `U` when not negative, `I` when negative.
enum Int {
    U(u64),
    I(i64),
}

impl<'a> Scalar<'a> {
    /// The text as an integer, when it is one without a leading zero and of at most 18
    /// digits (so it never overflows). `-0` is left out: serde_json reads it as a float.
    fn integer(&self) -> Option<Int> {
        let (negative, digits) = match self.0.as_bytes() {
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
        let inside = self.0.strip_prefix('"')?.strip_suffix('"')?;
        inside
            .bytes()
            .all(|c| c != b'"' && c != b'\\' && c >= 0x20)
            .then_some(inside)
    }

    /// What serde_json's deserializer reads with `read`, when the text holds nothing more.
    fn json<T>(
        &self,
        read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'a>>) -> serde_json::Result<T>,
    ) -> serde_json::Result<T> {
        let mut de = serde_json::Deserializer::from_str(self.0);
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

impl<'a> Deserializer<'a> for Scalar<'a> {
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
        match self.0 {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
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
        match self.0.as_bytes().first() {
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
