use std::time::Duration;

use super::*;

async fn t<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out")
}

#[test]
fn the_bound_holds_at_its_edge_and_values_come_out_in_order() {
    let (tx, mut rx) = channel::<u32>(3);
    assert!(tx.try_send(1).is_ok());
    assert!(tx.try_send(2).is_ok());
    // At the bound: the third fits, the fourth does not and is given back.
    assert!(tx.try_send(3).is_ok());
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(tx.try_send(4).is_ok());
    assert_eq!(
        [rx.try_recv(), rx.try_recv(), rx.try_recv(), rx.try_recv()],
        [Ok(2), Ok(3), Ok(4), Err(TryRecvError::Empty)]
    );
}

#[tokio::test]
async fn a_send_waits_for_room_and_a_receive_waits_for_a_value() {
    let (tx, mut rx) = channel::<u32>(1);
    tx.try_send(1).unwrap();
    let waiting = tokio::spawn({
        let tx = tx.clone();
        async move { tx.send(2).await.is_ok() }
    });
    assert_eq!(t(rx.recv()).await, Some(1));
    assert!(t(waiting).await.unwrap());
    assert_eq!(t(rx.recv()).await, Some(2));
    let receiving = tokio::spawn(async move { (rx.recv().await, rx) });
    tokio::task::yield_now().await;
    tx.try_send(3).unwrap();
    let (got, _rx) = t(receiving).await.unwrap();
    assert_eq!(got, Some(3));
}

#[tokio::test]
async fn a_reservation_dropped_unused_gives_its_room_back() {
    let (tx, mut rx) = channel::<u32>(1);
    let permit = t(tx.reserve()).await.unwrap();
    assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
    drop(permit);
    t(tx.reserve()).await.unwrap().send(2);
    assert_eq!(rx.try_recv(), Ok(2));
}

#[tokio::test]
async fn without_a_receiver_sends_fail_and_waiting_ones_wake() {
    let (tx, rx) = channel::<u32>(1);
    tx.try_send(1).unwrap();
    let waiting = tokio::spawn({
        let tx = tx.clone();
        async move { tx.send(2).await.is_err() }
    });
    tokio::task::yield_now().await;
    drop(rx);
    assert!(t(waiting).await.unwrap(), "the waiting send failed");
    assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
    assert!(t(tx.reserve()).await.is_err());
}

#[tokio::test]
async fn without_senders_the_receiver_drains_then_ends() {
    let (tx, mut rx) = channel::<u32>(4);
    let other = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    other.try_send(2).unwrap();
    drop(other);
    assert_eq!(t(rx.recv()).await, Some(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(t(rx.recv()).await, None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn an_emptied_queue_holds_no_slots() {
    let (tx, mut rx) = channel::<u32>(1000);
    let capacity = |rx: &Receiver<u32>| rx.chan.lock().items.capacity();
    assert_eq!(capacity(&rx), 0, "a new queue holds no slots");
    for round in 0..2 {
        for i in 0..500 {
            tx.try_send(i).unwrap();
        }
        while rx.try_recv().is_ok() {}
        assert_eq!(capacity(&rx), 0, "round {round}: released after a burst");
    }
    tx.try_send(1).unwrap();
    assert!(capacity(&rx) > 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(capacity(&rx), KEEP, "emptied, it keeps none");
}

#[tokio::test]
async fn room_goes_to_the_senders_in_the_order_they_waited() {
    let (tx, mut rx) = channel::<u32>(1);
    tx.try_send(0).unwrap();
    // Two senders wait, in turn; a later try_send does not jump the line.
    let (order_tx, mut order) = tokio::sync::mpsc::unbounded_channel();
    let mut waiting = Vec::new();
    for n in [1, 2] {
        let (sender, order_tx) = (tx.clone(), order_tx.clone());
        waiting.push(tokio::spawn(async move {
            sender.send(n).await.unwrap();
            order_tx.send(n).unwrap();
        }));
        // Each is in line before the next starts.
        let n = usize::try_from(n).unwrap();
        t(async {
            while tx.chan.lock().waiting.len() < n {
                tokio::task::yield_now().await;
            }
        })
        .await;
    }
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(
        matches!(tx.try_send(9), Err(TrySendError::Full(9))),
        "room freed while others wait is theirs"
    );
    assert_eq!(t(rx.recv()).await, Some(1));
    assert_eq!(t(rx.recv()).await, Some(2));
    for w in waiting {
        t(w).await.unwrap();
    }
    assert_eq!([order.try_recv(), order.try_recv()], [Ok(1), Ok(2)]);
    // With nobody waiting, try_send takes free room again.
    assert!(tx.try_send(3).is_ok());
}

#[tokio::test]
async fn a_sender_that_stops_waiting_passes_its_turn_on() {
    let (tx, mut rx) = channel::<u32>(1);
    tx.try_send(0).unwrap();
    let mut first = Box::pin(tx.reserve());
    // In line first (polled once), then dropped after the room frees: the next in line
    // gets the room instead of nobody.
    assert!(futures_util::poll!(first.as_mut()).is_pending());
    let second = tokio::spawn({
        let tx = tx.clone();
        async move { tx.send(2).await.is_ok() }
    });
    t(async {
        while tx.chan.lock().waiting.len() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(rx.try_recv(), Ok(0));
    drop(first);
    assert!(t(second).await.unwrap());
    assert_eq!(t(rx.recv()).await, Some(2));
    assert!(tx.chan.lock().waiting.is_empty());
}

#[tokio::test]
async fn room_beyond_what_waiting_senders_are_owed_is_anyone_s() {
    let (tx, mut rx) = channel::<u32>(4);
    for i in 0..4 {
        tx.try_send(i).unwrap();
    }
    // One sender waits; then four slots free before it runs.
    let mut waiting = Box::pin(tx.send(10));
    assert!(futures_util::poll!(waiting.as_mut()).is_pending());
    for i in 0..4 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    // One slot is owed to the waiting sender; the other three are free for anyone, at once.
    for i in 20..23 {
        assert!(tx.try_send(i).is_ok(), "{i}");
    }
    assert!(matches!(tx.try_send(23), Err(TrySendError::Full(23))));
    // The waiting sender takes the slot it is owed.
    assert!(matches!(
        futures_util::poll!(waiting.as_mut()),
        Poll::Ready(Ok(()))
    ));
    let got: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(got, [20, 21, 22, 10]);
}
