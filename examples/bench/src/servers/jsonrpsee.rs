//! jsonrpsee 0.26's own `Server` over WebSocket, serving a trivial `add`.
//!
//! jsonrpsee runs no handler for a notification (it answers none and calls nothing), so a
//! notification is counted in an RPC middleware, which jsonrpsee calls for every
//! notification it reads; `notified` answers the count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jsonrpsee::RpcModule;
use jsonrpsee::server::middleware::rpc::{
    Batch, Notification, Request, RpcServiceBuilder, RpcServiceT,
};
use jsonrpsee::server::{Server, ServerConfig};
use jsonrpsee::types::ErrorObjectOwned;

use crate::BoxError;

/// Notifications read since the process started.
static NOTIFIED: AtomicU64 = AtomicU64::new(0);

/// The RPC middleware that counts notifications and passes everything on.
#[derive(Clone)]
struct CountNotifications<S>(S);

impl<S: RpcServiceT + Send + Sync> RpcServiceT for CountNotifications<S> {
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        self.0.call(request)
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        self.0.batch(batch)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        NOTIFIED.fetch_add(1, Ordering::Relaxed);
        self.0.notification(n)
    }
}

/// Serves until stdin closes.
pub(crate) async fn serve() -> Result<(), BoxError> {
    let mut module = RpcModule::new(());
    module.register_method("add", |params, _, _| {
        let (a, b): (i64, i64) = params.parse()?;
        Ok::<i64, ErrorObjectOwned>(a + b)
    })?;
    module.register_method("notified", |_, _, _| NOTIFIED.load(Ordering::Relaxed))?;
    // Its default of 100 connections would refuse the memory and scaling scenarios.
    let config = ServerConfig::builder()
        .ws_only()
        .max_connections(1_000_000)
        .build();
    let server = Server::builder()
        .set_config(config)
        .set_rpc_middleware(RpcServiceBuilder::new().layer_fn(CountNotifications))
        .build_from_tcp(super::listener()?.into_std()?)?;
    println!("ws://{}", server.local_addr()?);
    let handle = server.start(module);
    super::parent_gone().await;
    let _ = handle.stop();
    let _ = tokio::time::timeout(Duration::from_secs(10), handle.stopped()).await;
    Ok(())
}
