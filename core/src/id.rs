//! [`PeerId`]: one connection's id, unique in its process and, in a cluster of server nodes,
//! across the nodes ([`NodeId`]).
//!
//! An id is `node << 40 | n`: the node's number (13 bits, 0 for a server on its own) above a
//! per-process count of connections (40 bits). Every id stays below 2^53, so it is exact as a
//! JavaScript number.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Identifies one connection for as long as the process runs (never reused). In a cluster
/// it also names the node the connection is on ([`PeerId::node`]), so ids are unique
/// across the nodes. A process starts counting at a random point, so one that takes over a
/// node number (or a server started again) does not give out its predecessor's ids: a
/// client holding an old id does not reach a new connection.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct PeerId(pub u64);

/// Bits of an id below the node's number.
const SEQUENCE_BITS: u32 = 40;

/// The largest sequence number (about 10^12 connections a process).
const SEQUENCE_MASK: u64 = (1 << SEQUENCE_BITS) - 1;

/// The next sequence number; 0 until the first id is given out.
static NEXT_PEER: AtomicU64 = AtomicU64::new(0);

/// A random start in the lower half of the sequence space (2^39 ids left before the count
/// wraps), never 0.
fn random_start() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // The standard library keys its hashers from the operating system's random source.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (random & (SEQUENCE_MASK >> 1)).max(1)
}

impl PeerId {
    /// A new id for a connection on `node`.
    pub(crate) fn next(node: NodeId) -> Self {
        if NEXT_PEER.load(Ordering::Relaxed) == 0 {
            // The first id of the process: whoever gets here first sets the start.
            let _ =
                NEXT_PEER.compare_exchange(0, random_start(), Ordering::Relaxed, Ordering::Relaxed);
        }
        let n = NEXT_PEER.fetch_add(1, Ordering::Relaxed) & SEQUENCE_MASK;
        PeerId(u64::from(node.0) << SEQUENCE_BITS | n)
    }

    /// The node the connection is on (`NodeId::default()`, 0, for a server on its own).
    pub fn node(self) -> NodeId {
        // The mask keeps the value within 13 bits: the cast cannot truncate.
        NodeId(((self.0 >> SEQUENCE_BITS) & u64::from(NodeId::MAX)) as u16)
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One server node of a cluster: a number from 0 to [`NodeId::MAX`], given by its
/// backplane. A server on its own is node 0.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct NodeId(u16);

impl NodeId {
    /// The largest node number (13 bits).
    pub const MAX: u16 = (1 << 13) - 1;

    /// Node `n`, when `n <= NodeId::MAX`.
    pub fn new(n: u16) -> Option<Self> {
        (n <= Self::MAX).then_some(Self(n))
    }

    /// Its number.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_node_and_stay_exact_in_javascript() {
        let alone = PeerId::next(NodeId::default());
        assert_eq!(alone.node(), NodeId::default());
        let last = NodeId::new(NodeId::MAX).expect("the largest node");
        let id = PeerId::next(last);
        assert_eq!(id.node(), last);
        assert!(id.0 < 1 << 53, "{id} is not exact as a JavaScript number");
        let seven = NodeId::new(7).expect("node 7");
        let (a, b) = (PeerId::next(seven), PeerId::next(seven));
        assert_ne!(a, b);
        assert_eq!((a.node(), b.node()), (seven, seven));
        assert_eq!(a.0 >> SEQUENCE_BITS, 7);
    }

    #[test]
    fn the_count_starts_at_a_random_point_and_goes_up_by_one() {
        let first = PeerId::next(NodeId::default());
        let second = PeerId::next(NodeId::default());
        assert!(second.0 > first.0, "{first} then {second}");
        // Other tests of this process take ids meanwhile; never more than a few.
        assert!(second.0 - first.0 < 1_000);
        let started = NEXT_PEER.load(Ordering::Relaxed);
        assert!((1..=SEQUENCE_MASK).contains(&started));
        // Starts fall in the lower half of the space, and differ from one draw to the next.
        let starts: Vec<u64> = (0..8).map(|_| random_start()).collect();
        assert!(starts.iter().all(|s| (1..=SEQUENCE_MASK >> 1).contains(s)));
        assert!(starts.windows(2).any(|w| w[0] != w[1]), "{starts:?}");
    }

    #[test]
    fn node_numbers_have_13_bits() {
        assert_eq!(NodeId::new(8191).map(NodeId::get), Some(8191));
        assert_eq!(NodeId::new(8192), None);
        assert_eq!(NodeId::new(0), Some(NodeId::default()));
    }
}
