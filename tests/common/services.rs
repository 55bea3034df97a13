//! The traits the integration tests serve, in both directions.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// An application error with its own codes, part of the contract.
#[derive(Debug, PartialEq, volley::RpcError)]
pub enum AppError {
    /// Nothing has that name; `data` is the name.
    #[code(404)]
    #[message("not found")]
    NotFound(String),
    /// The caller may not ask.
    #[code(403)]
    #[message("denied")]
    Denied,
}

/// What the test server offers.
#[volley::rpc]
pub trait Calculator {
    /// Adds two numbers.
    #[rpc(idempotent)]
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
    /// Asks the calling client to confirm, and returns its answer.
    #[rpc(timeout = "30s")]
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
    /// Panics.
    async fn boom(&self) -> volley::Result<()>;
    /// Returns its argument.
    async fn echo(&self, value: Value) -> volley::Result<Value>;
    /// Waits until `release(key)` is called, then returns `key`. Reports a drop (cancel).
    async fn wait(&self, key: u64) -> volley::Result<u64>;
    /// Releases `wait(key)`.
    async fn release(&self, key: u64) -> volley::Result<bool>;
    /// Fails with an application error.
    async fn find(&self, name: String, strict: Option<bool>) -> Result<String, AppError>;
    /// Records a line.
    #[rpc(notification)]
    async fn log(&self, msg: String);
    /// The caller's peer id and remote address, as the server sees them.
    async fn whoami(&self, cx: &volley::Context) -> volley::Result<(u64, String)>;
}

/// What the test clients offer.
#[volley::rpc]
pub trait Browser {
    /// Answers a yes/no question.
    async fn confirm(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
    /// Counts.
    #[rpc(notification)]
    async fn tick(&self, n: u64);
}

#[derive(Clone, Default)]
pub struct Calc {
    pub logs: Option<mpsc::UnboundedSender<String>>,
    pub cancelled: Option<mpsc::UnboundedSender<u64>>,
    pub gates: Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>>,
    pub waiting: Arc<tokio::sync::Notify>,
}

impl Calc {
    pub fn new() -> Self {
        Self::default()
    }

    /// A calculator that hands every `log` line to the returned receiver.
    pub fn logging() -> (Self, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let calc = Self {
            logs: Some(tx),
            ..Self::default()
        };
        (calc, rx)
    }

    /// A calculator that hands the key of every `wait` dropped before its release (a
    /// cancelled handler) to the returned receiver.
    pub fn reporting_cancels() -> (Self, mpsc::UnboundedReceiver<u64>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let calc = Self {
            cancelled: Some(tx),
            ..Self::default()
        };
        (calc, rx)
    }
}

struct DropReport(Option<(mpsc::UnboundedSender<u64>, u64)>);
impl Drop for DropReport {
    fn drop(&mut self) {
        if let Some((tx, key)) = self.0.take() {
            let _ = tx.send(key);
        }
    }
}

impl Calculator for Calc {
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }

    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
        BrowserClient::new(cx.peer()).confirm(question).await
    }

    async fn boom(&self) -> volley::Result<()> {
        panic!("boom on purpose")
    }

    async fn echo(&self, value: Value) -> volley::Result<Value> {
        Ok(value)
    }

    async fn wait(&self, key: u64) -> volley::Result<u64> {
        let (tx, rx) = oneshot::channel();
        self.gates.lock().unwrap().insert(key, tx);
        self.waiting.notify_waiters();
        let mut report = DropReport(self.cancelled.clone().map(|c| (c, key)));
        let _ = rx.await;
        report.0 = None;
        Ok(key)
    }

    async fn release(&self, key: u64) -> volley::Result<bool> {
        // The waiter may not have registered yet: wait for it (no sleeping).
        loop {
            let notified = self.waiting.notified();
            if let Some(tx) = self.gates.lock().unwrap().remove(&key) {
                return Ok(tx.send(()).is_ok());
            }
            notified.await;
        }
    }

    async fn find(&self, name: String, strict: Option<bool>) -> Result<String, AppError> {
        match (name.as_str(), strict) {
            ("root", _) => Err(AppError::Denied),
            ("x", _) => Ok("found x".into()),
            (_, Some(true)) => Err(AppError::NotFound(name)),
            _ => Ok(format!("maybe {name}")),
        }
    }

    async fn log(&self, msg: String) {
        if let Some(tx) = &self.logs {
            let _ = tx.send(msg);
        }
    }

    async fn whoami(&self, cx: &volley::Context) -> volley::Result<(u64, String)> {
        let addr = cx
            .extensions()
            .get::<std::net::SocketAddr>()
            .map(ToString::to_string)
            .unwrap_or_default();
        Ok((cx.peer_id().0, addr))
    }
}

/// A client-side `Browser`: answers `confirm` with `answer`, or, for the question "add?",
/// calls the server's `add(20, 22)` in the middle of the callback and answers `sum == 42`.
/// The question "hang" never answers.
#[derive(Clone)]
pub struct TestBrowser {
    pub answer: bool,
    pub ticks: Option<mpsc::UnboundedSender<u64>>,
    pub asked: Option<mpsc::UnboundedSender<String>>,
}

impl TestBrowser {
    /// Answers `confirm` with `answer` and reports nothing.
    pub fn new(answer: bool) -> Self {
        Self {
            answer,
            ticks: None,
            asked: None,
        }
    }

    /// Also hands the `n` of every `tick` to the returned receiver.
    pub fn with_ticks(mut self) -> (Self, mpsc::UnboundedReceiver<u64>) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.ticks = Some(tx);
        (self, rx)
    }

    /// Also hands every question `confirm` is asked to the returned receiver.
    pub fn with_asked(mut self) -> (Self, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.asked = Some(tx);
        (self, rx)
    }
}

impl Browser for TestBrowser {
    async fn confirm(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
        if let Some(tx) = &self.asked {
            let _ = tx.send(question.clone());
        }
        match question.as_str() {
            "add?" => Ok(CalculatorClient::new(cx.peer()).add(20, 22).await? == 42),
            "hang" => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            _ => Ok(self.answer),
        }
    }

    async fn tick(&self, n: u64) {
        if let Some(tx) = &self.ticks {
            let _ = tx.send(n);
        }
    }
}
