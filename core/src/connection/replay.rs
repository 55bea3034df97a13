//! The replay buffer of a resumable session: every counted frame sent and not yet
//! acknowledged by the peer, to be written again on the next socket (PROTOCOL.md,
//! "Session resumption").

use std::collections::VecDeque;

use crate::frame::Frame;

/// Frames sent on this session, numbered from 1, kept until acknowledged.
#[derive(Debug, Default)]
pub(super) struct Replay {
    /// Whether frames are numbered and kept at all (the session is resumable).
    numbered: bool,
    /// The number of the last counted frame sent.
    sent: u64,
    /// Unacknowledged frames, oldest first, with their numbers.
    frames: VecDeque<(u64, Frame)>,
    bytes: usize,
    limit: usize,
}

impl Replay {
    /// A buffer holding up to `limit` bytes of frames (one frame of any size when empty).
    pub(super) fn new(limit: usize) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    /// Starts a new numbering (a fresh session): nothing sent, nothing kept.
    pub(super) fn reset(&mut self, numbered: bool) {
        self.numbered = numbered;
        self.sent = 0;
        self.frames.clear();
        self.bytes = 0;
    }

    pub(super) fn is_numbered(&self) -> bool {
        self.numbered
    }

    /// Bytes of frames held.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Drops the frames the peer says it has (`received` counts them from the first).
    pub(super) fn ack(&mut self, received: u64) {
        while let Some((n, frame)) = self.frames.front() {
            if *n > received {
                break;
            }
            self.bytes -= frame.len();
            self.frames.pop_front();
        }
    }

    /// Whether another frame may be sent now: always when not numbered; otherwise while the
    /// buffer is under its limit (an empty buffer takes one frame of any size).
    pub(super) fn has_room(&self) -> bool {
        !self.numbered || self.frames.is_empty() || self.bytes < self.limit
    }

    /// Numbers and keeps a frame about to be written.
    pub(super) fn record(&mut self, frame: &Frame) {
        if !self.numbered {
            return;
        }
        self.sent += 1;
        self.bytes += frame.len();
        self.frames.push_back((self.sent, frame.clone()));
    }

    /// The frames to write again on a resumed socket, oldest first.
    pub(super) fn unacked(&self) -> impl Iterator<Item = &Frame> {
        self.frames.iter().map(|(_, f)| f)
    }
}

#[cfg(test)]
mod tests {
    use super::{Frame, Replay};

    #[test]
    fn keeps_unacknowledged_frames_within_its_limit() {
        let mut r = Replay::new(10);
        r.reset(true);
        assert!(r.has_room());
        r.record(&Frame::from("aaaa"));
        r.record(&Frame::from("bbbb"));
        assert!(r.has_room(), "8 bytes of 10");
        r.record(&Frame::from("cc"));
        assert!(!r.has_room(), "10 bytes of 10: full");
        r.ack(1);
        let unacked: Vec<&str> = r.unacked().map(Frame::as_str).collect();
        assert_eq!(unacked, ["bbbb", "cc"]);
        assert_eq!(r.bytes(), 6);
        assert!(r.has_room());
        r.ack(7);
        assert_eq!(r.bytes(), 0);
        r.record(&Frame::from("x".repeat(50)));
        assert_eq!(r.bytes(), 50, "an empty buffer takes one frame of any size");
        assert!(!r.has_room());
    }

    #[test]
    fn an_unnumbered_session_keeps_nothing() {
        let mut r = Replay::new(1);
        r.record(&Frame::from("frame"));
        assert!(r.has_room());
        assert_eq!(r.unacked().count(), 0);
    }
}
