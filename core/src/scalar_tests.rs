use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{Checked, Int, Scalar, from_slice, from_str};

/// Texts of every kind near the scalars read directly: their edges, and what serde_json
/// reads otherwise or refuses.
const TEXTS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "42",
    "007",
    "-007",
    "127",
    "128",
    "-128",
    "-129",
    "255",
    "256",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "-2147483649",
    "123456789012345678",
    "-123456789012345678",
    "1234567890123456789",
    "-1234567890123456789",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "1.5",
    "-1.5",
    "1e3",
    "1E-3",
    "1.",
    "-",
    "+1",
    "true",
    "false",
    "tru",
    "True",
    "null",
    "nul",
    " null",
    "null ",
    " 5",
    "5 ",
    "5x",
    "",
    " ",
    r#""abc""#,
    r#""""#,
    r#""é ü""#,
    r#""a\nb""#,
    r#""a\"b""#,
    r#""\u00e9""#,
    r#""unterminated"#,
    "\"tab\tinside\"",
    r#""x" "#,
    r#""a""b""#,
    "[1,2]",
    "[]",
    r#"{"a":1,"b":"x"}"#,
    "{}",
    r#"{"a":1}x"#,
];

/// Byte texts that are not UTF-8, for `from_slice`.
const NOT_UTF8: &[&[u8]] = &[
    b"\"\xff\"",
    b"\"a\xc3\"",
    b"[\"\xe2\x82\"]",
    b"\xff",
    b"1\xff",
];

/// Holds `from_slice` to `serde_json::from_slice` for `T` on `bytes`.
fn agrees_on_bytes<T: DeserializeOwned + PartialEq + Debug>(bytes: &[u8]) {
    let ours = from_slice::<T>(bytes);
    let theirs = serde_json::from_slice::<T>(bytes);
    match (ours, theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{} from {bytes:?}", std::any::type_name::<T>()),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{bytes:?}"),
        (a, b) => panic!(
            "{} from {bytes:?}: ours {a:?}, serde_json's {b:?}",
            std::any::type_name::<T>()
        ),
    }
}

/// Holds `from_str` to serde_json's for `T` on every text, and `from_slice` to
/// `serde_json::from_slice` on the same texts as bytes and on bytes that are not UTF-8: the
/// same value, or the same error in the same words.
fn agrees<T: DeserializeOwned + PartialEq + Debug>() {
    for bytes in TEXTS
        .iter()
        .map(|t| t.as_bytes())
        .chain(NOT_UTF8.iter().copied())
    {
        agrees_on_bytes::<T>(bytes);
    }
    for text in TEXTS {
        let ours = from_str::<T>(text);
        let theirs = serde_json::from_str::<T>(text);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{} from {text:?}", std::any::type_name::<T>()),
            (Err(a), Err(b)) => assert_eq!(
                a.to_string(),
                b.to_string(),
                "{} from {text:?}",
                std::any::type_name::<T>()
            ),
            (a, b) => panic!(
                "{} from {text:?}: ours {a:?}, serde_json's {b:?}",
                std::any::type_name::<T>()
            ),
        }
    }
}

#[derive(Debug, PartialEq, Deserialize)]
struct Point {
    a: i64,
    b: Option<String>,
}

#[derive(Debug, PartialEq, Deserialize)]
enum Mode {
    Fast,
    Slow,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Wrapped(u32);

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Either {
    Number(i64),
    Text(String),
}

#[test]
fn decodes_every_text_as_serde_json_does() {
    agrees::<i8>();
    agrees::<i16>();
    agrees::<i32>();
    agrees::<i64>();
    agrees::<i128>();
    agrees::<u8>();
    agrees::<u16>();
    agrees::<u32>();
    agrees::<u64>();
    agrees::<u128>();
    agrees::<f32>();
    agrees::<f64>();
    agrees::<bool>();
    agrees::<char>();
    agrees::<String>();
    agrees::<()>();
    agrees::<Option<i64>>();
    agrees::<Option<u8>>();
    agrees::<Option<String>>();
    agrees::<Option<bool>>();
    agrees::<Option<serde_json::Value>>();
    agrees::<Option<Option<i64>>>();
    agrees::<serde_json::Value>();
    agrees::<Vec<i64>>();
    agrees::<(i64, i64)>();
    agrees::<BTreeMap<String, serde_json::Value>>();
    agrees::<Point>();
    agrees::<Mode>();
    agrees::<Wrapped>();
    agrees::<Either>();
    for text in TEXTS {
        let ours = from_str::<Box<serde_json::value::RawValue>>(text).map(|r| r.get().to_owned());
        let theirs = serde_json::from_str::<Box<serde_json::value::RawValue>>(text);
        let theirs = theirs.map(|r| r.get().to_owned());
        assert_eq!(
            ours.map_err(|e| e.to_string()),
            theirs.map_err(|e| e.to_string()),
            "{text:?}"
        );
    }
}

#[test]
fn reads_the_common_scalars_itself() {
    // The test above holds every outcome to serde_json's, whichever path gave it; this one
    // holds the direct path to the texts it must take itself (a direct path that took none
    // would still pass the test above).
    assert!(matches!(s("-42").integer(), Some(Int::I(-42))));
    // Bytes: the same readings; a string's inside is checked as UTF-8.
    assert!(matches!(b(b"-42").integer(), Some(Int::I(-42))));
    assert_eq!(b("\"é ü\"".as_bytes()).plain_string(), Some("é ü"));
    assert_eq!(b(b"\"\xff\"").plain_string(), None);
    assert!(bool::deserialize(b(b"false")).is_ok_and(|v| !v));
    assert_eq!(u16::deserialize(b(b"65535")).unwrap(), 65535);
    assert!(matches!(s("0").integer(), Some(Int::U(0))));
    assert!(matches!(
        s("123456789012345678").integer(),
        Some(Int::U(123_456_789_012_345_678))
    ));
    assert!(matches!(
        s("-123456789012345678").integer(),
        Some(Int::I(-123_456_789_012_345_678))
    ));
    assert_eq!(s(r#""abc""#).plain_string(), Some("abc"));
    assert_eq!(s(r#""é ü""#).plain_string(), Some("é ü"));
    assert_eq!(s(r#""""#).plain_string(), Some(""));
    assert_eq!(i64::deserialize(s("-42")).unwrap(), -42);
    assert_eq!(f64::deserialize(s("7")).unwrap(), 7.0);
    assert!(bool::deserialize(s("true")).unwrap());
    assert_eq!(Option::<u8>::deserialize(s("9")).unwrap(), Some(9));
    assert!(s("1234567890123456789").integer().is_none());
    assert!(s("-0").integer().is_none());
    assert!(s("01").integer().is_none());
    assert!(s(r#""a\nb""#).plain_string().is_none());
}

fn s(text: &str) -> Scalar<&str> {
    Scalar(text)
}

fn b(bytes: &[u8]) -> Scalar<Checked<'_>> {
    Scalar(Checked(bytes))
}
