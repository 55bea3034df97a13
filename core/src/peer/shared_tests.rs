//! Tests of the pending-call table and its deadlines.
use super::*;
use crate::error::error_object;

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
    let (a, mut rx_a) = shared.register(None, None, None).unwrap();
    let (b, mut rx_b) = shared.register(None, None, None).unwrap();
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
        matches!(rx_b.try_recv(), Ok(Err(Error::Remote(e))) if e.code() == codes::BATCH_TOO_LARGE)
    );
    assert!(rx_a.try_recv().is_err(), "the other batch still waits");
    // Now only one batch waits: any error for no id is its answer.
    assert!(shared.fail_batch(&vague));
    assert!(
        matches!(rx_a.try_recv(), Ok(Err(Error::Remote(e))) if e.code() == codes::INVALID_REQUEST)
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
    let (_long, mut rx_long) = shared.register(None, None, deadline(30_000)).unwrap();
    let (short, rx_short) = shared.register(None, None, deadline(100)).unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), rx_short)
        .await
        .expect("the short call resolves")
        .expect("with an answer");
    assert!(
        matches!(answer, Err(Error::Timeout(d)) if d == Duration::from_millis(100)),
        "{answer:?}"
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(100) && waited < Duration::from_millis(110),
        "timed out after {waited:?}"
    );
    assert!(rx_long.try_recv().is_err(), "the long call still waits");
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
    let (_, mut before) = shared.register(None, None, deadline(99)).unwrap();
    let (_, mut at) = shared.register(None, None, deadline(100)).unwrap();
    let (_, mut after) = shared.register(None, None, deadline(101)).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Let the sweeper run once the clock reads 100 ms.
    tokio::task::yield_now().await;
    assert!(matches!(before.try_recv(), Ok(Err(Error::Timeout(_)))));
    assert!(matches!(at.try_recv(), Ok(Err(Error::Timeout(_)))));
    assert!(after.try_recv().is_err(), "101 ms has not passed");
    let late = tokio::time::timeout(Duration::from_secs(5), after)
        .await
        .expect("resolves");
    assert!(matches!(late, Ok(Err(Error::Timeout(_)))));
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
    peer.shared.shutdown(CloseReason {
        code: 1000,
        reason: String::new(),
    });
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
