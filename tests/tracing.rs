//! Handlers run in their call's `rpc` span when a subscriber records it: one answered at its
//! first poll (inline, in the reader) and one that waits (in a task of its own) alike, with
//! the method and the peer as fields. Without a subscriber the same calls take the paths
//! that skip the span (every other test).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::t;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};
use volley::{Client, Context, Server};

/// What the server offers.
#[volley::rpc]
trait Probe {
    /// Answers at once.
    async fn now(&self) -> volley::Result<u32>;
    /// Asks the caller's `pong` first, and answers with it.
    async fn later(&self, cx: &Context) -> volley::Result<u32>;
}

/// What the client offers.
#[volley::rpc]
trait Back {
    async fn pong(&self) -> volley::Result<u32>;
}

struct Probes;

impl Probe for Probes {
    async fn now(&self) -> volley::Result<u32> {
        tracing::info!("at once");
        Ok(1)
    }
    async fn later(&self, cx: &Context) -> volley::Result<u32> {
        let n = BackClient::new(cx.peer()).pong().await?;
        tracing::info!("after the wait");
        Ok(n)
    }
}

struct Backs;

impl Back for Backs {
    async fn pong(&self) -> volley::Result<u32> {
        Ok(2)
    }
}

/// A span's name and the fields recorded when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: &'static str,
    fields: HashMap<String, String>,
}

#[derive(Default)]
struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// Records, for each event by its message, the spans it happened in (innermost first).
#[derive(Clone, Default)]
struct Recorder {
    spans: Arc<Mutex<HashMap<u64, Seen>>>,
    events: Arc<Mutex<HashMap<String, Vec<Seen>>>>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: LayerContext<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let seen = Seen {
            name: attrs.metadata().name(),
            fields: fields.0,
        };
        self.spans.lock().unwrap().insert(id.into_u64(), seen);
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let Some(message) = fields.0.remove("message") else {
            return;
        };
        let spans = self.spans.lock().unwrap();
        let scope: Vec<Seen> = ctx
            .event_scope(event)
            .into_iter()
            .flatten()
            .filter_map(|span| spans.get(&span.id().into_u64()).cloned())
            .collect();
        self.events.lock().unwrap().insert(message, scope);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn handlers_run_in_their_call_s_span_inline_or_after_a_wait() {
    let recorder = Recorder::default();
    // This thread's subscriber: the runtime, the server's tasks and the client's all run on
    // it (one thread).
    let _default = tracing::subscriber::set_default(Registry::default().with(recorder.clone()));
    let server = Server::builder()
        .add_service(Probes.into_service())
        .add_remote_service::<BackClient>()
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let client = t(Client::builder()
        .add_service(Backs.into_service())
        .connect(&running.ws_url()))
    .await
    .expect("connect");
    let probe = ProbeClient::new(client.peer());
    assert_eq!(t(probe.now()).await.unwrap(), 1);
    assert_eq!(t(probe.later()).await.unwrap(), 2);
    let events = recorder.events.lock().unwrap().clone();
    for (message, method) in [("at once", "now"), ("after the wait", "later")] {
        let scope = events
            .get(message)
            .unwrap_or_else(|| panic!("no {message:?}"));
        let rpc = scope
            .iter()
            .find(|s| s.name == "rpc")
            .unwrap_or_else(|| panic!("{message:?} outside an rpc span: {scope:?}"));
        assert_eq!(rpc.fields.get("method").map(String::as_str), Some(method));
        assert_eq!(
            rpc.fields.get("direction").map(String::as_str),
            Some("incoming")
        );
        assert!(rpc.fields.contains_key("peer"), "{rpc:?}");
    }
    client.close();
    t(running.shutdown()).await;
}
