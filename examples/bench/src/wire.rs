//! What crosses the benchmark's raw sockets: the WebSocket settings the echo server and the
//! load generator share, the JSON-RPC texts the generator writes, and a scanner that reads
//! the few fields it checks in answers without a JSON parser (the generator must outrun every
//! server it drives, so it does as little per frame as it can).

use std::task::Poll;

use futures_util::{Stream, StreamExt};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Bytes read from a socket at a time: volley's default (most of an idle connection's
/// memory).
pub(crate) const READ_BUFFER: usize = 4 * 1024;
/// Bytes written before a flush is forced: volley's default.
pub(crate) const WRITE_BUFFER: usize = 16 * 1024;

/// The WebSocket settings of the echo server and of every raw client.
pub(crate) fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
}

/// How every notification the generator writes starts (and how the echo server tells them).
pub(crate) const NOTIFICATION_PREFIX: &str = r#"{"jsonrpc":"2.0","method""#;

/// Asks a server how many notifications it has counted; answered with [`count_reply`].
pub(crate) const COUNT_QUERY: &str = r#"{"jsonrpc":"2.0","id":0,"method":"notified"}"#;

/// The answer to [`COUNT_QUERY`].
pub(crate) fn count_reply(count: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":0,"result":{count}}}"#)
}

/// `add(id, 1)` with id `id`: the answer is `id + 1`.
pub(crate) fn add(id: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"add","params":[{id},1]}}"#)
}

/// `ask("ok?")` with id `id`: the server calls the client's `confirm` before answering.
pub(crate) fn ask(id: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ask","params":["ok?"]}}"#)
}

/// `relay(to, id, 1)` with id `id`: the node calls `add(id, 1)` on the peer `to` and answers
/// with its result, `id + 1`.
pub(crate) fn relay(id: u64, to: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"relay","params":[{to},{id},1]}}"#)
}

/// The notification `note(seq)`.
pub(crate) fn note(seq: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","method":"note","params":[{seq}]}}"#)
}

/// A request with id 0 and positional `params` (JSON text of an array).
pub(crate) fn request0(method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":0,"method":"{method}","params":{params}}}"#)
}

/// The answer to a request the server sent the client (`add` -> the sum of its numbers,
/// `confirm` -> true, anything else -> method not found); `None` when it is a notification.
pub(crate) fn answer(request: &str) -> Option<String> {
    let id = field(request, "id")?;
    let result = match field(request, "method") {
        Some(r#""add""#) => {
            let sum: i64 = integers(field(request, "params").unwrap_or("")).sum();
            format!(r#""result":{sum}"#)
        }
        Some(r#""confirm""#) => r#""result":true"#.to_owned(),
        _ => r#""error":{"code":-32601,"message":"Method not found"}"#.to_owned(),
    };
    Some(format!(r#"{{"jsonrpc":"2.0","id":{id},{result}}}"#))
}

/// The raw JSON value of `"key":` in `text` (a string with its quotes, a number, an array or
/// object with its brackets), for flat messages like the benchmark's.
pub(crate) fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    after_key(text, key).map(|at| value(text[at..].trim_start()))
}

/// Whether `text` has `"key":`.
pub(crate) fn has(text: &str, key: &str) -> bool {
    after_key(text, key).is_some()
}

/// Just past the colon of the first `"key":` in `text`. (A byte scan from quote to quote:
/// cheaper than a substring search on frames this short.)
fn after_key(text: &str, key: &str) -> Option<usize> {
    let (b, k) = (text.as_bytes(), key.as_bytes());
    let mut from = 0;
    while let Some(q) = b[from..].iter().position(|&c| c == b'"') {
        let start = from + q + 1;
        let end = start + k.len();
        if b.get(start..end) == Some(k) && b.get(end) == Some(&b'"') {
            let rest = &text[end + 1..];
            let gap = rest.len() - rest.trim_start().len();
            if rest.as_bytes().get(gap) == Some(&b':') {
                return Some(end + 1 + gap + 1);
            }
        }
        from = start;
    }
    None
}

/// The JSON value at the start of `s`.
fn value(s: &str) -> &str {
    let b = s.as_bytes();
    let end = match b.first() {
        Some(b'"') => string_end(b, 0),
        Some(b'[' | b'{') => {
            let mut depth = 0usize;
            let mut i = 0;
            loop {
                match b.get(i) {
                    None => break b.len(),
                    Some(b'"') => i = string_end(b, i) - 1,
                    Some(b'[' | b'{') => depth += 1,
                    Some(b']' | b'}') => {
                        depth -= 1;
                        if depth == 0 {
                            break i + 1;
                        }
                    }
                    Some(_) => {}
                }
                i += 1;
            }
        }
        _ => b
            .iter()
            .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
            .unwrap_or(b.len()),
    };
    &s[..end]
}

/// Just past the string that starts with the quote at `b[start]`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The integers in `s`, in order (`[3,1]` and `{"a":3,"b":1}` both give 3, 1).
pub(crate) fn integers(s: &str) -> impl Iterator<Item = i64> + '_ {
    s.split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .filter_map(|t| t.parse().ok())
}

/// The next item of `stream` if one is ready now, without waiting: `Pending` when none is.
/// (Polled with the task's own waker, so a later `next().await` is woken as usual.)
pub(crate) async fn ready<S: Stream + Unpin>(stream: &mut S) -> Poll<Option<S::Item>> {
    std::future::poll_fn(|cx| Poll::Ready(stream.poll_next_unpin(cx))).await
}

#[cfg(test)]
mod tests {
    use super::{add, answer, count_reply, field, has, integers, request0};

    #[test]
    fn reads_fields_in_any_order() {
        let r = r#"{"jsonrpc":"2.0","result":43,"id":42}"#;
        assert_eq!(field(r, "id"), Some("42"));
        assert_eq!(field(r, "result"), Some("43"));
        assert_eq!(field(r, "error"), None);
        let e = r#"{"jsonrpc":"2.0","id":"x,}","error":{"code":-32601,"message":"a\"}"}}"#;
        assert_eq!(field(e, "id"), Some(r#""x,}""#));
        assert_eq!(
            field(e, "error"),
            Some(r#"{"code":-32601,"message":"a\"}"}"#)
        );
        assert_eq!(field(&add(7), "params"), Some("[7,1]"));
        assert_eq!(field(&count_reply(5), "result"), Some("5"));
        assert_eq!(field(r#"{"params":["id"],"id" : 3}"#, "id"), Some("3"));
        assert!(has(r#"{"id":1,"method":"add"}"#, "method"));
        assert!(!has(r#"{"id":1,"result":"method"}"#, "method"));
    }

    #[test]
    fn answers_the_servers_calls() {
        let add = r#"{"jsonrpc":"2.0","id":9,"method":"add","params":{"a":3,"b":-1}}"#;
        assert_eq!(
            answer(add).as_deref(),
            Some(r#"{"jsonrpc":"2.0","id":9,"result":2}"#)
        );
        let confirm = r#"{"jsonrpc":"2.0","method":"confirm","params":["ok?"],"id":"c1"}"#;
        assert_eq!(
            answer(confirm).as_deref(),
            Some(r#"{"jsonrpc":"2.0","id":"c1","result":true}"#)
        );
        assert_eq!(answer(r#"{"jsonrpc":"2.0","method":"tick"}"#), None);
        assert!(answer(&request0("other", "[]")).unwrap().contains("-32601"));
        assert_eq!(integers("[12,-3]").collect::<Vec<_>>(), [12, -3]);
    }
}
