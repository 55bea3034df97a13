//! One node of the `cluster` scenario: volley's server with the builder's defaults serving
//! the `Node` trait, joined to the other nodes through Redis (`volley_redis` with its
//! default options) before it listens.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use volley::PeerId;
use volley_redis::{Options, RedisBackplane};

use super::redis::pings;
use super::volley::nanos;
use crate::BoxError;
use crate::api::{AnswerClient, Broadcast, ListenerClient, ListenerFanout, Node, RoundTrips};

struct NodeServer {
    /// This node's membership of the cluster, set once it has joined.
    backplane: Arc<OnceLock<RedisBackplane>>,
    /// Where Redis listens: `127.0.0.1:PORT`.
    redis: String,
}

impl Node for NodeServer {
    async fn whoami(&self, cx: &volley::Context) -> volley::Result<u64> {
        Ok(cx.peer_id().0)
    }
    async fn relay(&self, cx: &volley::Context, to: u64, a: i64, b: i64) -> volley::Result<i64> {
        let params = serde_json::value::RawValue::from_string(format!("[{a},{b}]"))
            .map_err(volley::Error::InvalidParams)?;
        let sum = cx
            .peers()
            .request(PeerId(to), "add", Some(params), None)
            .await?;
        serde_json::from_str(sum.get()).map_err(volley::Error::InvalidResult)
    }
    async fn nodes(&self) -> volley::Result<usize> {
        Ok(self.backplane.get().map_or(0, |b| b.nodes().len()))
    }
    async fn join(&self, cx: &volley::Context, group: String) -> volley::Result<bool> {
        Ok(cx.join(&group))
    }
    async fn broadcast(
        &self,
        cx: &volley::Context,
        group: String,
        seq: u64,
    ) -> volley::Result<Broadcast> {
        let start = Instant::now();
        let delivery = ListenerFanout::new(cx.peers().group(&group)).tick(seq)?;
        Ok(Broadcast {
            queued: delivery.queued,
            overflowed: delivery.overflowed.len(),
            gone: delivery.gone.len(),
            nanos: nanos(start.elapsed()),
        })
    }
    async fn ping_redis(&self, millis: u64) -> volley::Result<RoundTrips> {
        let samples = pings(&self.redis, Duration::from_millis(millis))
            .await
            .map_err(|e| {
                volley::Error::Remote(volley::ErrorObject::owned(
                    -32000,
                    "PING failed",
                    Some(e.to_string()),
                ))
            })?;
        Ok(RoundTrips::of(samples))
    }
}

/// Joins the cluster at the Redis at `redis` (`127.0.0.1:PORT`), then serves until stdin
/// closes.
pub(crate) async fn serve(redis: &str) -> Result<(), BoxError> {
    let backplane = Arc::new(OnceLock::new());
    let node = NodeServer {
        backplane: backplane.clone(),
        redis: redis.to_owned(),
    };
    let server = volley::Server::builder()
        .add_service(node.into_service())
        .add_remote_service::<AnswerClient>()
        .add_remote_service::<ListenerClient>()
        .build();
    let url = format!("redis://{redis}/");
    let joined = RedisBackplane::join(server.peers(), &url, Options::default()).await?;
    let _ = backplane.set(joined);
    let running = server.listen("127.0.0.1:0").await?;
    println!("{}", running.ws_url());
    super::parent_gone().await;
    running.shutdown().await;
    Ok(())
}
