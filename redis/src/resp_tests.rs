use bytes::{Bytes, BytesMut};

use super::{MAX_BULK, Reply, encode, parse};

fn bulk(b: &'static [u8]) -> Reply {
    Reply::Bulk(Some(Bytes::from_static(b)))
}

#[test]
fn commands_are_written_in_resp() {
    let mut out = Vec::new();
    encode(&mut out, &[b"PUBLISH", b"volley:cluster", b"a\r\nb"]);
    assert_eq!(
        out,
        b"*3\r\n$7\r\nPUBLISH\r\n$14\r\nvolley:cluster\r\n$4\r\na\r\nb\r\n"
    );
    // Lengths of every width are written in decimal.
    for len in [0usize, 9, 10, 99, 100, 12_345] {
        let arg = vec![b'x'; len];
        let mut out = Vec::new();
        encode(&mut out, &[&arg]);
        let head = format!("*1\r\n${len}\r\n");
        assert!(out.starts_with(head.as_bytes()), "{len}");
        assert_eq!(out.len(), head.len() + len + 2);
    }
}

#[test]
fn a_message_is_read_whole_and_only_when_complete() {
    let wire: &[u8] = b"*3\r\n$7\r\nmessage\r\n$14\r\nvolley:cluster\r\n$5\r\na\r\nb!\r\n:7\r\n";
    // Cut at every place, the reply is not read before its last byte is there.
    for cut in 0..wire.len() - 4 {
        let mut buf = BytesMut::from(&wire[..cut]);
        assert_eq!(parse(&mut buf).expect("valid so far"), None, "cut at {cut}");
        assert_eq!(buf.len(), cut, "nothing taken at {cut}");
    }
    let mut buf = BytesMut::from(wire);
    let reply = parse(&mut buf).expect("valid").expect("complete");
    assert_eq!(
        reply,
        Reply::Array(Some(vec![
            bulk(b"message"),
            bulk(b"volley:cluster"),
            bulk(b"a\r\nb!"),
        ]))
    );
    assert_eq!(parse(&mut buf).expect("valid"), Some(Reply::Integer(7)));
    assert!(buf.is_empty());
}

#[test]
fn replies_of_every_kind_are_read() {
    let mut buf = BytesMut::from(
        &b"+OK\r\n-WRONGPASS invalid\r\n:-3\r\n$-1\r\n*-1\r\n$0\r\n\r\n*0\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n"[..],
    );
    let mut replies = Vec::new();
    while let Some(reply) = parse(&mut buf).expect("valid") {
        replies.push(reply);
    }
    assert_eq!(
        replies,
        [
            Reply::Simple("OK".into()),
            Reply::Error("WRONGPASS invalid".into()),
            Reply::Integer(-3),
            Reply::Bulk(None),
            Reply::Array(None),
            bulk(b""),
            Reply::Array(Some(vec![])),
            Reply::Array(Some(vec![bulk(b"pong"), bulk(b"")])),
        ]
    );
}

#[test]
fn what_is_not_resp_is_an_error() {
    let too_long = format!("${}\r\n", MAX_BULK + 1);
    let at_limit = format!("${MAX_BULK}\r\n");
    let deep = "*1\r\n".repeat(9) + ":1\r\n";
    let deep_enough = "*1\r\n".repeat(8) + ":1\r\n";
    for bad in [
        "?what\r\n",
        "\r\n",
        ":x\r\n",
        "$3\r\nabcde\r\n",
        "$-2\r\n",
        "*-2\r\n",
        too_long.as_str(),
        deep.as_str(),
    ] {
        let mut buf = BytesMut::from(bad.as_bytes());
        assert!(parse(&mut buf).is_err(), "{bad:?}");
    }
    // At the limits: a bulk string of the longest length waits for its bytes, and arrays
    // nested as deep as allowed are read.
    let mut buf = BytesMut::from(at_limit.as_bytes());
    assert_eq!(parse(&mut buf).expect("valid so far"), None);
    let mut buf = BytesMut::from(deep_enough.as_bytes());
    assert!(parse(&mut buf).expect("valid").is_some());
}
