//! Streams both ways: typed stubs, the producer ending or failing, the consumer cancelling,
//! backpressure and the bounded consumer buffer, the per-connection limit, disconnects, the
//! wire as PROTOCOL.md writes it, and jsonrpsee on either end.

mod common;

use common::{raw_connect, t};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use volley::{
    Client, Context, Error, ItemSender, ItemStream, PeerConfig, PeerEvent, RunningServer, Server,
};

/// What the server streams.
#[volley::rpc]
pub trait Feeds {
    /// `count` numbers from `from`, then the end.
    #[rpc(stream)]
    async fn subscribe_numbers(&self, from: u64, count: u64) -> volley::Result<ItemStream<u64>>;
    /// `ok` numbers, then a failure.
    #[rpc(stream, item = "broken_item", unsubscribe = "stop_broken")]
    async fn broken(&self, ok: u64) -> volley::Result<ItemStream<u64>>;
    /// Numbers for as long as the consumer wants them, fed from a task that reports when the
    /// consumer went away.
    #[rpc(stream)]
    async fn subscribe_forever(&self) -> volley::Result<ItemStream<u64>>;
    /// Refuses to start.
    #[rpc(stream)]
    async fn subscribe_refused(&self) -> Result<ItemStream<u64>, volley::ErrorObject>;
    /// `0`, then a panic.
    #[rpc(stream)]
    async fn subscribe_panics(&self) -> volley::Result<ItemStream<u64>>;
    /// Opens the caller's own `numbers` stream and adds up what comes.
    async fn sum_callers(&self, cx: &Context, count: u64) -> volley::Result<u64>;
    /// Opens the caller's `quiet` stream and keeps it open (in a task of its own).
    async fn hold_callers_quiet(&self, cx: &Context) -> volley::Result<bool>;
    /// Takes `take` items of the caller's endless `ticks` stream, then drops it.
    async fn sample_callers(&self, cx: &Context, take: usize) -> volley::Result<Vec<u64>>;
}

/// What the client streams to the server.
#[volley::rpc]
pub trait Source {
    /// The numbers 1 to `count`.
    #[rpc(stream)]
    async fn subscribe_numbers(&self, count: u64) -> volley::Result<ItemStream<u64>>;
    /// Ticks until the consumer cancels.
    #[rpc(stream)]
    async fn subscribe_ticks(&self) -> volley::Result<ItemStream<u64>>;
    /// Sends nothing until the consumer cancels.
    #[rpc(stream)]
    async fn subscribe_quiet(&self) -> volley::Result<ItemStream<u64>>;
}

struct Producer {
    /// Told when a `forever` stream's consumer went away.
    gone: mpsc::UnboundedSender<()>,
}

impl Feeds for Producer {
    async fn subscribe_numbers(&self, from: u64, count: u64) -> volley::Result<ItemStream<u64>> {
        Ok(ItemStream::iter(from..from + count))
    }

    async fn broken(&self, ok: u64) -> volley::Result<ItemStream<u64>> {
        let items = (0..=ok).map(move |n| {
            if n < ok {
                Ok(n)
            } else {
                Err(volley::ErrorObject::owned(
                    4000,
                    "ran dry",
                    Some(json!({"after": ok})),
                ))
            }
        });
        Ok(ItemStream::try_new(futures_util::stream::iter(items)))
    }

    async fn subscribe_forever(&self) -> volley::Result<ItemStream<u64>> {
        let (tx, items) = ItemStream::channel(4);
        let gone = self.gone.clone();
        tokio::spawn(feed(tx, gone));
        Ok(items)
    }

    async fn subscribe_panics(&self) -> volley::Result<ItemStream<u64>> {
        let items = futures_util::stream::iter(0..2u64).map(|n| {
            assert!(n == 0, "the producer broke");
            n
        });
        Ok(ItemStream::new(items))
    }

    async fn subscribe_refused(&self) -> Result<ItemStream<u64>, volley::ErrorObject> {
        Err(volley::ErrorObject::owned(4001, "not today", None::<()>))
    }

    async fn sum_callers(&self, cx: &Context, count: u64) -> volley::Result<u64> {
        let mut numbers = SourceClient::new(cx.peer())
            .subscribe_numbers(count)
            .await?;
        let mut sum = 0;
        while let Some(n) = numbers.next().await {
            sum += n?;
        }
        Ok(sum)
    }

    async fn hold_callers_quiet(&self, cx: &Context) -> volley::Result<bool> {
        let quiet = SourceClient::new(cx.peer()).subscribe_quiet().await?;
        tokio::spawn(async move {
            let _held = quiet;
            std::future::pending::<()>().await
        });
        Ok(true)
    }

    async fn sample_callers(&self, cx: &Context, take: usize) -> volley::Result<Vec<u64>> {
        let ticks = SourceClient::new(cx.peer()).subscribe_ticks().await?;
        let taken: Vec<volley::Result<u64>> = ticks.take(take).collect().await;
        taken.into_iter().collect()
    }
}

async fn feed(tx: ItemSender<u64>, gone: mpsc::UnboundedSender<()>) {
    let mut n = 0;
    loop {
        tokio::select! {
            _ = tx.closed() => break,
            sent = tx.send(n) => if sent.is_err() { break },
        }
        n += 1;
    }
    let _ = gone.send(());
}

/// The client's producer; tells `gone` when a `ticks` consumer went away.
#[derive(Clone)]
struct Counter {
    gone: Option<mpsc::UnboundedSender<()>>,
}

impl Source for Counter {
    async fn subscribe_numbers(&self, count: u64) -> volley::Result<ItemStream<u64>> {
        Ok(ItemStream::iter(1..=count))
    }

    async fn subscribe_ticks(&self) -> volley::Result<ItemStream<u64>> {
        let (tx, items) = ItemStream::channel(4);
        let (gone, _) = mpsc::unbounded_channel();
        tokio::spawn(feed(tx, self.gone.clone().unwrap_or(gone)));
        Ok(items)
    }

    async fn subscribe_quiet(&self) -> volley::Result<ItemStream<u64>> {
        let (tx, items) = ItemStream::<u64>::channel(1);
        let gone = self.gone.clone();
        tokio::spawn(async move {
            tx.closed().await;
            if let Some(gone) = gone {
                let _ = gone.send(());
            }
        });
        Ok(items)
    }
}

/// Reads a stream to its error, returning the items before it (bounded by [`t`]); panics if
/// it ends without one.
async fn items_until_error(stream: &mut volley::Subscription<u64>) -> (Vec<u64>, Error) {
    t(async {
        let mut items = Vec::new();
        loop {
            match stream.next().await {
                Some(Ok(n)) => items.push(n),
                Some(Err(e)) => return (items, e),
                None => panic!("ended without an error"),
            }
        }
    })
    .await
}

async fn start(config: PeerConfig) -> (RunningServer, mpsc::UnboundedReceiver<()>) {
    let (gone, gone_rx) = mpsc::unbounded_channel();
    let server = Server::builder()
        .add_service(Producer { gone }.into_service())
        .add_remote_service::<SourceClient>()
        .peer_config(config)
        .build();
    (t(server.listen("127.0.0.1:0")).await.unwrap(), gone_rx)
}

async fn client(running: &RunningServer, config: PeerConfig) -> Client {
    client_with(running, config, Counter { gone: None }).await
}

async fn client_with(running: &RunningServer, config: PeerConfig, counter: Counter) -> Client {
    t(Client::builder()
        .add_service(counter.into_service())
        .peer_config(config)
        .reconnect(None)
        .connect(&running.ws_url()))
    .await
    .unwrap()
}

#[tokio::test]
async fn a_stream_delivers_its_items_in_order_and_ends_when_the_producer_ends_it() {
    let (running, _) = start(PeerConfig::default()).await;
    let client = client(&running, PeerConfig::default()).await;
    let feeds = FeedsClient::new(client.peer());
    let numbers = t(feeds.subscribe_numbers(10, 500)).await.unwrap();
    assert_eq!(numbers.item_method(), "numbers");
    let got: Vec<u64> = t(numbers.map(Result::unwrap).collect()).await;
    assert_eq!(got, (10..510).collect::<Vec<_>>());

    // A failure ends the stream with the producer's error, after the items before it.
    let mut broken = t(feeds.broken(2)).await.unwrap();
    assert_eq!(t(broken.next()).await.unwrap().unwrap(), 0);
    assert_eq!(t(broken.next()).await.unwrap().unwrap(), 1);
    match t(broken.next()).await {
        Some(Err(Error::Remote(e))) => {
            assert_eq!((e.code(), e.message()), (4000, "ran dry"));
        }
        other => panic!("expected the producer's error, got {other:?}"),
    }
    assert!(t(broken.next()).await.is_none());

    // A refusal to start answers the subscribe call.
    match t(feeds.subscribe_refused()).await {
        Err(Error::Remote(e)) => assert_eq!(e.code(), 4001),
        other => panic!("expected a refusal, got {other:?}"),
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_producer_that_panics_ends_its_stream_with_an_error_and_the_connection_carries_on() {
    let (running, _) = start(PeerConfig::default()).await;
    let client = client(&running, PeerConfig::default()).await;
    let feeds = FeedsClient::new(client.peer());
    let mut panics = t(feeds.subscribe_panics()).await.unwrap();
    assert_eq!(t(panics.next()).await.unwrap().unwrap(), 0);
    match t(panics.next()).await {
        Some(Err(Error::Remote(e))) => {
            assert_eq!(e.code(), -32603);
            let data = e.data().map(|d| d.get().to_owned()).unwrap_or_default();
            assert!(
                data.contains("stream panicked: the producer broke"),
                "{data}"
            );
        }
        other => panic!("expected the panic as an error, got {other:?}"),
    }
    assert!(t(panics.next()).await.is_none());
    let n: Vec<u64> = t(t(feeds.subscribe_numbers(0, 2))
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect())
    .await;
    assert_eq!(n, [0, 1]);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_subscribe_call_dropped_as_its_answer_arrives_still_cancels_the_producer() {
    let (running, mut gone) = start(PeerConfig::default()).await;
    let client = client(&running, PeerConfig::default()).await;
    let peer = client.peer().clone();
    for _ in 0..3 {
        // Poll the subscribe call once (it is sent), wait without polling it until its answer
        // has been read (the route is open), then drop it before it returns a Subscription.
        let idle = || async {
            while peer.pending_calls() > 0 {
                tokio::task::yield_now().await;
            }
        };
        t(idle()).await; // the previous round's unsubscribe has been answered
        let mut opening = Box::pin(FeedsClient::new(&peer).subscribe_forever());
        assert!(futures_util::poll!(opening.as_mut()).is_pending());
        assert_eq!(peer.pending_calls(), 1);
        t(idle()).await;
        drop(opening);
        t(gone.recv())
            .await
            .expect("the producer was cancelled at its first item");
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_consumer_past_its_byte_budget_gets_lagged() {
    let (running, mut gone) = start(PeerConfig::default()).await;
    // Items are 1 to 3 bytes (`0`..`999`): 64 bytes hold about 30 of them.
    let config = PeerConfig::default().stream_buffer_bytes(64);
    let client = client(&running, config).await;
    let mut forever = t(FeedsClient::new(client.peer()).subscribe_forever())
        .await
        .unwrap();
    t(gone.recv()).await.expect("the producer was cancelled");
    let (items, end) = items_until_error(&mut forever).await;
    let bytes: usize = items.iter().map(|n| n.to_string().len()).sum();
    assert!(matches!(end, Error::Lagged), "{end:?}");
    assert!((62..=64).contains(&bytes), "{bytes} bytes came through");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn dropping_the_subscription_cancels_the_producer_and_it_can_be_opened_again() {
    let (running, mut gone) = start(PeerConfig::default()).await;
    let client = client(&running, PeerConfig::default()).await;
    let feeds = FeedsClient::new(client.peer());
    for _ in 0..3 {
        let mut forever = t(feeds.subscribe_forever()).await.unwrap();
        for expected in 0..50 {
            assert_eq!(t(forever.next()).await.unwrap().unwrap(), expected);
        }
        drop(forever);
        t(gone.recv())
            .await
            .expect("the producer saw the consumer go");
    }
    // `unsubscribe` waits for the answer: true while it ran.
    let forever = t(feeds.subscribe_forever()).await.unwrap();
    assert!(t(forever.unsubscribe()).await.unwrap());
    t(gone.recv()).await.unwrap();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_server_consumes_a_stream_its_client_serves() {
    let (running, _) = start(PeerConfig::default()).await;
    let client = client(&running, PeerConfig::default()).await;
    let sum = t(FeedsClient::new(client.peer()).sum_callers(100))
        .await
        .unwrap();
    assert_eq!(sum, 5050);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_server_that_drops_its_clients_stream_cancels_the_clients_producer() {
    let (running, _) = start(PeerConfig::default()).await;
    let (gone, mut client_gone) = mpsc::unbounded_channel();
    let counter = Counter { gone: Some(gone) };
    let client = client_with(&running, PeerConfig::default(), counter).await;
    let feeds = FeedsClient::new(client.peer());
    for _ in 0..2 {
        let taken = t(feeds.sample_callers(5)).await.unwrap();
        assert_eq!(taken, [0, 1, 2, 3, 4]);
        t(client_gone.recv())
            .await
            .expect("the client's producer saw the server go");
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_consumer_that_falls_behind_its_buffer_gets_lagged_and_the_producer_stops() {
    let (running, mut gone) = start(PeerConfig::default()).await;
    let client = client(&running, PeerConfig::default().stream_buffer(8)).await;
    let feeds = FeedsClient::new(client.peer());
    let mut forever = t(feeds.subscribe_forever()).await.unwrap();
    // Not reading: the producer fills the buffer and overflows it.
    t(gone.recv()).await.expect("the producer was cancelled");
    let (got, end) = items_until_error(&mut forever).await;
    assert!(matches!(end, Error::Lagged), "{end:?}");
    // Exactly the buffer's worth came through, in order.
    assert_eq!(got, (0..8).collect::<Vec<_>>());
    assert!(t(forever.next()).await.is_none());
    // The connection is fine.
    let n: Vec<u64> = t(t(feeds.subscribe_numbers(0, 3))
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect())
    .await;
    assert_eq!(n, [0, 1, 2]);
    t(running.shutdown()).await;
}

#[tokio::test]
async fn streams_per_connection_are_limited_at_max_streams() {
    let (running, mut gone) = start(PeerConfig::default().max_streams(3)).await;
    let client = client(&running, PeerConfig::default()).await;
    let feeds = FeedsClient::new(client.peer());
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(t(feeds.subscribe_forever()).await.unwrap());
    }
    match t(feeds.subscribe_forever()).await {
        Err(Error::Remote(e)) => {
            assert_eq!(e.code(), volley::codes::TOO_MANY_STREAMS);
            assert_eq!(e.message(), "Too many streams");
        }
        other => panic!("expected -32015, got {other:?}"),
    }
    // Ending one frees its slot.
    assert!(t(open.pop().unwrap().unsubscribe()).await.unwrap());
    t(gone.recv()).await.unwrap();
    let again = t(feeds.subscribe_forever()).await;
    assert!(again.is_ok(), "{again:?}");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_stream_ends_with_disconnected_when_its_connection_closes() {
    let (running, mut gone) = start(PeerConfig::default()).await;
    let mut events = running.server().peers().subscribe();
    let client = client(&running, PeerConfig::default()).await;
    let PeerEvent::Connected(server_side) = t(events.recv()).await.unwrap() else {
        panic!("expected a connection")
    };
    let mut forever = t(FeedsClient::new(client.peer()).subscribe_forever())
        .await
        .unwrap();
    assert_eq!(t(forever.next()).await.unwrap().unwrap(), 0);
    server_side.close();
    let (_, end) = items_until_error(&mut forever).await;
    assert!(end.is_disconnected(), "{end:?}");
    t(gone.recv())
        .await
        .expect("the producer stopped with the connection");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn on_the_wire_a_stream_is_a_jsonrpsee_style_subscription() {
    let (running, mut gone) = start(PeerConfig::default()).await;
    let mut raw = raw_connect(&running.ws_url()).await;
    raw.send_json(&json!({"jsonrpc": "2.0", "id": "s", "method": "subscribe_numbers", "params": {"from": 7, "count": 2}})).await;
    // The answer (an integer id) comes first, then the items, then the end.
    let answer = raw.recv().await;
    assert_eq!(answer["id"], "s");
    let id = answer["result"].clone();
    assert!(id.is_u64(), "{answer}");
    for n in [7, 8] {
        assert_eq!(
            raw.recv().await,
            json!({"jsonrpc": "2.0", "method": "numbers", "params": {"subscription": id, "result": n}})
        );
    }
    assert_eq!(
        raw.recv().await,
        json!({"jsonrpc": "2.0", "method": "numbers", "params": {"subscription": id, "error": null}})
    );
    // Unsubscribing an ended stream answers false; a running one true (params `[id]`).
    raw.send_json(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "unsubscribe_numbers", "params": [id]}),
    )
    .await;
    assert_eq!(raw.recv().await["result"], false);
    raw.send_json(&json!({"jsonrpc": "2.0", "id": 2, "method": "subscribe_forever"}))
        .await;
    let answer = raw.recv().await;
    let forever = answer["result"].clone();
    assert_ne!(forever, id, "ids are not reused");
    raw.send_json(
        &json!({"jsonrpc": "2.0", "id": 3, "method": "unsubscribe_forever", "params": [forever]}),
    )
    .await;
    let answered = t(async {
        loop {
            let frame: Value = raw.recv().await;
            if frame["id"] == 3 {
                return frame;
            }
            assert_eq!(frame["method"], "forever");
        }
    })
    .await;
    assert_eq!(answered["result"], true);
    t(gone.recv()).await.unwrap();
    t(running.shutdown()).await;
}

mod jsonrpsee_interop {
    use super::*;
    use volley::jsonrpsee::core::SubscriptionResult;
    use volley::jsonrpsee::core::client::SubscriptionClientT;
    use volley::jsonrpsee::core::server::{PendingSubscriptionSink, SubscriptionMessage};
    use volley::jsonrpsee::proc_macros::rpc;

    #[tokio::test]
    async fn jsonrpsee_s_client_consumes_a_volley_stream_unchanged() {
        let (running, mut gone) = start(PeerConfig::default()).await;
        let client = t(jsonrpsee::ws_client::WsClientBuilder::default().build(running.ws_url()))
            .await
            .unwrap();
        let mut numbers: jsonrpsee::core::client::Subscription<u64> = t(client.subscribe(
            "subscribe_numbers",
            jsonrpsee::rpc_params![1, 3],
            "unsubscribe_numbers",
        ))
        .await
        .unwrap();
        for n in 1..=3 {
            assert_eq!(t(numbers.next()).await.unwrap().unwrap(), n);
        }
        // The producer's end closes jsonrpsee's subscription.
        assert!(t(numbers.next()).await.is_none());
        // Dropping one sends jsonrpsee's unsubscribe, which stops the producer.
        let mut forever: jsonrpsee::core::client::Subscription<u64> = t(client.subscribe(
            "subscribe_forever",
            jsonrpsee::rpc_params![],
            "unsubscribe_forever",
        ))
        .await
        .unwrap();
        assert_eq!(t(forever.next()).await.unwrap().unwrap(), 0);
        drop(forever);
        t(gone.recv())
            .await
            .expect("jsonrpsee's unsubscribe reached the producer");
        t(running.shutdown()).await;
    }

    #[rpc(server)]
    pub trait Legacy {
        #[subscription(name = "subscribeSquares" => "square", unsubscribe = "unsubscribeSquares", item = u64)]
        async fn squares(&self, upto: u64) -> SubscriptionResult;
        #[subscription(name = "subscribeFailing" => "failing", unsubscribe = "unsubscribeFailing", item = u64)]
        async fn failing(&self) -> SubscriptionResult;
    }

    /// The same methods, seen from volley.
    #[volley::rpc]
    pub trait LegacyStreams {
        /// The squares of 1 to `upto`.
        #[rpc(
            stream,
            name = "subscribeSquares",
            item = "square",
            unsubscribe = "unsubscribeSquares"
        )]
        async fn squares(&self, upto: u64) -> volley::Result<ItemStream<u64>>;
        /// One item, then jsonrpsee's usual failure (a string).
        #[rpc(
            stream,
            name = "subscribeFailing",
            item = "failing",
            unsubscribe = "unsubscribeFailing"
        )]
        async fn failing(&self) -> volley::Result<ItemStream<u64>>;
    }

    struct LegacyImpl;

    #[volley::jsonrpsee::core::async_trait]
    impl LegacyServer for LegacyImpl {
        async fn squares(&self, pending: PendingSubscriptionSink, upto: u64) -> SubscriptionResult {
            let sink = pending.accept().await?;
            for n in 1..=upto {
                let message = SubscriptionMessage::from(serde_json::value::to_raw_value(&(n * n))?);
                sink.send(message).await?;
            }
            Ok(())
        }

        async fn failing(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
            let sink = pending.accept().await?;
            sink.send(SubscriptionMessage::from(serde_json::value::to_raw_value(
                &1u64,
            )?))
            .await?;
            Err("boom".into())
        }
    }

    #[tokio::test]
    async fn a_jsonrpsee_subscription_merged_into_a_volley_service_keeps_working() {
        let mut service = volley::Service::new();
        service.merge(LegacyImpl.into_rpc()).unwrap();
        let server = Server::builder().add_service(service).build();
        let running = t(server.listen("127.0.0.1:0")).await.unwrap();
        let client = t(jsonrpsee::ws_client::WsClientBuilder::default().build(running.ws_url()))
            .await
            .unwrap();
        let mut squares: jsonrpsee::core::client::Subscription<u64> = t(client.subscribe(
            "subscribeSquares",
            jsonrpsee::rpc_params![4],
            "unsubscribeSquares",
        ))
        .await
        .unwrap();
        for n in 1..=4u64 {
            assert_eq!(t(squares.next()).await.unwrap().unwrap(), n * n);
        }
        // volley's own client consumes the jsonrpsee producer too, failure included.
        let volley_client = t(Client::builder().connect(&running.ws_url()))
            .await
            .unwrap();
        let legacy = LegacyStreamsClient::new(volley_client.peer());
        // (A jsonrpsee producer that just returns sends no end message: take what it sent.)
        let squares: Vec<u64> = t(t(legacy.squares(3))
            .await
            .unwrap()
            .take(3)
            .map(Result::unwrap)
            .collect())
        .await;
        assert_eq!(squares, [1, 4, 9]);
        let mut failing = t(legacy.failing()).await.unwrap();
        assert_eq!(t(failing.next()).await.unwrap().unwrap(), 1);
        match t(failing.next()).await {
            Some(Err(Error::Remote(e))) => assert_eq!(e.message(), "boom"),
            other => panic!("expected jsonrpsee's failure, got {other:?}"),
        }
        assert!(t(failing.next()).await.is_none());
        t(running.shutdown()).await;
    }
}

mod across_sockets {
    use super::*;
    use std::time::Duration;
    use volley::{ConnectionState, Reconnect, Resumption};
    use volley_testing::proxy::Proxy;

    async fn through(proxy: &Proxy, resumption: Option<Resumption>) -> Client {
        through_with(
            proxy,
            resumption,
            Counter { gone: None },
            PeerConfig::default(),
        )
        .await
    }

    async fn through_with(
        proxy: &Proxy,
        resumption: Option<Resumption>,
        counter: Counter,
        config: PeerConfig,
    ) -> Client {
        let reconnect = Reconnect::default()
            .initial_delay(Duration::from_millis(10))
            .max_delay(Duration::from_millis(50));
        t(Client::builder()
            .add_service(counter.into_service())
            .peer_config(config)
            .reconnect(Some(reconnect))
            .resumption(resumption)
            .connect(&proxy.ws_url("ws")))
        .await
        .unwrap()
    }

    async fn reconnected(client: &Client) {
        reconnected_times(client, 1).await;
    }

    async fn reconnected_times(client: &Client, times: u32) {
        let mut state = client.state();
        t(state.wait_for(
            |s| matches!(s, ConnectionState::Connected { reconnects, .. } if *reconnects >= times),
        ))
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_quiet_stream_a_client_serves_stops_when_its_socket_is_replaced_without_resuming() {
        let (running, _) = start(PeerConfig::default()).await;
        let proxy = Proxy::start(running.local_addr()).await;
        let (gone, mut quiet_gone) = mpsc::unbounded_channel();
        // Two stream slots: without the producers stopping, the third round would be refused.
        let config = PeerConfig::default().max_streams(2);
        let client = through_with(&proxy, None, Counter { gone: Some(gone) }, config).await;
        let feeds = FeedsClient::new(client.peer());
        for round in 1..=4 {
            assert!(
                t(feeds.hold_callers_quiet()).await.unwrap(),
                "round {round}"
            );
            proxy.cut();
            t(quiet_gone.recv())
                .await
                .expect("the quiet producer stopped");
            reconnected_times(&client, round).await;
        }
        t(running.shutdown()).await;
    }

    #[tokio::test]
    async fn a_stream_carries_on_without_a_gap_when_the_session_resumes() {
        let (running, _) = start(PeerConfig::default()).await;
        let proxy = Proxy::start(running.local_addr()).await;
        let client = through(&proxy, Some(Resumption::default())).await;
        let mut forever = t(FeedsClient::new(client.peer()).subscribe_forever())
            .await
            .unwrap();
        for expected in 0..20 {
            assert_eq!(t(forever.next()).await.unwrap().unwrap(), expected);
        }
        proxy.cut();
        reconnected(&client).await;
        // Every item once, in order, across the cut.
        for expected in 20..200 {
            assert_eq!(t(forever.next()).await.unwrap().unwrap(), expected);
        }
        t(running.shutdown()).await;
    }

    #[tokio::test]
    async fn without_resumption_a_stream_ends_with_disconnected_and_can_be_opened_again() {
        let (running, mut gone) = start(PeerConfig::default().ping_interval(None)).await;
        let proxy = Proxy::start(running.local_addr()).await;
        let client = through(&proxy, None).await;
        let feeds = FeedsClient::new(client.peer());
        let mut forever = t(feeds.subscribe_forever()).await.unwrap();
        assert_eq!(t(forever.next()).await.unwrap().unwrap(), 0);
        proxy.cut();
        let (_, end) = items_until_error(&mut forever).await;
        assert!(end.is_disconnected(), "{end:?}");
        t(gone.recv())
            .await
            .expect("the server's producer stopped with its connection");
        reconnected(&client).await;
        let mut again = t(feeds.subscribe_forever()).await.unwrap();
        assert_eq!(t(again.next()).await.unwrap().unwrap(), 0);
        t(running.shutdown()).await;
    }
}
