//! The errors of the contract: for each error type (`RpcError`) a method answers with, its
//! codes by variant (`<Name>Codes`), the union of its error objects (`<Name>`: a `code`
//! literal, the `message`, the `data` type of that code) and a type guard (`is<Name>`) for
//! what a call rejects with.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{Method, pad};
use crate::names::error_type_name;
use crate::typescript::convert::Convert;
use crate::typescript::docs::{doc_lines, write_docs};
use crate::typescript::print::print;

/// The union type each method with errors answers with, by the method's description
/// (its address: the same wire name may be served on both sides).
pub(super) struct ErrorTypes(HashMap<usize, String>);

impl ErrorTypes {
    /// The name of `m`'s error union, when it has errors.
    pub(super) fn of(&self, m: &Method) -> Option<&str> {
        self.0.get(&key(m)).map(String::as_str)
    }
}

fn key(m: &Method) -> usize {
    std::ptr::from_ref(m.desc) as usize
}

/// Declares the codes, union and guard of every error type of `methods`, each once (by its
/// name), and says which one each method answers with.
pub(super) fn declare<'m>(
    out: &mut String,
    cx: &Convert<'_>,
    methods: impl Iterator<Item = &'m Method>,
) -> ErrorTypes {
    let taken: Vec<&str> = cx.definitions.iter().map(|(name, _)| name).collect();
    let mut declared: HashMap<String, String> = HashMap::new();
    let mut by_method = HashMap::new();
    for m in methods.filter(|m| !m.errors.is_empty()) {
        let rust = error_type_name(m.desc.error_type.unwrap_or("Error"));
        let name = match declared.get(&rust) {
            Some(name) => name.clone(),
            None => {
                let name = if taken.contains(&rust.as_str()) {
                    format!("{rust}Object")
                } else {
                    rust.clone()
                };
                write_type(out, cx, m, &rust, &name);
                declared.insert(rust, name.clone());
                name
            }
        };
        by_method.insert(key(m), name);
    }
    ErrorTypes(by_method)
}

fn write_type(out: &mut String, cx: &Convert<'_>, m: &Method, rust: &str, name: &str) {
    out.push('\n');
    write_docs(
        out,
        0,
        &[format!("The codes of `{rust}`'s errors, by variant.")],
    );
    let _ = writeln!(out, "export const {name}Codes = {{");
    for case in &m.errors {
        write_docs(out, 1, &doc_lines(case.desc.docs));
        let _ = writeln!(out, "{}{}: {},", pad(1), case.desc.variant, case.desc.code);
    }
    out.push_str("} as const;\n\n");

    write_docs(
        out,
        0,
        &[format!(
            "One of `{rust}`'s errors: the `code`, `message` and `data` of the `volley.RpcError` \
             a call rejects with (narrow it with `is{name}` and a `switch` on `code`)."
        )],
    );
    let _ = writeln!(out, "export type {name} =");
    let last = m.errors.len().saturating_sub(1);
    for (i, case) in m.errors.iter().enumerate() {
        let mut docs = doc_lines(case.desc.docs);
        docs.push(format!("Message: \"{}\".", case.desc.message));
        write_docs(out, 1, &docs);
        let data = match &case.data {
            Some(schema) => format!("data: {}", print(&cx.convert(schema), 1)),
            None => "data?: undefined".to_owned(),
        };
        let end = if i == last { ";" } else { "" };
        let _ = writeln!(
            out,
            "{}| {{ code: {}; message: string; {data} }}{end}",
            pad(1),
            case.desc.code
        );
    }
    out.push('\n');
    write_docs(
        out,
        0,
        &[format!(
            "Whether `e` is one of `{rust}`'s errors: a `volley.RpcError` with one of its codes."
        )],
    );
    let _ = writeln!(
        out,
        "export function is{name}(e: unknown): e is volley.RpcError & {name} {{"
    );
    let _ = writeln!(
        out,
        "{}return e instanceof volley.RpcError && (Object.values({name}Codes) as number[]).includes(e.code);",
        pad(1)
    );
    out.push_str("}\n");
}
