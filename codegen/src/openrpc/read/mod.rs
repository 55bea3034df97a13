//! Reading an OpenRPC document back into an [`Api`]: the inverse of
//! [`openrpc`](super::openrpc), so that the other generators can run on what a server's
//! `rpc.discover` answered, or on a document saved to a file.

use std::fmt;

use serde_json::Value;

use volley_core::Service;
use volley_core::describe::{MethodDescription, ServiceDescription};
use volley_core::jsonrpsee::RpcModule;

use crate::api::{Api, Info, Side};
use crate::collect::DEFAULT_DESCRIPTION;

mod method;
mod slots;
#[cfg(test)]
mod tests;

use method::{Failure, Reader, leak};

/// An OpenRPC document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadError {
    /// The document is not a JSON object with a `methods` array. Check that it is an
    /// OpenRPC document (`rpc.discover`'s answer, or a server's `/openrpc.json`).
    NotOpenRpc,
    /// A method object cannot be read (it has no name, or its params are not a list of
    /// content descriptors); `method` is its position in `methods`, from 0.
    Method {
        /// The method's position in `methods`.
        method: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The process already holds as many distinct schemas as it can (1024, see
    /// [`read_openrpc`]): read fewer documents in one process.
    TooManySchemas,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotOpenRpc => {
                f.write_str("not an OpenRPC document: no `methods` array at the top level")
            }
            ReadError::Method { method, reason } => write!(f, "method {method}: {reason}"),
            ReadError::TooManySchemas => write!(
                f,
                "more than {} distinct schemas read in one process",
                slots::CAPACITY
            ),
        }
    }
}

impl std::error::Error for ReadError {}

/// The [`Api`] an OpenRPC document describes: its `info`, the traits each end serves with
/// their methods (kind, params, result, error data, requirement, deadline, idempotence,
/// param structure, docs), and the methods served without a description.
///
/// For a document [`openrpc`](super::openrpc) wrote, `openrpc(&read_openrpc(&doc)?, url)`
/// is `doc` again (with the same `url`), and [`asyncapi`](crate::asyncapi()) and
/// [`typescript`](crate::typescript()) give what they give for the original `Api`, but for
/// what a document does not hold:
///
/// - **Rust names.** A method's `rust_name` is its wire name without the namespace; the
///   `rust_type` of a param and a method's `result_type` are the type a schema-less type's
///   description names, else a short name of the schema (`Point`, `integer`); `error_type`
///   is known only when the error type has a schema (`x-error-data`). A trait's namespace
///   is the common prefix of its methods' names (`canvas.` in `canvas.draw`), if any.
/// - **Doc comments.** Rustdoc-only markup was removed when the document was written. A
///   method's docs are its summary and description joined by a blank line, or by a line
///   break when the summary does not end a sentence (a summary that was wrapped).
/// - **Schemas** are the document's. Boolean schemas come back in the object form the
///   document uses (`{}`), and type definitions keep their document keys (`Wrapped_Point_`
///   where schemars named one `Wrapped<Point>`), which can change the order in which the
///   TypeScript module declares such types.
/// - **Errors of an `RpcError` type** (`errors`, `x-error-schemas` and `x-error-type`): each
///   error's code, message, `data` schema and variant name are read, and the type's name;
///   a variant's docs are not in the document. In a document without `x-error-type`,
///   variants are named after their messages (`not found` -> `NotFound`, else `E<code>`)
///   and the type is unnamed, so the AsyncAPI messages and the TypeScript declarations of
///   these errors are named `Error` instead.
/// - **Traits served by both ends.** A method both ends serve is listed once, under the
///   trait of the end listed first; it is read as a method of that trait on both ends. Two
///   traits of one name served by one end are read as one.
/// - **The server URL** (`servers`) is not part of an `Api`: pass it to the generators.
///
/// Documents from elsewhere are read as far as they go: a method without
/// `x-implemented-by` is served by the server (the extension's default); its trait is its
/// first tag, or else is named after the document's title; `$ref`s to
/// `#/components/...` are followed for methods, params, results and tags, and schemas keep
/// theirs to `#/components/schemas/`.
///
/// What is read stays allocated for the life of the process (an `Api` holds `'static`
/// descriptions), and the schemas it hands to the generators are taken from a table of
/// 1024 per process, shared by equal schemas: this is for command-line tools and tests,
/// not for a server that reads documents all day. Past that, [`ReadError::TooManySchemas`].
pub fn read_openrpc(document: &Value) -> Result<Api, ReadError> {
    let methods = document
        .get("methods")
        .and_then(Value::as_array)
        .ok_or(ReadError::NotOpenRpc)?;
    let reader = Reader {
        document,
        components: document
            .pointer("/components/schemas")
            .and_then(Value::as_object),
        title: document
            .pointer("/info/title")
            .and_then(Value::as_str)
            .unwrap_or("JSON-RPC API"),
    };
    let methods: Vec<&Value> = methods.iter().map(|m| reader.resolve(m)).collect();
    let mut read = Vec::new();
    for (index, method) in methods.iter().enumerate() {
        if is_generated_unsubscribe(method, &methods) {
            continue;
        }
        let method = reader.method(method).map_err(|reason| match reason {
            Failure::Schemas => ReadError::TooManySchemas,
            Failure::Invalid(reason) => ReadError::Method {
                method: index,
                reason,
            },
        })?;
        read.push(method);
    }
    let own = read
        .iter()
        .find_map(|m| m.sides.first().copied())
        .unwrap_or(Side::Server);

    let mut undescribed = Vec::new();
    let mut traits: Vec<Trait> = Vec::new();
    for method in read {
        let (name, docs) = match method.service {
            Some(service) => service,
            None if method.sides.first() == Some(&own) => {
                undescribed.push(method.description.name);
                continue;
            }
            // Only the end a document belongs to serves methods without a description.
            None => (reader.title.to_owned(), String::new()),
        };
        for side in method.sides {
            let index = match traits.iter().position(|t| t.side == side && t.name == name) {
                Some(i) => i,
                None => {
                    traits.push(Trait {
                        side,
                        name: name.clone(),
                        docs: docs.clone(),
                        methods: Vec::new(),
                    });
                    traits.len() - 1
                }
            };
            traits[index].methods.push(method.description);
        }
    }
    let mut api = if undescribed.is_empty() {
        Api::new(own)
    } else {
        Api::of_service(own, &by_name_only(&undescribed))
    };
    let (served, remote): (Vec<Trait>, Vec<Trait>) =
        traits.into_iter().partition(|t| t.side == own);
    api = api
        .with_served(served.into_iter().map(Trait::leak))
        .with_remote(remote.into_iter().map(Trait::leak));
    Ok(api.with_info(info(document)))
}

/// The document's `info`; a description that is volley's default one reads as none.
fn info(document: &Value) -> Info {
    let text = |key: &str| document.pointer(&format!("/info/{key}"))?.as_str();
    let mut info = Info::new(
        text("title").unwrap_or("JSON-RPC API"),
        text("version").unwrap_or("0.0.0"),
    );
    if let Some(description) = text("description").filter(|d| *d != DEFAULT_DESCRIPTION) {
        info = info.with_description(description);
    }
    info
}

/// A service serving `names`, by name only (their handlers are never run).
fn by_name_only(names: &[&'static str]) -> Service {
    let mut module = RpcModule::new(());
    for name in names {
        // A name listed twice is registered once.
        let _ = module.register_method(name, |_, _, _| ());
    }
    Service::from(module)
}

/// Whether `method` is the unsubscribe method of a stream listed in `methods`: it is
/// written again with its stream.
fn is_generated_unsubscribe(method: &Value, methods: &[&Value]) -> bool {
    let Some(stream) = method.get("x-unsubscribes").and_then(Value::as_str) else {
        return false;
    };
    methods.iter().any(|m| {
        m.get("name").and_then(Value::as_str) == Some(stream)
            && m.pointer("/x-stream/unsubscribe") == method.get("name")
    })
}

/// One trait being read: its methods so far.
struct Trait {
    side: Side,
    name: String,
    docs: String,
    methods: Vec<MethodDescription>,
}

impl Trait {
    fn leak(self) -> &'static ServiceDescription {
        let namespace = namespace(&self.methods).map(leak);
        let methods = self
            .methods
            .into_iter()
            .map(|mut m| {
                if let Some(rest) = namespace.and_then(|ns| m.name.strip_prefix(ns)) {
                    m.rust_name = rest.trim_start_matches('.');
                }
                m
            })
            .collect::<Vec<_>>();
        Box::leak(Box::new(ServiceDescription {
            name: leak(self.name),
            docs: leak(self.docs),
            namespace,
            methods: Box::leak(methods.into_boxed_slice()),
        }))
    }
}

/// The prefix before the first `.` that every method's name has, if any.
fn namespace(methods: &[MethodDescription]) -> Option<String> {
    let first = methods.first()?.name.split_once('.')?.0;
    let shared = methods
        .iter()
        .all(|m| m.name.split_once('.').is_some_and(|(ns, _)| ns == first));
    (shared && !first.is_empty()).then(|| first.to_owned())
}
