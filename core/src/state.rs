//! What a connection knows about itself beyond the wire: the [`Claims`] its handshake
//! established, and typed per-connection state that handlers keep, dropped when the
//! connection closes.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Mutex;

/// Claims about the peer established when the connection opened (by the server's
/// authentication hook, or by an axum layer that inserts `Claims(value)` into the upgrade
/// request's extensions). Read them with `cx.claims::<T>()` or `peer.claims::<T>()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Claims<T>(pub T);

/// Typed values kept for one connection, one per type.
#[derive(Default)]
pub(crate) struct State {
    values: Mutex<HashMap<TypeId, Box<dyn Any + Send>>>,
}

impl State {
    /// Runs `f` on this connection's `T`, created with `Default` first when absent.
    pub(crate) fn with<T: Default + Send + 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let value = values
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        match value.downcast_mut::<T>() {
            Some(value) => f(value),
            None => unreachable!("values are stored under their own type id"),
        }
    }

    /// A copy of this connection's `T`, when set.
    pub(crate) fn get<T: Clone + Send + 'static>(&self) -> Option<T> {
        let values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        values
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    /// Sets this connection's `T`, returning the previous one.
    pub(crate) fn insert<T: Send + 'static>(&self, value: T) -> Option<T> {
        let mut values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        values
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|old| old.downcast::<T>().ok().map(|b| *b))
    }

    /// Removes and returns this connection's `T`.
    pub(crate) fn remove<T: Send + 'static>(&self) -> Option<T> {
        let mut values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        values
            .remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast::<T>().ok().map(|b| *b))
    }

    /// Drops every value (the connection closed).
    pub(crate) fn clear(&self) {
        let drained = std::mem::take(&mut *self.values.lock().unwrap_or_else(|p| p.into_inner()));
        drop(drained);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type_created_on_first_use_and_dropped_on_clear() {
        let state = State::default();
        assert_eq!(state.get::<Vec<String>>(), None);
        state.with(|rooms: &mut Vec<String>| rooms.push("lobby".into()));
        state.with(|rooms: &mut Vec<String>| rooms.push("games".into()));
        state.with(|n: &mut u32| *n += 1);
        assert_eq!(
            state.get::<Vec<String>>(),
            Some(vec!["lobby".into(), "games".into()])
        );
        assert_eq!(state.get::<u32>(), Some(1));
        assert_eq!(state.insert(7u32), Some(1));
        assert_eq!(state.remove::<u32>(), Some(7));
        assert_eq!(state.get::<u32>(), None);
        state.clear();
        assert_eq!(state.get::<Vec<String>>(), None);
    }
}
