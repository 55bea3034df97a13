//! Resumable sessions by id, for a resuming upgrade to find (PROTOCOL.md, "Session
//! resumption").

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use volley_core::connection::Session;
use volley_core::resume;

use crate::ws::Sender;

/// A session on the server's WebSocket.
pub(crate) type WsSession = Session<Sender>;

/// What the upgrade request asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// Plain JSON-RPC: no session.
    Plain,
    /// A new resumable session.
    New,
    /// Resume this session.
    Resume {
        id: String,
        token: String,
        received: u64,
    },
}

impl Ask {
    /// Reads the session query parameters; `Err` says which one is malformed.
    pub(crate) fn from_query(query: Option<&str>) -> Result<Ask, String> {
        let mut session = None;
        let mut token = None;
        let mut received = None;
        for pair in query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                resume::QUERY_SESSION => session = Some(value),
                resume::QUERY_TOKEN => token = Some(value),
                resume::QUERY_RECEIVED => received = Some(value),
                _ => {}
            }
        }
        match session {
            None => Ok(Ask::Plain),
            Some("new") => Ok(Ask::New),
            Some(id) => {
                let token = token.ok_or(format!("{} is missing", resume::QUERY_TOKEN))?;
                let received = received
                    .unwrap_or("0")
                    .parse()
                    .map_err(|_| format!("{} must be a whole number", resume::QUERY_RECEIVED))?;
                Ok(Ask::Resume {
                    id: id.to_owned(),
                    token: token.to_owned(),
                    received,
                })
            }
        }
    }
}

struct Entry {
    token: String,
    session: WsSession,
}

/// The live resumable sessions of one server.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session id and token.
    pub(crate) fn credentials() -> (String, String) {
        let id = resume::random_token()[..16].to_owned();
        (id, resume::random_token())
    }

    /// Keeps a new session, unless `ended` says its connection has already ended (see
    /// [`Sessions::forget`]: both hold the map's lock, so no end is missed).
    pub(crate) fn insert(&self, id: String, token: String, session: WsSession, ended: &AtomicBool) {
        let mut map = self.map();
        if !ended.load(Ordering::Acquire) {
            map.insert(id, Entry { token, session });
        }
    }

    /// The live session with this id, when `token` is its token.
    pub(crate) fn find(&self, id: &str, token: &str) -> Option<WsSession> {
        let map = self.map();
        let entry = map.get(id)?;
        (same(entry.token.as_bytes(), token.as_bytes()) && entry.session.peer().is_connected())
            .then(|| entry.session.clone())
    }

    /// Forgets a session whose connection has ended, and marks it `ended` so that an
    /// [`Sessions::insert`] still to come keeps nothing.
    pub(crate) fn forget(&self, id: &str, ended: &AtomicBool) {
        let mut map = self.map();
        ended.store(true, Ordering::Release);
        map.remove(id);
    }
}

/// Compares two secrets in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_upgrade_asks_for() {
        assert_eq!(Ask::from_query(None), Ok(Ask::Plain));
        assert_eq!(Ask::from_query(Some("token=x")), Ok(Ask::Plain));
        assert_eq!(
            Ask::from_query(Some("token=x&volley_session=new")),
            Ok(Ask::New)
        );
        assert_eq!(
            Ask::from_query(Some(
                "volley_session=ab&volley_resume_token=cd&volley_received=7"
            )),
            Ok(Ask::Resume {
                id: "ab".into(),
                token: "cd".into(),
                received: 7
            })
        );
        assert!(Ask::from_query(Some("volley_session=ab")).is_err());
        assert!(
            Ask::from_query(Some(
                "volley_session=ab&volley_resume_token=cd&volley_received=x"
            ))
            .is_err()
        );
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
