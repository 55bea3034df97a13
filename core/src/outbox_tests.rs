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
