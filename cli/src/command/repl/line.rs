//! One line typed at the prompt: its words ([`words`]) and what it asks for ([`parse`]).
//!
//! Words are split at spaces, except inside quotes and brackets: `'two words'` is one word
//! (the single quotes go), `"two words"` is one word that keeps its double quotes (a JSON
//! string), and `{"a": [1, 2]}` is one word.

use serde_json::value::RawValue;

use super::contract::Args;
use crate::params;

/// What a line asks for.
#[derive(Debug)]
pub(crate) enum Line {
    /// Nothing.
    Empty,
    /// `METHOD ARGS...`: a call.
    Call {
        /// The method.
        method: String,
        /// Its arguments as typed.
        args: Args,
    },
    /// `.notify METHOD ARGS...`: a notification.
    Notify {
        /// The method.
        method: String,
        /// Its arguments as typed.
        args: Args,
    },
    /// `.raw METHOD [PARAMS]`: a call with the params exactly as written (one JSON object or
    /// array).
    Raw {
        /// The method.
        method: String,
        /// The params, when given.
        params: Option<Box<RawValue>>,
    },
    /// `.answer [#N] JSON`: the result of the server's request N (else the oldest waiting).
    Answer {
        /// The request's number.
        number: Option<u64>,
        /// The result.
        result: Box<RawValue>,
    },
    /// `.error [#N] CODE [MESSAGE]`: an error for the server's request N.
    Error {
        /// The request's number.
        number: Option<u64>,
        /// The error's code.
        code: i32,
        /// Its message.
        message: String,
    },
    /// `.methods`: the table of methods.
    Methods,
    /// `.help [METHOD]`.
    Help(Option<String>),
    /// `.quit` or `.exit`.
    Quit,
}

/// The commands: name, what it takes, what it does; for `.help` and completion.
pub(crate) const COMMANDS: &[(&str, &str, &str)] = &[
    (
        ".answer",
        "[#N] JSON",
        "answer the server's request N (the oldest waiting if no #N)",
    ),
    (
        ".error",
        "[#N] CODE [MESSAGE]",
        "refuse it with a JSON-RPC error",
    ),
    (".notify", "METHOD ARGS...", "send a notification"),
    (
        ".raw",
        "METHOD [PARAMS]",
        "call with PARAMS exactly as written (one JSON object or array)",
    ),
    (
        ".methods",
        "",
        "the methods of both directions (rpc.discover)",
    ),
    (".help", "[METHOD]", "this help, or one method's params"),
    (
        ".quit",
        "",
        "close the connection and leave (also .exit, Ctrl-D)",
    ),
];

/// One word of a line: its text (single quotes removed) and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// The text.
    pub(crate) text: String,
    /// The byte offset where it starts in the line.
    pub(crate) start: usize,
}

/// The words of `line`, and what is left open at its end (a quote or a bracket), if
/// anything.
pub(crate) fn words(line: &str) -> (Vec<Word>, Option<char>) {
    let mut words = Vec::new();
    let mut current: Option<Word> = None;
    // The brackets open, and the quote we are in.
    let mut open: Vec<char> = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if let Some(q) = quote {
            let word = current.get_or_insert_with(|| Word {
                text: String::new(),
                start: i,
            });
            match c {
                _ if escaped => {
                    escaped = false;
                    word.text.push(c);
                }
                '\\' if q == '"' => {
                    escaped = true;
                    word.text.push(c);
                }
                _ if c == q => {
                    quote = None;
                    if q == '"' {
                        word.text.push(c);
                    }
                }
                _ => word.text.push(c),
            }
            continue;
        }
        if c.is_whitespace() && open.is_empty() {
            words.extend(current.take());
            continue;
        }
        let word = current.get_or_insert_with(|| Word {
            text: String::new(),
            start: i,
        });
        match c {
            '\'' => quote = Some(c),
            '"' => {
                quote = Some(c);
                word.text.push(c);
            }
            '{' | '[' => {
                open.push(c);
                word.text.push(c);
            }
            '}' | ']' => {
                open.pop();
                word.text.push(c);
            }
            _ => word.text.push(c),
        }
    }
    words.extend(current);
    (words, quote.or_else(|| open.last().copied()))
}

/// What `line` asks for, or why it cannot be read.
pub(crate) fn parse(line: &str) -> Result<Line, String> {
    let (words, open) = words(line);
    if let Some(open) = open {
        return Err(format!("`{open}` is not closed"));
    }
    let Some((first, rest)) = words.split_first() else {
        return Ok(Line::Empty);
    };
    let rest_of_line = |word: &Word| line[word.start..].trim();
    match first.text.as_str() {
        ".quit" | ".exit" => Ok(Line::Quit),
        ".methods" => Ok(Line::Methods),
        ".help" => Ok(Line::Help(rest.first().map(|w| w.text.clone()))),
        ".notify" => {
            let (method, args) = rest.split_first().ok_or("usage: .notify METHOD ARGS...")?;
            Ok(Line::Notify {
                method: method.text.clone(),
                args: args_of(args)?,
            })
        }
        ".raw" => {
            let (method, params) = rest.split_first().ok_or("usage: .raw METHOD [PARAMS]")?;
            let params = match params.first() {
                None => None,
                Some(word) => {
                    let text = rest_of_line(word);
                    if !text.starts_with(['{', '[']) {
                        return Err("PARAMS is one JSON object or array".into());
                    }
                    Some(
                        RawValue::from_string(text.to_owned())
                            .map_err(|e| format!("PARAMS is not JSON: {e}"))?,
                    )
                }
            };
            Ok(Line::Raw {
                method: method.text.clone(),
                params,
            })
        }
        ".answer" => {
            let (number, rest) = number(rest)?;
            let first = rest.first().ok_or("usage: .answer [#N] JSON")?;
            let result = RawValue::from_string(params::value_text(rest_of_line(first)))
                .map_err(|e| format!("the answer is not JSON: {e}"))?;
            Ok(Line::Answer { number, result })
        }
        ".error" => {
            let (number, rest) = number(rest)?;
            let usage = "usage: .error [#N] CODE [MESSAGE]";
            let (code, message) = rest.split_first().ok_or(usage)?;
            let code = code.text.parse().map_err(|_| usage)?;
            let message = message
                .first()
                .map_or("Refused at the prompt", |w| rest_of_line(w));
            Ok(Line::Error {
                number,
                code,
                message: message.to_owned(),
            })
        }
        command if command.starts_with('.') => Err(format!(
            "no command `{command}` (.help lists them; a method whose name starts with a dot: \
             .raw {command})"
        )),
        method => Ok(Line::Call {
            method: method.to_owned(),
            args: args_of(rest)?,
        }),
    }
}

/// `#N` at the start of `words`, and the words after it.
fn number(words: &[Word]) -> Result<(Option<u64>, &[Word]), String> {
    match words.split_first() {
        Some((word, rest)) if word.text.starts_with('#') => {
            let n = word.text[1..]
                .parse()
                .map_err(|_| format!("`{}` is not a request's number (#1)", word.text))?;
            Ok((Some(n), rest))
        }
        _ => Ok((None, words)),
    }
}

/// A call's arguments: all values or all `name=value` pairs.
fn args_of(words: &[Word]) -> Result<Args, String> {
    let pair = |w: &Word| -> Option<(String, String)> {
        // `=` inside a JSON value or a string is not a pair's.
        if w.text.starts_with(['{', '[', '"']) {
            return None;
        }
        let (name, value) = w.text.split_once('=')?;
        (!name.is_empty()).then(|| (name.to_owned(), value.to_owned()))
    };
    let pairs: Vec<(String, String)> = words.iter().filter_map(pair).collect();
    if pairs.is_empty() {
        return Ok(Args::Values(words.iter().map(|w| w.text.clone()).collect()));
    }
    if pairs.len() != words.len() {
        return Err("give all values (add 1 2) or all name=value pairs (add a=1 b=2)".into());
    }
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(format!("`{name}` is given twice"));
        }
    }
    Ok(Args::Pairs(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl PartialEq for Line {
        fn eq(&self, other: &Self) -> bool {
            format!("{self:?}") == format!("{other:?}")
        }
    }

    fn texts(line: &str) -> Vec<String> {
        words(line).0.into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_split_at_spaces_outside_quotes_and_brackets() {
        assert_eq!(texts("  add 1   2 "), ["add", "1", "2"]);
        assert_eq!(
            texts(r#"send {"a": [1, 2]} 'two words' "x y" n="Ada L" m='[1, 2]'"#),
            [
                "send",
                r#"{"a": [1, 2]}"#,
                "two words",
                "\"x y\"",
                "n=\"Ada L\"",
                "m=[1, 2]"
            ]
        );
        assert_eq!(texts(r#"say "a \" b""#), ["say", r#""a \" b""#]);
        assert_eq!(words("add a").0[1].start, 4);
        assert_eq!(words("x [1, {").1, Some('{'));
        assert_eq!(words("x 'a").1, Some('\''));
        assert_eq!(words("x \"a").1, Some('"'));
        assert_eq!(words("x [1]").1, None);
    }

    #[test]
    fn calls_are_values_or_pairs() {
        let call = |method: &str, args| Line::Call {
            method: method.to_owned(),
            args,
        };
        assert_eq!(
            parse("add 1 2"),
            Ok(call("add", Args::Values(vec!["1".into(), "2".into()])))
        );
        assert_eq!(
            parse("add a=1 b=2"),
            Ok(call(
                "add",
                Args::Pairs(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
            ))
        );
        assert_eq!(
            parse(r#"say "a=b" {"k": "=" }"#),
            Ok(call(
                "say",
                Args::Values(vec!["\"a=b\"".into(), r#"{"k": "=" }"#.into()])
            ))
        );
        assert_eq!(parse("   "), Ok(Line::Empty));
        assert!(parse("add a=1 2").unwrap_err().contains("all values"));
        assert_eq!(parse("add a=1 a=2").unwrap_err(), "`a` is given twice");
        assert_eq!(parse("add [1, 2").unwrap_err(), "`[` is not closed");
    }

    #[test]
    fn commands_take_the_rest_of_the_line() {
        match parse(r#".answer #2 {"ok": true, "n": 1}"#) {
            Ok(Line::Answer { number, result }) => {
                assert_eq!(number, Some(2));
                assert_eq!(result.get(), r#"{"ok": true, "n": 1}"#);
            }
            other => panic!("{other:?}"),
        }
        match parse(".answer yes please") {
            Ok(Line::Answer { number, result }) => {
                assert_eq!((number, result.get()), (None, "\"yes please\""));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(".error 4001 not today"),
            Ok(Line::Error {
                number: None,
                code: 4001,
                message: "not today".into()
            })
        );
        assert_eq!(
            parse(".error #3 -32000"),
            Ok(Line::Error {
                number: Some(3),
                code: -32000,
                message: "Refused at the prompt".into()
            })
        );
        match parse(".raw add {\"a\": 1, \"b\": 2}") {
            Ok(Line::Raw { method, params }) => {
                assert_eq!(method, "add");
                assert_eq!(params.unwrap().get(), "{\"a\": 1, \"b\": 2}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(".notify tick 7"),
            Ok(Line::Notify {
                method: "tick".into(),
                args: Args::Values(vec!["7".into()])
            })
        );
        assert_eq!(parse(".help add"), Ok(Line::Help(Some("add".into()))));
        assert_eq!(parse(".exit"), Ok(Line::Quit));
        assert_eq!(parse(".methods"), Ok(Line::Methods));
    }

    #[test]
    fn commands_that_cannot_be_read_say_why() {
        assert_eq!(parse(".answer").unwrap_err(), "usage: .answer [#N] JSON");
        assert!(
            parse(".answer #x 1")
                .unwrap_err()
                .contains("not a request's number")
        );
        assert_eq!(
            parse(".error #1 oops").unwrap_err(),
            "usage: .error [#N] CODE [MESSAGE]"
        );
        assert_eq!(
            parse(".raw add 1").unwrap_err(),
            "PARAMS is one JSON object or array"
        );
        assert!(
            parse(".raw add {oops}")
                .unwrap_err()
                .starts_with("PARAMS is not JSON")
        );
        assert!(
            parse(".frobnicate")
                .unwrap_err()
                .contains(".raw .frobnicate")
        );
        assert_eq!(
            parse(".notify").unwrap_err(),
            "usage: .notify METHOD ARGS..."
        );
    }
}
