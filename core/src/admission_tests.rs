use std::sync::Arc;
use std::time::Duration;

use super::Admission;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn takes_up_to_the_limit_and_no_more() {
    let admission = Arc::new(Admission::new(3));
    let two = admission.try_acquire(2).expect("two of three");
    let one = admission.try_acquire(1).expect("the third");
    assert!(admission.try_acquire(1).is_none(), "one above the limit");
    drop(one);
    let again = admission.try_acquire(1).expect("given back");
    drop((two, again));
    // More than the limit is cut to it: a batch larger than the admission takes it all.
    let all = admission.try_acquire(10).expect("the whole admission");
    assert!(admission.try_acquire(1).is_none());
    drop(all);
    assert!(admission.try_acquire(3).is_some());
    // A limit of 0 is taken as 1.
    let one = Arc::new(Admission::new(0));
    assert!(one.try_acquire(1).is_some());
}

#[tokio::test]
async fn a_waiting_acquire_takes_what_is_given_back() {
    let admission = Arc::new(Admission::new(2));
    let held = admission.try_acquire(2).unwrap();
    let waiter = {
        let admission = admission.clone();
        tokio::spawn(async move { admission.acquire(2).await })
    };
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished(), "nothing is free");
    drop(held);
    let taken = tokio::time::timeout(WAIT, waiter).await.unwrap().unwrap();
    assert!(admission.try_acquire(1).is_none(), "the waiter holds both");
    drop(taken);
}

#[tokio::test]
async fn all_back_waits_until_nothing_is_out() {
    let admission = Arc::new(Admission::new(4));
    // Nothing out: at once.
    tokio::time::timeout(WAIT, admission.all_back())
        .await
        .unwrap();
    let a = admission.try_acquire(1).unwrap();
    let b = admission.try_acquire(2).unwrap();
    let drained = {
        let admission = admission.clone();
        tokio::spawn(async move { admission.all_back().await })
    };
    tokio::task::yield_now().await;
    drop(a);
    tokio::task::yield_now().await;
    assert!(!drained.is_finished(), "two are still out");
    drop(b);
    tokio::time::timeout(WAIT, drained).await.unwrap().unwrap();
}

#[test]
fn no_wake_is_lost_between_threads() {
    // Two threads give admissions back while waiters on two others take them: every wait
    // ends (a lost wake would hang the test until its timeout).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let admission = Arc::new(Admission::new(2));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let admission = admission.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..2_000 {
                    let admitted = admission.acquire(1).await;
                    tokio::task::yield_now().await;
                    drop(admitted);
                }
            }));
        }
        for task in tasks {
            tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
        }
        tokio::time::timeout(WAIT, admission.all_back())
            .await
            .unwrap();
    });
}
