//! A typed TypeScript client, generated from the same descriptions as the documents.
//!
//! [`typescript()`] takes an [`Api`] (the traits the server serves and the traits its clients
//! serve) and returns one ES module (TypeScript source) that imports `volley.js` and exports:
//!
//! - one declaration per JSON Schema definition (Rust structs become `interface`s, enums
//!   become unions), with the Rust doc comments as `/** */` comments;
//! - `ServerMethods` and `ClientMethods`: each method's wire name mapped to
//!   `{ kind: "request" | "notification"; params: {...}; result: ... }`, in both directions;
//! - `ClientHandlers`: what the client must serve, one required member per method,
//!   `(params, context) => Result | Promise<Result>`;
//! - `connectApi(url, handlers, options?)`, resolving with an `Api` whose `server` member
//!   calls the server (`await api.server.add({ a: 1, b: 2 })`; notifications return `void`),
//!   whose `call`/`notify` take a wire name, and whose `peer` is the raw volley.js `Peer`;
//!   `createApi(peer)` and `clientHandlers(handlers)` are the two halves of it.
//!
//! Calls send params by name, as one object. Handlers always get an object too: params sent
//! by position are named by the generated code, and unknown names or extra positions are
//! answered with -32602, as a volley server does. Values are not validated at run time.
//!
//! Wire names with dots nest: `calc.add` is `api.server.calc.add(...)`. When a method is
//! named like a group (both `calc` and `calc.add` exist), or a name has an empty segment,
//! the dotted method keeps its wire name as a quoted key: `api.server["calc.add"](...)`.
//! `ClientHandlers` members are keyed by wire name (`"ui.confirm": ...`), as volley.js
//! looks them up.
//!
//! Schemas come from one schemars generator in draft-07 mode. JSON Schema maps to
//! TypeScript as follows: `integer` and `number` are `number` (64-bit formats too: their
//! declaration says so in a comment, as values beyond 2^53 lose precision in JavaScript);
//! `enum` and `const` are literal types; `oneOf`/`anyOf` are unions and `allOf`
//! intersections; `type: [.., "null"]` adds `| null`; `items` arrays and `prefixItems` are
//! tuples; `additionalProperties` becomes an index signature; a missing schema is `unknown`.
//! Definition names that are not TypeScript identifiers, or that clash with a name the
//! module declares, get `_` for bad characters and a number suffix (`Api2`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use crate::api::Api;
use crate::text::plain;
use volley_core::describe::{MethodDescription, MethodKind, SchemaGenerator, ServiceDescription};

/// How [`typescript()`] writes the module.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeScriptOptions {
    /// The module specifier that imports volley.js (default `"./volley.js"`).
    pub volley_js: String,
}

impl Default for TypeScriptOptions {
    fn default() -> Self {
        Self {
            volley_js: "./volley.js".to_owned(),
        }
    }
}

impl TypeScriptOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Imports volley.js by `specifier` instead of `"./volley.js"` (a package name, a URL,
    /// another relative path).
    pub fn volley_js(mut self, specifier: impl Into<String>) -> Self {
        self.volley_js = specifier.into();
        self
    }
}

/// The TypeScript module of a browser or Node client of `api`: it calls what
/// [`Api::server_serves`] and serves what [`Api::client_serves`] (see the
/// [module docs](self)).
///
/// A wire name that appears twice in one direction is generated once, from its first
/// description (a server refuses such duplicates anyway).
pub fn typescript(api: &Api, options: &TypeScriptOptions) -> String {
    let (server_serves, client_serves) = (api.server_serves(), api.client_serves());
    let mut generator = SchemaSettings::draft07().into_generator();
    let server = collect(server_serves, &mut generator);
    let client = collect(client_serves, &mut generator);
    let definitions = generator.take_definitions(true);
    let names = definition_names(&definitions);
    let cx = Convert { names: &names };

    let mut out = String::new();
    header(&mut out, server_serves, client_serves, options);
    types(&mut out, &cx, &definitions);
    method_map(
        &mut out,
        &cx,
        "ServerMethods",
        "Methods the server serves, by wire name: what `api.server` and `api.call` send and \
         get back.",
        &server,
    );
    method_map(
        &mut out,
        &cx,
        "ClientMethods",
        "Methods the client serves, by wire name: what the server sends to `ClientHandlers` \
         and gets back.",
        &client,
    );
    helper_types(&mut out);
    server_api(&mut out, &server);
    client_handlers(&mut out, &client);
    runtime(&mut out, &server, &client);
    out
}

// ---------------------------------------------------------------------------------------
// Collecting schemas

/// One method with its schemas, as JSON values after the generator's transforms.
struct Method {
    desc: &'static MethodDescription,
    /// Parameters: name, docs, whether required, schema (`None`: the type has none).
    params: Vec<Param>,
    /// The result schema of a request; `None` for a notification.
    result: Option<Option<Value>>,
}

struct Param {
    name: &'static str,
    docs: &'static str,
    required: bool,
    schema: Option<Value>,
}

fn collect(services: &[&ServiceDescription], generator: &mut SchemaGenerator) -> Vec<Method> {
    let mut seen = HashSet::new();
    let mut methods = Vec::new();
    for service in services {
        for desc in service.methods {
            if !seen.insert(desc.name) {
                continue;
            }
            let params = desc
                .params
                .iter()
                .map(|p| Param {
                    name: p.name,
                    docs: p.docs,
                    required: (p.required)(),
                    schema: schema_value(generator, p.schema),
                })
                .collect();
            let result = match desc.kind {
                MethodKind::Request => Some(schema_value(generator, desc.result_schema)),
                MethodKind::Notification => None,
            };
            methods.push(Method {
                desc,
                params,
                result,
            });
        }
    }
    methods
}

fn schema_value(
    generator: &mut SchemaGenerator,
    f: volley_core::describe::SchemaFn,
) -> Option<Value> {
    let mut schema = f(generator)?;
    for transform in generator.transforms_mut() {
        transform.transform(&mut schema);
    }
    Some(schema.to_value())
}

// ---------------------------------------------------------------------------------------
// Names

/// Names the generated module declares itself (and globals its declarations use).
const RESERVED: &[&str] = &[
    // declared here
    "volley",
    "ServerMethods",
    "ClientMethods",
    "ServerApi",
    "ClientHandlers",
    "Api",
    "ApiOptions",
    "CallArgs",
    "NotifyArgs",
    "RequestName",
    "NotificationName",
    "connectApi",
    "createApi",
    "clientHandlers",
    "namedParams",
    // globals used by the declarations
    "Promise",
    "Record",
    "Array",
    "Object",
    "Omit",
    "URL",
    // predefined types and reserved words
    "any",
    "unknown",
    "never",
    "number",
    "string",
    "boolean",
    "symbol",
    "bigint",
    "object",
    "undefined",
    "null",
    "void",
    "true",
    "false",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "try",
    "typeof",
    "var",
    "while",
    "with",
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "await",
    "type",
    "as",
    "is",
    "keyof",
    "infer",
    "readonly",
    "unique",
    "declare",
    "module",
    "namespace",
    "abstract",
    "asserts",
    "satisfies",
];

/// The TypeScript name of every definition, keyed by definition name.
fn definition_names(definitions: &Map<String, Value>) -> HashMap<String, String> {
    let mut used: HashSet<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();
    let mut names = HashMap::new();
    let keys: BTreeSet<&String> = definitions.keys().collect();
    for key in keys {
        let base = identifier(key);
        let mut name = base.clone();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        used.insert(name.clone());
        names.insert(key.clone(), name);
    }
    names
}

/// `text` with every character that cannot appear in an identifier replaced by `_`.
fn identifier(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A property name: bare when it is an identifier, else a string literal.
fn key(name: &str) -> String {
    if is_identifier(name) {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

/// A property of an object literal (computed for `__proto__`, which would set the prototype).
fn literal_key(name: &str) -> String {
    if name == "__proto__" {
        format!("[{}]", string_literal(name))
    } else {
        key(name)
    }
}

fn string_literal(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// The definition name a `$ref` points at, for refs into this generator's definitions.
fn ref_name(reference: &str) -> Option<String> {
    let encoded = reference.strip_prefix("#/definitions/")?;
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let [first, tail @ ..] = rest {
        if *first == b'%'
            && let Some(hex) = tail.get(..2)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            bytes.push(byte);
            rest = &tail[2..];
            continue;
        }
        bytes.push(*first);
        rest = tail;
    }
    let decoded = String::from_utf8(bytes).ok()?;
    Some(decoded.replace("~1", "/").replace("~0", "~"))
}

// ---------------------------------------------------------------------------------------
// JSON Schema to TypeScript

/// A TypeScript type.
#[derive(Debug, Clone, PartialEq)]
enum Ts {
    /// Written as is: a primitive, a literal, a name.
    Atom(String),
    Array(Box<Ts>),
    Tuple {
        items: Vec<Ts>,
        /// Items from this index on are optional.
        required: usize,
        rest: Option<Box<Ts>>,
    },
    Object {
        props: Vec<Prop>,
        index: Option<Box<Ts>>,
    },
    /// Members with their doc lines.
    Union(Vec<(Ts, Vec<String>)>),
    Intersection(Vec<Ts>),
}

#[derive(Debug, Clone, PartialEq)]
struct Prop {
    name: String,
    optional: bool,
    ty: Ts,
    docs: Vec<String>,
}

impl Ts {
    fn atom(text: &str) -> Self {
        Ts::Atom(text.to_owned())
    }

    fn is(&self, text: &str) -> bool {
        matches!(self, Ts::Atom(a) if a == text)
    }
}

fn union(members: Vec<(Ts, Vec<String>)>) -> Ts {
    let mut flat: Vec<(Ts, Vec<String>)> = Vec::new();
    for (ty, docs) in members {
        match ty {
            Ts::Union(inner) => {
                for (t, d) in inner {
                    push_member(&mut flat, t, d);
                }
            }
            t => push_member(&mut flat, t, docs),
        }
    }
    if flat.iter().any(|(t, _)| t.is("unknown")) {
        return Ts::atom("unknown");
    }
    match flat.len() {
        0 => Ts::atom("never"),
        1 => flat
            .pop()
            .map(|(t, _)| t)
            .unwrap_or_else(|| Ts::atom("never")),
        _ => Ts::Union(flat),
    }
}

fn push_member(flat: &mut Vec<(Ts, Vec<String>)>, ty: Ts, docs: Vec<String>) {
    if !ty.is("never") && !flat.iter().any(|(t, _)| *t == ty) {
        flat.push((ty, docs));
    }
}

fn intersection(parts: Vec<Ts>) -> Ts {
    let mut flat: Vec<Ts> = Vec::new();
    for part in parts {
        let inner = match part {
            Ts::Intersection(inner) => inner,
            t => vec![t],
        };
        for t in inner {
            if !t.is("unknown") && !flat.contains(&t) {
                flat.push(t);
            }
        }
    }
    if flat.iter().any(|t| t.is("never")) {
        return Ts::atom("never");
    }
    match flat.len() {
        0 => Ts::atom("unknown"),
        1 => flat.pop().unwrap_or_else(|| Ts::atom("unknown")),
        _ => Ts::Intersection(flat),
    }
}

/// Converts schemas, resolving refs to definition names.
struct Convert<'a> {
    names: &'a HashMap<String, String>,
}

impl Convert<'_> {
    fn convert(&self, schema: &Value) -> Ts {
        let object = match schema {
            Value::Bool(true) => return Ts::atom("unknown"),
            Value::Bool(false) => return Ts::atom("never"),
            Value::Object(object) => object,
            _ => return Ts::atom("unknown"),
        };
        let composed = ["$ref", "allOf", "oneOf", "anyOf"]
            .iter()
            .any(|k| object.contains_key(*k));
        let mut parts = Vec::new();
        if let Some(value) = object.get("const") {
            parts.push(literal(value));
        } else if let Some(values) = object.get("enum").and_then(Value::as_array) {
            parts.push(union(values.iter().map(|v| (literal(v), vec![])).collect()));
        } else if let Some(ty) = self.by_type(object, composed) {
            parts.push(ty);
        }
        if let Some(Value::String(reference)) = object.get("$ref") {
            parts.push(self.reference(reference));
        }
        if let Some(all) = object.get("allOf").and_then(Value::as_array) {
            parts.extend(all.iter().map(|s| self.convert(s)));
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(any) = object.get(keyword).and_then(Value::as_array) {
                parts.push(union(
                    any.iter()
                        .map(|s| (self.convert(s), docs(s, false)))
                        .collect(),
                ));
            }
        }
        intersection(parts)
    }

    fn reference(&self, reference: &str) -> Ts {
        match ref_name(reference).and_then(|name| self.names.get(&name)) {
            Some(name) => Ts::Atom(name.clone()),
            None => Ts::atom("unknown"),
        }
    }

    /// The type the `type` keyword (or, without it, the object and array keywords) gives.
    /// `None` when it adds nothing: no such keywords, or a bare `"type": "object"` beside
    /// `$ref`/`allOf`/`oneOf`/`anyOf` (which say what the object is).
    fn by_type(&self, object: &Map<String, Value>, composed: bool) -> Option<Ts> {
        let types: Vec<&str> = match object.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => {
                let mut inferred = Vec::new();
                if ["properties", "additionalProperties", "patternProperties"]
                    .iter()
                    .any(|k| object.contains_key(*k))
                {
                    inferred.push("object");
                }
                if ["items", "prefixItems"]
                    .iter()
                    .any(|k| object.contains_key(*k))
                {
                    inferred.push("array");
                }
                inferred
            }
        };
        if types.is_empty() {
            return None;
        }
        let bare_object = !["properties", "additionalProperties", "patternProperties"]
            .iter()
            .any(|k| object.contains_key(*k));
        if composed && bare_object && types == ["object"] {
            return None;
        }
        let members = types
            .into_iter()
            .map(|t| {
                let ty = match t {
                    "string" => Ts::atom("string"),
                    "number" | "integer" => Ts::atom("number"),
                    "boolean" => Ts::atom("boolean"),
                    "null" => Ts::atom("null"),
                    "array" => self.array(object),
                    "object" => self.object(object),
                    _ => Ts::atom("unknown"),
                };
                (ty, vec![])
            })
            .collect();
        Some(union(members))
    }

    fn array(&self, object: &Map<String, Value>) -> Ts {
        let (tuple, rest) = match (object.get("prefixItems"), object.get("items")) {
            (Some(Value::Array(prefix)), rest) => (prefix, rest),
            (_, Some(Value::Array(items))) => (items, object.get("additionalItems")),
            (_, Some(items)) => return Ts::Array(Box::new(self.convert(items))),
            (_, None) => return Ts::Array(Box::new(Ts::atom("unknown"))),
        };
        let count = |k: &str| {
            object
                .get(k)
                .and_then(Value::as_u64)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let closed_by_max = count("maxItems").is_some_and(|max| max <= tuple.len());
        let rest = match rest {
            _ if closed_by_max => None,
            Some(Value::Bool(false)) => None,
            Some(schema) => Some(Box::new(self.convert(schema))),
            None => Some(Box::new(Ts::atom("unknown"))),
        };
        Ts::Tuple {
            items: tuple.iter().map(|s| self.convert(s)).collect(),
            required: count("minItems").unwrap_or(0).min(tuple.len()),
            rest,
        }
    }

    fn object(&self, object: &Map<String, Value>) -> Ts {
        let required: HashSet<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut props: Vec<Prop> = object
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| {
                properties
                    .iter()
                    .map(|(name, schema)| Prop {
                        name: name.clone(),
                        optional: !required.contains(name.as_str()),
                        ty: self.convert(schema),
                        docs: docs(schema, true),
                    })
                    .collect()
            })
            .unwrap_or_default();
        props.sort_by(|a, b| a.name.cmp(&b.name));

        let mut index = Vec::new();
        match object.get("additionalProperties") {
            None | Some(Value::Bool(false)) => {}
            Some(schema) => index.push((self.convert(schema), vec![])),
        }
        if let Some(patterns) = object.get("patternProperties").and_then(Value::as_object) {
            index.extend(patterns.values().map(|s| (self.convert(s), vec![])));
        }
        let open = !matches!(object.get("additionalProperties"), Some(Value::Bool(false)));
        if index.is_empty() && props.is_empty() && open {
            index.push((Ts::atom("unknown"), vec![]));
        }
        let index = if index.is_empty() {
            None
        } else {
            // An index signature covers the declared properties too.
            index.extend(props.iter().map(|p| (p.ty.clone(), vec![])));
            Some(Box::new(union(index)))
        };
        Ts::Object { props, index }
    }
}

/// The literal type of a JSON value.
fn literal(value: &Value) -> Ts {
    match value {
        Value::Array(items) => Ts::Tuple {
            required: items.len(),
            items: items.iter().map(literal).collect(),
            rest: None,
        },
        Value::Object(map) => {
            let mut props: Vec<Prop> = map
                .iter()
                .map(|(name, v)| Prop {
                    name: name.clone(),
                    optional: false,
                    ty: literal(v),
                    docs: vec![],
                })
                .collect();
            props.sort_by(|a, b| a.name.cmp(&b.name));
            Ts::Object { props, index: None }
        }
        other => Ts::Atom(other.to_string()),
    }
}

/// Doc lines of a schema: title, description, deprecation, default; with `integers`, a note
/// on 64-bit integers in it, outside its properties (which carry their own) and refs.
fn docs(schema: &Value, integers: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(object) = schema.as_object() else {
        return lines;
    };
    for k in ["title", "description"] {
        if let Some(text) = object.get(k).and_then(Value::as_str) {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.extend(plain(text).lines().map(str::to_owned));
        }
    }
    if integers && let Some(note) = integer_note(&[schema], false) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(note);
    }
    if let Some(default) = object.get("default") {
        lines.push(format!("@default {default}"));
    }
    if object.get("deprecated") == Some(&Value::Bool(true)) {
        lines.push("@deprecated".to_owned());
    }
    lines
}

/// Formats whose values may not fit a JavaScript number exactly.
const WIDE_FORMATS: &[&str] = &["int64", "uint64", "int128", "uint128", "int", "uint"];

/// A note for schemas that carry 64-bit (or wider) integers; `properties` says whether to
/// look into object properties.
fn integer_note(schemas: &[&Value], properties: bool) -> Option<String> {
    fn scan(schema: &Value, properties: bool, found: &mut BTreeSet<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(format)) = map.get("format")
                    && WIDE_FORMATS.contains(&format.as_str())
                {
                    found.insert(format.clone());
                }
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("const" | "enum" | "default" | "examples", _) => {}
                        ("properties", _) if !properties => {}
                        // Maps of schemas: their keys are names, not keywords.
                        ("properties" | "patternProperties" | "definitions", Value::Object(m)) => {
                            m.values().for_each(|v| scan(v, properties, found));
                        }
                        _ => scan(v, properties, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| scan(v, properties, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    for schema in schemas {
        scan(schema, properties, &mut found);
    }
    if found.is_empty() {
        return None;
    }
    let formats: Vec<String> = found.into_iter().map(|f| format!("`{f}`")).collect();
    Some(format!(
        "Integers of format {} are typed `number`: JSON numbers, exact up to 2^53 - 1 in \
         JavaScript.",
        formats.join(", ")
    ))
}

// ---------------------------------------------------------------------------------------
// Printing

const INDENT: &str = "  ";

fn pad(level: usize) -> String {
    INDENT.repeat(level)
}

/// A doc comment at `level`, or nothing for no lines.
fn write_docs(out: &mut String, level: usize, lines: &[String]) {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.trim_end().replace("*/", "*\\/"))
        .collect();
    let pad = pad(level);
    match lines.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "{pad}/** {one} */");
        }
        many => {
            let _ = writeln!(out, "{pad}/**");
            for line in many {
                if line.is_empty() {
                    let _ = writeln!(out, "{pad} *");
                } else {
                    let _ = writeln!(out, "{pad} * {line}");
                }
            }
            let _ = writeln!(out, "{pad} */");
        }
    }
}

fn doc_lines(text: &str) -> Vec<String> {
    let text = plain(text);
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |i| i + 1);
    lines[start..end].to_vec()
}

/// Whether the printed type spans several lines.
fn multiline(ty: &Ts) -> bool {
    match ty {
        Ts::Atom(_) => false,
        Ts::Array(e) => multiline(e),
        Ts::Tuple { items, rest, .. } => {
            items.iter().any(multiline) || rest.as_deref().is_some_and(multiline)
        }
        Ts::Object { props, .. } => !props.is_empty(),
        Ts::Union(members) => members.iter().any(|(t, d)| !d.is_empty() || multiline(t)),
        Ts::Intersection(parts) => parts.iter().any(multiline),
    }
}

/// A type, its first line unindented and its other lines indented for `level`.
fn print(ty: &Ts, level: usize) -> String {
    match ty {
        Ts::Atom(a) => a.clone(),
        Ts::Array(element) => match **element {
            Ts::Union(_) | Ts::Intersection(_) if multiline(element) => {
                format!("Array<{}\n{}>", print(element, level), pad(level))
            }
            Ts::Union(_) | Ts::Intersection(_) => format!("({})[]", print(element, level)),
            _ => format!("{}[]", print(element, level)),
        },
        Ts::Tuple {
            items,
            required,
            rest,
        } => {
            let mut parts: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let text = print(t, level);
                    let text = if matches!(t, Ts::Union(_) | Ts::Intersection(_)) && i >= *required
                    {
                        format!("({text})")
                    } else {
                        text
                    };
                    if i >= *required {
                        format!("{text}?")
                    } else {
                        text
                    }
                })
                .collect();
            if let Some(rest) = rest {
                parts.push(format!("...{}", print(&Ts::Array(rest.clone()), level)));
            }
            format!("[{}]", parts.join(", "))
        }
        Ts::Object { props, index } => {
            if props.is_empty() {
                return match index {
                    None => "Record<string, never>".to_owned(),
                    Some(index) => format!("{{ [key: string]: {} }}", print(index, level + 1)),
                };
            }
            let mut out = String::from("{\n");
            for prop in props {
                write_docs(&mut out, level + 1, &prop.docs);
                let ty = print(&prop.ty, level + 1);
                let sep = if ty.starts_with('\n') { "" } else { " " };
                let optional = if prop.optional { "?" } else { "" };
                let _ = writeln!(
                    out,
                    "{}{}{optional}:{sep}{ty};",
                    pad(level + 1),
                    key(&prop.name)
                );
            }
            if let Some(index) = index {
                let ty = print(index, level + 1);
                let sep = if ty.starts_with('\n') { "" } else { " " };
                let _ = writeln!(out, "{}[key: string]:{sep}{ty};", pad(level + 1));
            }
            out.push_str(&pad(level));
            out.push('}');
            out
        }
        Ts::Union(members) => {
            if multiline(ty) {
                let mut out = String::new();
                for (member, docs) in members {
                    out.push('\n');
                    write_docs(&mut out, level + 1, docs);
                    let _ = write!(out, "{}| {}", pad(level + 1), print(member, level + 2));
                }
                out
            } else {
                members
                    .iter()
                    .map(|(m, _)| print(m, level))
                    .collect::<Vec<_>>()
                    .join(" | ")
            }
        }
        Ts::Intersection(parts) => parts
            .iter()
            .map(|p| match p {
                Ts::Union(_) if multiline(p) => {
                    format!("({}\n{})", print(p, level), pad(level))
                }
                Ts::Union(_) => format!("({})", print(p, level)),
                _ => print(p, level),
            })
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

// ---------------------------------------------------------------------------------------
// The module

fn header(
    out: &mut String,
    server_serves: &[&ServiceDescription],
    client_serves: &[&ServiceDescription],
    options: &TypeScriptOptions,
) {
    let list = |services: &[&ServiceDescription]| {
        if services.is_empty() {
            "nothing".to_owned()
        } else {
            services
                .iter()
                .map(|s| format!("`{}`", s.name))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(
        out,
        "// Generated by volley from Rust traits; do not edit. The server serves {}; the \
         client serves {}.",
        list(server_serves),
        list(client_serves)
    );
    let _ = writeln!(
        out,
        "import * as volley from {};",
        string_literal(&options.volley_js)
    );
    for (title, services) in [("server", server_serves), ("client", client_serves)] {
        for service in services {
            let docs = doc_lines(service.docs);
            if !docs.is_empty() {
                out.push('\n');
                let mut lines = vec![format!("`{}` (the {title} serves it):", service.name)];
                lines.extend(docs);
                for line in lines {
                    let _ = writeln!(out, "// {}", line.trim_end());
                }
            }
        }
    }
}

fn types(out: &mut String, cx: &Convert<'_>, definitions: &Map<String, Value>) {
    let sorted: BTreeMap<&String, &Value> = definitions.iter().collect();
    for (key, schema) in sorted {
        let Some(name) = cx.names.get(key.as_str()) else {
            continue;
        };
        out.push('\n');
        write_docs(out, 0, &docs(schema, true));
        let ty = cx.convert(schema);
        match &ty {
            Ts::Object { props, .. } if !props.is_empty() => {
                let _ = writeln!(out, "export interface {name} {}", print(&ty, 0));
            }
            _ => {
                let text = print(&ty, 0);
                let sep = if text.starts_with('\n') { "" } else { " " };
                let _ = writeln!(out, "export type {name} ={sep}{text};");
            }
        }
    }
}

/// The doc lines of a method: its docs, and a note on 64-bit integers in its params/result.
fn method_docs(m: &Method) -> Vec<String> {
    let mut lines = doc_lines(m.desc.docs);
    let mut schemas: Vec<&Value> = m.params.iter().filter_map(|p| p.schema.as_ref()).collect();
    if let Some(Some(result)) = &m.result {
        schemas.push(result);
    }
    if let Some(note) = integer_note(&schemas, true) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(note);
    }
    lines
}

/// The params object type of a method.
fn params_type(cx: &Convert<'_>, m: &Method) -> Ts {
    let props = m
        .params
        .iter()
        .map(|p| {
            let ty = p
                .schema
                .as_ref()
                .map_or_else(|| Ts::atom("unknown"), |s| cx.convert(s));
            let mut lines = doc_lines(p.docs);
            if let Some(schema) = &p.schema {
                let more = docs(schema, false);
                if !more.is_empty() && !lines.is_empty() {
                    lines.push(String::new());
                }
                lines.extend(more);
            }
            Prop {
                name: p.name.to_owned(),
                optional: !p.required,
                ty,
                docs: lines,
            }
        })
        .collect();
    Ts::Object { props, index: None }
}

fn method_map(out: &mut String, cx: &Convert<'_>, name: &str, doc: &str, methods: &[Method]) {
    out.push('\n');
    write_docs(out, 0, &[doc.to_owned()]);
    if methods.is_empty() {
        let _ = writeln!(out, "export interface {name} {{}}");
        return;
    }
    let _ = writeln!(out, "export interface {name} {{");
    for m in methods {
        write_docs(out, 1, &method_docs(m));
        let kind = match m.desc.kind {
            MethodKind::Request => "request",
            MethodKind::Notification => "notification",
        };
        let result = match &m.result {
            None => Ts::atom("void"),
            Some(None) => Ts::atom("unknown"),
            Some(Some(schema)) => cx.convert(schema),
        };
        let params = print(&params_type(cx, m), 2);
        let result = print(&result, 2);
        let sep = if result.starts_with('\n') { "" } else { " " };
        let _ = writeln!(out, "{}{}: {{", pad(1), key(m.desc.name));
        let _ = writeln!(out, "{}kind: \"{kind}\";", pad(2));
        let _ = writeln!(out, "{}params: {params};", pad(2));
        let _ = writeln!(out, "{}result:{sep}{result};", pad(2));
        let _ = writeln!(out, "{}}};", pad(1));
    }
    out.push_str("}\n");
}

fn helper_types(out: &mut String) {
    out.push_str(
        r#"
/** The wire names of the requests in a method map. */
export type RequestName<M> = { [K in keyof M]: M[K] extends { kind: "request" } ? K : never }[keyof M];

/** The wire names of the notifications in a method map. */
export type NotificationName<M> = { [K in keyof M]: M[K] extends { kind: "notification" } ? K : never }[keyof M];

/** The arguments of a call: its params (optional when every parameter is), then call options. */
export type CallArgs<P> = {} extends P
  ? [params?: P, options?: volley.CallOptions]
  : [params: P, options?: volley.CallOptions];

/** The arguments of a notification: its params (optional when every parameter is). */
export type NotifyArgs<P> = {} extends P ? [params?: P] : [params: P];
"#,
    );
}

/// Methods of one direction arranged for access by dotted path (see the module docs).
enum Node<'m> {
    Leaf(&'m Method),
    Group(Vec<(String, Node<'m>)>),
}

fn tree(methods: &[Method]) -> Vec<(String, Node<'_>)> {
    let names: HashSet<&str> = methods.iter().map(|m| m.desc.name).collect();
    let mut root: Vec<(String, Node<'_>)> = Vec::new();
    for m in methods {
        let segments: Vec<&str> = m.desc.name.split('.').collect();
        let nests = segments.len() > 1
            && segments.iter().all(|s| !s.is_empty())
            && (1..segments.len()).all(|n| !names.contains(segments[..n].join(".").as_str()));
        if !nests {
            root.push((m.desc.name.to_owned(), Node::Leaf(m)));
            continue;
        }
        let (last, path) = segments.split_last().unwrap_or((&"", &[]));
        let mut level = &mut root;
        for segment in path {
            let at = match level.iter().position(|(k, _)| k == segment) {
                Some(at) => at,
                None => {
                    level.push(((*segment).to_owned(), Node::Group(Vec::new())));
                    level.len() - 1
                }
            };
            level = match &mut level[at].1 {
                Node::Group(children) => children,
                // A method named like this group would have stopped the nesting.
                Node::Leaf(_) => unreachable!("a group and a method share a name"),
            };
        }
        level.push(((*last).to_owned(), Node::Leaf(m)));
    }
    root
}

fn all_optional(m: &Method) -> bool {
    m.params.iter().all(|p| !p.required)
}

fn server_api(out: &mut String, server: &[Method]) {
    fn members(out: &mut String, nodes: &[(String, Node<'_>)], level: usize, prefix: &str) {
        for (name, node) in nodes {
            match node {
                Node::Leaf(m) => {
                    write_docs(out, level, &method_docs(m));
                    let wire = string_literal(m.desc.name);
                    let opt = if all_optional(m) { "?" } else { "" };
                    let params = format!("params{opt}: ServerMethods[{wire}][\"params\"]");
                    match m.desc.kind {
                        MethodKind::Request => {
                            let _ = writeln!(
                                out,
                                "{}{}({params}, options?: volley.CallOptions): \
                                 Promise<ServerMethods[{wire}][\"result\"]>;",
                                pad(level),
                                key(name)
                            );
                        }
                        MethodKind::Notification => {
                            let _ = writeln!(out, "{}{}({params}): void;", pad(level), key(name));
                        }
                    }
                }
                Node::Group(children) => {
                    let path = format!("{prefix}{name}.");
                    write_docs(out, level, &[format!("Methods under `{path}`.")]);
                    let _ = writeln!(out, "{}readonly {}: {{", pad(level), key(name));
                    members(out, children, level + 1, &path);
                    let _ = writeln!(out, "{}}};", pad(level));
                }
            }
        }
    }
    out.push_str(
        "\n/**\n * Calls the server: `await api.server.add({ a: 1, b: 2 })`. Requests resolve with \
         the\n * result, or reject with volley.js's `RpcError`, `TimeoutError`, `CancelledError` \
         or\n * `DisconnectedError`; notifications are sent at once and return nothing.\n */\n",
    );
    if server.is_empty() {
        out.push_str("export interface ServerApi {}\n");
        return;
    }
    out.push_str("export interface ServerApi {\n");
    members(out, &tree(server), 1, "");
    out.push_str("}\n");
}

fn client_handlers(out: &mut String, client: &[Method]) {
    out.push_str(
        "\n/**\n * The methods this client serves, by wire name; the server calls them. Every \
         member is\n * required. A handler gets the params (always by name) and volley.js's \
         context (`signal`\n * aborts when the server cancels or the connection drops); what it \
         returns or resolves\n * with is the result, and what it throws is sent as the error \
         (an `RpcError` keeps its\n * code).\n */\n",
    );
    if client.is_empty() {
        out.push_str("export interface ClientHandlers {}\n");
        return;
    }
    out.push_str("export interface ClientHandlers {\n");
    for m in client {
        write_docs(out, 1, &method_docs(m));
        let wire = string_literal(m.desc.name);
        let returns = match m.desc.kind {
            MethodKind::Request => {
                format!(
                    "ClientMethods[{wire}][\"result\"] | Promise<ClientMethods[{wire}][\"result\"]>"
                )
            }
            MethodKind::Notification => "void | Promise<void>".to_owned(),
        };
        let _ = writeln!(
            out,
            "{}{}: (params: ClientMethods[{wire}][\"params\"], context: volley.HandlerContext) => {returns};",
            pad(1),
            key(m.desc.name)
        );
    }
    out.push_str("}\n");
}

fn runtime(out: &mut String, server: &[Method], client: &[Method]) {
    out.push_str(
        r#"
/** Options of `connectApi`: volley.js's `connect` options; the handlers come from `ClientHandlers`. */
export type ApiOptions = Omit<volley.ConnectOptions, "handlers">;

/** A connection to the server, typed. */
export interface Api {
  /** The server's methods. */
  readonly server: ServerApi;
  /** The volley.js peer underneath: events, `close()`, `batch()`, untyped calls. */
  readonly peer: volley.Peer;
  /** Calls a request by its wire name: `api.call("add", { a: 1, b: 2 })`. */
  call<M extends RequestName<ServerMethods>>(
    method: M,
    ...args: CallArgs<ServerMethods[M]["params"]>
  ): Promise<ServerMethods[M]["result"]>;
  /** Sends a notification by its wire name. */
  notify<M extends NotificationName<ServerMethods>>(
    method: M,
    ...args: NotifyArgs<ServerMethods[M]["params"]>
  ): void;
}

/**
 * Connects to `url` (see volley.js's `connect`), serving `handlers` to the server, and
 * resolves once the socket is open.
 */
export async function connectApi(
  url: string | URL,
"#,
    );
    if client.is_empty() {
        out.push_str("  handlers: ClientHandlers = {},\n");
    } else {
        out.push_str("  handlers: ClientHandlers,\n");
    }
    out.push_str(
        r#"  options: ApiOptions = {},
): Promise<Api> {
  const peer = await volley.connect(url, { ...options, handlers: clientHandlers(handlers) });
  return createApi(peer);
}

/** The typed API over a volley.js peer whose handlers came from `clientHandlers`. */
export function createApi(peer: volley.Peer): Api {
"#,
    );
    fn object(out: &mut String, nodes: &[(String, Node<'_>)], level: usize) {
        for (name, node) in nodes {
            match node {
                Node::Leaf(m) => {
                    let wire = string_literal(m.desc.name);
                    match m.desc.kind {
                        MethodKind::Request => {
                            let _ = writeln!(
                                out,
                                "{}{}: (params, options) => peer.call({wire}, params, options),",
                                pad(level),
                                literal_key(name)
                            );
                        }
                        MethodKind::Notification => {
                            let _ = writeln!(
                                out,
                                "{}{}: (params) => peer.notify({wire}, params),",
                                pad(level),
                                literal_key(name)
                            );
                        }
                    }
                }
                Node::Group(children) => {
                    let _ = writeln!(out, "{}{}: {{", pad(level), literal_key(name));
                    object(out, children, level + 1);
                    let _ = writeln!(out, "{}}},", pad(level));
                }
            }
        }
    }
    if server.is_empty() {
        out.push_str("  const server: ServerApi = {};\n");
    } else {
        out.push_str("  const server: ServerApi = {\n");
        object(out, &tree(server), 2);
        out.push_str("  };\n");
    }
    out.push_str(
        r#"  return {
    server,
    peer,
    call: (method, ...[params, options]) => peer.call(method, params, options),
    notify: (method, ...[params]) => peer.notify(method, params),
  };
}

/** volley.js handlers that name positional params and call `handlers`, looked up at each call. */
export function clientHandlers(handlers: ClientHandlers): volley.Handlers {
"#,
    );
    if client.is_empty() {
        out.push_str("  void handlers;\n  return {};\n}\n");
        return;
    }
    out.push_str("  return {\n");
    for m in client {
        let wire = string_literal(m.desc.name);
        let names: Vec<String> = m.params.iter().map(|p| string_literal(p.name)).collect();
        let _ = writeln!(
            out,
            "{}{}: (params, context) =>\n{}handlers[{wire}](namedParams({wire}, params, [{}]) as ClientMethods[{wire}][\"params\"], context),",
            pad(2),
            literal_key(m.desc.name),
            pad(3),
            names.join(", ")
        );
    }
    out.push_str(
        r#"  };
}

/** Params as an object: positions named in order; -32602 for extra positions or unknown names. */
function namedParams(method: string, params: unknown, names: readonly string[]): { [name: string]: unknown } {
  const invalid = (detail: string) =>
    new volley.RpcError(volley.ErrorCodes.INVALID_PARAMS, "Invalid params", `${method}: ${detail}`);
  if (params === undefined || params === null) return {};
  if (Array.isArray(params)) {
    if (params.length > names.length) {
      throw invalid(`expected at most ${names.length} params, got ${params.length}`);
    }
    const named: { [name: string]: unknown } = {};
    params.forEach((value: unknown, i) => {
      named[names[i] ?? i] = value;
    });
    return named;
  }
  if (typeof params !== "object") throw invalid("params must be an object or an array");
  for (const name of Object.keys(params)) {
    if (!names.includes(name)) throw invalid(`unknown param "${name}"`);
  }
  return params as { [name: string]: unknown };
}
"#,
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use volley_core::describe::{ParamDescription, Schema};

    fn convert(schema: Value, definitions: &[&str]) -> String {
        let definitions: Map<String, Value> = definitions
            .iter()
            .map(|d| ((*d).to_owned(), json!({})))
            .collect();
        let names = definition_names(&definitions);
        print(&Convert { names: &names }.convert(&schema), 0)
    }

    #[test]
    fn schemas_become_types() {
        let cases = [
            (json!(true), "unknown"),
            (json!(false), "never"),
            (json!({}), "unknown"),
            (json!({ "type": "string" }), "string"),
            (json!({ "type": ["string", "null"] }), "string | null"),
            (json!({ "type": "integer", "format": "int64" }), "number"),
            (json!({ "type": "null" }), "null"),
            (json!({ "enum": ["a", "b"] }), r#""a" | "b""#),
            (
                json!({ "type": "string", "enum": ["a", "b\"c"] }),
                r#""a" | "b\"c""#,
            ),
            (
                json!({ "enum": [1, 2.5, null, true] }),
                "1 | 2.5 | null | true",
            ),
            (json!({ "const": "x" }), r#""x""#),
            (json!({ "const": [1, "a"] }), r#"[1, "a"]"#),
            (json!({ "type": "array" }), "unknown[]"),
            (
                json!({ "type": "array", "items": { "type": "string" } }),
                "string[]",
            ),
            (
                json!({ "type": "array", "items": { "type": ["string", "null"] } }),
                "(string | null)[]",
            ),
            (
                json!({ "type": "array", "items": [{ "type": "string" }, { "type": "number" }],
                        "minItems": 2, "maxItems": 2 }),
                "[string, number]",
            ),
            (
                json!({ "type": "array", "items": [{ "type": "string" }, { "type": "number" }],
                        "minItems": 1, "additionalItems": false }),
                "[string, number?]",
            ),
            (
                json!({ "type": "array", "items": [{ "type": "string" }], "minItems": 1 }),
                "[string, ...unknown[]]",
            ),
            (
                json!({ "type": "array", "prefixItems": [{ "type": "string" }],
                        "items": { "type": "boolean" }, "minItems": 1 }),
                "[string, ...boolean[]]",
            ),
            (
                json!({ "type": "array", "prefixItems": [{ "type": "string" }],
                        "items": false, "minItems": 1 }),
                "[string]",
            ),
            (
                json!({ "anyOf": [{ "$ref": "#/definitions/A" }, { "type": "null" }] }),
                "A | null",
            ),
            (
                json!({ "oneOf": [{ "type": "string" }, { "type": "string" }] }),
                "string",
            ),
            (json!({ "anyOf": [{ "type": "string" }, true] }), "unknown"),
            (
                json!({ "allOf": [{ "$ref": "#/definitions/A" }, { "$ref": "#/definitions/B" }] }),
                "A & B",
            ),
            (
                json!({ "allOf": [{ "$ref": "#/definitions/A" }], "description": "sibling" }),
                "A",
            ),
            (json!({ "$ref": "#/definitions/Missing" }), "unknown"),
            (json!({ "$ref": "https://example.com/schema" }), "unknown"),
            (json!({ "$ref": "#/definitions/a~1b%20c" }), "a_b_c"),
            (
                json!({ "$ref": "#/definitions/Page%3CPoint%3E" }),
                "Page_Point_",
            ),
            (json!({ "type": "object" }), "{ [key: string]: unknown }"),
            (
                json!({ "type": "object", "additionalProperties": { "type": "integer" } }),
                "{ [key: string]: number }",
            ),
            (
                json!({ "type": "object", "patternProperties": { "^x": { "type": "string" } } }),
                "{ [key: string]: string }",
            ),
            (
                json!({ "type": "object", "properties": {}, "additionalProperties": false }),
                "Record<string, never>",
            ),
            (
                json!({ "type": "object", "oneOf": [{ "$ref": "#/definitions/A" },
                                                    { "$ref": "#/definitions/B" }] }),
                "A | B",
            ),
        ];
        for (schema, expected) in cases {
            let text = schema.to_string();
            assert_eq!(
                convert(schema, &["A", "B", "a/b c", "Page<Point>"]),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn objects_list_properties_with_docs_and_optionality() {
        let schema = json!({
            "type": "object",
            "properties": {
                "b": { "type": "integer", "format": "uint64", "description": "Bee." },
                "a-b": { "type": ["string", "null"], "default": null, "deprecated": true },
                "a": { "$ref": "#/definitions/A" },
            },
            "required": ["a", "b"],
            "additionalProperties": { "type": "boolean" },
        });
        assert_eq!(
            convert(schema, &["A"]),
            "{\n  a: A;\n  /**\n   * @default null\n   * @deprecated\n   */\n  \"a-b\"?: string | null;\n  \
             /**\n   * Bee.\n   *\n   * Integers of format `uint64` are typed `number`: JSON numbers, \
             exact up to 2^53 - 1 in JavaScript.\n   */\n  b: number;\n  \
             [key: string]: boolean | A | string | null | number;\n}"
        );
    }

    #[test]
    fn flattened_enums_intersect_with_their_object() {
        let schema = json!({
            "type": "object",
            "properties": { "id": { "type": "string" } },
            "required": ["id"],
            "oneOf": [
                { "type": "object", "properties": { "a": { "const": 1 } }, "required": ["a"] },
                { "type": "object", "properties": { "b": { "const": 2 } }, "required": ["b"] },
            ],
        });
        let expected =
            "{\n  id: string;\n} & (\n  | {\n      a: 1;\n    }\n  | {\n      b: 2;\n    }\n)";
        assert_eq!(convert(schema, &[]), expected);
    }

    #[test]
    fn definition_names_are_identifiers_that_clash_with_nothing() {
        let definitions: Map<String, Value> = [
            "Api",
            "string",
            "Page<Point>",
            "1st",
            "a-b",
            "a_b",
            "",
            "Promise",
            "Fine",
        ]
        .iter()
        .map(|d| ((*d).to_owned(), json!({})))
        .collect();
        let names = definition_names(&definitions);
        let name = |d: &str| names[d].as_str();
        assert_eq!(name("Api"), "Api2");
        assert_eq!(name("string"), "string2");
        assert_eq!(name("Page<Point>"), "Page_Point_");
        assert_eq!(name("1st"), "_1st");
        assert_eq!(name("a-b"), "a_b");
        assert_eq!(name("a_b"), "a_b2");
        assert_eq!(name(""), "_");
        assert_eq!(name("Promise"), "Promise2");
        assert_eq!(name("Fine"), "Fine");
    }

    #[test]
    fn doc_comments_cannot_end_early() {
        let mut out = String::new();
        write_docs(&mut out, 1, &["a */ b".to_owned()]);
        assert_eq!(out, "  /** a *\\/ b */\n");
    }

    fn no_schema(_: &mut SchemaGenerator) -> Option<Schema> {
        None
    }

    fn string_schema(g: &mut SchemaGenerator) -> Option<Schema> {
        Some(g.subschema_for::<String>())
    }

    fn yes() -> bool {
        true
    }

    const QUESTION: &[ParamDescription] = &[ParamDescription {
        name: "question",
        rust_type: "String",
        docs: "",
        schema: string_schema,
        required: yes,
    }];

    const fn method(name: &'static str, kind: MethodKind) -> MethodDescription {
        MethodDescription {
            rust_name: "m",
            name,
            docs: "",
            kind,
            params: QUESTION,
            result_type: "String",
            error_type: None,
            result_schema: string_schema,
            error_schema: no_schema,
        }
    }

    static SERVER: ServiceDescription = ServiceDescription {
        name: "Server",
        docs: "",
        namespace: None,
        methods: &[
            method("calc", MethodKind::Request),
            method("calc.add", MethodKind::Request),
            method("x.y.z", MethodKind::Request),
            method("x.w", MethodKind::Notification),
            method("a..b", MethodKind::Request),
            method("__proto__", MethodKind::Request),
            method("my-method", MethodKind::Request),
            method("x.w", MethodKind::Request),
            MethodDescription {
                rust_name: "opaque",
                name: "opaque",
                docs: "",
                kind: MethodKind::Request,
                params: &[ParamDescription {
                    name: "handle",
                    rust_type: "Handle",
                    docs: "An opaque handle.",
                    schema: no_schema,
                    required: yes,
                }],
                result_type: "Handle",
                error_type: None,
                result_schema: no_schema,
                error_schema: no_schema,
            },
        ],
    };

    static CLIENT: ServiceDescription = ServiceDescription {
        name: "Client",
        docs: "",
        namespace: Some("ui"),
        methods: &[method("ui.ask", MethodKind::Request)],
    };

    #[test]
    fn dotted_names_nest_unless_a_method_is_named_like_the_group() {
        let api = Api::new(crate::Side::Server)
            .with_served([&SERVER])
            .with_remote([&CLIENT]);
        let module = typescript(&api, &TypeScriptOptions::default());
        let api = &module[module
            .find("export interface ServerApi")
            .expect("ServerApi")..];
        let api = &api[..api.find("\n}\n").expect("its end")];
        for expected in [
            "\n  calc(params: ServerMethods[\"calc\"][\"params\"]",
            "\n  \"calc.add\"(params: ServerMethods[\"calc.add\"][\"params\"]",
            "\n  readonly x: {\n    /** Methods under `x.y.`. */\n    readonly y: {\n      z(",
            "\n    w(params: ServerMethods[\"x.w\"][\"params\"]): void;",
            "\n  \"a..b\"(",
            "\n  __proto__(",
            "\n  \"my-method\"(",
        ] {
            assert!(api.contains(expected), "{expected:?} not in\n{api}");
        }
        // Types without a schema are `unknown`.
        assert!(module.contains(
            "  opaque: {\n    kind: \"request\";\n    params: {\n      /** An opaque handle. */\n      \
             handle: unknown;\n    };\n    result: unknown;\n  };"
        ));
        // The first description of a wire name wins.
        assert_eq!(module.matches("\n  \"x.w\": {").count(), 1);
        assert!(module.contains("[\"__proto__\"]: (params, options) => peer.call(\"__proto__\""));
        assert!(module.contains("\n    \"ui.ask\": (params, context) =>\n"));
        assert!(module.contains("import * as volley from \"./volley.js\";"));
        let api = Api::new(crate::Side::Server).with_served([&SERVER]);
        let module = typescript(&api, &TypeScriptOptions::new().volley_js("volley-js"));
        assert!(module.contains("import * as volley from \"volley-js\";"));
        assert!(module.contains("export interface ClientHandlers {}"));
    }
}
