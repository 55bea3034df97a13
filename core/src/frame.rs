//! [`Frame`]: the text of one outgoing frame, cheap to clone, so a broadcast encodes its
//! message once and every recipient's writer shares the same bytes.

use std::fmt;

use bytes::Bytes;

/// The UTF-8 text of one outgoing WebSocket frame. Cloning it shares the bytes (a reference
/// count), so one encoded notification can be queued for ten thousand peers without a copy.
///
/// Made from a `String` without copying; [`Frame::into_bytes`] hands the bytes to a
/// WebSocket library (`Utf8Bytes::try_from(bytes)` in tungstenite and axum).
#[derive(Clone)]
pub struct Frame(Repr);

#[derive(Clone)]
enum Repr {
    /// Shared bytes: clones count references.
    Shared(Bytes),
    /// An answer's own buffer, spare room and all: it has one recipient, so it is not made
    /// shareable (which costs an allocation) unless it is cloned (a copy) or handed over as
    /// [`Bytes`].
    Owned(Answer),
}

/// A one-recipient frame's buffer (an answer's, a call's), which goes back to this thread's
/// [`spare`] buffers when the frame is dropped (once written).
#[derive(Clone)]
struct Answer(Vec<u8>);

impl Drop for Answer {
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.0));
    }
}

/// Spare buffers for one-recipient frames, up to [`spare::KEPT`] per thread. A connection answers a batch of
/// calls and frees their buffers together once they are written; the allocator's per-thread
/// cache holds only a few of a size, so the rest took its slower paths (about a fifth of the
/// engine's cost per call). Buffers that grew past [`spare::ROOM`] are freed as usual.
mod spare {
    use std::cell::RefCell;

    /// The most buffers kept per thread.
    pub(super) const KEPT: usize = 64;
    /// The largest buffer kept, in bytes: at most `KEPT * ROOM` (16 KiB) per thread.
    pub(super) const ROOM: usize = 256;

    thread_local! {
        pub(super) static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty buffer with room for `room` bytes: a spare one when there is one.
    pub(super) fn take(room: usize) -> Vec<u8> {
        let spare = SPARE
            .try_with(|spare| spare.try_borrow_mut().ok()?.pop())
            .ok()
            .flatten();
        match spare {
            Some(mut buf) => {
                buf.reserve(room);
                buf
            }
            // At least the smallest size kept, so that it can come back.
            None => Vec::with_capacity(room.max(super::ANSWER_ROOM)),
        }
    }

    /// Keeps `buf` for a later answer, when there is room for it.
    pub(super) fn give(mut buf: Vec<u8>) {
        if !(super::ANSWER_ROOM..=ROOM).contains(&buf.capacity()) {
            return;
        }
        buf.clear();
        let _ = SPARE.try_with(|spare| {
            if let Ok(mut spare) = spare.try_borrow_mut()
                && spare.len() < KEPT
            {
                if spare.capacity() == 0 {
                    spare.reserve_exact(KEPT);
                }
                spare.push(buf);
            }
        });
    }
}

impl Frame {
    /// The frame's length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the frame is empty.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The frame's bytes (always valid UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Shared(bytes) => bytes,
            Repr::Owned(buf) => &buf.0,
        }
    }

    /// The frame's text.
    pub fn as_str(&self) -> &str {
        // Every constructor takes a `str` (or serde_json's output), so this never fails.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The shared bytes (always valid UTF-8).
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Shared(bytes) => bytes,
            Repr::Owned(mut buf) => Bytes::from(std::mem::take(&mut buf.0)),
        }
    }
}

impl Frame {
    /// The frame of `text` for one recipient (a call, an answer): its buffer goes back to
    /// this thread's spare buffers once it is written.
    pub(crate) fn one(text: String) -> Self {
        Self(Repr::Owned(Answer(text.into_bytes())))
    }

    /// [`Frame::one`] of JSON text written as bytes, UTF-8 by construction (every part a
    /// `str` or serde_json's output).
    pub(crate) fn one_json(text: Vec<u8>) -> Self {
        Self(Repr::Owned(Answer(text)))
    }

    /// `bytes` as a frame, when they are UTF-8 text.
    pub fn from_utf8(bytes: Bytes) -> Option<Self> {
        std::str::from_utf8(&bytes)
            .is_ok()
            .then_some(Self(Repr::Shared(bytes)))
    }
}

impl PartialEq for Frame {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Frame {}

impl std::hash::Hash for Frame {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Self {
        Self(Repr::Shared(Bytes::from(text)))
    }
}

impl From<&'static str> for Frame {
    fn from(text: &'static str) -> Self {
        Self(Repr::Shared(Bytes::from_static(text.as_bytes())))
    }
}

impl From<Frame> for String {
    fn from(frame: Frame) -> Self {
        frame.as_str().to_owned()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An empty buffer with room for `room` bytes, a spare one when there is one (for a frame
/// that [`Frame::one_json`] will carry).
pub(crate) fn spare_bytes(room: usize) -> Vec<u8> {
    spare::take(room)
}

/// An empty string with room for `room` bytes, in a spare buffer when there is one (for a
/// frame that [`Frame::one`] will carry).
pub(crate) fn spare_string(room: usize) -> String {
    // An empty buffer is valid UTF-8.
    String::from_utf8(spare::take(room)).unwrap_or_default()
}

/// What a success answer starts with; the value follows, then `,"id":<id>}`.
const RESULT_HEAD: &[u8] = br#"{"jsonrpc":"2.0","result":"#;

/// Room for most results and their id, so that an answer is written without growing its
/// buffer.
const ANSWER_ROOM: usize = 96;

/// A handler's result, encoded where its answer will be: the buffer holds
/// `{"jsonrpc":"2.0","result":` and the value, and `into_answer` adds the request's
/// id and the closing brace. An answer is so encoded once, into one buffer, which becomes
/// the frame without a copy. (JSON-RPC does not order an object's members; volley's answers
/// put `result` before `id`.)
pub struct Encoded(Vec<u8>);

impl Encoded {
    /// Encodes `value` as a result.
    pub fn new<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<Self> {
        let mut buf = spare::take(ANSWER_ROOM);
        buf.extend_from_slice(RESULT_HEAD);
        serde_json::to_writer(&mut buf, value)?;
        Ok(Self(buf))
    }

    /// A result from JSON text that is known to be valid (a `RawValue`'s, a literal).
    pub(crate) fn raw(json: &str) -> Self {
        let mut buf = Vec::with_capacity(RESULT_HEAD.len() + json.len() + 24);
        buf.extend_from_slice(RESULT_HEAD);
        buf.extend_from_slice(json.as_bytes());
        Self(buf)
    }

    /// The result's JSON text.
    pub fn value(&self) -> &str {
        // Made only from `str`s and serde_json's output, both UTF-8.
        std::str::from_utf8(&self.0[RESULT_HEAD.len()..]).unwrap_or_default()
    }

    /// The success answer to the request `id` (its JSON text): the id and the closing brace
    /// go after the value, in the same buffer.
    pub(crate) fn into_answer(self, id: &str) -> Frame {
        let mut buf = self.0;
        buf.extend_from_slice(br#","id":"#);
        buf.extend_from_slice(id.as_bytes());
        buf.push(b'}');
        // Every part is UTF-8 (see `value`). The buffer keeps its spare room rather than be
        // copied to drop it.
        Frame(Repr::Owned(Answer(buf)))
    }
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Encoded").field(&self.value()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_bytes() {
        let frame = Frame::from(String::from(r#"{"jsonrpc":"2.0","method":"tick"}"#));
        let copy = frame.clone();
        assert_eq!(frame.as_bytes().as_ptr(), copy.as_bytes().as_ptr());
        assert_eq!(copy.as_str(), r#"{"jsonrpc":"2.0","method":"tick"}"#);
        assert_eq!(String::from(copy), frame.to_string());
    }

    #[test]
    fn a_string_becomes_a_frame_without_a_copy() {
        let text = String::from("héllo");
        let at = text.as_ptr();
        let frame = Frame::from(text);
        assert_eq!(frame.as_bytes().as_ptr(), at);
        assert_eq!(frame.len(), 6);
    }

    #[test]
    fn an_encoded_result_becomes_its_answer_in_place() {
        let encoded = Encoded::new(&vec![1, 2]).unwrap();
        assert_eq!(encoded.value(), "[1,2]");
        let at = encoded.0.as_ptr();
        let answer = encoded.into_answer("7");
        assert_eq!(answer.as_bytes().as_ptr(), at, "no copy");
        let copy = answer.clone();
        assert_eq!(copy, answer);
        assert_eq!(copy.clone().into_bytes(), answer.as_bytes());
        assert_eq!(
            answer.as_str(),
            r#"{"jsonrpc":"2.0","result":[1,2],"id":7}"#
        );
        let v: serde_json::Value = serde_json::from_str(answer.as_str()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"jsonrpc": "2.0", "id": 7, "result": [1, 2]})
        );

        let long = "é".repeat(200);
        let answer = Encoded::new(&long).unwrap().into_answer(r#""a""#);
        let v: serde_json::Value = serde_json::from_str(answer.as_str()).unwrap();
        assert_eq!(v["result"], serde_json::json!(long));
        assert_eq!(
            Encoded::raw("null").into_answer("1").as_str(),
            r#"{"jsonrpc":"2.0","result":null,"id":1}"#
        );
    }

    #[test]
    fn written_answers_leave_their_buffers_for_the_next_ones() {
        // Each test runs on a thread of its own: its spare buffers start empty.
        std::thread::spawn(|| {
            let answer = Encoded::new(&1).unwrap().into_answer("1");
            let at = answer.as_bytes().as_ptr();
            drop(answer);
            let next = Encoded::new(&2).unwrap();
            assert_eq!(next.0.as_ptr(), at, "the spare buffer is used");
            drop(next.into_answer("2"));

            // A batch: at most KEPT are kept, the rest freed.
            let batch: Vec<Frame> = (0..spare::KEPT + 10)
                .map(|i| Encoded::new(&i).unwrap().into_answer("1"))
                .collect();
            drop(batch);
            let kept = spare::SPARE.with_borrow(Vec::len);
            assert_eq!(kept, spare::KEPT);

            // One that grew past ROOM is freed, not kept; nor is one handed over as bytes.
            let _ = spare::SPARE.with_borrow_mut(std::mem::take);
            let big = Encoded::new(&"x".repeat(spare::ROOM))
                .unwrap()
                .into_answer("1");
            drop(big);
            let small = Encoded::new(&"x".repeat(150)).unwrap();
            assert!(small.0.capacity() <= spare::ROOM);
            drop(small.into_answer("1"));
            assert_eq!(spare::SPARE.with_borrow(Vec::len), 1);
            let bytes = Encoded::new(&3).unwrap().into_answer("1").into_bytes();
            assert_eq!(
                spare::SPARE.with_borrow(Vec::len),
                0,
                "taken, not given back"
            );
            drop(bytes);
            assert_eq!(spare::SPARE.with_borrow(Vec::len), 0);
        })
        .join()
        .unwrap();
    }
}
