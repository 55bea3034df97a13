//! [`KeepUntilEnd`]: a value in a connection's extensions lives exactly as long as the
//! connection, and is gone by the time `Peer::closed` resolves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use volley_core::connection::{self, KeepUntilEnd};
use volley_core::transport::{BoxError, Frame, Inbound, Transport};
use volley_core::{CloseReason, PeerConfig, Service};

/// A socket that takes every write.
struct Open;

impl Transport for Open {
    async fn feed(&mut self, _text: Frame) -> Result<(), BoxError> {
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
    async fn close(&mut self, _reason: CloseReason) {}
}

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn t<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out")
}

#[tokio::test]
async fn kept_until_the_connection_ends_and_dropped_before_closed_resolves() {
    for close_from_here in [true, false] {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut extensions = http::Extensions::new();
        let keep = KeepUntilEnd::new(Counted(drops.clone()));
        extensions.insert(keep.clone());
        let (frames, mut incoming) = mpsc::unbounded_channel::<Inbound>();
        let incoming = futures_util::stream::poll_fn(move |cx| {
            incoming.poll_recv(cx).map(|f| f.map(Ok::<_, BoxError>))
        });
        let peer = connection::spawn(
            incoming,
            Open,
            Service::new(),
            PeerConfig::default().ping_interval(None),
            extensions.clone(),
        );
        // Taken as the connection started, and held while it runs.
        frames
            .send(Inbound::Data(r#"{"jsonrpc":"2.0","method":"n"}"#.into()))
            .unwrap();
        assert!(peer.is_connected());
        assert_eq!(drops.load(Ordering::SeqCst), 0, "dropped while connected");
        // A second connection with the same extensions finds it taken: it keeps nothing.
        let other = connection::spawn(
            futures_util::stream::pending::<Result<Inbound, BoxError>>(),
            Open,
            Service::new(),
            PeerConfig::default().ping_interval(None),
            extensions,
        );
        other.close();
        t(other.closed()).await;
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "the other connection dropped it"
        );
        if close_from_here {
            peer.close();
        } else {
            drop(frames); // the socket ends
        }
        t(peer.closed()).await;
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "dropped once, before closed resolved"
        );
        drop(keep);
    }
}
