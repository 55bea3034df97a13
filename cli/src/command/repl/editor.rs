//! Reading lines: at a terminal, rustyline on a thread of its own ([`prompt`]), with history
//! and Tab completion of commands, methods and param names ([`completions`]); otherwise
//! plain lines from stdin ([`plain`]).

use std::path::PathBuf;
use std::sync::{Arc, mpsc as sync_mpsc};
use std::thread::JoinHandle;

use rustyline::completion::{Completer, Pair};
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use super::contract::Contract;
use super::line::{COMMANDS, words};

/// The prompt.
pub(crate) const PROMPT: &str = "volley> ";

/// The most lines the history keeps.
pub(crate) const HISTORY_SIZE: usize = 1000;

/// What the person (or the script) typed.
#[derive(Debug)]
pub(crate) enum Input {
    /// A line.
    Line(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D, or the end of stdin.
    End,
}

/// Where lines come from: each is handled before the next is read.
#[derive(Debug)]
pub(crate) struct Inputs {
    rx: mpsc::Receiver<Input>,
    /// Tells the prompt's thread to read on (`true`) or stop (`false`).
    ack: Option<sync_mpsc::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl Inputs {
    /// The next input; `End` once there are no more.
    pub(crate) async fn next(&mut self) -> Input {
        self.rx.recv().await.unwrap_or(Input::End)
    }

    /// The input is handled: read the next one, or stop when `go_on` is false.
    pub(crate) fn done(&self, go_on: bool) {
        if let Some(ack) = &self.ack {
            let _ = ack.send(go_on);
        }
    }

    /// Stops reading and waits until the prompt's thread has saved the history.
    pub(crate) async fn finish(mut self) {
        self.done(false);
        drop(self.ack.take());
        self.rx.close();
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// The line editor for a terminal: history of [`HISTORY_SIZE`] lines (without repeats or
/// lines that start with a space), bash-like completion (Tab completes what all candidates
/// share, a second Tab lists them).
pub(crate) fn editor() -> rustyline::Result<Editor<Helper, FileHistory>> {
    let config = Config::builder()
        .max_history_size(HISTORY_SIZE)?
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .auto_add_history(true)
        .completion_type(CompletionType::List)
        .build();
    Editor::with_config(config)
}

/// Reads lines at the terminal with `editor` on a thread of its own, completing from
/// `contract`; the history is loaded from and saved to `history`.
pub(crate) fn prompt(
    mut editor: Editor<Helper, FileHistory>,
    contract: Arc<Contract>,
    history: Option<PathBuf>,
) -> Inputs {
    editor.set_helper(Some(Helper { contract }));
    if let Some(path) = &history {
        // No history yet is the usual first run.
        let _ = editor.load_history(path);
    }
    let (tx, rx) = mpsc::channel(1);
    let (ack, acks) = sync_mpsc::channel::<bool>();
    let thread = std::thread::Builder::new()
        .name("volley-repl-prompt".into())
        .spawn(move || {
            loop {
                let input = match editor.readline(PROMPT) {
                    Ok(line) => Input::Line(line),
                    Err(ReadlineError::Interrupted) => Input::Interrupted,
                    Err(_) => Input::End,
                };
                let end = matches!(input, Input::End);
                if end || tx.blocking_send(input).is_err() {
                    break;
                }
                if !acks.recv().unwrap_or(false) {
                    break;
                }
            }
            if let Some(path) = &history {
                let _ = editor.append_history(path);
            }
        });
    Inputs {
        rx,
        ack: Some(ack),
        thread: thread.ok(),
    }
}

/// Reads lines from stdin, for a script or a pipe.
pub(crate) fn plain() -> Inputs {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(Input::Line(line)).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Input::End).await;
    });
    Inputs {
        rx,
        ack: None,
        thread: None,
    }
}

/// Completes from the contract.
#[derive(Debug)]
pub(crate) struct Helper {
    contract: Arc<Contract>,
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _cx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, candidates) = completions(&self.contract, &line[..pos]);
        let candidates = candidates
            .into_iter()
            .map(|c| Pair {
                display: c.trim_end().to_owned(),
                replacement: c,
            })
            .collect();
        Ok((start, candidates))
    }
}

impl Hinter for Helper {
    type Hint = String;
}

impl Highlighter for Helper {}

impl Validator for Helper {}

impl rustyline::Helper for Helper {}

/// What the word before the cursor may become, and where that word starts in `before` (the
/// line up to the cursor): a command or a method first (with a space after it), then the
/// method's params not given yet (`name=`). Nothing inside quotes or JSON.
pub(crate) fn completions(contract: &Contract, before: &str) -> (usize, Vec<String>) {
    let (mut words, open) = words(before);
    if open.is_some() {
        return (before.len(), Vec::new());
    }
    let at_new_word = before.is_empty() || before.ends_with(char::is_whitespace);
    let (start, prefix) = match (at_new_word, words.pop()) {
        (false, Some(word)) => (word.start, before[word.start..].to_owned()),
        (_, last) => {
            words.extend(last);
            (before.len(), String::new())
        }
    };
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    let methods = || contract.callable().map(|m| format!("{} ", m.name));
    let candidates: Vec<String> = match texts.as_slice() {
        [] => COMMANDS
            .iter()
            .map(|(name, ..)| format!("{name} "))
            .chain(methods())
            .collect(),
        [".notify" | ".raw" | ".help"] => methods().collect(),
        [".notify", method, given @ ..] | [method, given @ ..] if !method.starts_with('.') => {
            if prefix.contains('=') {
                Vec::new()
            } else {
                params_left(contract, method, given)
            }
        }
        _ => Vec::new(),
    };
    let mut candidates: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.starts_with(&prefix))
        .collect();
    candidates.sort();
    (start, candidates)
}

/// `name=` for each param of `method` not among the pairs `given`.
fn params_left(contract: &Contract, method: &str, given: &[&str]) -> Vec<String> {
    let Some(method) = contract.method(method) else {
        return Vec::new();
    };
    let given: Vec<&str> = given
        .iter()
        .filter_map(|w| w.split_once('=').map(|(name, _)| name))
        .collect();
    method
        .params
        .iter()
        .filter(|p| !given.contains(&p.name.as_str()))
        .map(|p| format!("{}=", p.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contract() -> Contract {
        Contract::from_document(&json!({
            "methods": [
                { "name": "add", "params": [{ "name": "a" }, { "name": "b" }, { "name": "also" }] },
                { "name": "ask", "params": [{ "name": "question" }] },
                { "name": "confirm", "params": [], "x-implemented-by": ["client"] }
            ]
        }))
    }

    fn complete(before: &str) -> (usize, Vec<String>) {
        completions(&contract(), before)
    }

    #[test]
    fn the_first_word_is_a_command_or_a_method_the_server_serves() {
        assert_eq!(complete("a"), (0, vec!["add ".into(), "ask ".into()]));
        assert_eq!(complete("ad"), (0, vec!["add ".into()]));
        assert_eq!(complete("  as"), (2, vec!["ask ".into()]));
        assert_eq!(complete(".m"), (0, vec![".methods ".into()]));
        assert_eq!(complete("co"), (0, vec![]), "confirm is served by clients");
        let (_, all) = complete("");
        assert_eq!(all.len(), COMMANDS.len() + 2);
    }

    #[test]
    fn then_the_params_not_given_yet() {
        assert_eq!(
            complete("add "),
            (4, vec!["a=".into(), "also=".into(), "b=".into()])
        );
        assert_eq!(complete("add a=1 "), (8, vec!["also=".into(), "b=".into()]));
        assert_eq!(complete("add a=1 al"), (8, vec!["also=".into()]));
        assert_eq!(complete("add a=1"), (4, vec![]), "a value is not completed");
        assert_eq!(complete(".notify ask q"), (12, vec!["question=".into()]));
        assert_eq!(complete(".help a"), (6, vec!["add ".into(), "ask ".into()]));
        assert_eq!(complete("nothing "), (8, vec![]));
        assert_eq!(complete("add \"a "), (7, vec![]), "nothing inside a string");
        assert_eq!(complete(".answer "), (8, vec![]));
    }
}
