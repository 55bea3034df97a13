//! Streams (PROTOCOL.md, "Streams"): a method that answers with a stream of items instead of
//! one result, on the subscription convention jsonrpsee uses, so jsonrpsee's own client
//! consumes a volley stream unchanged and a jsonrpsee `RpcModule` with `#[subscription]`
//! methods merged into a volley service keeps working.
//!
//! - The producer's method returns an [`ItemStream`]: any `Stream` of items, or the
//!   receiving end of [`ItemStream::channel`]. It runs at most a few items ahead of what the
//!   connection can send (backpressure), and is dropped when the consumer cancels or the
//!   connection ends.
//! - The consumer gets a [`Subscription`], a `Stream` of `Result<T>` that ends when the
//!   producer ends it and cancels the stream (the unsubscribe method) when dropped.
//!
//! ```ignore
//! #[volley::rpc]
//! pub trait Dashboard {
//!     /// Samples of the server's load, one every `interval_ms`.
//!     #[rpc(stream)]
//!     async fn subscribe_load(&self, interval_ms: u64) -> volley::Result<volley::ItemStream<Sample>>;
//! }
//! // consumer:
//! let mut samples = DashboardClient::new(&peer).subscribe_load(500).await?;
//! while let Some(sample) = samples.next().await { println!("{:?}", sample?); }
//! ```

mod consume;
mod produce;

pub use consume::Subscription;
pub(crate) use consume::UNSUBSCRIBE_TIMEOUT;
pub use produce::{ItemSender, ItemStream, SendError};

pub(crate) use produce::serve;

/// The default item notification of a stream served as `method`: the name without its
/// `subscribe_` prefix (`subscribe_load`: `load`; `subscribeLoad`: `load`), else
/// `<method>_item`.
pub fn default_item(method: &str) -> String {
    if let Some(rest) = method.strip_prefix("subscribe_").filter(|r| !r.is_empty()) {
        return rest.to_owned();
    }
    if let Some(rest) = method.strip_prefix("subscribe")
        && let Some(first) = rest.chars().next()
        && first.is_uppercase()
    {
        return first.to_lowercase().chain(rest.chars().skip(1)).collect();
    }
    format!("{method}_item")
}

/// The default unsubscribe method of a stream served as `method`: `un` + its name.
pub fn default_unsubscribe(method: &str) -> String {
    format!("un{method}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_the_subscribe_prefix() {
        assert_eq!(default_item("subscribe_load"), "load");
        assert_eq!(default_item("subscribeLoad"), "load");
        assert_eq!(default_item("subscribers"), "subscribers_item");
        assert_eq!(default_item("subscribe"), "subscribe_item");
        assert_eq!(default_item("ticks"), "ticks_item");
        assert_eq!(default_unsubscribe("subscribe_load"), "unsubscribe_load");
    }
}
