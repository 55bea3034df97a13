//! The fixed text of the module, kept as TypeScript in `runtime.ts`: sections that are copied
//! into the module with their `/*@name@*/` placeholders filled in.

/// `runtime.ts`: a header, then sections, each after a `//@ <name>` line.
const RUNTIME: &str = include_str!("runtime.ts");

/// A section of `runtime.ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    /// The helper types, `ServerApi`, `ClientHandlers`, `Api` and the functions that connect,
    /// with placeholders for what the methods decide.
    Api,
    /// `namedParams`, which the handlers of client methods call.
    NamedParams,
}

impl Section {
    /// Every section, in the order of `runtime.ts`.
    #[cfg(test)]
    const ALL: [Section; 2] = [Section::Api, Section::NamedParams];

    fn name(self) -> &'static str {
        match self {
            Section::Api => "api",
            Section::NamedParams => "named-params",
        }
    }

    /// The section's text: from the line after its marker up to the next marker line, or the
    /// end of the file (empty when `runtime.ts` has no such section, which the tests rule out).
    pub(super) fn text(self) -> &'static str {
        let marker = format!("//@ {}\n", self.name());
        let start = if RUNTIME.starts_with(&marker) {
            Some(marker.len())
        } else {
            RUNTIME
                .find(&format!("\n{marker}"))
                .map(|at| at + 1 + marker.len())
        };
        let Some(start) = start else { return "" };
        let text = &RUNTIME[start..];
        match text.find("\n//@ ") {
            Some(end) => &text[..=end],
            None => text,
        }
    }
}

/// Appends `template` to `out` with each placeholder `/*@name@*/` replaced by the value given
/// for `name`, in one pass (a value is never searched for placeholders); a placeholder without
/// a value stays as it is.
pub(super) fn fill(out: &mut String, template: &str, values: &[(&str, &str)]) {
    const OPEN: &str = "/*@";
    const CLOSE: &str = "@*/";
    let mut rest = template;
    while let Some(at) = rest.find(OPEN) {
        let (before, tail) = rest.split_at(at);
        out.push_str(before);
        let value = tail[OPEN.len()..].find(CLOSE).and_then(|end| {
            let name = &tail[OPEN.len()..OPEN.len() + end];
            let (_, value) = values.iter().find(|(n, _)| *n == name)?;
            Some((value, OPEN.len() + end + CLOSE.len()))
        });
        match value {
            Some((value, len)) => {
                out.push_str(value);
                rest = &tail[len..];
            }
            None => {
                out.push_str(OPEN);
                rest = &tail[OPEN.len()..];
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_is_there_and_ends_with_a_line() {
        for section in Section::ALL {
            let text = section.text();
            assert!(text.starts_with('\n'), "{section:?}");
            assert!(text.ends_with("}\n"), "{section:?}");
            assert!(!text.contains("\n//@ "), "{section:?}");
        }
        assert!(Section::Api.text().contains("export type RequestName<M>"));
        assert!(
            Section::NamedParams
                .text()
                .contains("function namedParams(")
        );
    }

    #[test]
    fn placeholders_are_filled_once() {
        let mut out = String::new();
        fill(
            &mut out,
            "a /*@x@*/ b /*@y@*/ c /*@ d",
            &[("x", "/*@y@*/"), ("y", "Y")],
        );
        assert_eq!(out, "a /*@y@*/ b Y c /*@ d");
        let mut out = String::new();
        fill(&mut out, "/*@unknown@*/", &[("x", "X")]);
        assert_eq!(out, "/*@unknown@*/");
    }
}
