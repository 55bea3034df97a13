//! What the repl knows of the server's methods, from its `rpc.discover` document: the names
//! to complete, and each method's params, to shape a typed call the way the method takes it.
//!
//! A call is typed as values (`add 1 2`) or as pairs (`add a=1 b=2`). For a method the
//! document describes, [`Contract::params`] sends it as the method declares
//! (`paramStructure`): values become an object of the declared names for a `by-name` method,
//! pairs become an array in the declared order for a `by-position` one, and a value typed
//! for a `string` param is sent as a string even when it reads as JSON (`echo 42` sends
//! `"42"`). Anything else goes as typed.

use serde_json::Value;
use serde_json::value::RawValue;

use crate::command::discover;
use crate::params::{self, array, object};

/// The methods of one `rpc.discover` document.
#[derive(Debug, Default, Clone)]
pub(crate) struct Contract {
    /// Sorted by name.
    methods: Vec<Method>,
}

/// One method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Method {
    /// Its name.
    pub(crate) name: String,
    /// Whether the server serves it (else only clients do: the server calls it).
    pub(crate) served_by_server: bool,
    /// Its params, in order.
    pub(crate) params: Vec<Param>,
    /// How its params must be sent.
    pub(crate) structure: Structure,
}

/// One param of a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    /// Its name.
    pub(crate) name: String,
    /// Whether the value is a string (`Some(true)`: a string or null).
    string: Option<bool>,
}

/// How a method's params must be sent (OpenRPC's `paramStructure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Structure {
    /// An object.
    ByName,
    /// An array.
    ByPosition,
    /// Either.
    Either,
}

/// A call's arguments as typed: the text of each value, and its name when it was typed as a
/// pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Args {
    /// `add 1 2`.
    Values(Vec<String>),
    /// `add a=1 b=2`.
    Pairs(Vec<(String, String)>),
}

impl Contract {
    /// The methods `document` describes; `$ref`s into it are followed.
    pub(crate) fn from_document(document: &Value) -> Self {
        let mut methods: Vec<Method> = document
            .get("methods")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|m| discover::resolve(document, m))
            .filter_map(|m| method(document, m))
            .collect();
        methods.sort_by(|a, b| a.name.cmp(&b.name));
        Self { methods }
    }

    /// The method called `name`.
    pub(crate) fn method(&self, name: &str) -> Option<&Method> {
        self.methods
            .binary_search_by(|m| m.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.methods[i])
    }

    /// The methods the server serves: the ones to call.
    pub(crate) fn callable(&self) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(|m| m.served_by_server)
    }

    /// The params of a call of `method` typed as `args`, as JSON text: `None` for none.
    pub(crate) fn params(&self, method: &str, args: Args) -> Result<Option<Box<RawValue>>, String> {
        let text = match (self.method(method), args) {
            (_, Args::Values(values)) if values.is_empty() => return Ok(None),
            (None, Args::Values(values)) => array(values.iter().map(|v| params::value_text(v))),
            (None, Args::Pairs(pairs)) => object(
                pairs
                    .iter()
                    .map(|(name, value)| (name.as_str(), params::value_text(value))),
            ),
            (Some(m), Args::Values(values)) => {
                if values.len() > m.params.len() {
                    let takes = match m.params.len() {
                        0 => "no params".to_owned(),
                        1 => format!("1 param ({})", m.names()),
                        n => format!("{n} params ({})", m.names()),
                    };
                    let got = match values.len() {
                        1 => "1 value".to_owned(),
                        n => format!("{n} values"),
                    };
                    return Err(format!("{} takes {takes}, got {got}", m.name));
                }
                let typed = m.params.iter().zip(&values).map(|(p, v)| (p, p.value(v)));
                match m.structure {
                    Structure::ByName => object(typed.map(|(p, v)| (p.name.as_str(), v))),
                    _ => array(typed.map(|(_, v)| v)),
                }
            }
            (Some(m), Args::Pairs(pairs)) => {
                let mut by_position: Vec<Option<String>> = vec![None; m.params.len()];
                let mut named = Vec::with_capacity(pairs.len());
                for (name, value) in &pairs {
                    let Some(i) = m.params.iter().position(|p| p.name == *name) else {
                        return Err(format!(
                            "{} has no param `{name}` (its params: {})",
                            m.name,
                            m.names()
                        ));
                    };
                    let value = m.params[i].value(value);
                    by_position[i] = Some(value.clone());
                    named.push((name.as_str(), value));
                }
                if m.structure == Structure::ByPosition {
                    // The params left out in the middle are null; the ones at the end are
                    // left out.
                    let given = by_position
                        .iter()
                        .rposition(Option::is_some)
                        .map_or(0, |i| i + 1);
                    array(
                        by_position[..given]
                            .iter()
                            .map(|v| v.clone().unwrap_or_else(|| "null".to_owned())),
                    )
                } else {
                    object(named.into_iter())
                }
            }
        };
        RawValue::from_string(text)
            .map(Some)
            .map_err(|e| format!("params: {e}"))
    }
}

impl Method {
    /// Its params' names, for messages: `a, b`, or `none`.
    pub(crate) fn names(&self) -> String {
        if self.params.is_empty() {
            return "none".to_owned();
        }
        let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
        names.join(", ")
    }
}

impl Param {
    /// `typed` as this param's JSON text: read as JSON, except that a string param takes
    /// what does not read as a JSON string as a string (`null` stays null when it may be
    /// null).
    fn value(&self, typed: &str) -> String {
        let text = params::value_text(typed);
        let Some(nullable) = self.string else {
            return text;
        };
        let keeps = text.starts_with('"') || (nullable && text == "null");
        if keeps {
            text
        } else {
            Value::from(typed).to_string()
        }
    }
}

/// The method `m` describes, when it has a name.
fn method(document: &Value, m: &Value) -> Option<Method> {
    let name = m.get("name")?.as_str()?.to_owned();
    let served_by_server = match m.get("x-implemented-by").and_then(Value::as_array) {
        Some(sides) => sides.iter().any(|s| s == "server"),
        None => true,
    };
    let params = m
        .get("params")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| discover::resolve(document, p))
        .filter_map(|p| {
            Some(Param {
                name: p.get("name")?.as_str()?.to_owned(),
                string: p.get("schema").and_then(string_kind),
            })
        })
        .collect();
    let structure = match m.get("paramStructure").and_then(Value::as_str) {
        Some("by-name") => Structure::ByName,
        Some("by-position") => Structure::ByPosition,
        _ => Structure::Either,
    };
    Some(Method {
        name,
        served_by_server,
        params,
        structure,
    })
}

/// Whether `schema` is a string (`Some(false)`) or a string or null (`Some(true)`).
fn string_kind(schema: &Value) -> Option<bool> {
    match schema.get("type")? {
        Value::String(ty) if ty == "string" => Some(false),
        Value::Array(types) => {
            let mut types: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            types.sort_unstable();
            (types == ["null", "string"]).then_some(true)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contract() -> Contract {
        Contract::from_document(&json!({
            "methods": [
                {
                    "name": "add",
                    "params": [
                        { "name": "a", "schema": { "type": "integer" } },
                        { "name": "b", "schema": { "type": "integer" } }
                    ],
                    "paramStructure": "either",
                    "x-implemented-by": ["server"]
                },
                { "$ref": "#/components/methods/greet" },
                {
                    "name": "move_to",
                    "params": [
                        { "name": "x", "schema": { "type": "number" } },
                        { "name": "label", "schema": { "type": ["string", "null"] } },
                        { "name": "y", "schema": { "type": "number" } }
                    ],
                    "paramStructure": "by-position"
                },
                {
                    "name": "confirm",
                    "params": [{ "name": "question", "schema": { "type": "string" } }],
                    "x-implemented-by": ["client"]
                }
            ],
            "components": {
                "methods": {
                    "greet": {
                        "name": "greet",
                        "params": [{ "$ref": "#/components/contentDescriptors/Name" }],
                        "paramStructure": "by-name"
                    }
                },
                "contentDescriptors": {
                    "Name": { "name": "name", "schema": { "type": "string" } }
                }
            }
        }))
    }

    fn params(method: &str, args: Args) -> Result<Option<String>, String> {
        contract()
            .params(method, args)
            .map(|p| p.map(|p| p.get().to_owned()))
    }

    fn values(values: &[&str]) -> Args {
        Args::Values(values.iter().map(|v| (*v).to_owned()).collect())
    }

    fn pairs(pairs: &[(&str, &str)]) -> Args {
        Args::Pairs(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn methods_are_read_with_their_params_and_who_serves_them() {
        let contract = contract();
        let callable: Vec<&str> = contract.callable().map(|m| m.name.as_str()).collect();
        assert_eq!(callable, ["add", "greet", "move_to"]);
        let greet = contract.method("greet").expect("greet, through its $refs");
        assert_eq!(greet.names(), "name");
        assert_eq!(greet.structure, Structure::ByName);
        assert!(
            !contract
                .method("confirm")
                .expect("confirm")
                .served_by_server
        );
        assert!(contract.method("nothing").is_none());
    }

    #[test]
    fn calls_go_as_typed_to_a_method_that_takes_either() {
        assert_eq!(
            params("add", values(&["1", "2"])).unwrap().unwrap(),
            "[1,2]"
        );
        assert_eq!(
            params("add", pairs(&[("b", "2"), ("a", "1")]))
                .unwrap()
                .unwrap(),
            r#"{"b":2,"a":1}"#
        );
        assert_eq!(params("add", values(&[])).unwrap(), None);
    }

    #[test]
    fn calls_take_the_shape_the_method_declares() {
        // By name: values get the declared names; a string param takes `42` as "42".
        assert_eq!(
            params("greet", values(&["42"])).unwrap().unwrap(),
            r#"{"name":"42"}"#
        );
        assert_eq!(
            params("greet", values(&["\"Ada Lovelace\""]))
                .unwrap()
                .unwrap(),
            r#"{"name":"Ada Lovelace"}"#
        );
        // By position: pairs in the declared order, a gap is null, the end is left out.
        assert_eq!(
            params("move_to", pairs(&[("y", "2"), ("x", "1")]))
                .unwrap()
                .unwrap(),
            "[1,null,2]"
        );
        assert_eq!(
            params("move_to", pairs(&[("x", "1")])).unwrap().unwrap(),
            "[1]"
        );
        // A nullable string param keeps null, and takes other values as strings.
        assert_eq!(
            params("move_to", values(&["1", "null", "2"]))
                .unwrap()
                .unwrap(),
            "[1,null,2]"
        );
        assert_eq!(
            params("move_to", values(&["1", "true"])).unwrap().unwrap(),
            r#"[1,"true"]"#
        );
    }

    #[test]
    fn a_call_that_does_not_fit_the_method_says_why() {
        assert_eq!(
            params("add", values(&["1", "2", "3"])).unwrap_err(),
            "add takes 2 params (a, b), got 3 values"
        );
        assert_eq!(
            params("greet", values(&["a", "b"])).unwrap_err(),
            "greet takes 1 param (name), got 2 values"
        );
        let none =
            Contract::from_document(&json!({ "methods": [{ "name": "ping", "params": [] }] }));
        assert_eq!(
            none.params("ping", values(&["1"])).unwrap_err(),
            "ping takes no params, got 1 value"
        );
        assert_eq!(
            params("add", pairs(&[("c", "1")])).unwrap_err(),
            "add has no param `c` (its params: a, b)"
        );
    }

    #[test]
    fn methods_the_document_does_not_describe_go_as_typed() {
        assert_eq!(
            params("other", values(&["1", "x"])).unwrap().unwrap(),
            r#"[1,"x"]"#
        );
        assert_eq!(
            params("other", pairs(&[("k", "v")])).unwrap().unwrap(),
            r#"{"k":"v"}"#
        );
        let empty = Contract::default();
        assert!(empty.callable().next().is_none());
    }
}
