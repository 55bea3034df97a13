//! Names of schema components, valid and unique in the document that declares them.

use std::collections::HashSet;

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

/// Makes `key` unique among `taken` by appending `2`, `3`, ... and records it.
pub(crate) fn unique_key(key: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(key.clone()) {
        return key;
    }
    for i in 2.. {
        let candidate = format!("{key}{i}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
    }
    unreachable!("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_and_unique() {
        assert_eq!(component_key("calc.add"), "calc.add");
        assert_eq!(component_key("Wrapper<i64, a::B>"), "Wrapper_i64__a__B_");
        let mut taken = HashSet::new();
        assert_eq!(unique_key("a".into(), &mut taken), "a");
        assert_eq!(unique_key("a".into(), &mut taken), "a2");
        assert_eq!(unique_key("a".into(), &mut taken), "a3");
    }
}
