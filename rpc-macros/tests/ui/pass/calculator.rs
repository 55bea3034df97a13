//! A full trait: namespace, context, notification, renamed methods and params, a user error
//! type, implemented with plain `async fn`, served and described.

use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};

use volley::describe::MethodKind;
use volley::{ErrorObject, RemoteService};

/// Why a division failed.
#[derive(Debug)]
pub enum MathError {
    /// The divisor was zero.
    DivideByZero,
}

impl From<MathError> for ErrorObject {
    fn from(e: MathError) -> Self {
        match e {
            MathError::DivideByZero => ErrorObject::owned(1, "divide by zero", None::<()>),
        }
    }
}

/// What the server offers.
#[volley::rpc(namespace = "calc")]
pub trait Calculator {
    /// Adds two numbers.
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
    /// Divides `a` by `b`.
    ///
    /// Fails when `b` is zero.
    async fn div(&self, a: i64, b: i64) -> Result<i64, MathError>;
    /// Asks the calling client.
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
    /// Logs a line.
    #[rpc(notification)]
    async fn log(&self, msg: String);
    /// Counts the calls so far.
    #[rpc(name = "callCount", timeout = "2m", idempotent)]
    async fn call_count(&self) -> volley::Result<u32>;
    /// Echoes its params back.
    #[rpc(name = "otherName")]
    async fn x(
        &self,
        #[rpc(name = "camelCase")] snake_case: u32,
        /// An optional label.
        y: Option<String>,
    ) -> volley::Result<(u32, Option<String>)>;
}

#[derive(Default)]
struct Calc {
    calls: AtomicU32,
}

impl Calculator for Calc {
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(a + b)
    }

    async fn div(&self, a: i64, b: i64) -> Result<i64, MathError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        a.checked_div(b).ok_or(MathError::DivideByZero)
    }

    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
        let _ = (cx.peer_id(), question);
        Ok(true)
    }

    async fn log(&self, msg: String) {
        assert_eq!(msg, "hello");
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    async fn call_count(&self) -> volley::Result<u32> {
        Ok(self.calls.load(Ordering::Relaxed))
    }

    async fn x(&self, snake_case: u32, y: Option<String>) -> volley::Result<(u32, Option<String>)> {
        Ok((snake_case, y))
    }
}

/// Runs a future that never waits on anything outside itself.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn request(service: &volley::Service, method: &str, params: &str) -> String {
    let request = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let (response, _) = block_on(service.methods().raw_json_request(&request, 1)).unwrap();
    response.get().to_owned()
}

fn assert_send<T: Send>(_: &T) {}

/// The stub's futures can be spawned on a multi-threaded runtime.
#[allow(dead_code)]
fn stub_futures_are_send(client: &CalculatorClient) {
    assert_send(&client.add(1, 2));
    assert_send(&client.div(1, 2));
    assert_send(&client.ask("ok?".to_owned()));
    assert_send(&client.log("hi".to_owned()));
    assert_send(&client.x(1, None));
}

/// The stub returns the success type of each method.
#[allow(dead_code)]
async fn stub_types(client: CalculatorClient) -> volley::Result<()> {
    let client = client.with_timeout(std::time::Duration::from_secs(1));
    let _: &volley::Peer = client.peer();
    let _: i64 = client.add(1, 2).await?;
    let _: i64 = client.div(1, 2).await?;
    let _: bool = client.ask("ok?".to_owned()).await?;
    let _: () = client.log("hi".to_owned()).await?;
    let _: (u32, Option<String>) = client.x(1, None).await?;
    let _: CalculatorClient = client.peer().client();
    Ok(())
}

/// A notification also has a non-waiting form on the stub.
#[allow(dead_code)]
fn try_log(stub: &CalculatorClient) -> volley::Result<()> {
    stub.try_log("queued without waiting".to_owned())
}

fn main() {
    let service = Calc::default().into_service();
    assert_eq!(
        service.method_names(),
        [
            "calc.add",
            "calc.ask",
            "calc.callCount",
            "calc.div",
            "calc.log",
            "calc.otherName"
        ]
    );

    let described = CalculatorClient::DESCRIPTION;
    let count = described.method("calc.callCount").unwrap();
    assert_eq!((count.timeout_ms, count.idempotent), (Some(120_000), true));
    let add = described.method("calc.add").unwrap();
    assert_eq!((add.timeout_ms, add.idempotent), (None, false));
    assert_eq!(
        service.deadline("calc.callCount"),
        Some(std::time::Duration::from_secs(120))
    );
    assert_eq!(service.deadline("calc.add"), None);

    let sum: i64 = block_on(service.methods().call("calc.add", [1, 2])).unwrap();
    assert_eq!(sum, 3);
    assert_eq!(
        request(&service, "calc.add", r#"{"b":2,"a":40}"#),
        r#"{"jsonrpc":"2.0","id":1,"result":42}"#
    );
    assert_eq!(
        request(&service, "calc.div", "[1, 0]"),
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"divide by zero"}}"#
    );
    assert!(request(&service, "calc.add", r#"{"a":1}"#).contains("-32602"));
    assert!(request(&service, "calc.add", "[1, 2, 3]").contains("-32602"));
    assert_eq!(
        request(&service, "calc.log", r#"["hello"]"#),
        r#"{"jsonrpc":"2.0","id":1,"result":null}"#
    );
    assert_eq!(
        request(&service, "calc.callCount", "[]"),
        r#"{"jsonrpc":"2.0","id":1,"result":4}"#
    );
    assert_eq!(
        request(&service, "calc.otherName", r#"{"camelCase":7}"#),
        r#"{"jsonrpc":"2.0","id":1,"result":[7,null]}"#
    );
    assert!(request(&service, "calc.otherName", r#"{"snake_case":7}"#).contains("-32602"));
    // Without a connection there is no context to give `ask`.
    assert!(request(&service, "calc.ask", r#"["ok?"]"#).contains("-32603"));

    let description = <CalculatorClient as RemoteService>::DESCRIPTION;
    assert_eq!(service.descriptions()[0].name, "Calculator");
    assert_eq!(description.name, "Calculator");
    assert_eq!(description.docs, "What the server offers.");
    assert_eq!(description.namespace, Some("calc"));
    let names: Vec<_> = description
        .methods
        .iter()
        .map(|m| (m.rust_name, m.name))
        .collect();
    assert_eq!(
        names,
        [
            ("add", "calc.add"),
            ("div", "calc.div"),
            ("ask", "calc.ask"),
            ("log", "calc.log"),
            ("call_count", "calc.callCount"),
            ("x", "calc.otherName"),
        ]
    );
    let div = description.method("calc.div").unwrap();
    assert_eq!(div.docs, "Divides `a` by `b`.\n\nFails when `b` is zero.");
    assert_eq!(div.kind, MethodKind::Request);
    assert_eq!(
        (div.result_type, div.error_type),
        ("i64", Some("MathError"))
    );
    let ask = description.method("calc.ask").unwrap();
    assert_eq!(ask.params.len(), 1);
    assert_eq!(
        (ask.params[0].name, ask.params[0].rust_type),
        ("question", "String")
    );
    let log = description.method("calc.log").unwrap();
    assert_eq!(
        (log.kind, log.result_type, log.error_type),
        (MethodKind::Notification, "()", None)
    );
    let x = description.method("calc.otherName").unwrap();
    let params: Vec<_> = x
        .params
        .iter()
        .map(|p| (p.name, p.rust_type, p.docs))
        .collect();
    assert_eq!(
        params,
        [
            ("camelCase", "u32", ""),
            ("y", "Option<String>", "An optional label.")
        ]
    );
    assert_eq!(
        (x.result_type, x.error_type),
        ("(u32, Option<String>)", None)
    );
}
