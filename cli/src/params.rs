//! A call's params from the command line: one JSON object or array as it is, or `key=value`
//! pairs, each value read as JSON when it is JSON and taken as a string otherwise.
//!
//! The params are built as JSON text: numbers keep every digit and pairs keep their order.

use serde_json::value::RawValue;

use crate::failure::Failure;

/// How params given as pairs are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Structure {
    /// One object, by name.
    ByName,
    /// One array of the values, in the order given.
    ByPosition,
}

/// The params `args` give: `None` for no args (the request has no `params`).
pub(crate) fn params(
    args: &[String],
    structure: Structure,
) -> Result<Option<Box<RawValue>>, Failure> {
    let usage = |why: String| Failure::Usage(format!("params: {why}"));
    if let [single] = args
        && single.trim_start().starts_with(['{', '['])
    {
        if structure == Structure::ByPosition {
            return Err(usage(
                "--positional applies to key=value pairs; give a JSON array instead".into(),
            ));
        }
        let raw: Box<RawValue> = serde_json::from_str(single)
            .map_err(|e| usage(format!("not a JSON object or array: {e}")))?;
        return Ok(Some(trimmed(raw)));
    }
    if args.is_empty() {
        return Ok(None);
    }
    let mut keys: Vec<&str> = Vec::new();
    let mut values = Vec::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(usage(format!(
                "expected key=value, got `{arg}` (params are one JSON object or array, or \
                 key=value pairs)"
            )));
        };
        if keys.contains(&key) {
            return Err(usage(format!("`{key}` is given twice")));
        }
        keys.push(key);
        values.push(value_text(value));
    }
    let text = match structure {
        Structure::ByName => object(keys.into_iter().zip(values)),
        Structure::ByPosition => array(values.into_iter()),
    };
    RawValue::from_string(text)
        .map(Some)
        .map_err(|e| usage(e.to_string()))
}

/// A JSON array of the JSON texts `values`.
pub(crate) fn array(values: impl Iterator<Item = String>) -> String {
    format!("[{}]", values.collect::<Vec<_>>().join(","))
}

/// A JSON object of `members`, each a name and a JSON text, in order.
pub(crate) fn object<'a>(members: impl Iterator<Item = (&'a str, String)>) -> String {
    let members: Vec<String> = members
        .map(|(name, value)| format!("{}:{value}", string(name)))
        .collect();
    format!("{{{}}}", members.join(","))
}

/// JSON `null`, as a result.
pub(crate) fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).unwrap_or_else(|_| unreachable!("null is JSON"))
}

/// `text` as JSON text: itself when it is JSON, else a JSON string of it.
pub(crate) fn value_text(text: &str) -> String {
    match serde_json::from_str::<Box<RawValue>>(text) {
        Ok(raw) => trimmed(raw).get().to_owned(),
        Err(_) => string(text),
    }
}

/// `raw` without the whitespace around it.
fn trimmed(raw: Box<RawValue>) -> Box<RawValue> {
    let text = raw.get();
    if text.trim() == text {
        return raw;
    }
    RawValue::from_string(text.trim().to_owned()).unwrap_or(raw)
}

/// A JSON string holding `text`.
fn string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(args: &[&str], structure: Structure) -> Result<Option<String>, String> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        params(&args, structure)
            .map(|p| p.map(|p| p.get().to_owned()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn pairs_become_an_object_in_order_or_an_array() {
        let pairs = [
            "b=hello", "a=1", "c=[1,2]", "d=", "e=\"7\"", "f=x=y", "g=null",
        ];
        assert_eq!(
            read(&pairs, Structure::ByName).unwrap().as_deref(),
            Some(r#"{"b":"hello","a":1,"c":[1,2],"d":"","e":"7","f":"x=y","g":null}"#)
        );
        assert_eq!(
            read(&["a=1", "b=hello", "c= [1, 2] "], Structure::ByPosition)
                .unwrap()
                .as_deref(),
            Some(r#"[1,"hello",[1, 2]]"#)
        );
        assert_eq!(
            read(&["big=18446744073709551616"], Structure::ByName)
                .unwrap()
                .as_deref(),
            Some(r#"{"big":18446744073709551616}"#)
        );
    }

    #[test]
    fn one_json_object_or_array_goes_as_it_is() {
        assert_eq!(
            read(&[r#" {"b": 2, "a": 1} "#], Structure::ByName)
                .unwrap()
                .as_deref(),
            Some(r#"{"b": 2, "a": 1}"#)
        );
        assert_eq!(
            read(&["[1, \"x\"]"], Structure::ByName).unwrap().as_deref(),
            Some("[1, \"x\"]")
        );
        assert_eq!(read(&[], Structure::ByName).unwrap(), None);
        assert_eq!(read(&[], Structure::ByPosition).unwrap(), None);
    }

    #[test]
    fn what_cannot_be_read_says_why() {
        let error = |args: &[&str], structure| read(args, structure).unwrap_err();
        assert!(error(&["{oops"], Structure::ByName).starts_with("params: not a JSON object"));
        assert!(error(&["42"], Structure::ByName).contains("expected key=value, got `42`"));
        assert!(error(&["a=1", "b"], Structure::ByName).contains("got `b`"));
        assert!(error(&["=1"], Structure::ByName).contains("got `=1`"));
        assert_eq!(
            error(&["a=1", "a=2"], Structure::ByName),
            "params: `a` is given twice"
        );
        assert!(error(&["[1]"], Structure::ByPosition).contains("--positional"));
    }
}
