use std::collections::HashMap;

use serde_json::value::RawValue;

use super::{Members, Split, common, elements, general, members};

/// What serde_json makes of `text` as an object: each member's raw text, or `None` when it
/// refuses the text or the object gives a key twice.
fn serde_members(text: &str) -> Option<HashMap<String, String>> {
    let raw: Vec<(String, &RawValue)> =
        serde_json::from_str::<&RawValue>(text)
            .ok()
            .and_then(|raw| {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                let pairs = serde::Deserializer::deserialize_map(&mut de, Pairs).ok()?;
                Some(pairs)
            })?;
    let mut out = HashMap::new();
    for (k, v) in raw {
        if out.insert(k, v.get().to_owned()).is_some() {
            return None;
        }
    }
    Some(out)
}

struct Pairs;

impl<'de> serde::de::Visitor<'de> for Pairs {
    type Value = Vec<(String, &'de RawValue)>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(pair) = m.next_entry::<String, &'de RawValue>()? {
            out.push(pair);
        }
        Ok(out)
    }
}

/// Holds the scanner to serde_json on `text`: whatever it answers, serde_json agrees with;
/// and what the common shape's reading answers, the general one answers the same.
fn agrees(text: &str) {
    if let Some(fast) = common(text) {
        assert_eq!(Some(fast), general(text), "{text:?}");
    }
    if let Some(m) = members(text) {
        let theirs = serde_members(text)
            .unwrap_or_else(|| panic!("the scanner took what serde_json refuses: {text:?}"));
        let ours = [
            ("jsonrpc", m.jsonrpc),
            ("id", m.id),
            ("method", m.method),
            ("params", m.params),
            ("result", m.result),
            ("error", m.error),
        ];
        for (name, value) in ours {
            assert_eq!(
                value,
                theirs.get(name).map(String::as_str),
                "{name} in {text:?}"
            );
        }
        // Where the scanner put params' elements, serde_json finds the same elements.
        if let (Some(params), Some(len)) = (m.params, m.split.len()) {
            let found: Vec<&str> = (0..len).filter_map(|i| m.split.get(params, i)).collect();
            let theirs: Vec<&RawValue> = serde_json::from_str(params).expect("an array");
            let theirs: Vec<&str> = theirs.iter().map(|r| r.get()).collect();
            assert_eq!(found, theirs, "{text:?}");
            assert_eq!(m.split.get(params, len), None);
        }
    }
    let mut ours = Vec::new();
    if elements(text, |e| ours.push(e)).is_some() {
        let theirs: Vec<&RawValue> = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("the scanner took what serde_json refuses ({e}): {text:?}"));
        let theirs: Vec<&str> = theirs.iter().map(|r| r.get()).collect();
        assert_eq!(ours, theirs, "{text:?}");
    }
}

const MESSAGES: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}"#,
    r#"{"jsonrpc":"2.0","method":"note","params":{"text":"h\u00e9llo \"you\"","n":-1.5e+3}}"#,
    r#" { "jsonrpc" : "2.0" , "id" : "a-b" , "method" : "m" , "params" : [ [ ] , { } , null , true , false , 0 , -0.0 , 1E9 ] } "#,
    r#"{"jsonrpc":"2.0","id":null,"method":"m","extra":{"deep":[[[{"x":"\/\b\f\n\r\t\\"}]]]}}"#,
    r#"{"jsonrpc":"2.0","id":7,"result":{"a":[1,2,3]}}"#,
    r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Method not found"}}"#,
    r#"{}"#,
    r#" {} "#,
    r#"{"jsonrpc":"2.0", "id":1,"method":"m"}"#,
    r#"{"jsonrpc":"2.0","id":1} "#,
    r#"[1, "two", {"three": 3}, [4], null]"#,
    r#"[]"#,
];

#[test]
fn reads_the_members_volley_reads_as_serde_json_does() {
    let m = members(MESSAGES[0]).expect("the common shape");
    assert_eq!(
        m,
        Members {
            jsonrpc: Some(r#""2.0""#),
            id: Some("1"),
            method: Some(r#""add""#),
            params: Some("[1,2]"),
            result: None,
            error: None,
            split: m.split,
        }
    );
    assert_eq!(m.split.len(), Some(2));
    assert_eq!(
        (m.split.get("[1,2]", 0), m.split.get("[1,2]", 1)),
        (Some("1"), Some("2"))
    );
    for text in MESSAGES {
        agrees(text);
    }
    for text in &MESSAGES[..10] {
        assert!(members(text).is_some(), "{text}");
    }
    let mut items = Vec::new();
    elements(MESSAGES[10], |e| items.push(e)).unwrap();
    assert_eq!(items, ["1", r#""two""#, r#"{"three": 3}"#, "[4]", "null"]);
}

#[test]
fn leaves_to_serde_json_what_it_does_not_decide() {
    for text in [
        // escaped key, duplicate member, trailing text, bad JSON of every kind
        r#"{"meth\u006fd":"m"}"#,
        r#"{"id":1,"id":2}"#,
        r#"{"id":1} x"#,
        r#"{"id":01}"#,
        r#"{"id":1.}"#,
        r#"{"id":-}"#,
        r#"{"id":1e}"#,
        r#"{"id":.5}"#,
        r#"{"id":+1}"#,
        r#"{"id":"a\x"}"#,
        r#"{"id":"a\u12g4"}"#,
        "{\"id\":\"a\u{1}\"}",
        r#"{"id":tru}"#,
        r#"{"id":[1,]}"#,
        r#"{"id":{"a":1,}}"#,
        r#"{"id":1,}"#,
        r#"{"id" 1}"#,
        r#"{"id":1"#,
        r#"{"id":"#,
        r#"{'id':1}"#,
        r#"{"id":NaN}"#,
        "",
        "{",
        // The usual head, then nothing or a trailing comma's close, or its member again.
        r#"{"jsonrpc":"2.0","#,
        r#"{"jsonrpc":"2.0",}"#,
        r#"{"jsonrpc":"2.0","jsonrpc":"2.0"}"#,
        r#"{"jsonrpc":"2.0",,"id":1}"#,
    ] {
        assert!(members(text).is_none(), "{text}");
        agrees(text);
    }
    let deep = format!("{{\"params\":{}{}}}", "[".repeat(70), "]".repeat(70));
    assert!(members(&deep).is_none(), "deeper than the scanner follows");
    let shallow = format!("{{\"params\":{}{}}}", "[".repeat(60), "]".repeat(60));
    assert!(members(&shallow).is_some());
}

#[test]
fn the_common_shape_is_read_in_order_and_anything_else_generally() {
    // Read in order: requests with number and string ids, notifications, with and without
    // params, and responses.
    for text in [
        r#"{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}"#,
        r#"{"jsonrpc":"2.0","id":0,"method":"add","params":[]}"#,
        r#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":"","method":"m","params":{"a":[1,{"b":null}]}}"#,
        r#"{"jsonrpc":"2.0","id":"é-1","method":"é","params":["x\"y",-1.5e3,true]}"#,
        r#"{"jsonrpc":"2.0","method":"note","params":[7]}"#,
        r#"{"jsonrpc":"2.0","method":"note"}"#,
        r#"{"jsonrpc":"2.0","id":7,"result":{"a":[1,2,3]}}"#,
        r#"{"jsonrpc":"2.0","id":"7","result":null}"#,
        r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no"}}"#,
        r#"{"jsonrpc":"2.0","result":[1,"a"],"id":7}"#,
        r#"{"jsonrpc":"2.0","result":"x","id":"7"}"#,
        r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}"#,
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":1},"id":"x"}"#,
        r#"{"jsonrpc":"2.0","method":"m","id":1}"#,
    ] {
        assert!(common(text).is_some(), "{text}");
        agrees(text);
    }
    // Everything else is the general reading's (which takes the valid ones).
    for (text, valid) in [
        (r#"{"jsonrpc":"2.0","id":-1,"method":"m"}"#, true),
        (r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#, true),
        (r#"{"jsonrpc":"2.0","id":1e3,"method":"m"}"#, true),
        (r#"{"jsonrpc":"2.0","id":01,"method":"m"}"#, false),
        (r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#, true),
        (r#"{"jsonrpc":"2.0","id":"a\"b","method":"m"}"#, true),
        (r#"{"jsonrpc":"2.0","id":1,"method":"a\u0062"}"#, true),
        (r#"{"jsonrpc":"2.0","id":1,"method":"m","params":1}"#, true),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2],"x":0}"#,
            true,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]} "#,
            true,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}}"#,
            false,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2}"#,
            false,
        ),
        (r#"{"jsonrpc":"2.0","id":1, "method":"m"}"#, true),
        (
            r#"{"jsonrpc":"2.0","method":"m","params":[1],"id":-1}"#,
            true,
        ),
        (
            r#"{"jsonrpc":"2.0","method":"m","params":[1],"id":1,}"#,
            false,
        ),
        (
            r#"{"jsonrpc":"2.0","method":"m","id":1,"params":[1]}"#,
            true,
        ),
        (r#"{"jsonrpc":"2.0","id":1,"method":"m","id":2}"#, false),
        (
            r#"{"jsonrpc":"2.0","method":"m","params":[1],"id":1"#,
            false,
        ),
        (r#"{"jsonrpc":"2.0","result":1,"id":-1}"#, true),
        (r#"{"jsonrpc":"2.0","result":1,"id":1.0}"#, true),
        (r#"{"jsonrpc":"2.0","result":1,"id":1,"x":2}"#, true),
        (r#"{"jsonrpc":"2.0","result":1,"id":1,}"#, false),
        (r#"{"jsonrpc":"2.0","result":1,"id":"1}"#, false),
        (r#"{"jsonrpc":"2.0","result":1,"method":"m"}"#, true),
        (r#"{"jsonrpc":"2.0","result":1}"#, true),
        (r#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#, true),
        (r#"{"jsonrpc":"2.0","id":1,"result":}"#, false),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"m","method":"n"}"#,
            false,
        ),
        (r#"{"jsonrpc":"2.0","id":1,"method":"m"#, false),
        (r#"{"jsonrpc":"2.0","id":1,"#, false),
        (r#"{"jsonrpc":"2.0","id":1"#, false),
    ] {
        assert!(common(text).is_none(), "{text}");
        assert_eq!(members(text).is_some(), valid, "{text}");
        agrees(text);
    }
}

/// A small deterministic generator (xorshift), so failures repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn never_takes_what_serde_json_refuses_under_random_edits() {
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\\",
        "\\u",
        "\\n",
        "0",
        "1",
        "-",
        ".",
        "e",
        "E",
        "+",
        "true",
        "null",
        "fals",
        " ",
        "\n",
        "\u{1}",
        "é",
        "\"id\"",
        "\"method\"",
        "\"params\"",
        "00",
        "9",
        "a",
        "f",
        "abcdefghijklmnop",
        "\"id\":",
        "\"method\":",
        "\"jsonrpc\"",
        "\u{7f}",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut taken = 0;
    for round in 0..60_000 {
        let mut text = MESSAGES[round % MESSAGES.len()].to_owned();
        for _ in 0..=rng.below(3) {
            let mut at = rng.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match rng.below(3) {
                0 => text.insert_str(at, PIECES[rng.below(PIECES.len())]),
                1 if at < text.len() => {
                    let end = (at + 1..=text.len())
                        .find(|&e| text.is_char_boundary(e))
                        .unwrap_or(text.len());
                    text.replace_range(at..end, "");
                }
                _ => {
                    let end = (at + 1..=text.len())
                        .find(|&e| text.is_char_boundary(e))
                        .unwrap_or(text.len());
                    text.replace_range(at..end, PIECES[rng.below(PIECES.len())]);
                }
            }
        }
        if members(&text).is_some() {
            taken += 1;
        }
        agrees(&text);
    }
    assert!(
        taken > 1_000,
        "the edits left too few texts it takes: {taken}"
    );
}

#[test]
fn reads_long_strings_a_word_at_a_time_with_every_stop_at_every_place() {
    // The stops a string's plain bytes end at, and bytes that are not stops but sit near
    // them in value (DEL, the first non-ASCII byte) or in a word's arithmetic.
    let marks = [
        '"',
        '\\',
        '\u{0}',
        '\u{1f}',
        ' ',
        '!',
        '#',
        '[',
        ']',
        '\u{7f}',
        'é',
        '\u{10ffff}',
    ];
    for before in 0..20 {
        for after in 0..12 {
            for mark in marks {
                let inner = format!("{}{mark}{}", "x".repeat(before), "y".repeat(after));
                for text in [
                    format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{inner}","params":[]}}"#),
                    format!(r#"{{"{inner}":1,"id":2}}"#),
                    format!(r#"{{"id":["{inner}"]}}"#),
                ] {
                    agrees(&text);
                }
            }
            // A plain string of this length is taken whole.
            let plain = "z".repeat(before + after);
            let text = format!(r#"{{"method":"{plain}"}}"#);
            let quoted = format!(r#""{plain}""#);
            assert_eq!(members(&text).and_then(|m| m.method), Some(quoted.as_str()));
        }
    }
}

#[test]
fn keys_volley_reads_are_found_however_they_are_spaced() {
    for text in [
        r#"{"id":1,"method":"m"}"#,
        r#"{"id" :1,"method" : "m"}"#,
        "{\"id\"\n:\t1 ,\"method\"\r: \"m\"}",
        r#"{"idx":0,"id":1,"methods":0,"method":"m","jsonrpcs":0}"#,
        r#"{"i":0,"id":1,"metho":0,"method":"m","error_":1,"erro":2}"#,
    ] {
        let m = members(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!((m.id, m.method), (Some("1"), Some(r#""m""#)), "{text}");
        assert_eq!(m.error, None, "{text}");
        agrees(text);
    }
    // Keys at the very end of the text, where no whole word is left to compare.
    for text in [r#"{"id":1}"#, r#"{"id":"#, r#"{"error":"#, r#"{"method""#] {
        agrees(text);
    }
}

/// The elements of `params` in `{"jsonrpc":"2.0","id":1,"method":"m","params":<params>}`,
/// as the scanner split them, or `None` when it left them unknown.
fn split_of(params: &str) -> Option<Vec<String>> {
    let text = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{params}}}"#);
    agrees(&text);
    let m = members(&text).expect("scanned");
    let p = m.params.expect("params");
    let len = m.split.len()?;
    Some(
        (0..len)
            .map(|i| m.split.get(p, i).expect("placed").to_owned())
            .collect(),
    )
}

#[test]
fn params_elements_are_placed_up_to_the_limit() {
    assert_eq!(split_of("[]"), Some(vec![]));
    assert_eq!(split_of("[ ]"), Some(vec![]));
    assert_eq!(
        split_of(r#"[ 1 , "a,]" , [2, [3]] , {"k": [4]}, null ]"#),
        Some(vec![
            "1".to_owned(),
            r#""a,]""#.to_owned(),
            "[2, [3]]".to_owned(),
            r#"{"k": [4]}"#.to_owned(),
            "null".to_owned(),
        ])
    );
    // One below, at and one above the most elements placed.
    let items = |n: usize| format!("[{}]", vec!["7"; n].join(","));
    assert_eq!(
        split_of(&items(Split::MAX - 1)).map(|e| e.len()),
        Some(Split::MAX - 1)
    );
    assert_eq!(
        split_of(&items(Split::MAX)).map(|e| e.len()),
        Some(Split::MAX)
    );
    assert_eq!(split_of(&items(Split::MAX + 1)), None);
    // Named params, and params that are not an array, are not placed.
    assert_eq!(split_of(r#"{"a": [1]}"#), None);
    // An element that ends one below, at and one above the reach of a 16-bit offset.
    let long = |end: usize| format!(r#"["{}"]"#, "x".repeat(end - 3));
    assert_eq!(split_of(&long(65_534)).map(|e| e[0].len()), Some(65_533));
    assert_eq!(split_of(&long(65_535)).map(|e| e[0].len()), Some(65_534));
    assert_eq!(split_of(&long(65_536)), None);
    // Broken arrays are left to serde_json, split or not.
    for broken in ["[1,]", "[,1]", "[1 2]", "[01]", r#"["a]"#] {
        let text = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{broken}}}"#);
        assert!(members(&text).is_none(), "{broken}");
    }
}
