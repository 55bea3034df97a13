//! Per-method policy in the contract, over real sockets: `#[rpc(timeout = "..")]` is the
//! callers' default deadline and the serving side's, after which the handler is cancelled
//! and the caller answered -32014; `#[rpc(idempotent)]` is in the description and the
//! documents; a call made with a cancellation token (a handler's own, when its caller
//! gives up) ends with `Error::Cancelled` and cancels the handler it reached.

mod common;

use std::time::Duration;

use common::t;
use tokio::sync::mpsc;
use volley::codegen::{Api, Side, openrpc};
use volley::{CallOptions, Client, Context, Error, RemoteService, Server, codes};

/// Reports when a handler is cancelled (its future dropped).
struct Dropped(mpsc::UnboundedSender<String>, &'static str);

impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.0.send(self.1.to_owned());
    }
}

#[volley::rpc]
trait Jobs {
    /// Never finishes by itself; reports when it is cancelled.
    #[rpc(timeout = "200ms")]
    async fn stuck(&self, cx: &Context) -> volley::Result<()>;
    /// Safe to run twice.
    #[rpc(idempotent)]
    async fn read(&self) -> volley::Result<u32>;
    /// Calls the client's `hang` from a task of its own, bound to this call's cancellation,
    /// and reports how that call ended.
    async fn relay(&self, cx: &Context) -> volley::Result<()>;
}

#[volley::rpc]
trait Phone {
    /// Never answers.
    async fn hang(&self) -> volley::Result<()>;
}

#[derive(Clone)]
struct JobsImpl {
    report: mpsc::UnboundedSender<String>,
}

impl Jobs for JobsImpl {
    async fn stuck(&self, _cx: &Context) -> volley::Result<()> {
        let _dropped = Dropped(self.report.clone(), "stuck cancelled");
        std::future::pending().await
    }

    async fn read(&self) -> volley::Result<u32> {
        Ok(7)
    }

    async fn relay(&self, cx: &Context) -> volley::Result<()> {
        let peer = cx.peer().clone();
        let options = CallOptions::default().cancel_on(cx.cancellation().clone());
        let report = self.report.clone();
        let work = tokio::spawn(async move {
            let outcome = peer.request_with("hang", None, &options).await;
            let _ = report.send(format!("relay: {:?}", outcome.map(|_| ())));
        });
        let _ = work.await;
        Ok(())
    }
}

#[derive(Clone)]
struct PhoneImpl {
    report: mpsc::UnboundedSender<String>,
}

impl Phone for PhoneImpl {
    async fn hang(&self) -> volley::Result<()> {
        let _dropped = Dropped(self.report.clone(), "hang cancelled");
        std::future::pending().await
    }
}

async fn start() -> (
    volley::RunningServer,
    Client,
    mpsc::UnboundedReceiver<String>,
) {
    let (report, reports) = mpsc::unbounded_channel();
    let server = Server::builder()
        .add_service(
            JobsImpl {
                report: report.clone(),
            }
            .into_service(),
        )
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let client = t(Client::builder()
        .add_service(PhoneImpl { report }.into_service())
        .connect(&running.ws_url()))
    .await
    .expect("connect");
    (running, client, reports)
}

#[tokio::test]
async fn a_method_s_deadline_cancels_its_handler_and_answers_timed_out() {
    let (running, client, mut reports) = start().await;
    // A caller with a longer deadline of its own still gets the method's: -32014 at 200 ms.
    let started = tokio::time::Instant::now();
    let err = t(client
        .peer()
        .request_raw("stuck", None, Some(Duration::from_secs(10))))
    .await
    .unwrap_err();
    let elapsed = started.elapsed();
    let remote = err.remote().expect("an answer from the server");
    assert_eq!(remote.code(), codes::TIMED_OUT, "{remote:?}");
    assert!(err.is_timeout());
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(t(reports.recv()).await.as_deref(), Some("stuck cancelled"));
    // The generated stub waits the method's deadline, not the connection's 30 s.
    let started = tokio::time::Instant::now();
    let err = t(JobsClient::new(client.peer()).stuck()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The connection is fine afterwards.
    assert_eq!(t(JobsClient::new(client.peer()).read()).await.unwrap(), 7);
    client.close();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_cancelled_handler_s_own_calls_end_with_cancelled() {
    let (running, client, mut reports) = start().await;
    let jobs = JobsClient::new(client.peer());
    // Give up on `relay` while the server waits for the client's `hang`: the server's
    // handler is cancelled (rpc.cancel), so is the call it made with its cancellation, and
    // that call's handler on the client.
    let relay = tokio::time::timeout(Duration::from_millis(200), jobs.relay()).await;
    assert!(relay.is_err(), "relay cannot finish");
    let mut seen = vec![
        t(reports.recv()).await.expect("a report"),
        t(reports.recv()).await.expect("a report"),
    ];
    seen.sort();
    assert_eq!(
        seen,
        [
            "hang cancelled".to_owned(),
            format!("relay: {:?}", Err::<(), _>(Error::Cancelled))
        ]
    );
    // A call of the client's own, cancelled through its token, the same way.
    let token = tokio_util::sync::CancellationToken::new();
    let options = CallOptions::default().cancel_on(token.clone());
    let call = client.peer().request_with("stuck", None, &options);
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        token.cancel();
    };
    let (outcome, ()) = t(async { tokio::join!(call, cancel) }).await;
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    assert_eq!(t(reports.recv()).await.as_deref(), Some("stuck cancelled"));
    client.close();
    t(running.shutdown()).await;
}

#[test]
fn timeouts_and_idempotence_are_in_the_description_and_the_documents() {
    let jobs = JobsClient::DESCRIPTION;
    let stuck = jobs.method("stuck").unwrap();
    assert_eq!((stuck.timeout_ms, stuck.idempotent), (Some(200), false));
    let read = jobs.method("read").unwrap();
    assert_eq!((read.timeout_ms, read.idempotent), (None, true));
    let (report, _) = mpsc::unbounded_channel();
    let service = JobsImpl { report }.into_service();
    let api = Api::of_service(Side::Server, &service);
    let doc = openrpc(&api, None);
    let method = |name: &str| {
        doc["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(method("stuck")["x-timeout-ms"], 200);
    assert_eq!(method("read")["x-idempotent"], true);
    assert!(method("relay").get("x-timeout-ms").is_none());
    let declared: Vec<_> = doc["x-extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        declared.contains(&"x-timeout-ms".to_owned()),
        "{declared:?}"
    );
    assert!(
        declared.contains(&"x-idempotent".to_owned()),
        "{declared:?}"
    );
    let asyncapi = volley::codegen::asyncapi(&api, "ws://127.0.0.1:1/ws");
    let text = asyncapi.to_string();
    assert!(text.contains(r#""x-timeout-ms":200"#), "{text}");
    assert!(text.contains(r#""x-idempotent":true"#), "{text}");
}
