//! Doc comments as generated documents show them: rustdoc's own markup (intra-doc links such
//! as ``[`Auction::bid`]`` or `[Bid](crate::Bid)`, link reference definitions) turned into
//! plain text, so a document, a TypeScript comment or the `/docs` page never shows brackets
//! that only rustdoc understands. Ordinary Markdown (code spans, emphasis, web links) stays.

use std::borrow::Cow;

/// `docs` without rustdoc-only markup.
pub(crate) fn plain(docs: &str) -> Cow<'_, str> {
    if !docs.contains('[') {
        return Cow::Borrowed(docs);
    }
    let mut out = String::with_capacity(docs.len());
    for (i, line) in docs.lines().enumerate() {
        if is_reference_definition(line) {
            continue;
        }
        if i > 0 && !out.is_empty() {
            out.push('\n');
        }
        unlink_line(line, &mut out);
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    Cow::Owned(out)
}

/// `[name]: target` where the target is a Rust path (rustdoc resolves those; they say
/// nothing to a reader of a generated document).
fn is_reference_definition(line: &str) -> bool {
    let line = line.trim_start();
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    match rest.split_once("]:") {
        Some((label, target)) => !label.is_empty() && is_rust_target(target.trim()),
        None => false,
    }
}

/// Whether a link target is a Rust item path rather than a URL or an anchor.
fn is_rust_target(target: &str) -> bool {
    let target = target.trim_matches('`');
    !target.is_empty()
        && !target.contains("://")
        && !target.starts_with(['#', '/', '.'])
        && !target.contains(char::is_whitespace)
        && target
            .trim_end_matches("()")
            .trim_end_matches('!')
            .split("::")
            .all(|seg| {
                let seg = seg.split_once('@').map_or(seg, |(_, s)| s);
                !seg.is_empty()
                    && seg
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '<' || c == '>')
            })
}

/// Copies `line` into `out`, replacing rustdoc links by their text.
fn unlink_line(line: &str, out: &mut String) {
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        // Leave code spans alone: copy up to and including a code span that starts first.
        if let Some(tick) = rest[..open].find('`') {
            match rest[tick + 1..].find('`') {
                Some(close) => {
                    let end = tick + 1 + close + 1;
                    out.push_str(&rest[..end]);
                    rest = &rest[end..];
                    continue;
                }
                None => break,
            }
        }
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = closing_bracket(after) else {
            out.push_str(&rest[open..]);
            return;
        };
        let text = &after[..close];
        let tail = &after[close + 1..];
        // `[text](target)`
        if let Some(inner) = tail.strip_prefix('(')
            && let Some(end) = closing_paren(inner)
        {
            if is_rust_target(&inner[..end]) {
                out.push_str(text);
                rest = &inner[end + 1..];
            } else {
                out.push('[');
                out.push_str(text);
                out.push(']');
                rest = tail;
            }
            continue;
        }
        // `[text][label]` with a Rust path or an empty label
        if let Some(inner) = tail.strip_prefix('[')
            && let Some(end) = inner.find(']')
            && (inner[..end].is_empty() || is_rust_target(&inner[..end]))
        {
            out.push_str(text);
            rest = &inner[end + 1..];
            continue;
        }
        // `[Item]` or ``[`Item`]``: a shortcut link to a Rust item
        if is_rust_target(text) {
            out.push_str(&without_disambiguator(text));
        } else {
            out.push('[');
            out.push_str(text);
            out.push(']');
        }
        rest = tail;
    }
    out.push_str(rest);
}

/// ``[`fn@bid`]`` shows as `` `bid` ``: rustdoc's `kind@` prefix is for rustdoc alone.
fn without_disambiguator(text: &str) -> Cow<'_, str> {
    let code = text.starts_with('`');
    let inner = text.trim_matches('`');
    match inner.split_once('@') {
        Some((_, name)) if code => Cow::Owned(format!("`{name}`")),
        Some((_, name)) => Cow::Owned(name.to_owned()),
        None => Cow::Borrowed(text),
    }
}

/// The index of the `)` that closes a `(` (nested parentheses counted, as in `bid()`).
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The index of the `]` that closes a `[` (nested brackets counted, code spans skipped).
fn closing_bracket(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_code = false;
    for (i, c) in s.char_indices() {
        match c {
            '`' => in_code = !in_code,
            '[' if !in_code => depth += 1,
            ']' if !in_code && depth == 0 => return Some(i),
            ']' if !in_code => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intra_doc_links_become_their_text() {
        assert_eq!(plain("Calls [`Auction::bid`]."), "Calls `Auction::bid`.");
        assert_eq!(plain("See [Bid] and [`Lot`]."), "See Bid and `Lot`.");
        assert_eq!(plain("A [bid](crate::Bid) here."), "A bid here.");
        assert_eq!(plain("A [`bid`](Auction::bid())."), "A `bid`.");
        assert_eq!(plain("The [lot][crate::Lot] and [x][]."), "The lot and x.");
        assert_eq!(plain("Uses [`Vec<u8>`]."), "Uses `Vec<u8>`.");
        assert_eq!(plain("Macro [`vec!`]."), "Macro `vec!`.");
        assert_eq!(plain("Fn [`fn@bid`]."), "Fn `bid`.");
    }

    #[test]
    fn markdown_that_is_not_rustdoc_stays() {
        for text in [
            "The [spec](https://www.jsonrpc.org/specification).",
            "An array like [1, 2, 3] or [a b].",
            "Code `[Item]` stays.",
            "No brackets at all.",
            "An [anchor](#section).",
            "Unclosed [bracket",
        ] {
            assert_eq!(plain(text), text);
        }
    }

    #[test]
    fn rust_reference_definitions_are_dropped() {
        assert_eq!(
            plain("Places a [bid].\n\n[bid]: crate::Auction::bid"),
            "Places a bid."
        );
        assert_eq!(
            plain("See [the spec].\n\n[the spec]: https://example.com"),
            "See [the spec].\n\n[the spec]: https://example.com"
        );
    }
}
