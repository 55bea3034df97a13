//! Names that must be valid and unique where they are declared: component keys of the
//! documents, type names of the TypeScript module, message and operation keys.

use std::collections::HashSet;

/// The name of an error type as written in Rust (`crate::errors::BidError`, `Wrapped<u8>`):
/// its last path segment without generics, letters, digits and `_` only, never starting with
/// a digit.
pub(crate) fn error_type_name(written: &str) -> String {
    let last = written.rsplit("::").next().unwrap_or(written);
    let base = last.split('<').next().unwrap_or(last).trim();
    let name: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    match name.chars().next() {
        Some(c) if !c.is_ascii_digit() => name,
        _ => format!("E{name}"),
    }
}

/// Gives out names that are valid (after a sanitising function) and unique: a name already
/// given, or reserved, gets a number suffix (`Api` -> `Api2`, `Api3`, ...).
pub(crate) struct Namer {
    sanitise: fn(&str) -> String,
    taken: HashSet<String>,
}

impl Namer {
    /// A namer that sanitises with `sanitise` and never gives out any of `reserved`.
    pub(crate) fn new(sanitise: fn(&str) -> String, reserved: &[&str]) -> Self {
        Self {
            sanitise,
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A name for `raw`: sanitised, then made unique, and taken from now on.
    pub(crate) fn name(&mut self, raw: &str) -> String {
        let name = (self.sanitise)(raw);
        self.unique(name)
    }

    /// `name` as is when it is free, else with the first number suffix from 2 on that is; the
    /// result is taken from now on. `name` must already be valid.
    pub(crate) fn unique(&mut self, name: String) -> String {
        if self.taken.insert(name.clone()) {
            return name;
        }
        for i in 2.. {
            let candidate = format!("{name}{i}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("some suffix is free")
    }
}

/// Turns any name into a component key valid in both documents (`^[a-zA-Z0-9.\-_]+$`).
pub(crate) fn component_key(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() { "_".to_owned() } else { key }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_names_from_rust_types() {
        assert_eq!(error_type_name("ChatError"), "ChatError");
        assert_eq!(error_type_name("crate::errors::BidError"), "BidError");
        assert_eq!(error_type_name("Wrapped<u8>"), "Wrapped");
        assert_eq!(error_type_name("9x"), "E9x");
    }

    #[test]
    fn keys_are_valid_and_unique() {
        assert_eq!(component_key("calc.add"), "calc.add");
        assert_eq!(component_key("Wrapper<i64, a::B>"), "Wrapper_i64__a__B_");
        let mut namer = Namer::new(component_key, &[]);
        assert_eq!(namer.unique("a".into()), "a");
        assert_eq!(namer.unique("a".into()), "a2");
        assert_eq!(namer.unique("a".into()), "a3");
    }

    #[test]
    fn names_are_sanitised_then_kept_clear_of_reserved_and_given_names() {
        let mut namer = Namer::new(component_key, &["jsonrpc.error", "x2"]);
        assert_eq!(namer.name("jsonrpc.error"), "jsonrpc.error2");
        assert_eq!(namer.name("a<b>"), "a_b_");
        assert_eq!(namer.name("a_b_"), "a_b_2");
        assert_eq!(namer.name("x"), "x");
        assert_eq!(namer.name("x"), "x3");
        assert_eq!(namer.name(""), "_");
    }
}
