//! [`Returned`]: what an answer to one of this side's calls returned, as it came.

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// The JSON text of an answer's `result`, sharing the bytes of the frame it came in: not
/// copied, and not parsed again (the reader has validated it). A generated stub decodes its
/// value straight from it; [`Returned::into_raw`] makes the `RawValue` the public calls
/// return.
#[derive(Debug, Clone)]
pub(crate) struct Returned(Bytes);

impl Returned {
    /// `text` where it lies within `frame`, shared with it; copied when it is not a part of
    /// `frame`.
    pub(crate) fn within(frame: &Bytes, text: &str) -> Self {
        let start = frame.as_ptr() as usize;
        let at = text.as_ptr() as usize;
        let inside = at >= start && at + text.len() <= start + frame.len() && !text.is_empty();
        Self(if inside {
            frame.slice_ref(text.as_bytes())
        } else {
            Bytes::copy_from_slice(text.as_bytes())
        })
    }

    /// The result's JSON text, as bytes (UTF-8: see [`Returned::as_str`]).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The result's JSON text.
    pub(crate) fn as_str(&self) -> &str {
        // A part of a frame the reader checked as UTF-8 (or of a `str`), cut where a JSON
        // value begins and ends: never fails.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The result as a `RawValue` of its own.
    pub(crate) fn into_raw(self) -> Result<Box<RawValue>> {
        RawValue::from_string(self.as_str().to_owned()).map_err(Error::InvalidResult)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_of_the_frame_is_shared_and_anything_else_copied() {
        let frame = Bytes::from_static(br#"{"jsonrpc":"2.0","result":[1,2],"id":1}"#);
        let text = std::str::from_utf8(&frame).unwrap();
        let result = &text[26..31];
        let shared = Returned::within(&frame, result);
        assert_eq!(shared.as_str(), "[1,2]");
        assert_eq!(shared.0.as_ptr(), result.as_ptr());
        // Elsewhere, straddling the end, empty: copied.
        let elsewhere = String::from("[1,2]");
        let copied = Returned::within(&frame, &elsewhere);
        assert_eq!(copied.as_str(), "[1,2]");
        assert_ne!(copied.0.as_ptr(), elsewhere.as_ptr());
        assert_eq!(Returned::within(&frame, &text[..0]).as_str(), "");
        assert_eq!(shared.into_raw().unwrap().get(), "[1,2]");
    }
}
