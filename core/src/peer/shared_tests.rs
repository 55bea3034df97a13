//! Tests of the pending-call table and its deadlines.
use super::*;
use crate::error::error_object;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Closes the connection normally.
fn close(shared: &Shared) {
    shared.shutdown(CloseReason {
        code: 1000,
        reason: String::new(),
    });
}

/// Call `id`'s answer if it has come (taking it from the table).
fn try_answer(shared: &Shared, id: u64) -> Option<Answer> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut shared.answer(id, false)).poll(&mut cx) {
        Poll::Ready(answer) => Some(answer),
        Poll::Pending => None,
    }
}

fn shared() -> Arc<Shared> {
    let (tx, _rx) = crate::outbox::channel(8);
    Arc::new(Shared::new(
        PeerId(1),
        tx,
        Arc::new(PeerConfig::default()),
        http::Extensions::new(),
        Between::default(),
    ))
}

#[test]
fn a_refused_batch_is_told_by_its_size_or_by_being_the_only_one() {
    let shared = shared();
    let a = shared.register(None, None, None, None).unwrap();
    let b = shared.register(None, None, None, None).unwrap();
    shared.track_batch(2, vec![a]);
    shared.track_batch(5, vec![b]);
    // Without a size, two batches cannot be told apart: nothing is failed.
    let vague = error_object(codes::INVALID_REQUEST, None);
    assert!(!shared.fail_batch(&vague));
    // "batch of 5" names the second.
    let sized = error_object(
        codes::BATCH_TOO_LARGE,
        "batch of 5 exceeds the limit of 3".to_owned(),
    );
    assert!(shared.fail_batch(&sized));
    assert!(
        matches!(try_answer(&shared, b), Some(Err(Error::Remote(e))) if e.code() == codes::BATCH_TOO_LARGE)
    );
    assert!(
        try_answer(&shared, a).is_none(),
        "the other batch still waits"
    );
    // Now only one batch waits: any error for no id is its answer.
    assert!(shared.fail_batch(&vague));
    assert!(
        matches!(try_answer(&shared, a), Some(Err(Error::Remote(e))) if e.code() == codes::INVALID_REQUEST)
    );
    assert!(!shared.fail_batch(&vague), "no batch left");
    assert_eq!(shared.pending_len(), 0);
}

/// A peer whose queue holds `room` frames; the receiver is kept, and never read.
fn peer(room: usize) -> (crate::peer::Peer, crate::outbox::Receiver<Queued>) {
    let (tx, rx) = crate::outbox::channel(room);
    let peer = crate::peer::Peer::new(
        tx,
        Arc::new(PeerConfig::default()),
        http::Extensions::new(),
        Between::default(),
    );
    (peer, rx)
}

fn deadline(millis: u64) -> Option<Deadline> {
    Some(Deadline::after(Duration::from_millis(millis)))
}

#[tokio::test(start_paused = true)]
async fn a_shorter_deadline_wakes_the_sweeper_earlier_and_the_peer_is_told() {
    let (peer, mut out) = peer(8);
    let shared = &peer.shared;
    let start = Instant::now();
    let long = shared.register(None, None, deadline(30_000), None).unwrap();
    let short = shared.register(None, None, deadline(100), None).unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), shared.answer(short, false))
        .await
        .expect("the short call resolves");
    assert!(
        matches!(answer, Err(Error::Timeout(d)) if d == Duration::from_millis(100)),
        "{answer:?}"
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(100) && waited < Duration::from_millis(110),
        "timed out after {waited:?}"
    );
    assert!(
        try_answer(shared, long).is_none(),
        "the long call still waits"
    );
    assert_eq!(shared.pending_len(), 1);
    let cancel = out.try_recv().expect("an rpc.cancel was queued");
    assert_eq!(
        cancel.text.as_str(),
        format!(r#"{{"jsonrpc":"2.0","method":"rpc.cancel","params":{{"id":{short}}}}}"#)
    );
}

#[tokio::test(start_paused = true)]
async fn deadlines_one_below_at_and_one_above_the_clock() {
    let (peer, _out) = peer(8);
    let shared = &peer.shared;
    let before = shared.register(None, None, deadline(99), None).unwrap();
    let at = shared.register(None, None, deadline(100), None).unwrap();
    let after = shared.register(None, None, deadline(101), None).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Let the sweeper run once the clock reads 100 ms.
    tokio::task::yield_now().await;
    assert!(matches!(
        try_answer(shared, before),
        Some(Err(Error::Timeout(_)))
    ));
    assert!(matches!(
        try_answer(shared, at),
        Some(Err(Error::Timeout(_)))
    ));
    assert!(try_answer(shared, after).is_none(), "101 ms has not passed");
    let late = tokio::time::timeout(Duration::from_secs(5), shared.answer(after, false))
        .await
        .expect("resolves");
    assert!(matches!(late, Err(Error::Timeout(_))));
}

/// Counts its wakes.
struct Counter(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter(std::sync::atomic::AtomicUsize::new(0)));
    (Arc::clone(&c), Waker::from(c))
}

fn returned(text: &'static str) -> Answer {
    let frame = bytes::Bytes::from_static(text.as_bytes());
    Ok(crate::peer::Returned::within(&frame, text))
}

#[test]
fn an_answer_is_kept_until_its_caller_takes_it_and_wakes_the_last_waker() {
    let shared = shared();
    let (first, first_waker) = counter();
    let id = shared
        .register(None, None, None, Some(first_waker))
        .unwrap();
    assert_eq!(shared.pending_len(), 1);
    // Polled from elsewhere: the new waker replaces the registered one.
    let (second, second_waker) = counter();
    let mut cx = Context::from_waker(&second_waker);
    assert!(
        Pin::new(&mut shared.answer(id, false))
            .poll(&mut cx)
            .is_pending()
    );
    assert!(shared.resolve(id, returned("7")));
    assert_eq!(first.0.load(Ordering::SeqCst), 0);
    assert_eq!(second.0.load(Ordering::SeqCst), 1);
    // Answered: no longer waiting, and a second answer for the id is not taken.
    assert_eq!(shared.pending_len(), 0);
    assert!(!shared.resolve(id, returned("8")));
    // A close now leaves the answer as it came.
    close(&shared);
    match try_answer(&shared, id) {
        Some(Ok(r)) => assert_eq!(r.as_str(), "7"),
        other => panic!("{other:?}"),
    }
    // Taken: gone from the table.
    assert!(matches!(
        try_answer(&shared, id),
        Some(Err(Error::Disconnected))
    ));
    assert!(lock(&shared.pending).calls.is_empty());
}

#[test]
fn a_close_answers_waiting_calls_and_a_forgotten_answer_leaves_the_table() {
    let shared = shared();
    let (woken, waker) = counter();
    let waiting = shared.register(None, None, None, Some(waker)).unwrap();
    let answered = shared.register(None, None, None, None).unwrap();
    assert!(shared.resolve(answered, returned("1")));
    shared.shutdown(CloseReason {
        code: 1001,
        reason: String::new(),
    });
    assert_eq!(woken.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        try_answer(&shared, waiting),
        Some(Err(Error::Disconnected))
    ));
    // The caller of `answered` went away without taking it: not waiting, so no rpc.cancel.
    assert!(!shared.forget(answered));
    assert!(lock(&shared.pending).calls.is_empty());
    assert!(matches!(
        shared.register(None, None, None, None),
        Err(Error::Disconnected)
    ));
}

#[test]
fn the_pending_limit_counts_calls_still_waiting_one_below_at_and_above() {
    let (tx, _rx) = crate::outbox::channel(8);
    let config = PeerConfig {
        max_pending_calls: 2,
        ..PeerConfig::default()
    };
    let shared = Arc::new(Shared::new(
        PeerId(1),
        tx,
        Arc::new(config),
        http::Extensions::new(),
        Between::default(),
    ));
    let a = shared.register(None, None, None, None).unwrap();
    let _b = shared.register(None, None, None, None).unwrap();
    assert!(matches!(
        shared.register(None, None, None, None),
        Err(Error::TooManyPendingCalls(2))
    ));
    // `a` answered but not yet taken: no longer counted.
    assert!(shared.resolve(a, returned("1")));
    assert_eq!(shared.pending_len(), 1);
    let c = shared.register(None, None, None, None).unwrap();
    assert!(matches!(
        shared.register(None, None, None, None),
        Err(Error::TooManyPendingCalls(2))
    ));
    assert!(shared.forget(c));
    assert!(shared.register(None, None, None, None).is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_call_waiting_for_room_times_out_and_closing_fails_the_rest() {
    // One frame of room: the first call fills the queue, the second waits for room.
    let (peer, _out) = peer(1);
    let options = crate::peer::CallOptions::default().timeout(Duration::from_millis(50));
    let first = tokio::spawn({
        let peer = peer.clone();
        async move {
            peer.request_with("a", None, &crate::peer::CallOptions::default())
                .await
        }
    });
    tokio::time::timeout(Duration::from_secs(5), async {
        while peer.shared.pending_len() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the first call registers");
    let second = tokio::time::timeout(
        Duration::from_secs(5),
        peer.request_with("b", None, &options),
    )
    .await
    .expect("the call resolves while the queue stays full");
    assert!(matches!(second, Err(Error::Timeout(_))), "{second:?}");
    close(&peer.shared);
    let first = tokio::time::timeout(Duration::from_secs(5), first)
        .await
        .expect("the first call resolves on close")
        .expect("no panic");
    assert!(matches!(first, Err(Error::Disconnected)), "{first:?}");
}

/// A hook that sends the close code it was given.
fn code_hook(tx: &std::sync::mpsc::Sender<u16>) -> OnClose {
    let tx = tx.clone();
    Box::new(move |reason: CloseReason| {
        let _ = tx.send(reason.code);
    })
}

#[tokio::test]
async fn a_close_hook_runs_once_in_a_task_of_its_own_whenever_it_was_set() {
    let (tx, rx) = std::sync::mpsc::channel();
    let close = |code| CloseReason {
        code,
        reason: String::new(),
    };
    // Set before the close: it runs after the close, not within it.
    let shared = shared();
    shared.on_close(code_hook(&tx));
    shared.shutdown(close(4001));
    assert!(rx.try_recv().is_err(), "not run inside the close");
    let wait = || rx.recv_timeout(Duration::from_secs(10));
    tokio::task::yield_now().await;
    assert_eq!(wait(), Ok(4001));
    shared.shutdown(close(4002));
    tokio::task::yield_now().await;
    assert!(rx.try_recv().is_err(), "once");
    // Set after the close: it runs at once, with the reason the connection closed with.
    shared.on_close(code_hook(&tx));
    tokio::task::yield_now().await;
    assert_eq!(wait(), Ok(4001));
}

#[test]
fn outside_a_runtime_a_close_hook_runs_in_place() {
    let (tx, rx) = std::sync::mpsc::channel();
    let shared = shared();
    shared.on_close(code_hook(&tx));
    shared.shutdown(CloseReason {
        code: 4003,
        reason: String::new(),
    });
    assert_eq!(rx.try_recv(), Ok(4003));
}

#[tokio::test(start_paused = true)]
async fn a_batch_whose_send_fails_leaves_nothing_in_the_table() {
    // One frame of room, taken: the batch waits for room until the connection closes.
    let (peer, _out) = peer(1);
    peer.shared
        .try_queue(Frame::from("{}"), Kind::Notification)
        .unwrap();
    let batch = tokio::spawn({
        let peer = peer.clone();
        async move { peer.batch().call("a", &[1])?.call("b", &[2])?.send().await }
    });
    tokio::time::timeout(Duration::from_secs(5), async {
        while peer.shared.pending_len() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the batch registers its calls");
    close(&peer.shared);
    let sent = tokio::time::timeout(Duration::from_secs(5), batch)
        .await
        .expect("the batch ends")
        .expect("its task");
    assert!(matches!(sent, Err(Error::Disconnected)), "{sent:?}");
    assert!(lock(&peer.shared.pending).calls.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_call_that_yields_before_it_waits_for_room_still_sees_its_deadline() {
    // The queue stays full: only the deadline sweeper can answer. With this task's budget
    // spent, waiting for room yields before the answer is first polled, and the deadline
    // (already past) answers the call meanwhile.
    let (peer, _out) = peer(1);
    peer.shared
        .try_queue(Frame::from("{}"), Kind::Notification)
        .unwrap();
    let options = crate::peer::CallOptions::default().timeout(Duration::ZERO);
    let mut call = std::pin::pin!(peer.request_with("a", None, &options));
    let first = std::future::poll_fn(|cx| {
        while std::pin::pin!(tokio::task::consume_budget())
            .poll(cx)
            .is_ready()
        {}
        Poll::Ready(call.as_mut().poll(cx).is_pending())
    })
    .await;
    assert!(first, "the call waits for room");
    // The sweeper answers the call before it is polled again; that next poll must see the
    // answer (nothing else would wake the task while the queue stays full).
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(peer.shared.pending_len(), 0, "answered by its deadline");
    let answer = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
    assert!(
        matches!(answer, Poll::Ready(Err(Error::Timeout(_)))),
        "{answer:?}"
    );
    assert!(lock(&peer.shared.pending).calls.is_empty());
}
