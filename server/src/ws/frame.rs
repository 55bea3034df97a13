//! WebSocket frames as RFC 6455 section 5 lays them out: reading a frame's head, unmasking
//! its payload, and writing the head of a frame the server sends (servers never mask).

use std::fmt;

/// A frame's opcode (RFC 6455 section 5.2); the others are reserved and refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented.
    pub(crate) fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// Why the peer's bytes are not a WebSocket conversation; the close code to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// 1002 (protocol error), 1007 (text that is not UTF-8) or 1009 (too big).
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
}

impl Violation {
    pub(crate) const fn protocol(reason: &'static str) -> Self {
        Self { code: 1002, reason }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.code)
    }
}

/// The head of a frame a client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) fin: bool,
    pub(crate) opcode: Opcode,
    pub(crate) mask: [u8; 4],
    /// Bytes of head: 6, 8 or 14.
    pub(crate) len: usize,
    /// Bytes of payload.
    pub(crate) payload: usize,
}

/// The longest head a client sends: 2 bytes, an 8-byte length, a 4-byte mask.
pub(crate) const MAX_HEAD: usize = 14;

impl Head {
    /// The head at the start of `bytes`: `Ok(None)` until all of it has arrived. Refuses
    /// what no client may send: reserved bits (volley negotiates no extension), reserved
    /// opcodes, an unmasked frame, a fragmented or oversized control frame, a length whose
    /// top bit is set, and a payload over `max` bytes (1009).
    pub(crate) fn parse(bytes: &[u8], max: usize) -> Result<Option<Self>, Violation> {
        let [first, second, ..] = *bytes else {
            return Ok(None);
        };
        if first & 0x70 != 0 {
            return Err(Violation::protocol(
                "reserved bits set without an extension",
            ));
        }
        let fin = first & 0x80 != 0;
        let opcode =
            Opcode::from_bits(first & 0x0F).ok_or(Violation::protocol("reserved opcode"))?;
        if second & 0x80 == 0 {
            return Err(Violation::protocol("a client frame must be masked"));
        }
        let short = usize::from(second & 0x7F);
        let (at, payload) = match short {
            126 => {
                let Some(b) = bytes.get(2..4) else {
                    return Ok(None);
                };
                (4, u64::from(u16::from_be_bytes([b[0], b[1]])))
            }
            127 => {
                let Some(b) = bytes.get(2..10) else {
                    return Ok(None);
                };
                let mut len = [0u8; 8];
                len.copy_from_slice(b);
                let len = u64::from_be_bytes(len);
                if len >> 63 != 0 {
                    return Err(Violation::protocol("payload length has its top bit set"));
                }
                (10, len)
            }
            n => (2, n as u64),
        };
        if opcode.is_control() && (!fin || payload > 125) {
            return Err(Violation::protocol(
                "a control frame must be final and at most 125 bytes",
            ));
        }
        let payload = match usize::try_from(payload) {
            Ok(p) if p <= max => p,
            _ => {
                return Err(Violation {
                    code: 1009,
                    reason: "message too big",
                });
            }
        };
        let Some(m) = bytes.get(at..at + 4) else {
            return Ok(None);
        };
        Ok(Some(Self {
            fin,
            opcode,
            mask: [m[0], m[1], m[2], m[3]],
            len: at + 4,
            payload,
        }))
    }
}

/// XORs `payload` with the frame's mask, in place.
pub(crate) fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let wide = u64::from(word) | (u64::from(word) << 32);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(b) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
}

/// Appends the head of a final, unmasked frame of `len` payload bytes to `out`.
pub(crate) fn write_head(out: &mut Vec<u8>, opcode: Opcode, len: usize) {
    out.push(0x80 | opcode.bits());
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// A close frame's payload: `None` for an empty one. Refuses a 1-byte payload, a code no
/// endpoint may send (RFC 6455 section 7.4), and a reason that is not UTF-8.
pub(crate) fn parse_close(payload: &[u8]) -> Result<Option<(u16, String)>, Violation> {
    match payload {
        [] => Ok(None),
        [_] => Err(Violation::protocol("a close frame's code is cut short")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let allowed = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !allowed {
                return Err(Violation::protocol("a close code no endpoint may send"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| Violation {
                code: 1007,
                reason: "a close reason that is not UTF-8",
            })?;
            Ok(Some((code, reason.to_owned())))
        }
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
