//! Printing TypeScript types: one line when they fit, else one member or property a line,
//! with their doc comments, indented for where they appear.

use std::fmt::Write as _;

use super::pad;
use crate::typescript::docs::write_docs;
use crate::typescript::names::key;
use crate::typescript::ts::Ts;

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
pub(super) fn print(ty: &Ts, level: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typescript::ts::Prop;

    #[test]
    fn types_print_on_one_line_until_they_carry_members_or_docs() {
        let atom = |a: &str| Ts::atom(a);
        let union = Ts::Union(vec![(atom("string"), vec![]), (atom("null"), vec![])]);
        assert_eq!(
            print(&Ts::Array(Box::new(union.clone())), 0),
            "(string | null)[]"
        );
        let tuple = Ts::Tuple {
            items: vec![atom("string"), union.clone()],
            required: 1,
            rest: Some(Box::new(atom("number"))),
        };
        assert_eq!(print(&tuple, 0), "[string, (string | null)?, ...number[]]");
        let documented = Ts::Union(vec![
            (atom("1"), vec!["One.".to_owned()]),
            (atom("2"), vec![]),
        ]);
        assert_eq!(print(&documented, 0), "\n  /** One. */\n  | 1\n  | 2");
        let object = Ts::Object {
            props: vec![Prop {
                name: "a-b".to_owned(),
                optional: true,
                ty: documented,
                docs: vec![],
            }],
            index: None,
        };
        assert_eq!(
            print(&object, 1),
            "{\n    \"a-b\"?:\n      /** One. */\n      | 1\n      | 2;\n  }"
        );
    }
}
