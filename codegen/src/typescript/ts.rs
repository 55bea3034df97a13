//! The TypeScript types the generator writes, and how unions and intersections simplify.

/// A TypeScript type.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ts {
    /// Written as is: a primitive, a literal, a name.
    Atom(String),
    /// `T[]`.
    Array(Box<Ts>),
    /// `[A, B?, ...C[]]`.
    Tuple {
        /// The items, in order.
        items: Vec<Ts>,
        /// Items from this index on are optional.
        required: usize,
        /// The type of any further items, if there may be more.
        rest: Option<Box<Ts>>,
    },
    /// `{ a: A; [key: string]: I }`.
    Object {
        /// The declared properties, by name.
        props: Vec<Prop>,
        /// The type of the index signature, if any.
        index: Option<Box<Ts>>,
    },
    /// Members with their doc lines.
    Union(Vec<(Ts, Vec<String>)>),
    /// Parts joined by `&`.
    Intersection(Vec<Ts>),
}

/// A property of an object type.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Prop {
    /// The property's name, as the JSON object has it.
    pub(super) name: String,
    /// Whether it may be missing (`name?:`).
    pub(super) optional: bool,
    /// Its type.
    pub(super) ty: Ts,
    /// Its doc lines.
    pub(super) docs: Vec<String>,
}

impl Ts {
    /// An atom written as `text`.
    pub(super) fn atom(text: &str) -> Self {
        Ts::Atom(text.to_owned())
    }

    /// Whether this is the atom `text`.
    pub(super) fn is(&self, text: &str) -> bool {
        matches!(self, Ts::Atom(a) if a == text)
    }
}

/// The union of `members` (each with its doc lines): nested unions flattened, duplicates and
/// `never` dropped, `unknown` if any member is.
pub(super) fn union(members: Vec<(Ts, Vec<String>)>) -> Ts {
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

/// The intersection of `parts`: nested intersections flattened, duplicates and `unknown`
/// dropped, `never` if any part is.
pub(super) fn intersection(parts: Vec<Ts>) -> Ts {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn members(types: &[&str]) -> Vec<(Ts, Vec<String>)> {
        types.iter().map(|t| (Ts::atom(t), vec![])).collect()
    }

    #[test]
    fn unions_flatten_and_simplify() {
        let inner = union(members(&["a", "b"]));
        assert_eq!(
            union(vec![
                (inner, vec![]),
                (Ts::atom("b"), vec![]),
                (Ts::atom("never"), vec![])
            ]),
            union(members(&["a", "b"]))
        );
        assert_eq!(union(members(&["a", "unknown"])), Ts::atom("unknown"));
        assert_eq!(union(members(&["never"])), Ts::atom("never"));
        assert_eq!(union(members(&["a", "a"])), Ts::atom("a"));
    }

    #[test]
    fn intersections_flatten_and_simplify() {
        let atoms = |types: &[&str]| types.iter().map(|t| Ts::atom(t)).collect::<Vec<_>>();
        let inner = intersection(atoms(&["A", "B"]));
        assert_eq!(
            intersection(vec![inner, Ts::atom("A"), Ts::atom("unknown")]),
            Ts::Intersection(atoms(&["A", "B"]))
        );
        assert_eq!(intersection(atoms(&["A", "never"])), Ts::atom("never"));
        assert_eq!(intersection(atoms(&[])), Ts::atom("unknown"));
        assert_eq!(intersection(atoms(&["A", "A"])), Ts::atom("A"));
    }
}
