//! Tests of reading and writing params.
use super::*;

const NAMES: &[&str] = &["a", "b"];

#[test]
fn positional_and_named() {
    let r = ParamReader::new(Some("[1, 2]"), NAMES).unwrap();
    assert_eq!((r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()), (1, 2));
    let r = ParamReader::new(Some(r#"{"b":2,"a":1}"#), NAMES).unwrap();
    assert_eq!((r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()), (1, 2));
}

#[test]
fn missing_optional_and_required() {
    let r = ParamReader::new(Some("[1]"), NAMES).unwrap();
    assert_eq!(r.get::<Option<i64>>(1).unwrap(), None);
    let e = r.get::<i64>(1).unwrap_err();
    assert_eq!(e.code(), codes::INVALID_PARAMS);
    assert_eq!(e.message(), "Invalid params");
    let r = ParamReader::new(None, NAMES).unwrap();
    assert_eq!(r.get::<Option<String>>(0).unwrap(), None);
}

#[test]
fn positions_before_at_and_past_the_inline_ones() {
    const EIGHT: &[&str] = &["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    for n in [INLINE - 1, INLINE, INLINE + 1, EIGHT.len()] {
        let text = format!(
            "[{}]",
            (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        );
        let r = ParamReader::new(Some(&text), EIGHT).unwrap();
        for i in 0..EIGHT.len() {
            let expected = (i < n).then_some(i as i64);
            assert_eq!(
                r.get::<Option<i64>>(i).unwrap(),
                expected,
                "{n} given, #{i}"
            );
        }
    }
    let nine = "[0,1,2,3,4,5,6,7,8]";
    let e = ParamReader::new(Some(nine), EIGHT).err().unwrap();
    assert!(
        e.to_string().contains("at most 8 positional params, got 9"),
        "{e}"
    );
}

#[test]
fn refuses_bad_shapes() {
    for bad in ["[1,2,3]", r#"{"c":1}"#, r#"{"a":1,"a":2}"#, "5", "\"x\""] {
        assert!(ParamReader::new(Some(bad), NAMES).is_err(), "{bad}");
    }
    let r = ParamReader::new(Some(r#"["x"]"#), NAMES).unwrap();
    assert!(r.get::<i64>(0).is_err());
}

/// `params` as volley's reader hands them over: scanned within a request, its elements
/// placed when they fit.
fn scanned(params: &str) -> (String, CallParams<'static>) {
    let text = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{params}}}"#);
    let m = crate::scan::members(&text).expect("scanned");
    let call = CallParams::scanned(m.params, m.split).into_owned();
    (text, call)
}

#[test]
fn params_placed_by_the_scanner_read_as_params_scanned_again() {
    const EIGHT: &[&str] = &["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    let eight = |names: &'static [&'static str], params: &str| {
        let (_, call) = scanned(params);
        let placed = ParamReader::of(&call, names).map(|r| {
            (0..names.len())
                .map(|i| {
                    r.get::<Option<serde_json::Value>>(i)
                        .map_err(|e| e.to_string())
                })
                .collect::<Vec<_>>()
        });
        let again = ParamReader::new(Some(params), names).map(|r| {
            (0..names.len())
                .map(|i| {
                    r.get::<Option<serde_json::Value>>(i)
                        .map_err(|e| e.to_string())
                })
                .collect::<Vec<_>>()
        });
        assert_eq!(
            placed.map_err(|e| e.to_string()),
            again.map_err(|e| e.to_string()),
            "{params}"
        );
    };
    for params in [
        "[]",
        "[1, \"two\", [3], {\"four\": 4}, null, true]",
        "[0,1,2,3,4,5,6]",
        "[0,1,2,3,4,5,6,7,8]",
        "{\"p1\": 1}",
    ] {
        eight(EIGHT, params);
    }
    // More positional params than names: the same refusal either way.
    eight(NAMES, "[1,2,3]");
    let (_, call) = scanned("[1,2,3]");
    let e = ParamReader::of(&call, NAMES).err().expect("refused");
    assert!(
        e.to_string().contains("at most 2 positional params, got 3"),
        "{e}"
    );
    // Placed within whitespace, read from their places.
    let (_, call) = scanned("[ 40 , 2 ]");
    let r = ParamReader::of(&call, NAMES).expect("read");
    assert_eq!(
        (r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()),
        (40, 2)
    );
    assert!(matches!(r.shape, Shape::Placed(..)));
}

#[test]
fn writer_round_trips() {
    let text = |b: &[u8]| std::str::from_utf8(b).unwrap().to_owned();
    let mut w = ParamWriter::new("add");
    w.add("a", &1).unwrap();
    w.add("q\"x", "hi").unwrap();
    w.field("\"b\":", &2).unwrap();
    let encoded = w.finish().unwrap();
    assert_eq!(text(encoded.as_bytes()), r#"{"a":1,"q\"x":"hi","b":2}"#);
    // Valid JSON without being checked when made: a RawValue accepts it as it is.
    assert_eq!(encoded.clone().into_raw().get(), text(encoded.as_bytes()));
    // The request around it: the id last, or none for a notification.
    assert_eq!(
        encoded.request(7),
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":1,"q\"x":"hi","b":2},"id":7}"#
    );
    assert_eq!(
        encoded
            .clone()
            .into_frame(Some(18_446_744_073_709_551_615))
            .as_str(),
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":1,"q\"x":"hi","b":2},"id":18446744073709551615}"#
    );
    assert_eq!(
        encoded.into_frame(None).as_str(),
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":1,"q\"x":"hi","b":2}}"#
    );
    assert!(ParamWriter::new("add").finish().is_none());
    // Positional: names and keys are left out; a method that needs escaping is escaped.
    let mut w = ParamWriter::positional("a\"b");
    w.add("a", &1).unwrap();
    w.field("\"b\":", &[true]).unwrap();
    w.add("c", &None::<u8>).unwrap();
    let encoded = w.finish().unwrap();
    assert_eq!(text(encoded.as_bytes()), r#"[1,[true],null]"#);
    assert_eq!(encoded.clone().into_raw().get(), text(encoded.as_bytes()));
    assert_eq!(
        encoded.into_frame(Some(0)).as_str(),
        r#"{"jsonrpc":"2.0","method":"a\"b","params":[1,[true],null],"id":0}"#
    );
    assert!(ParamWriter::positional("m").finish().is_none());
    // Every frame is read back as the request it is.
    let mut w = ParamWriter::new("m");
    w.field("\"x\":", "y").unwrap();
    let frame = w.finish().unwrap().into_frame(Some(3));
    let m = crate::scan::members(frame.as_str()).unwrap();
    assert_eq!(
        (m.id, m.method, m.params),
        (Some("3"), Some("\"m\""), Some(r#"{"x":"y"}"#))
    );
}
