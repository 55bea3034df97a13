use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{Int, Scalar, from_str};

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

/// Holds `from_str` to serde_json's for `T` on every text: the same value, or the same error
/// in the same words.
fn agrees<T: DeserializeOwned + PartialEq + Debug>() {
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
    assert!(matches!(Scalar("-42").integer(), Some(Int::I(-42))));
    assert!(matches!(Scalar("0").integer(), Some(Int::U(0))));
    assert!(matches!(
        Scalar("123456789012345678").integer(),
        Some(Int::U(123_456_789_012_345_678))
    ));
    assert!(matches!(
        Scalar("-123456789012345678").integer(),
        Some(Int::I(-123_456_789_012_345_678))
    ));
    assert_eq!(Scalar(r#""abc""#).plain_string(), Some("abc"));
    assert_eq!(Scalar(r#""é ü""#).plain_string(), Some("é ü"));
    assert_eq!(Scalar(r#""""#).plain_string(), Some(""));
    assert_eq!(i64::deserialize(Scalar("-42")).unwrap(), -42);
    assert_eq!(f64::deserialize(Scalar("7")).unwrap(), 7.0);
    assert!(bool::deserialize(Scalar("true")).unwrap());
    assert_eq!(Option::<u8>::deserialize(Scalar("9")).unwrap(), Some(9));
    assert!(Scalar("1234567890123456789").integer().is_none());
    assert!(Scalar("-0").integer().is_none());
    assert!(Scalar("01").integer().is_none());
    assert!(Scalar(r#""a\nb""#).plain_string().is_none());
}
