//! [`Printer`]: where the repl's output goes. At a terminal, above the prompt without
//! breaking the line being typed (rustyline's external printer, fed from a thread of its
//! own so that no task ever waits on the terminal); otherwise straight to stdout and stderr.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rustyline::ExternalPrinter;

use crate::output;

/// Prints lines for the repl; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    /// To the printing thread, when there is a prompt to print above.
    above_prompt: Option<mpsc::Sender<Option<String>>>,
}

/// The printing thread: [`Drain::finish`] waits until it has printed everything sent.
#[derive(Debug)]
pub(crate) struct Drain(Option<JoinHandle<()>>);

impl Printer {
    /// A printer above the prompt, through `external`.
    pub(crate) fn above_prompt(
        mut external: impl ExternalPrinter + Send + 'static,
    ) -> (Self, Drain) {
        let (tx, rx) = mpsc::channel::<Option<String>>();
        let thread = std::thread::Builder::new()
            .name("volley-repl-printer".into())
            .spawn(move || {
                // `None` is the end.
                for text in rx.iter().map_while(|text| text) {
                    // Between two prompts, the printer writes the text as it is: the line
                    // break is ours to add.
                    if external.print(format!("{text}\n")).is_err() {
                        output::stdout(&text);
                    }
                }
            });
        match thread {
            Ok(thread) => (
                Self {
                    above_prompt: Some(tx),
                },
                Drain(Some(thread)),
            ),
            Err(_) => Self::plain(),
        }
    }

    /// A printer to stdout and stderr.
    pub(crate) fn plain() -> (Self, Drain) {
        (Self { above_prompt: None }, Drain(None))
    }

    /// Prints `text` as a line of output.
    pub(crate) fn line(&self, text: String) {
        match &self.above_prompt {
            Some(tx) => {
                if let Err(mpsc::SendError(Some(text))) = tx.send(Some(text)) {
                    output::stdout(&text);
                }
            }
            None => output::stdout(&text),
        }
    }

    /// Prints `text` beside the results (a problem, the server's messages): on stderr when
    /// there is no prompt, so that stdout holds the results alone.
    pub(crate) fn aside(&self, text: String) {
        match &self.above_prompt {
            Some(_) => self.line(text),
            None => output::stderr(&text),
        }
    }

    /// Prints the JSON text `json`: indented at a terminal, on one line otherwise.
    pub(crate) fn json(&self, json: &str) {
        if self.above_prompt.is_some() || std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            self.line(output::pretty(json));
        } else {
            self.line(output::compact(json));
        }
    }
}

impl Drain {
    /// Waits until every line `printer` (or a clone) sent so far is printed; what is sent
    /// after goes straight to stdout.
    pub(crate) fn finish(mut self, printer: &Printer) {
        if let Some(tx) = &printer.above_prompt {
            let _ = tx.send(None);
        }
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}
