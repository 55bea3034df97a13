//! Entry points for the fuzz targets in `fuzz/` (and the corpus replay in the test suite):
//! frame classification alone, and the whole engine run on frames from a peer. Not part of
//! the API; no stability promised.

use std::cell::RefCell;
use std::time::Duration;

use futures_util::stream;
use jsonrpsee::RpcModule;
use jsonrpsee_types::ErrorObjectOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::config::PeerConfig;
use crate::connection;
use crate::message::{self, Parsed};
use crate::peer::CloseReason;
use crate::service::Service;
use crate::transport::{BoxError, Inbound, Transport};

/// Classifies `bytes` as a frame and each message in it; never panics.
pub fn classify(bytes: &[u8]) {
    match message::parse_frame(bytes, 16) {
        Ok(Parsed::Single(raw)) => {
            let _ = message::classify(raw);
        }
        Ok(Parsed::Batch(items)) => {
            for raw in items {
                let _ = message::classify(raw.get());
            }
        }
        Ok(Parsed::TooLarge(_)) | Err(_) => {}
    }
}

/// An in-memory socket: what the engine writes goes to a channel.
struct Memory(mpsc::UnboundedSender<String>);

impl Transport for Memory {
    async fn feed(&mut self, text: crate::frame::Frame) -> Result<(), BoxError> {
        self.0
            .send(text.into())
            .map_err(|_| "the reader is gone".into())
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        Ok(())
    }

    async fn close(&mut self, _reason: CloseReason) {}
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// The probe sent after the frames: its answer means everything before it was handled.
const PROBE: &str = r#"{"jsonrpc":"2.0","id":"fuzz-probe","method":"rpc.ping"}"#;

/// Runs a connection serving `echo` and `add`, with two calls of its own waiting for answers
/// (ids 0 and 1), feeds it `frames` as its peer would, then `rpc.ping`, then closes it.
/// Returns every frame it wrote before the ping's answer.
///
/// # Panics
/// When the engine breaks a rule: it writes something that is not JSON, the ping gets no
/// answer, or a call of its own is left unresolved after the close.
pub fn run(frames: &[&[u8]]) -> Vec<String> {
    RUNTIME.with(|cell| {
        let mut runtime = cell.borrow_mut();
        let runtime = runtime.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime")
        });
        runtime.block_on(run_async(frames))
    })
}

fn service() -> Service {
    let mut module = RpcModule::new(());
    module
        .register_method("echo", |params, _, _| params.parse::<Value>())
        .expect("a new name");
    module
        .register_method("add", |params, _, _| {
            let (a, b) = params.parse::<(i64, i64)>()?;
            Ok::<_, ErrorObjectOwned>(a.wrapping_add(b))
        })
        .expect("a new name");
    Service::from_module(module, None)
}

async fn run_async(frames: &[&[u8]]) -> Vec<String> {
    let (in_tx, mut in_rx) = mpsc::unbounded_channel::<Inbound>();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    let incoming = stream::poll_fn(move |cx| in_rx.poll_recv(cx).map(|f| f.map(Ok::<_, BoxError>)));
    let config = PeerConfig::default().max_batch_len(16).ping_interval(None);
    let peer = connection::spawn(
        Box::pin(incoming),
        Memory(out_tx),
        service(),
        config,
        http::Extensions::new(),
    );
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let peer = peer.clone();
            tokio::spawn(async move { peer.request_raw("peer.method", None, None).await })
        })
        .collect();
    for frame in frames {
        let _ = in_tx.send(Inbound::Data(bytes::Bytes::copy_from_slice(frame)));
    }
    let _ = in_tx.send(Inbound::Data(bytes::Bytes::from_static(PROBE.as_bytes())));
    let mut written = Vec::new();
    let answered = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = out_rx.recv().await {
            // JSON by the grammar: ids are echoed byte for byte, so a number may be beyond
            // what an f64 holds (`1e400`), which `serde_json::Value` refuses and JSON allows.
            serde_json::from_str::<&serde_json::value::RawValue>(&frame).unwrap_or_else(|e| {
                panic!("the engine wrote something that is not JSON ({e}): {frame}")
            });
            assert!(frame.starts_with('{') || frame.starts_with('['), "{frame}");
            let probe = serde_json::from_str::<serde_json::Value>(&frame)
                .is_ok_and(|v| v.get("id") == Some(&serde_json::json!("fuzz-probe")));
            written.push(frame);
            if probe {
                return;
            }
        }
        panic!("the connection ended before the probe was answered");
    })
    .await;
    assert!(
        answered.is_ok(),
        "no answer to the probe after {} frames",
        frames.len()
    );
    let _ = in_tx.send(Inbound::Close(None));
    for call in calls {
        let outcome = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("a call of the engine's own resolves after the close")
            .expect("the call task");
        if let Err(e) = outcome {
            assert!(
                e.is_disconnected()
                    || e.remote().is_some()
                    || matches!(e, crate::Error::InvalidResult(_)),
                "{e:?}"
            );
        }
    }
    written
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_what_it_is_sent_and_resolves_its_own_calls() {
        let written = super::run(&[
            br#"{"jsonrpc":"2.0","id":1,"method":"add","params":[2,3]}"#,
            br#"{"jsonrpc":"2.0","id":0,"result":"yes"}"#,
            b"not json",
            br#"[{"jsonrpc":"2.0","id":2,"method":"echo","params":{"a":1}},5]"#,
        ]);
        let text = written.join("\n");
        assert!(text.contains(r#""id":1,"result":5"#), "{text}");
        assert!(text.contains("-32700"), "{text}");
        assert!(text.contains(r#""result":{"a":1}"#), "{text}");
        assert!(text.contains("fuzz-probe"), "{text}");
    }
}
