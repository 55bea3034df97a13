//! Schemas read from a document, handed to the generators as [`SchemaFn`]s.
//!
//! A [`SchemaFn`] is a plain function pointer: it cannot carry the schema it stands for. So
//! each distinct schema read (with the type definitions it refers to) gets a *slot* in a
//! process-wide table, and the function of that slot, one of [`CAPACITY`] functions compiled
//! in, gives the slot's schema to whichever generator calls it. Slots are shared: reading
//! the same schema twice, in one document or in two, takes one slot.
//!
//! A method's own errors (`errors: fn() -> &'static [ErrorDescription]`) are handed out the
//! same way: one slot per distinct list.
//!
//! Schemas are kept as the document has them, their `$ref`s pointing at
//! `#/components/schemas/`; a slot's function points them at the calling generator's own
//! definitions path and adds the definitions it refers to, so the generator sees what a
//! schemars-derived type would have given it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use serde_json::{Map, Value};

use volley_core::ErrorDescription;
use volley_core::describe::{Schema, SchemaFn, SchemaGenerator};

use crate::schema::{DEFINITIONS, for_each_subschema};

/// How many distinct schemas one process can hold.
pub(crate) const CAPACITY: usize = 1024;

/// One schema and the type definitions it refers to, directly or through other definitions,
/// by name, `$ref`s as the document wrote them.
struct Slot {
    schema: Value,
    definitions: Vec<(String, Value)>,
}

/// Every slot given out, and which slot each schema has.
#[derive(Default)]
struct Registry {
    slots: Vec<Arc<Slot>>,
    index: HashMap<String, usize>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// The slot of `schema`, whose `$ref`s resolve in `components` (the document's
/// `#/components/schemas`): an existing one when it was read before, else a new one; `None`
/// when every slot is taken.
pub(super) fn intern(schema: &Value, components: Option<&Map<String, Value>>) -> Option<usize> {
    let mut definitions = Vec::new();
    if let Some(components) = components {
        referenced(schema, components, &mut definitions);
    }
    let key = Value::Array(vec![
        schema.clone(),
        definitions
            .iter()
            .map(|(name, definition)| Value::Array(vec![name.as_str().into(), definition.clone()]))
            .collect(),
    ])
    .to_string();
    let mut registry = registry();
    if let Some(&slot) = registry.index.get(&key) {
        return Some(slot);
    }
    let slot = registry.slots.len();
    if slot >= CAPACITY {
        return None;
    }
    registry.slots.push(Arc::new(Slot {
        schema: schema.clone(),
        definitions,
    }));
    registry.index.insert(key, slot);
    Some(slot)
}

/// The function of slot `slot` (below [`CAPACITY`]).
pub(super) fn function(slot: usize) -> SchemaFn {
    FUNCTIONS[slot / 256][slot / 16 % 16][slot % 16]
}

/// The [`SchemaFn`] of a type that has no schema.
pub(super) fn no_schema(_: &mut SchemaGenerator) -> Option<Schema> {
    None
}

/// The `errors` function of a method description.
pub(super) type ErrorsFn = fn() -> &'static [ErrorDescription];

/// Every error list given out, and which slot each list has.
#[derive(Default)]
struct ErrorLists {
    lists: Vec<&'static [ErrorDescription]>,
    index: HashMap<String, usize>,
}

static ERROR_LISTS: LazyLock<Mutex<ErrorLists>> = LazyLock::new(Default::default);

fn error_lists() -> MutexGuard<'static, ErrorLists> {
    ERROR_LISTS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The function that gives the error list `key` stands for (equal keys for equal lists):
/// the list `make` builds, kept for the life of the process, the first time; `None` when
/// every slot is taken.
pub(super) fn intern_errors(
    key: String,
    make: impl FnOnce() -> Vec<ErrorDescription>,
) -> Option<ErrorsFn> {
    let mut lists = error_lists();
    let slot = match lists.index.get(&key) {
        Some(&slot) => slot,
        None if lists.lists.len() < CAPACITY => {
            let list: &'static [ErrorDescription] = Box::leak(make().into_boxed_slice());
            lists.lists.push(list);
            let slot = lists.lists.len() - 1;
            lists.index.insert(key, slot);
            slot
        }
        None => return None,
    };
    Some(ERROR_FUNCTIONS[slot / 256][slot / 16 % 16][slot % 16])
}

/// The `errors` function of a method without errors of its own.
pub(super) fn no_errors() -> &'static [ErrorDescription] {
    &[]
}

/// The function of one error list's slot.
fn error_slot<const N: usize>() -> &'static [ErrorDescription] {
    error_lists().lists.get(N).copied().unwrap_or_default()
}

/// Adds to `out` the definitions `schema` refers to, and those they refer to, once each.
fn referenced(schema: &Value, components: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    let mut references = Vec::new();
    for_each_subschema(&mut schema.clone(), &mut |map| {
        if let Some(Value::String(r)) = map.get("$ref") {
            references.push(r.clone());
        }
    });
    for reference in references {
        let Some(name) = reference.strip_prefix(DEFINITIONS).map(decode) else {
            continue;
        };
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        if let Some(definition) = components.get(&name) {
            out.push((name, definition.clone()));
            referenced(definition, components, out);
        }
    }
}

/// A `$ref`'s last token as the name it stands for: percent-decoded, then `~1` -> `/` and
/// `~0` -> `~` (a URI fragment holding a JSON Pointer).
fn decode(token: &str) -> String {
    let bytes = token.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out)
        .replace("~1", "/")
        .replace("~0", "~")
}

/// Gives the generator `g` the schema of slot `slot`: its definitions are added to `g`'s
/// (unless `g` has them already), and every `$ref` points at `g`'s definitions path.
fn fill(slot: usize, g: &mut SchemaGenerator) -> Option<Schema> {
    let slot = registry().slots.get(slot).cloned()?;
    let path = g.settings().definitions_path.as_ref();
    let path = path.strip_prefix('#').unwrap_or(path);
    let prefix = format!("#{}/", path.strip_suffix('/').unwrap_or(path));
    for (name, definition) in &slot.definitions {
        if !g.definitions().contains_key(name) {
            let mut definition = definition.clone();
            relocate(&mut definition, &prefix);
            g.definitions_mut().insert(name.clone(), definition);
        }
    }
    let mut schema = slot.schema.clone();
    relocate(&mut schema, &prefix);
    Schema::try_from(schema).ok()
}

/// Points every `$ref` to the document's definitions at `prefix` instead.
fn relocate(schema: &mut Value, prefix: &str) {
    if prefix == DEFINITIONS {
        return;
    }
    for_each_subschema(schema, &mut |map| {
        if let Some(Value::String(r)) = map.get_mut("$ref")
            && let Some(token) = r.strip_prefix(DEFINITIONS)
        {
            *r = format!("{prefix}{token}");
        }
    });
}

/// The function of one slot.
fn slot<const N: usize>(g: &mut SchemaGenerator) -> Option<Schema> {
    fill(N, g)
}

/// Sixteen slot functions `$f::<N>` from `$base` on.
macro_rules! sixteen {
    ($f:ident, $base:expr) => {
        [
            $f::<{ $base }>,
            $f::<{ $base + 1 }>,
            $f::<{ $base + 2 }>,
            $f::<{ $base + 3 }>,
            $f::<{ $base + 4 }>,
            $f::<{ $base + 5 }>,
            $f::<{ $base + 6 }>,
            $f::<{ $base + 7 }>,
            $f::<{ $base + 8 }>,
            $f::<{ $base + 9 }>,
            $f::<{ $base + 10 }>,
            $f::<{ $base + 11 }>,
            $f::<{ $base + 12 }>,
            $f::<{ $base + 13 }>,
            $f::<{ $base + 14 }>,
            $f::<{ $base + 15 }>,
        ]
    };
}

/// 256 slot functions `$f::<N>` from `$base` on.
macro_rules! block {
    ($f:ident, $base:expr) => {
        [
            sixteen!($f, $base),
            sixteen!($f, $base + 16),
            sixteen!($f, $base + 32),
            sixteen!($f, $base + 48),
            sixteen!($f, $base + 64),
            sixteen!($f, $base + 80),
            sixteen!($f, $base + 96),
            sixteen!($f, $base + 112),
            sixteen!($f, $base + 128),
            sixteen!($f, $base + 144),
            sixteen!($f, $base + 160),
            sixteen!($f, $base + 176),
            sixteen!($f, $base + 192),
            sixteen!($f, $base + 208),
            sixteen!($f, $base + 224),
            sixteen!($f, $base + 240),
        ]
    };
}

/// The function of every slot, [`CAPACITY`] in all.
static FUNCTIONS: [[[SchemaFn; 16]; 16]; CAPACITY / 256] = [
    block!(slot, 0),
    block!(slot, 256),
    block!(slot, 512),
    block!(slot, 768),
];

/// The function of every error list's slot, [`CAPACITY`] in all.
static ERROR_FUNCTIONS: [[[ErrorsFn; 16]; 16]; CAPACITY / 256] = [
    block!(error_slot, 0),
    block!(error_slot, 256),
    block!(error_slot, 512),
    block!(error_slot, 768),
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{DOCUMENT, Schemas};

    #[test]
    fn a_slot_gives_its_schema_and_definitions_at_the_generators_path() {
        let components = json!({
            "Point": { "type": "object", "properties": { "next": { "$ref": "#/components/schemas/Point" } } },
            "Line": { "type": "array", "items": { "$ref": "#/components/schemas/Point" } },
            "Unused": { "type": "string" },
        });
        let components = components.as_object();
        let schema = json!({ "$ref": "#/components/schemas/Line" });
        let slot = intern(&schema, components).expect("a slot");
        assert_eq!(intern(&schema.clone(), components), Some(slot), "shared");
        assert_ne!(intern(&json!({ "type": "string" }), components), Some(slot));

        let mut typescript =
            SchemaGenerator::new(schemars::generate::SchemaSettings::draft07().with(|s| {
                s.definitions_path = "#/definitions".into();
            }));
        let given = function(slot)(&mut typescript).expect("a schema");
        assert_eq!(given.to_value(), json!({ "$ref": "#/definitions/Line" }));
        let definitions = typescript.definitions();
        assert_eq!(definitions.len(), 2, "{definitions:?}");
        assert_eq!(definitions["Line"]["items"]["$ref"], "#/definitions/Point");

        let mut document = Schemas::new(DOCUMENT);
        assert_eq!(
            document.schema(function(slot)),
            Some(json!({ "$ref": "#/components/schemas/Line" }))
        );
        assert_eq!(no_schema(&mut typescript), None);
    }

    #[test]
    fn equal_error_lists_share_a_slot() {
        let list = || {
            vec![ErrorDescription {
                variant: "Gone",
                code: 410,
                message: "gone",
                docs: "",
                data_schema: no_schema,
            }]
        };
        let key = "[[410, \"gone\"]] (a slots test)".to_owned();
        let gone = intern_errors(key.clone(), list).expect("a slot");
        assert_eq!(gone()[0].code, 410);
        let again = intern_errors(key, || unreachable!("the list is made once")).expect("a slot");
        assert_eq!(again().as_ptr(), gone().as_ptr());
        assert!(no_errors().is_empty());
    }

    #[test]
    fn refs_are_decoded_as_uri_fragments() {
        assert_eq!(decode("Page%3CPoint%3E"), "Page<Point>");
        assert_eq!(decode("a~1b~0c"), "a/b~c");
        assert_eq!(decode("100%"), "100%");
    }
}
