//! `volley listen`: stay connected and print every request and notification the server sends,
//! one JSON line each; answer requests from `--answer`s, from the person at the terminal, or
//! with -32601 when neither can.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;

use serde_json::json;
use serde_json::value::RawValue;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Mutex, mpsc, oneshot};
use volley_core::{ErrorObject, Service, Unhandled};

use crate::answer::{self, Answer};
use crate::connect::{self, ConnectArgs};
use crate::failure::Failure;
use crate::output;

const EXAMPLES: &str = "\
Examples (against `cargo run -p example-callbacks`, which sends `tick` every second):
  volley listen ws://127.0.0.1:8080/ws
        {\"kind\":\"notification\",\"method\":\"tick\",\"params\":[1]}
  volley listen ws://127.0.0.1:8080/ws --answer confirm=true
        answers every `confirm` the server sends with true

Each line is one JSON object: kind (request or notification), method, and params when there
are any. A request without an --answer is asked at the prompt when stdin is a terminal (type
a JSON result, or nothing to refuse it) and refused with -32601 otherwise. Stops when the
server closes the connection, or at Ctrl-C or SIGTERM (closing it cleanly).";

/// Prints what the server sends, and answers its requests.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ListenArgs {
    /// The server's WebSocket URL (ws:// or wss://)
    url: String,
    /// Answer the server's requests of METHOD with JSON (a value that is not JSON is taken as
    /// a string; repeatable)
    #[arg(long = "answer", value_name = "METHOD=JSON", value_parser = answer::parse)]
    answers: Vec<Answer>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// A request waiting for the person at the terminal: its line, and where the answer goes.
type Question = (String, oneshot::Sender<Option<Box<RawValue>>>);

/// Connects and prints until the connection ends.
pub(crate) async fn run(args: ListenArgs) -> Result<(), Failure> {
    let answers: Arc<HashMap<String, Box<RawValue>>> = Arc::new(
        args.answers
            .iter()
            .map(|a| (a.method().to_owned(), a.result().to_owned()))
            .collect(),
    );
    // Listened for before connecting: a signal that comes once the server sees the
    // connection ends it cleanly.
    let stop = crate::signals::interrupted();
    let prompt = std::io::stdin().is_terminal().then(spawn_prompt);
    let service = Service::new().with_fallback(move |_cx, call: Unhandled| {
        let answers = answers.clone();
        let prompt = prompt.clone();
        async move { answer(call, &answers, prompt.as_ref()).await }
    });
    let client = connect::connect(&args.url, &args.connect, Some(service)).await?;
    let closed = tokio::select! {
        reason = client.closed() => Some(reason),
        _ = stop => None,
    };
    match closed {
        Some(reason) => {
            output::progress(&format!(
                "the server closed the connection ({} {})",
                reason.code, reason.reason
            ));
            if matches!(reason.code, 1000 | 1001) {
                Ok(())
            } else {
                Err(Failure::NoAnswer {
                    method: "listen".into(),
                    source: volley_core::Error::Disconnected,
                })
            }
        }
        None => {
            connect::close(&client, args.connect.timeout).await;
            Ok(())
        }
    }
}

/// Prints `call` and answers it: from `answers`, else from the prompt, else -32601.
async fn answer(
    call: Unhandled,
    answers: &HashMap<String, Box<RawValue>>,
    prompt: Option<&mpsc::Sender<Question>>,
) -> Result<Box<RawValue>, ErrorObject> {
    let line = line(&call.method, call.params.as_deref(), call.notification);
    output::stdout(&line);
    if call.notification {
        return Ok(crate::params::null());
    }
    if let Some(result) = answers.get(&call.method) {
        return Ok(result.clone());
    }
    let refused = || {
        ErrorObject::owned(
            -32601,
            "Method not found",
            Some(format!(
                "`{}` has no answer here (volley listen --answer {}=JSON)",
                call.method, call.method
            )),
        )
    };
    let Some(prompt) = prompt else {
        return Err(refused());
    };
    let (tx, rx) = oneshot::channel();
    if prompt.send((line, tx)).await.is_err() {
        return Err(refused());
    }
    match rx.await {
        Ok(Some(result)) => Ok(result),
        _ => Err(refused()),
    }
}

/// One incoming message as one JSON line.
fn line(method: &str, params: Option<&RawValue>, notification: bool) -> String {
    let kind = if notification {
        "notification"
    } else {
        "request"
    };
    let mut line = json!({ "kind": kind, "method": method }).to_string();
    if let Some(params) = params {
        line.truncate(line.len() - 1);
        line.push_str(",\"params\":");
        line.push_str(&output::compact(params.get()));
        line.push('}');
    }
    line
}

/// A task that asks the person at the terminal for each request's answer, one at a time:
/// a JSON value is the result, an empty line (or end of input) refuses the request.
fn spawn_prompt() -> mpsc::Sender<Question> {
    let (tx, mut rx) = mpsc::channel::<Question>(64);
    let stdin = Arc::new(Mutex::new(BufReader::new(tokio::io::stdin()).lines()));
    tokio::spawn(async move {
        while let Some((question, reply)) = rx.recv().await {
            output::stderr(&format!(
                "answer {question} with JSON (empty to refuse it):"
            ));
            let mut lines = stdin.lock().await;
            let answer = loop {
                match lines.next_line().await {
                    Ok(Some(text)) if text.trim().is_empty() => break None,
                    Ok(Some(text)) => {
                        match RawValue::from_string(crate::params::value_text(text.trim())) {
                            Ok(value) => break Some(value),
                            Err(e) => output::stderr(&format!("not JSON ({e}); try again:")),
                        }
                    }
                    _ => break None,
                }
            };
            let _ = reply.send(answer);
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_is_one_line() {
        let params = RawValue::from_string("[ 7 ]".to_owned()).unwrap();
        assert_eq!(
            line("tick", Some(&params), true),
            r#"{"kind":"notification","method":"tick","params":[7]}"#
        );
        assert_eq!(
            line("confirm", None, false),
            r#"{"kind":"request","method":"confirm"}"#
        );
    }
}
