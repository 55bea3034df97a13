//! Never lose a call: the Rust client's reconnect and session resumption, over real sockets
//! through a TCP proxy that cuts, freezes or refuses connections.
//!
//! - With resumption, calls in flight in both directions, answers produced while the link
//!   was down and notifications in both directions arrive exactly once and in order, through
//!   repeated cuts (executions are counted on each side).
//! - Without it, every call resolves; idempotent calls are sent again and complete.
//! - A session past its grace period: the old calls fail with `SessionExpired`, the client
//!   carries on with a new session.
//! - Reconnect: state changes are observable, the hook runs, the token is asked for again at
//!   each attempt, calls made while disconnected fail at once or wait up to the bound, the
//!   attempts can run out, and the client's keepalive notices a silent server.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::t;
use tokio::sync::{Notify, mpsc, watch};
use volley::{
    CallOptions, Client, ConnectionState, Context, Error, PeerConfig, Reconnect, Resumption, Server,
};
use volley_testing::proxy::Proxy;

/// The server's side: every execution counted.
#[volley::rpc]
trait Ledger {
    /// Counts one execution of `n` and answers it.
    async fn record(&self, n: u64) -> volley::Result<u64>;
    /// Waits until `release(n)`, then counts and answers like `record`.
    async fn hold(&self, n: u64) -> volley::Result<u64>;
    /// Lets `hold(n)` finish.
    async fn release(&self, n: u64) -> volley::Result<()>;
    /// Calls the client's `confirm(n)` and answers what it said.
    async fn relay(&self, cx: &Context, n: u64) -> volley::Result<u64>;
    /// Notes `n` in arrival order.
    #[rpc(notification)]
    async fn note(&self, n: u64);
}

/// The client's side.
#[volley::rpc]
trait Device {
    /// Counts one execution of `n` and answers `n * 10`.
    async fn confirm(&self, n: u64) -> volley::Result<u64>;
    /// Notes `n` in arrival order.
    #[rpc(notification)]
    async fn event(&self, n: u64);
}

#[derive(Default)]
struct Book {
    runs: Mutex<HashMap<u64, usize>>,
    notes: Mutex<Vec<u64>>,
    held: Mutex<HashMap<u64, Arc<Notify>>>,
    /// How many times `hold(n)` started.
    starts: Mutex<HashMap<u64, usize>>,
}

impl Book {
    fn count(&self, n: u64) {
        *self.runs.lock().unwrap().entry(n).or_default() += 1;
    }

    fn runs(&self, n: u64) -> usize {
        self.runs.lock().unwrap().get(&n).copied().unwrap_or(0)
    }

    fn held_starts(&self, n: u64) -> usize {
        self.starts.lock().unwrap().get(&n).copied().unwrap_or(0)
    }

    fn gate(&self, n: u64) -> Arc<Notify> {
        self.held.lock().unwrap().entry(n).or_default().clone()
    }
}

#[derive(Clone, Default)]
struct LedgerImpl(Arc<Book>);

impl Ledger for LedgerImpl {
    async fn record(&self, n: u64) -> volley::Result<u64> {
        self.0.count(n);
        Ok(n)
    }

    async fn hold(&self, n: u64) -> volley::Result<u64> {
        *self.0.starts.lock().unwrap().entry(n).or_default() += 1;
        self.0.gate(n).notified().await;
        self.0.count(n);
        Ok(n)
    }

    async fn release(&self, n: u64) -> volley::Result<()> {
        self.0.gate(n).notify_one();
        Ok(())
    }

    async fn relay(&self, cx: &Context, n: u64) -> volley::Result<u64> {
        DeviceClient::new(cx.peer()).confirm(n).await
    }

    async fn note(&self, n: u64) {
        self.0.notes.lock().unwrap().push(n);
    }
}

#[derive(Clone, Default)]
struct DeviceImpl(Arc<Book>);

impl Device for DeviceImpl {
    async fn confirm(&self, n: u64) -> volley::Result<u64> {
        self.0.count(n);
        Ok(n * 10)
    }

    async fn event(&self, n: u64) {
        self.0.notes.lock().unwrap().push(n);
    }
}

fn server(book: &Arc<Book>, resumption: Option<Resumption>) -> Server {
    Server::builder()
        .add_service(LedgerImpl(book.clone()).into_service())
        .resumption(resumption)
        .build()
}

/// Fast reconnects for tests.
fn quick() -> Reconnect {
    Reconnect::default()
        .initial_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(100))
}

async fn client(url: &str, device: &Arc<Book>, resumption: Option<Resumption>) -> Client {
    t(Client::builder()
        .add_service(DeviceImpl(device.clone()).into_service())
        .reconnect(Some(quick()))
        .resumption(resumption)
        .connect(url))
    .await
    .expect("connect")
}

/// Waits until the state satisfies `f`.
async fn state_until(
    state: &mut watch::Receiver<ConnectionState>,
    f: impl FnMut(&ConnectionState) -> bool,
) -> ConnectionState {
    t(state.wait_for(f)).await.expect("state").clone()
}

fn reconnects(state: &ConnectionState) -> u32 {
    match state {
        ConnectionState::Connected { reconnects, .. } => *reconnects,
        _ => 0,
    }
}

#[tokio::test]
async fn with_resumption_every_call_and_notification_arrives_exactly_once_through_cuts() {
    let (book, device) = (Arc::new(Book::default()), Arc::new(Book::default()));
    let running = t(server(&book, Some(Resumption::default())).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let proxy = Proxy::start(running.local_addr()).await;
    let c = client(&proxy.ws_url("ws"), &device, Some(Resumption::default())).await;
    let ledger = LedgerClient::new(c.peer());
    let server_peer = t(async {
        loop {
            if let Some(p) = running.server().peers().list().pop() {
                break p;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    let device_stub = DeviceClient::new(&server_peer);

    const N: u64 = 300;
    // Client to server: calls and ordered notifications. Server to client: the same.
    let calls = tokio::spawn({
        let ledger = ledger.clone();
        async move {
            let mut set = tokio::task::JoinSet::new();
            for n in 0..N {
                let stub = ledger.clone();
                set.spawn(async move { (n, stub.record(n).await) });
                ledger.note(n).await.expect("note queued");
                if n % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            set.join_all().await
        }
    });
    let callbacks = tokio::spawn({
        let device_stub = device_stub.clone();
        async move {
            let mut set = tokio::task::JoinSet::new();
            for n in 0..N {
                let stub = device_stub.clone();
                set.spawn(async move { (n, stub.confirm(n).await) });
                device_stub.event(n).await.expect("event queued");
                if n % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            set.join_all().await
        }
    });
    // A server-to-client call made from inside a client call, across the cuts too.
    let relayed = tokio::spawn({
        let ledger = ledger.clone();
        async move { ledger.relay(1_000).await }
    });
    let mut state = c.state();
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        proxy.cut();
        state_until(&mut state, |s| {
            !matches!(s, ConnectionState::Connected { .. })
        })
        .await;
        let s = state_until(&mut state, |s| {
            matches!(s, ConnectionState::Connected { .. })
        })
        .await;
        assert!(
            matches!(s, ConnectionState::Connected { resumed: true, .. }),
            "{s:?}"
        );
    }
    for (n, outcome) in t(calls).await.expect("calls") {
        assert_eq!(outcome.expect("call"), n);
        assert_eq!(book.runs(n), 1, "record({n}) ran once");
    }
    for (n, outcome) in t(callbacks).await.expect("callbacks") {
        assert_eq!(outcome.expect("callback"), n * 10);
        assert_eq!(device.runs(n), 1, "confirm({n}) ran once");
    }
    assert_eq!(t(relayed).await.expect("relay").expect("relayed"), 10_000);
    // Notifications: once each, in order, both ways (a last call flushes what is queued).
    ledger.record(u64::MAX).await.expect("last");
    device_stub.confirm(u64::MAX / 10).await.expect("last");
    assert_eq!(*book.notes.lock().unwrap(), (0..N).collect::<Vec<_>>());
    assert_eq!(*device.notes.lock().unwrap(), (0..N).collect::<Vec<_>>());
    let now = c.state().borrow().clone();
    assert!(reconnects(&now) >= 8, "{now:?}");
    assert_eq!(running.server().peers().len(), 1, "still one connection");
    assert_eq!(server_peer.id(), running.server().peers().list()[0].id());
    c.close();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn without_resumption_every_call_resolves_and_idempotent_ones_are_sent_again() {
    let (book, device) = (Arc::new(Book::default()), Arc::new(Book::default()));
    let running = t(server(&book, None).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let proxy = Proxy::start(running.local_addr()).await;
    let c = client(&proxy.ws_url("ws"), &device, None).await;
    let peer = c.peer().clone();
    let ledger = LedgerClient::new(&peer);
    // Two calls held on the server when the link is cut: one idempotent, one not.
    let params = |n: u64| Some(serde_json::value::to_raw_value(&[n]).unwrap());
    let idempotent = tokio::spawn({
        let peer = peer.clone();
        async move {
            let options = CallOptions::default().idempotent(true);
            peer.request_with("hold", params(1), &options).await
        }
    });
    let plain = tokio::spawn({
        let ledger = ledger.clone();
        async move { ledger.hold(2).await }
    });
    t(async {
        while peer.pending_calls() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    proxy.cut();
    let err = t(plain).await.expect("task").unwrap_err();
    assert!(matches!(err, Error::Disconnected), "{err:?}");
    // While the client is down, a call fails at once instead of waiting.
    let mut state = c.state();
    // The idempotent call is sent again on the new connection and completes there.
    state_until(&mut state, |s| reconnects(s) >= 1).await;
    t(async {
        loop {
            ledger.release(1).await.expect("release");
            if book.runs(1) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let answer = t(idempotent).await.expect("task").expect("idempotent call");
    assert_eq!(answer.get(), "1");
    assert!(matches!(
        state.borrow().clone(),
        ConnectionState::Connected { resumed: false, .. }
    ));
    c.close();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_resume_after_the_grace_period_fails_the_old_calls_and_starts_afresh() {
    let (book, device) = (Arc::new(Book::default()), Arc::new(Book::default()));
    let grace = Resumption::default().grace_period(Duration::from_millis(200));
    let running = t(server(&book, Some(grace)).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let mut events = running.server().peers().subscribe();
    let proxy = Proxy::start(running.local_addr()).await;
    let c = client(&proxy.ws_url("ws"), &device, Some(Resumption::default())).await;
    let ledger = LedgerClient::new(c.peer());
    let held = tokio::spawn({
        let ledger = ledger.clone();
        async move { ledger.hold(7).await }
    });
    t(async {
        while c.peer().pending_calls() < 1 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    proxy.refuse(true);
    proxy.cut();
    // The server keeps the session for its grace period, then drops it.
    let first = t(events.recv()).await.expect("connected");
    assert!(matches!(first, volley::PeerEvent::Connected(_)));
    let gone = t(events.recv()).await.expect("disconnected");
    let volley::PeerEvent::Disconnected { reason, .. } = gone else {
        panic!("{gone:?}")
    };
    assert!(reason.reason.contains("session expired"), "{reason:?}");
    proxy.refuse(false);
    let err = t(held).await.expect("task").unwrap_err();
    assert!(matches!(err, Error::SessionExpired), "{err:?}");
    let mut state = c.state();
    let s = state_until(&mut state, |s| reconnects(s) >= 1).await;
    assert!(
        matches!(s, ConnectionState::Connected { resumed: false, .. }),
        "{s:?}"
    );
    assert_eq!(t(ledger.record(3)).await.expect("new session works"), 3);
    c.close();
    t(running.shutdown()).await;
}

/// Binds a server on `addr` (a port another server used before).
async fn listen_on(
    book: &Arc<Book>,
    addr: SocketAddr,
    tokens: Arc<Mutex<Vec<String>>>,
) -> volley::RunningServer {
    let server = Server::builder()
        .add_service(LedgerImpl(book.clone()).into_service())
        .authenticate(move |handshake: volley::Handshake| {
            let tokens = tokens.clone();
            async move {
                let token = handshake.bearer_token().unwrap_or_default().to_owned();
                tokens.lock().unwrap().push(token.clone());
                if token.starts_with("token-") {
                    Ok(token)
                } else {
                    Err(volley::Refusal::unauthorized("a token is needed"))
                }
            }
        })
        .build();
    t(async {
        loop {
            match server.clone().listen(addr).await {
                Ok(running) => break running,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await
}

#[tokio::test]
async fn the_client_reconnects_to_a_restarted_server_with_fresh_credentials_and_runs_its_hook() {
    let book = Arc::new(Book::default());
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let first = listen_on(&book, "127.0.0.1:0".parse().unwrap(), tokens.clone()).await;
    let addr = first.local_addr();
    let issued = Arc::new(AtomicUsize::new(0));
    let (hooked_tx, mut hooked) = mpsc::unbounded_channel();
    let c = t(Client::builder()
        .reconnect(Some(
            quick().wait_for_connection(Some(Duration::from_secs(5))),
        ))
        .bearer_token_with({
            let issued = issued.clone();
            move || format!("token-{}", issued.fetch_add(1, Ordering::SeqCst))
        })
        .on_reconnect(move |peer, info| {
            let hooked = hooked_tx.clone();
            async move {
                // Calls made by the hook go out on the new socket.
                let n = LedgerClient::new(&peer).record(99).await;
                let _ = hooked.send((info.resumed, info.reconnects, n.ok()));
            }
        })
        .connect(&format!("ws://{addr}/ws")))
    .await
    .expect("connect");
    let ledger = LedgerClient::new(c.peer());
    assert_eq!(t(ledger.record(1)).await.unwrap(), 1);
    let mut state = c.state();
    // The server goes away (closing with 1001) and a new one starts on the same port.
    t(first.shutdown()).await;
    let s = state_until(&mut state, |s| {
        matches!(s, ConnectionState::Reconnecting { .. })
    })
    .await;
    let ConnectionState::Reconnecting { attempt, .. } = s else {
        unreachable!()
    };
    assert_eq!(attempt, 1);
    // A call made while down waits (up to its bound) for the new connection.
    let waiting = tokio::spawn({
        let ledger = ledger.clone();
        async move { ledger.record(2).await }
    });
    let second = listen_on(&book, addr, tokens.clone()).await;
    assert_eq!(
        t(waiting)
            .await
            .unwrap()
            .expect("waited for the connection"),
        2
    );
    let (resumed, reconnects, n) = t(hooked.recv()).await.expect("hook ran");
    assert!(!resumed, "a new server has no session to resume");
    assert_eq!((reconnects, n), (1, Some(99)));
    // Every attempt presented a freshly computed token.
    let seen = tokens.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a new token for every attempt: {seen:?}"
    );
    c.close();
    t(second.shutdown()).await;
}

#[tokio::test]
async fn calls_while_disconnected_fail_at_once_and_the_attempts_can_run_out() {
    let book = Arc::new(Book::default());
    let running = t(server(&book, None).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let proxy = Proxy::start(running.local_addr()).await;
    let c = t(Client::builder()
        .reconnect(Some(
            quick()
                .initial_delay(Duration::from_millis(200))
                .max_attempts(Some(3)),
        ))
        .connect(&proxy.ws_url("ws")))
    .await
    .expect("connect");
    let ledger = LedgerClient::new(c.peer());
    let mut state = c.state();
    proxy.refuse(true);
    proxy.cut();
    state_until(&mut state, |s| {
        matches!(s, ConnectionState::Reconnecting { .. })
    })
    .await;
    let started = tokio::time::Instant::now();
    let err = t(ledger.record(1)).await.unwrap_err();
    assert!(matches!(err, Error::NotConnected), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(100), "at once");
    let end = state_until(&mut state, |s| matches!(s, ConnectionState::Closed(_))).await;
    let ConnectionState::Closed(reason) = end else {
        unreachable!()
    };
    assert!(
        reason
            .reason
            .contains("gave up reconnecting after 3 attempts"),
        "{reason:?}"
    );
    assert!(t(ledger.record(1)).await.unwrap_err().is_disconnected());
    t(running.shutdown()).await;
}

#[tokio::test]
async fn the_client_s_keepalive_notices_a_silent_server_and_resumes() {
    let (book, device) = (Arc::new(Book::default()), Arc::new(Book::default()));
    let running = t(server(&book, Some(Resumption::default())).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let proxy = Proxy::start(running.local_addr()).await;
    let c = t(Client::builder()
        .add_service(DeviceImpl(device.clone()).into_service())
        .peer_config(PeerConfig::default().ping_interval(Some(Duration::from_millis(100))))
        .reconnect(Some(quick()))
        .connect(&proxy.ws_url("ws")))
    .await
    .expect("connect");
    let ledger = LedgerClient::new(c.peer());
    let held = tokio::spawn({
        let ledger = ledger.clone();
        async move { ledger.hold(5).await }
    });
    t(async {
        while c.peer().pending_calls() < 1 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let mut state = c.state();
    // The server stops answering anything, pings included, without closing.
    proxy.freeze(true);
    let s = state_until(&mut state, |s| {
        matches!(s, ConnectionState::Reconnecting { .. })
    })
    .await;
    let ConnectionState::Reconnecting { reason, .. } = s else {
        unreachable!()
    };
    assert!(reason.contains("nothing arrived"), "{reason}");
    proxy.freeze(false);
    let s = state_until(&mut state, |s| reconnects(s) >= 1).await;
    assert!(
        matches!(s, ConnectionState::Connected { resumed: true, .. }),
        "{s:?}"
    );
    // The call held across the silence completes once on the resumed session.
    t(ledger.release(5)).await.expect("release");
    assert_eq!(t(held).await.unwrap().expect("held call"), 5);
    assert_eq!(book.runs(5), 1);
    c.close();
    t(running.shutdown()).await;
}

/// A small xorshift generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("VOLLEY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("random cuts: VOLLEY_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Cuts every connection through `proxy` at random moments (every 1 to 40 ms), counting
/// the cuts in `cuts`, until `stop`: during calls, handshakes, hellos and replays alike.
fn cut_at_random(
    proxy: Arc<Proxy>,
    cuts: Arc<AtomicUsize>,
    stop: Arc<Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut rng = Rng::seeded();
        loop {
            let pause = Duration::from_millis(1 + rng.below(40));
            tokio::select! {
                _ = stop.notified() => return,
                _ = tokio::time::sleep(pause) => {
                    proxy.cut();
                    cuts.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    })
}

/// Makes calls of `record`, 20 at a time, while the proxy cuts at random, until it has cut
/// 30 times; returns each outcome.
async fn calls_through_random_cuts(
    ledger: &LedgerClient,
    proxy: &Arc<Proxy>,
) -> Vec<(u64, volley::Result<u64>)> {
    let (cuts, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let cutter = cut_at_random(proxy.clone(), cuts.clone(), stop.clone());
    let mut outcomes = Vec::new();
    let mut wave = 0;
    while cuts.load(Ordering::SeqCst) < 30 {
        let mut set = tokio::task::JoinSet::new();
        for k in 0..20 {
            let n = wave * 20 + k;
            let stub = ledger.clone();
            set.spawn(async move { (n, stub.record(n).await) });
        }
        outcomes.extend(t(set.join_all()).await);
        wave += 1;
        tokio::task::yield_now().await;
    }
    stop.notify_one();
    t(cutter).await.expect("cutter");
    outcomes
}

#[tokio::test]
async fn random_cuts_with_resumption_every_call_runs_exactly_once() {
    let (book, device) = (Arc::new(Book::default()), Arc::new(Book::default()));
    let running = t(server(&book, Some(Resumption::default())).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let proxy = Arc::new(Proxy::start(running.local_addr()).await);
    let c = t(Client::builder()
        .add_service(DeviceImpl(device.clone()).into_service())
        .reconnect(Some(
            Reconnect::default()
                .initial_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        ))
        .connect(&proxy.ws_url("ws")))
    .await
    .expect("connect");
    let ledger = LedgerClient::new(c.peer());
    let outcomes = calls_through_random_cuts(&ledger, &proxy).await;
    assert!(outcomes.len() >= 20);
    for (n, outcome) in outcomes {
        assert_eq!(outcome.expect("every call completes"), n);
        assert_eq!(book.runs(n), 1, "record({n}) ran exactly once");
    }
    assert_eq!(running.server().peers().len(), 1, "one session throughout");
    c.close();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn random_cuts_without_resumption_every_call_resolves() {
    let (book, device) = (Arc::new(Book::default()), Arc::new(Book::default()));
    let running = t(server(&book, None).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let proxy = Arc::new(Proxy::start(running.local_addr()).await);
    let c = t(Client::builder()
        .add_service(DeviceImpl(device.clone()).into_service())
        .reconnect(Some(
            Reconnect::default()
                .initial_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        ))
        .resumption(None)
        .connect(&proxy.ws_url("ws")))
    .await
    .expect("connect");
    let ledger = LedgerClient::new(c.peer());
    let outcomes = calls_through_random_cuts(&ledger, &proxy).await;
    let mut ok = 0;
    for (n, outcome) in outcomes {
        match outcome {
            Ok(v) => {
                assert_eq!(v, n);
                assert!(book.runs(n) >= 1);
                ok += 1;
            }
            Err(e) => assert!(e.is_disconnected(), "a failure names the link: {e:?}"),
        }
    }
    assert!(ok > 0, "some calls got through");
    c.close();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn an_idempotent_call_is_sent_again_up_to_max_resends_then_fails() {
    let (book, device) = (Arc::new(Book::default()), Arc::new(Book::default()));
    let running = t(server(&book, None).listen("127.0.0.1:0"))
        .await
        .expect("listen");
    let proxy = Proxy::start(running.local_addr()).await;
    let c = t(Client::builder()
        .add_service(DeviceImpl(device.clone()).into_service())
        .reconnect(Some(quick().max_resends(2)))
        .resumption(None)
        .connect(&proxy.ws_url("ws")))
    .await
    .expect("connect");
    let peer = c.peer().clone();
    // `hold(9)` never finishes: each socket loss finds it in flight.
    let call = tokio::spawn({
        let peer = peer.clone();
        async move {
            let options = CallOptions::default().idempotent(true);
            let params = serde_json::value::to_raw_value(&[9]).unwrap();
            peer.request_with("hold", Some(params), &options).await
        }
    });
    let mut state = c.state();
    for sent in 1..=3 {
        // The call has reached the server `sent` times (once, then once per re-send).
        t(async {
            while book.held_starts(9) < sent {
                tokio::task::yield_now().await;
            }
        })
        .await;
        proxy.cut();
        if sent < 3 {
            let before = reconnects(&state.borrow());
            state_until(&mut state, |s| reconnects(s) > before).await;
        }
    }
    // Two re-sends allowed: the third loss fails it.
    let err = t(call).await.expect("task").unwrap_err();
    assert!(matches!(err, Error::Disconnected), "{err:?}");
    assert_eq!(book.held_starts(9), 3);
    c.close();
    t(running.shutdown()).await;
}

#[tokio::test]
// tungstenite's handshake callback returns its own (large) error response type.
#[allow(clippy::result_large_err)]
async fn the_client_stops_at_its_replay_bound_until_the_server_acknowledges() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    const LIMIT: usize = 4096;
    let listener = t(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let (go_tx, mut go) = mpsc::unbounded_channel::<()>();
    // A hand-written server that grants a session and acknowledges nothing until told to,
    // then every note; returns how many notes it got.
    let server = tokio::spawn(async move {
        let (tcp, _) = t(listener.accept()).await.unwrap();
        let grant = |_: &Request, mut response: Response| {
            response
                .headers_mut()
                .insert("volley-session", "s1".parse().unwrap());
            Ok(response)
        };
        let mut ws = t(tokio_tungstenite::accept_hdr_async(tcp, grant))
            .await
            .unwrap();
        let hello = volley::resume::Hello {
            id: "s1".into(),
            token: "t".into(),
            resumed: false,
            received: 0,
            grace_ms: 30_000,
        };
        t(ws.send(Message::Text(hello.frame().into())))
            .await
            .unwrap();
        let (mut notes, mut acking) = (0u64, false);
        loop {
            tokio::select! {
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) if text.contains(r#""method":"note""#) => notes += 1,
                    Some(Ok(_)) => continue,
                    _ => return notes,
                },
                Some(()) = go.recv() => acking = true,
            }
            if acking {
                let ack = format!(
                    r#"{{"jsonrpc":"2.0","method":"rpc.ack","params":{{"received":{notes}}}}}"#
                );
                t(ws.send(Message::Text(ack.into()))).await.unwrap();
            }
        }
    });
    let c = t(Client::builder()
        .resumption(Some(Resumption::default().max_replay_bytes(LIMIT)))
        .peer_config(PeerConfig::default().outbound_queue(4))
        .reconnect(None)
        .connect(&url))
    .await
    .expect("connect");
    let peer = c.peer().clone();
    let note = serde_json::value::to_raw_value(&["n".repeat(1000)]).unwrap();
    // Push until the client refuses: its writer stopped at the bound (four 1 KiB frames out,
    // unacknowledged), so its small queue filled. Without the bound the socket would have
    // taken all of them.
    let mut pushed = 0;
    let busy = t(async {
        loop {
            match peer.try_notify_raw("note", Some(note.clone())) {
                Ok(()) => pushed += 1,
                Err(Error::Busy) => break true,
                Err(e) => panic!("{e:?}"),
            }
            if pushed > 100 {
                break false;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        busy,
        "the client wrote {pushed} notes without an acknowledgement"
    );
    assert!(
        pushed <= 4 + 4 + 1,
        "{pushed} notes before the queue filled"
    );
    let held = peer.replay_buffer_bytes();
    assert!(
        (LIMIT..=LIMIT + 1100).contains(&held),
        "{held} bytes held for replay"
    );
    // Acknowledgements free the buffer: everything pushed goes out.
    go_tx.send(()).unwrap();
    t(async {
        while peer.replay_buffer_bytes() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    c.close();
    let notes = t(server).await.expect("server");
    assert_eq!(notes, pushed, "every note pushed arrived");
}
