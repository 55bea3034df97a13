//! What the server sends the repl: notifications are shown; requests are answered from the
//! `--answer`s, or numbered and shown, and wait for `.answer` or `.error` at the prompt (when
//! a person is at it; else they are refused with -32601).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::value::RawValue;
use tokio::sync::oneshot;
use volley_core::{ErrorObject, Service, Unhandled};

use super::printer::Printer;
use crate::output;

/// How a request is answered: its result or an error.
pub(crate) type Outcome = Result<Box<RawValue>, ErrorObject>;

/// The server's requests waiting for an answer typed at the prompt.
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The number of the last request shown.
    last: u64,
    /// Each waiting request: its method, and where its answer goes.
    requests: BTreeMap<u64, (String, oneshot::Sender<Outcome>)>,
}

impl Waiting {
    /// Answers request `number` (the oldest waiting when `None`); says which request it was,
    /// or why none was answered.
    pub(crate) fn answer(&self, number: Option<u64>, outcome: Outcome) -> Result<String, String> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let number = match number {
            Some(n) => n,
            None => {
                // The oldest the server still waits for: the ones it gave up on (cancelled,
                // timed out) go.
                inner.requests.retain(|_, (_, tx)| !tx.is_closed());
                *inner
                    .requests
                    .keys()
                    .next()
                    .ok_or("no request from the server is waiting")?
            }
        };
        let (method, tx) = inner
            .requests
            .remove(&number)
            .ok_or_else(|| format!("no request #{number} is waiting"))?;
        tx.send(outcome)
            .map(|()| format!("#{number} {method}"))
            .map_err(|_| format!("#{number} {method}: the server no longer waits for it"))
    }

    /// Numbers a new request and keeps it until it is answered.
    fn wait(&self, method: &str) -> (u64, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.last += 1;
        let number = inner.last;
        inner.requests.insert(number, (method.to_owned(), tx));
        (number, rx)
    }
}

/// The service that answers the server: every method, through the fallback.
pub(crate) fn service(
    answers: HashMap<String, Box<RawValue>>,
    waiting: Arc<Waiting>,
    printer: Printer,
    interactive: bool,
) -> Service {
    let answers = Arc::new(answers);
    Service::new().with_fallback(move |_cx, call: Unhandled| {
        let answers = answers.clone();
        let waiting = waiting.clone();
        let printer = printer.clone();
        async move {
            let params = call
                .params
                .as_deref()
                .map(|p| format!(" {}", output::compact(p.get())))
                .unwrap_or_default();
            let method = &call.method;
            if call.notification {
                printer.aside(format!("<- {method}{params}"));
                return Ok(crate::params::null());
            }
            if let Some(result) = answers.get(method) {
                printer.aside(format!("<- {method}{params}: answered {}", result.get()));
                return Ok(result.clone());
            }
            if !interactive {
                printer.aside(format!(
                    "<- {method}{params}: refused (no --answer {method}=JSON)"
                ));
                return Err(not_answered(method));
            }
            let (number, rx) = waiting.wait(method);
            printer.aside(format!(
                "<- #{number} {method}{params}: the server waits; .answer #{number} JSON, or \
                 .error #{number} CODE MESSAGE"
            ));
            // Dropped unanswered when the server gives up on the request (it cancels it, or
            // the connection ends): said then, not when someone answers it.
            let mut given_up = GivenUp {
                printer: &printer,
                number,
                method,
                answered: false,
            };
            let outcome = rx.await.unwrap_or_else(|_| Err(not_answered(method)));
            given_up.answered = true;
            outcome
        }
    })
}

/// Says that the server no longer waits for request `number`, unless it was answered.
struct GivenUp<'a> {
    printer: &'a Printer,
    number: u64,
    method: &'a str,
    answered: bool,
}

impl Drop for GivenUp<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.printer.aside(format!(
                "<- #{} {}: the server no longer waits for it",
                self.number, self.method
            ));
        }
    }
}

fn not_answered(method: &str) -> ErrorObject {
    ErrorObject::owned(
        -32601,
        "Method not found",
        Some(format!(
            "`{method}` is not answered here (volley repl --answer {method}=JSON)"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("json")
    }

    #[test]
    fn answers_go_to_the_numbered_request_or_the_oldest() {
        let waiting = Waiting::default();
        assert_eq!(
            waiting.answer(None, Ok(value("1"))).unwrap_err(),
            "no request from the server is waiting"
        );
        let (one, mut rx1) = waiting.wait("confirm");
        let (two, mut rx2) = waiting.wait("pick");
        assert_eq!((one, two), (1, 2));
        assert_eq!(waiting.answer(Some(2), Ok(value("7"))).unwrap(), "#2 pick");
        assert_eq!(rx2.try_recv().unwrap().unwrap().get(), "7");
        assert_eq!(
            waiting.answer(None, Ok(value("true"))).unwrap(),
            "#1 confirm"
        );
        assert_eq!(rx1.try_recv().unwrap().unwrap().get(), "true");
        assert_eq!(
            waiting.answer(Some(1), Ok(value("true"))).unwrap_err(),
            "no request #1 is waiting"
        );
    }

    #[test]
    fn requests_the_server_gave_up_on_are_not_answered() {
        let waiting = Waiting::default();
        let (_, rx) = waiting.wait("confirm");
        drop(rx);
        assert_eq!(
            waiting.answer(Some(1), Ok(value("1"))).unwrap_err(),
            "#1 confirm: the server no longer waits for it"
        );
        let (_, rx) = waiting.wait("confirm");
        drop(rx);
        let (three, _rx) = waiting.wait("pick");
        assert_eq!(three, 3);
        // The oldest still waiting is #3: #2 was given up.
        assert_eq!(waiting.answer(None, Ok(value("1"))).unwrap(), "#3 pick");
    }
}
