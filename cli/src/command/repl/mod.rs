//! `volley repl`: an interactive prompt on one connection. Typed calls (`add 1 2`,
//! `add a=1 b=2`) shaped by the server's `rpc.discover`, Tab completion of methods and params,
//! history, and the server's own calls shown as they arrive and answered at the prompt.
//!
//! - [`mod@line`]: what a line says; [`contract`]: the methods, and a call's params;
//! - [`editor`]: reading lines (the prompt, completion, history); [`printer`]: output above
//!   the prompt; [`incoming`]: the server's requests and notifications.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::task::JoinSet;
use volley_client::{Client, ConnectionState, Reconnect};
use volley_core::{ErrorObject, Peer};

use crate::answer::{self, Answer};
use crate::command::discover;
use crate::connect::{self, ConnectArgs};
use crate::failure::Failure;

mod contract;
mod editor;
mod incoming;
mod line;
mod printer;

use contract::Contract;
use editor::Input;
use incoming::Waiting;
use line::{COMMANDS, Line};
use printer::Printer;

const EXAMPLES: &str = "\
Examples (against `cargo run -p example-callbacks`):
  volley repl ws://127.0.0.1:8080/ws
    volley> add 1 2                    a call: values by position...
    3
    volley> add a=1 b=2                ...or name=value pairs
    3
    volley> ask question=hi            the server calls `confirm` back during `ask`:
    <- #1 confirm [\"hi\"]: the server waits; .answer #1 JSON, or .error #1 CODE MESSAGE
    volley> .answer true
    true
  echo 'add 1 2' | volley repl ws://127.0.0.1:8080/ws      one line at a time, from a pipe

Values are read as JSON when they are JSON and taken as strings otherwise; a param the
server's rpc.discover declares a string takes any value as a string (greet 42 sends \"42\").
Values are sent the way the method declares its params (by name or by position). Tab
completes commands, methods and param names. Ctrl-C cancels the calls in flight; Ctrl-D or
.quit closes the connection and leaves. The connection is dialed again when it is lost.
Lines from a pipe are handled one at a time, each call answered before the next line is
read; the server's requests are then answered from --answer, or refused with -32601.
The repl exits 0 when it leaves, 2 when it cannot connect: where a script needs each call's
own exit status, use `volley call`.";

/// The interactive prompt.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ReplArgs {
    /// The server's WebSocket URL (ws:// or wss://)
    url: String,
    /// Answer the server's requests of METHOD with JSON without asking (repeatable)
    #[arg(long = "answer", value_name = "METHOD=JSON", value_parser = answer::parse)]
    answers: Vec<Answer>,
    /// Where the history is kept [default: ~/.volley_history]
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Keep no history
    #[arg(long, conflicts_with = "history")]
    no_history: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Connects, reads lines until `.quit` or the end, and closes.
pub(crate) async fn run(args: ReplArgs) -> Result<(), Failure> {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut editor = if interactive {
        editor::editor().ok()
    } else {
        None
    };
    let (printer, drain) = match editor.as_mut().map(|e| e.create_external_printer()) {
        Some(Ok(external)) => Printer::above_prompt(external),
        _ => {
            editor = None;
            Printer::plain()
        }
    };
    let interactive = editor.is_some();
    let waiting = Arc::new(Waiting::default());
    let answers: HashMap<String, Box<RawValue>> = args
        .answers
        .iter()
        .map(|a| (a.method().to_owned(), a.result().to_owned()))
        .collect();
    let service = incoming::service(answers, waiting.clone(), printer.clone(), interactive);
    let client = connect::connect_with(
        &args.url,
        &args.connect,
        Some(service),
        Some(Reconnect::default()),
    )
    .await?;
    let leaving = Arc::new(AtomicBool::new(false));
    tokio::spawn(report_connection(
        client.clone(),
        printer.clone(),
        leaving.clone(),
    ));

    let document = discover(&client, &args, &printer).await;
    let contract = Arc::new(
        document
            .as_ref()
            .map(Contract::from_document)
            .unwrap_or_default(),
    );
    let mut inputs = match editor {
        Some(editor) => {
            printer.line(format!(
                "{} to call (Tab completes them); .help for more, Ctrl-D to leave",
                count(contract.callable().count(), "method")
            ));
            editor::prompt(editor, contract.clone(), history(&args))
        }
        None => editor::plain(),
    };
    let repl = Repl {
        peer: client.peer().clone(),
        timeout: args.connect.timeout,
        contract,
        document,
        waiting,
        printer: printer.clone(),
        interactive,
    };
    let mut calls = JoinSet::new();
    loop {
        tokio::select! {
            input = inputs.next() => match input {
                Input::Line(text) => {
                    let go_on = repl.handle(&text, &mut calls).await;
                    inputs.done(go_on);
                    if !go_on {
                        break;
                    }
                }
                Input::Interrupted => {
                    match calls.len() {
                        0 => printer.line("(.quit or Ctrl-D leaves)".into()),
                        n => {
                            calls.abort_all();
                            printer.line(format!("cancelled {}", count(n, "call")));
                        }
                    }
                    inputs.done(true);
                }
                Input::End => break,
            },
            Some(_) = calls.join_next(), if !calls.is_empty() => {}
            reason = client.closed(), if !interactive => {
                printer.aside(format!(
                    "the connection has ended ({} {})",
                    reason.code, reason.reason
                ));
                break;
            }
        }
    }
    leaving.store(true, Ordering::Relaxed);
    if !calls.is_empty() {
        printer.line(format!("cancelled {}", count(calls.len(), "call")));
        calls.shutdown().await;
    }
    inputs.finish().await;
    connect::close(&client, args.connect.timeout).await;
    drain.finish(&printer);
    Ok(())
}

/// The history file: `--history`, else `~/.volley_history`; none with `--no-history` or
/// without a home.
fn history(args: &ReplArgs) -> Option<PathBuf> {
    if args.no_history {
        return None;
    }
    args.history.clone().or_else(|| {
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".volley_history"))
    })
}

/// The server's `rpc.discover` document, or `None` (said) when it has none.
async fn discover(client: &Client, args: &ReplArgs, printer: &Printer) -> Option<Value> {
    let outcome = client
        .peer()
        .request_raw("rpc.discover", None, Some(args.connect.timeout))
        .await;
    let why = match outcome {
        Ok(raw) => match serde_json::from_str(raw.get()) {
            Ok(document) => return Some(document),
            Err(e) => format!("its rpc.discover answer is not JSON: {e}"),
        },
        Err(e) => format!("rpc.discover: {e}"),
    };
    printer.aside(format!(
        "the server does not describe its methods ({why}); calls go as typed, without \
         completion"
    ));
    None
}

/// Says when the connection is lost, dialed again, or ended, until `leaving`.
async fn report_connection(client: Client, printer: Printer, leaving: Arc<AtomicBool>) {
    let mut state = client.state();
    while state.changed().await.is_ok() {
        if leaving.load(Ordering::Relaxed) {
            return;
        }
        let text = match &*state.borrow_and_update() {
            ConnectionState::Connected { reconnects, .. } if *reconnects > 0 => {
                "connected again".to_owned()
            }
            ConnectionState::Reconnecting {
                attempt,
                delay,
                reason,
            } => format!(
                "the connection is lost ({reason}); dialing again in {} ms (attempt {attempt})",
                delay.as_millis()
            ),
            ConnectionState::Closed(reason) => format!(
                "the connection has ended ({} {}); .quit to leave",
                reason.code, reason.reason
            ),
            _ => continue,
        };
        printer.aside(text);
    }
}

/// What the lines act on.
struct Repl {
    peer: Peer,
    timeout: std::time::Duration,
    contract: Arc<Contract>,
    document: Option<Value>,
    waiting: Arc<Waiting>,
    printer: Printer,
    interactive: bool,
}

impl Repl {
    /// Does what `text` says; false when it says to leave.
    async fn handle(&self, text: &str, calls: &mut JoinSet<()>) -> bool {
        let line = match line::parse(text) {
            Ok(line) => line,
            Err(why) => {
                self.printer.aside(why);
                return true;
            }
        };
        match line {
            Line::Empty => {}
            Line::Quit => return false,
            Line::Call { method, args } => match self.contract.params(&method, args) {
                Ok(params) => self.call(method, params, calls).await,
                Err(why) => self.printer.aside(why),
            },
            Line::Raw { method, params } => self.call(method, params, calls).await,
            Line::Notify { method, args } => match self.contract.params(&method, args) {
                Ok(params) => match self.peer.notify_raw(&method, params).await {
                    Ok(()) => {}
                    Err(e) => self.printer.aside(format!("{method}: not sent: {e}")),
                },
                Err(why) => self.printer.aside(why),
            },
            Line::Answer { number, result } => self.answer(number, Ok(result)),
            Line::Error {
                number,
                code,
                message,
            } => self.answer(number, Err(ErrorObject::owned(code, message, None::<()>))),
            Line::Methods => match &self.document {
                Some(document) => self.printer.line(discover::table(document)),
                None => self
                    .printer
                    .aside("the server does not describe its methods".into()),
            },
            Line::Help(None) => self.printer.line(help()),
            Line::Help(Some(method)) => self.printer.line(self.describe(&method)),
        }
        true
    }

    /// Calls `method`: at a terminal in a task of its own (the prompt stays free to answer
    /// the server meanwhile), from a pipe before the next line is read.
    async fn call(&self, method: String, params: Option<Box<RawValue>>, calls: &mut JoinSet<()>) {
        let peer = self.peer.clone();
        let printer = self.printer.clone();
        let timeout = self.timeout;
        let call = async move {
            match peer.request_raw(&method, params, Some(timeout)).await {
                Ok(result) => printer.json(result.get()),
                Err(volley_core::Error::Remote(error)) => {
                    let mut text = format!("error {}: {}", error.code(), error.message());
                    if let Some(data) = error.data() {
                        text.push_str(&format!("\ndata: {}", crate::output::compact(data.get())));
                    }
                    printer.aside(text);
                }
                Err(e) => printer.aside(format!("{method}: no answer: {e}")),
            }
        };
        if self.interactive {
            calls.spawn(call);
        } else {
            call.await;
        }
    }

    fn answer(&self, number: Option<u64>, outcome: incoming::Outcome) {
        match self.waiting.answer(number, outcome) {
            Ok(which) => self.printer.line(format!("-> {which} answered")),
            Err(why) => self.printer.aside(why),
        }
    }

    /// One method, as `.help METHOD` shows it.
    fn describe(&self, method: &str) -> String {
        let found = self.document.as_ref().and_then(|document| {
            let method = discover::methods(document).find(|m| m["name"] == method)?;
            Some(discover::row(document, method))
        });
        match found {
            Some([name, served_by, params, result, policy]) => {
                let mut text = format!("{name}({params}) -> {result}\n  served by {served_by}");
                if !policy.is_empty() {
                    text.push_str(&format!("\n  {policy}"));
                }
                text
            }
            None => format!("the server does not describe `{method}`"),
        }
    }
}

fn help() -> String {
    let call = "METHOD VALUES... | METHOD NAME=VALUE...";
    let mut rows = vec![(call.to_owned(), "call a method (Tab completes)")];
    rows.extend(
        COMMANDS
            .iter()
            .map(|(name, takes, what)| (format!("{name} {takes}"), *what)),
    );
    let width = rows.iter().map(|(usage, _)| usage.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (usage, what) in rows {
        text.push_str(&format!("{usage:width$}  {what}\n"));
    }
    text.push_str("Ctrl-C cancels the calls in flight; Ctrl-D leaves.");
    text
}

fn count(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}
