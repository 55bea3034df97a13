//! TypeScript names: the identifiers of type definitions (kept clear of what the module
//! declares and of reserved words), property keys and string literals.

use serde_json::Value;

use crate::names::Namer;

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
    "StreamName",
    "SubscribeOptions",
    "SubscribeArgs",
    "StreamItems",
    "StreamDefaults",
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
    "AsyncIterable",
    "Iterable",
    "PromiseLike",
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

/// The namer of type definitions: identifiers, clear of [`RESERVED`], numbered on a clash.
pub(super) fn namer() -> Namer {
    Namer::new(identifier, RESERVED)
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
pub(super) fn key(name: &str) -> String {
    if is_identifier(name) {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

/// A property of an object literal (computed for `__proto__`, which would set the prototype).
pub(super) fn literal_key(name: &str) -> String {
    if name == "__proto__" {
        format!("[{}]", string_literal(name))
    } else {
        key(name)
    }
}

/// `text` as a string literal (JSON's escapes are TypeScript's).
pub(super) fn string_literal(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_names_are_identifiers_that_clash_with_nothing() {
        // Definitions are named in the order of their schemars names.
        let mut names = [
            "Api",
            "string",
            "Page<Point>",
            "1st",
            "a-b",
            "a_b",
            "",
            "Promise",
            "Fine",
        ];
        names.sort_unstable();
        let mut namer = namer();
        let given: Vec<(&str, String)> = names.iter().map(|n| (*n, namer.name(n))).collect();
        let name = |d: &str| given.iter().find(|(n, _)| *n == d).map(|(_, g)| g.as_str());
        assert_eq!(name("Api"), Some("Api2"));
        assert_eq!(name("string"), Some("string2"));
        assert_eq!(name("Page<Point>"), Some("Page_Point_"));
        assert_eq!(name("1st"), Some("_1st"));
        assert_eq!(name("a-b"), Some("a_b"));
        assert_eq!(name("a_b"), Some("a_b2"));
        assert_eq!(name(""), Some("_"));
        assert_eq!(name("Promise"), Some("Promise2"));
        assert_eq!(name("Fine"), Some("Fine"));
    }

    #[test]
    fn keys_are_bare_only_when_they_are_identifiers() {
        assert_eq!(key("calc"), "calc");
        assert_eq!(key("$x_1"), "$x_1");
        assert_eq!(key("my-method"), "\"my-method\"");
        assert_eq!(key("1st"), "\"1st\"");
        assert_eq!(key("__proto__"), "__proto__");
        assert_eq!(literal_key("__proto__"), "[\"__proto__\"]");
        assert_eq!(string_literal("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
