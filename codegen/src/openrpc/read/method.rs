//! One method object of an OpenRPC document read into a [`MethodDescription`], with who
//! serves it and the trait it belongs to.

use serde_json::{Map, Value};

use volley_core::ErrorDescription;
use volley_core::describe::{
    MethodDescription, MethodKind, ParamDescription, ParamStructure, SchemaFn,
};

use super::slots;
use crate::api::Side;
use crate::schema::no_schema;

/// The description [`openrpc`](crate::openrpc) gives a method served without one.
const UNDESCRIBED: &str = "Served without a description (a hand-written jsonrpsee \
    module): its params and result are not known.";

/// A method as read: who serves it, its trait (name and docs; `None`: served without a
/// description), and its description.
pub(super) struct ReadMethod {
    pub(super) sides: Vec<Side>,
    pub(super) service: Option<(String, String)>,
    pub(super) description: MethodDescription,
}

/// Why a method could not be read.
pub(super) enum Failure {
    Invalid(String),
    Schemas,
}

/// Reads the methods of one document.
pub(super) struct Reader<'d> {
    /// The document, for `$ref`s.
    pub(super) document: &'d Value,
    /// Its `#/components/schemas`.
    pub(super) components: Option<&'d Map<String, Value>>,
    /// Its title: the trait of methods without one.
    pub(super) title: &'d str,
}

impl<'d> Reader<'d> {
    /// `value`, or what it refers to when it is a `$ref` into the document.
    pub(super) fn resolve(&self, mut value: &'d Value) -> &'d Value {
        for _ in 0..32 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match reference
                .strip_prefix('#')
                .and_then(|p| self.document.pointer(p))
            {
                Some(target) => value = target,
                None => break,
            }
        }
        value
    }

    /// The method object `method` (its `$ref` followed already).
    pub(super) fn method(&self, method: &'d Value) -> Result<ReadMethod, Failure> {
        let invalid = |why: &str| Failure::Invalid(why.to_owned());
        let name = method
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("no name"))?;
        let sides = sides(method);
        let service = self.service(method, &sides);
        let text = |key: &str| method.get(key).and_then(Value::as_str);

        let params = match method.get("params") {
            None => Vec::new(),
            Some(Value::Array(params)) => params
                .iter()
                .map(|p| self.param(self.resolve(p)))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(invalid("`params` is not an array")),
        };
        let result = method
            .get("result")
            .map(|r| self.resolve(r))
            .filter(|r| !r.is_null());
        let stream = method.get("x-stream").and_then(|s| {
            let item = s.get("item")?.as_str()?;
            let unsubscribe = s.get("unsubscribe")?.as_str()?;
            Some((leak(item), leak(unsubscribe), s.get("schema")))
        });
        let (kind, result_schema) = match (stream, result) {
            (Some((item, unsubscribe, schema)), _) => {
                (MethodKind::Stream { item, unsubscribe }, schema)
            }
            (None, Some(result)) => (MethodKind::Request, result.get("schema")),
            (None, None) => (MethodKind::Notification, None),
        };
        let (result_type, result_schema) = match (kind, result_schema) {
            (MethodKind::Notification, _) => ("()".to_owned(), slots::no_schema as SchemaFn),
            (_, schema) => self.schema(schema.unwrap_or(&Value::Bool(true)))?,
        };
        let error = method.get("x-error-data");
        let (error_type, error_schema) = match error.and_then(|e| e.get("schema")) {
            Some(schema) => {
                let name = error.and_then(|e| e.get("name")).and_then(Value::as_str);
                (name.map(leak), self.schema(schema)?.1)
            }
            None => {
                let name = method.pointer("/x-error-type/name").and_then(Value::as_str);
                (name.map(leak), slots::no_schema as SchemaFn)
            }
        };
        let name = leak(name);
        let description = MethodDescription {
            rust_name: name,
            name,
            docs: leak(docs(method)),
            kind,
            params: Box::leak(params.into_boxed_slice()),
            result_type: leak(result_type),
            error_type,
            result_schema,
            error_schema,
            requires: text("x-requires").map(leak),
            timeout_ms: method.get("x-timeout-ms").and_then(Value::as_u64),
            idempotent: method.get("x-idempotent") == Some(&Value::Bool(true)),
            errors: self.errors(method)?,
            param_structure: text("paramStructure")
                .and_then(ParamStructure::from_openrpc)
                .unwrap_or_default(),
        };
        Ok(ReadMethod {
            sides,
            service,
            description,
        })
    }

    /// The trait `method` belongs to, by name and docs: its trait's tag (in volley's
    /// documents, the tag after the first side's), else the document's title; `None` for a
    /// method served without a description.
    fn service(&self, method: &Value, sides: &[Side]) -> Option<(String, String)> {
        let tags: Vec<(&str, &str)> = method
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let t = self.resolve(t);
                let name = t.get("name")?.as_str()?;
                let docs = t.get("description").and_then(Value::as_str);
                Some((name, docs.unwrap_or("")))
            })
            .collect();
        let is_side = |name: &str| name == "server" || name == "client";
        let tag = if method.get("x-implemented-by").is_some() {
            let first_side = sides.first().map(|s| s.as_str());
            let rest = match tags.split_first() {
                Some(((first, _), rest)) if Some(*first) == first_side => rest,
                _ => &tags[..],
            };
            rest.first().filter(|(name, _)| !is_side(name))
        } else {
            tags.iter().find(|(name, _)| !is_side(name))
        };
        let text = |key: &str| method.get(key).and_then(Value::as_str);
        match tag {
            Some((name, docs)) => Some(((*name).to_owned(), (*docs).to_owned())),
            None if text("description") == Some(UNDESCRIBED) && text("summary").is_none() => None,
            None => Some((self.title.to_owned(), String::new())),
        }
    }

    /// The method's own errors (`errors`, with the `data` schemas of `x-error-schemas`).
    fn errors(&self, method: &Value) -> Result<slots::ErrorsFn, Failure> {
        let Some(errors) = method.get("errors").and_then(Value::as_array) else {
            return Ok(slots::no_errors);
        };
        let mut cases: Vec<(String, i32, &str, &str, Option<usize>)> = Vec::new();
        for error in errors {
            let error = self.resolve(error);
            let code = error.get("code").and_then(Value::as_i64);
            let code = code.and_then(|c| i32::try_from(c).ok());
            let message = error.get("message").and_then(Value::as_str);
            let (Some(code), Some(message)) = (code, message) else {
                let why = "an error object needs an integer `code` and a `message`";
                return Err(Failure::Invalid(why.to_owned()));
            };
            let data = method.pointer(&format!("/x-error-schemas/{code}"));
            let slot = match data.filter(|s| schemaless_type(s).is_none()) {
                Some(schema) => {
                    Some(slots::intern(schema, self.components).ok_or(Failure::Schemas)?)
                }
                None => None,
            };
            let named = method.pointer(&format!("/x-error-type/variants/{code}"));
            let variant = named
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
                .filter(|v| !cases.iter().any(|(taken, ..)| taken == v))
                .map_or_else(|| variant_name(message, code, &cases), str::to_owned);
            let docs = named
                .and_then(|v| v.get("description"))
                .and_then(Value::as_str)
                .unwrap_or("");
            cases.push((variant, code, message, docs, slot));
        }
        if cases.is_empty() {
            return Ok(slots::no_errors);
        }
        let key = Value::from(
            cases
                .iter()
                .map(|(variant, code, message, docs, slot)| {
                    Value::from(vec![
                        Value::from(variant.as_str()),
                        (*code).into(),
                        (*message).into(),
                        (*docs).into(),
                        (*slot).into(),
                    ])
                })
                .collect::<Vec<_>>(),
        )
        .to_string();
        let make = || {
            cases
                .iter()
                .map(|(variant, code, message, docs, slot)| ErrorDescription {
                    variant: leak(variant.as_str()),
                    code: *code,
                    message: leak(*message),
                    docs: leak(*docs),
                    data_schema: slot.map_or(slots::no_schema as SchemaFn, slots::function),
                })
                .collect()
        };
        slots::intern_errors(key, make).ok_or(Failure::Schemas)
    }

    /// A content descriptor as a param.
    fn param(&self, param: &Value) -> Result<ParamDescription, Failure> {
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::Invalid("a param has no name".to_owned()))?;
        let (rust_type, schema) = self.schema(param.get("schema").unwrap_or(&Value::Bool(true)))?;
        let required = param.get("required") == Some(&Value::Bool(true));
        Ok(ParamDescription {
            name: leak(name),
            rust_type: leak(rust_type),
            docs: leak(
                param
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            ),
            schema,
            required: if required { yes } else { no },
        })
    }

    /// The type name and [`SchemaFn`] of `schema`: no schema when it is the one volley writes
    /// for a type without one.
    fn schema(&self, schema: &Value) -> Result<(String, SchemaFn), Failure> {
        if let Some(rust_type) = schemaless_type(schema) {
            return Ok((rust_type, slots::no_schema));
        }
        let slot = slots::intern(schema, self.components).ok_or(Failure::Schemas)?;
        Ok((type_name(schema), slots::function(slot)))
    }
}

pub(super) fn yes() -> bool {
    true
}

pub(super) fn no() -> bool {
    false
}

/// A method's docs: its summary and description, joined by a blank line after a sentence
/// and by a line break after a summary that was wrapped.
fn docs(method: &Value) -> String {
    let text = |key: &str| method.get(key).and_then(Value::as_str);
    match (text("summary"), text("description")) {
        (Some(s), Some(d)) if s.ends_with(['.', '!', '?', ':']) => format!("{s}\n\n{d}"),
        (Some(s), Some(d)) => format!("{s}\n{d}"),
        (Some(s), None) => s.to_owned(),
        (None, Some(d)) => d.to_owned(),
        (None, None) => String::new(),
    }
}

/// Who serves `method`: its `x-implemented-by`, else the server.
pub(super) fn sides(method: &Value) -> Vec<Side> {
    let mut sides = Vec::new();
    for side in method
        .get("x-implemented-by")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let side = match side.as_str() {
            Some("server") => Side::Server,
            Some("client") => Side::Client,
            _ => continue,
        };
        if !sides.contains(&side) {
            sides.push(side);
        }
    }
    if sides.is_empty() {
        sides.push(Side::Server);
    }
    sides
}

/// A variant name for an error the document gives by code and message only: the message's
/// words before any `:` or `{`, in UpperCamelCase (`not found` -> `NotFound`), else
/// `E<code>`; unique among `taken`.
pub(super) fn variant_name(
    message: &str,
    code: i32,
    taken: &[(String, i32, &str, &str, Option<usize>)],
) -> String {
    let head = message.split([':', '{']).next().unwrap_or("");
    let mut name: String = head
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name = format!("E{}", code.unsigned_abs());
    }
    if taken.iter().any(|(t, ..)| *t == name) {
        name = format!("{name}{}", code.unsigned_abs());
    }
    name
}

/// The Rust type named by the schema volley writes for a type without one.
pub(super) fn schemaless_type(schema: &Value) -> Option<String> {
    let description = schema.get("description")?.as_str()?;
    let rest = description.strip_prefix("No JSON Schema is available for `")?;
    let (rust_type, _) = rest.split_once("` (the type does not implement")?;
    (no_schema(rust_type) == *schema).then(|| rust_type.to_owned())
}

/// A short name for the type `schema` describes: the definition a `$ref` names, its
/// `title`, its `format` or `type`, else `any`.
pub(super) fn type_name(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    let text = |key: &str| schema.get(key).and_then(Value::as_str);
    if let Some(name) = text("title").or(text("format")).or(text("type")) {
        return name.to_owned();
    }
    "any".to_owned()
}

/// `s`, kept for the life of the process.
pub(super) fn leak(s: impl Into<String>) -> &'static str {
    Box::leak(s.into().into_boxed_str())
}
