//! A call's deadline, and the hasher of the pending-call table's ids.

use std::hash::Hasher;
use std::time::Duration;

use tokio::time::Instant;

/// When a call fails with [`Error::Timeout`], and the timeout it names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) after: Duration,
}

impl Deadline {
    /// `after` from now.
    pub(crate) fn after(after: Duration) -> Self {
        Self {
            at: Instant::now() + after,
            after,
        }
    }
}

/// Hashes the pending table's keys: call ids this side numbered itself (a peer can look
/// one up but never add one), so a multiplication spreads them well enough and costs far
/// less than SipHash, which guards tables whose keys a peer chooses.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
