//! The reader against input split in every awkward place, and the writer's frames.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use super::*;

/// Input that arrives in the given pieces, one a read.
struct Pieces(VecDeque<Vec<u8>>);

impl AsyncRead for Pieces {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(mut piece) = self.0.pop_front() {
            let room = buf.remaining();
            if piece.len() > room {
                self.0.push_front(piece.split_off(room));
            }
            buf.put_slice(&piece);
        }
        Poll::Ready(Ok(()))
    }
}

fn reader(framing: Framing, limit: usize, pieces: &[&[u8]]) -> Reader<Pieces> {
    let pieces = pieces.iter().map(|p| p.to_vec()).collect();
    Reader::new(Pieces(pieces), framing, limit)
}

/// Every message until the end, or the first error.
async fn all(mut reader: Reader<Pieces>) -> Result<Vec<String>, FrameError> {
    let mut messages = Vec::new();
    while let Some(message) = reader.next().await? {
        messages.push(String::from_utf8(message.to_vec()).expect("UTF-8"));
    }
    Ok(messages)
}

async fn lines(limit: usize, pieces: &[&[u8]]) -> Result<Vec<String>, FrameError> {
    all(reader(Framing::Lines, limit, pieces)).await
}

async fn contents(limit: usize, pieces: &[&[u8]]) -> Result<Vec<String>, FrameError> {
    all(reader(Framing::ContentLength, limit, pieces)).await
}

#[tokio::test]
async fn lines_come_whole_however_the_reads_split_them() {
    let read = lines(100, &[b"{\"a\":", b"1}\r\n{\"b\"", b":2}\n[3]\n", b"4"]).await;
    assert_eq!(read.unwrap(), ["{\"a\":1}", "{\"b\":2}", "[3]", "4"]);
    assert_eq!(lines(100, &[b"1\n\n2\n"]).await.unwrap(), ["1", "", "2"]);
    assert!(lines(100, &[]).await.unwrap().is_empty());
    // The last line needs no line break, and the end is the end.
    let mut last = reader(Framing::Lines, 100, &[b"1\n2"]);
    assert_eq!(last.next().await.unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(last.next().await.unwrap().as_deref(), Some(&b"2"[..]));
    assert!(last.next().await.unwrap().is_none());
    assert!(last.next().await.unwrap().is_none());
}

#[tokio::test]
async fn a_line_may_be_as_long_as_the_limit_and_no_longer() {
    assert_eq!(lines(4, &[b"1234\n"]).await.unwrap(), ["1234"]);
    assert_eq!(lines(4, &[b"12", b"34\r", b"\n"]).await.unwrap(), ["1234"]);
    assert_eq!(lines(4, &[b"123\n"]).await.unwrap(), ["123"]);
    assert!(matches!(
        lines(4, &[b"12345\n"]).await,
        Err(FrameError::TooBig { limit: 4 })
    ));
    // Found before the line ends: the rest is never buffered.
    let mut endless = reader(Framing::Lines, 4, &[b"123", b"456", b"789"]);
    assert!(matches!(
        endless.next().await,
        Err(FrameError::TooBig { limit: 4 })
    ));
    assert!(matches!(
        lines(4, &[b"12345"]).await,
        Err(FrameError::TooBig { limit: 4 })
    ));
}

#[tokio::test]
async fn a_header_split_across_reads() {
    let read = contents(
        100,
        &[b"Content-Le", b"ngth: 7\r", b"\n", b"\r", b"\n{\"a\":1}"],
    );
    assert_eq!(read.await.unwrap(), ["{\"a\":1}"]);
}

#[tokio::test]
async fn a_body_split_across_reads() {
    let read = contents(100, &[b"Content-Length: 7\r\n\r\n{\"a", b"\":", b"1}"]);
    assert_eq!(read.await.unwrap(), ["{\"a\":1}"]);
}

#[tokio::test]
async fn two_messages_in_one_read() {
    let read = contents(
        100,
        &[b"Content-Length: 1\r\n\r\n1Content-Length: 2\r\n\r\n23"],
    );
    assert_eq!(read.await.unwrap(), ["1", "23"]);
}

#[tokio::test]
async fn other_headers_are_ignored_and_names_are_case_blind() {
    let read = contents(
        100,
        &[b"content-length:2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n[]"],
    );
    assert_eq!(read.await.unwrap(), ["[]"]);
}

#[tokio::test]
async fn a_bad_header_is_named() {
    let why = |read: Result<Vec<String>, FrameError>| match read {
        Err(FrameError::BadHeader(why)) => why,
        other => panic!("not a bad header: {other:?}"),
    };
    let missing = contents(100, &[b"Content-Type: x\r\n\r\n{}"]).await;
    assert_eq!(why(missing), "no Content-Length header");
    let invalid = contents(100, &[b"Content-Length: ten\r\n\r\n{}"]).await;
    assert_eq!(why(invalid), "invalid Content-Length: \"ten\"");
    let negative = contents(100, &[b"Content-Length: -1\r\n\r\n"]).await;
    assert_eq!(why(negative), "invalid Content-Length: \"-1\"");
    let no_colon = contents(100, &[b"Content-Length 2\r\n\r\n{}"]).await;
    assert_eq!(
        why(no_colon),
        "a header line without a colon: \"Content-Length 2\""
    );
    let twice = contents(100, &[b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n12"]).await;
    assert_eq!(why(twice), "two Content-Length headers");
    let endless = contents(100, &[&[b'x'; MAX_HEADERS + 1]]).await;
    assert_eq!(why(endless), "no end of headers in 8192 bytes");
}

#[tokio::test]
async fn a_body_may_be_as_long_as_the_limit_and_no_longer() {
    let at = contents(4, &[b"Content-Length: 4\r\n\r\n1234"]).await;
    assert_eq!(at.unwrap(), ["1234"]);
    let below = contents(4, &[b"Content-Length: 3\r\n\r\n123"]).await;
    assert_eq!(below.unwrap(), ["123"]);
    // Refused from its headers, before its body is read.
    let above = contents(4, &[b"Content-Length: 5\r\n\r\n"]).await;
    assert!(matches!(above, Err(FrameError::TooBig { limit: 4 })));
}

#[tokio::test]
async fn output_that_ends_inside_a_message_is_truncated() {
    let body = contents(100, &[b"Content-Length: 5\r\n\r\n12"]).await;
    assert!(matches!(body, Err(FrameError::Truncated)));
    let headers = contents(100, &[b"Content-Length: 5\r\n"]).await;
    assert!(matches!(headers, Err(FrameError::Truncated)));
}

#[tokio::test]
async fn frames_as_written() {
    let mut out = Vec::new();
    write(&mut out, Framing::Lines, b"{\"a\":1}").await.unwrap();
    write(&mut out, Framing::ContentLength, "\"é\"".as_bytes())
        .await
        .unwrap();
    assert_eq!(out, b"{\"a\":1}\nContent-Length: 4\r\n\r\n\"\xc3\xa9\"");
}
