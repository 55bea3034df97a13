//! A private trait that is only served (its stub never used) and a crate-visible one that
//! is only called expand without a single warning.
#![deny(warnings)]

/// Served, never called.
#[volley::rpc]
trait ServedOnly {
    /// A request.
    async fn get(&self) -> volley::Result<u8>;
    /// Deprecated, and still served without a warning.
    #[deprecated = "use `get`"]
    #[rpc(notification)]
    async fn old(&self);
}

/// Called, never served.
#[volley::rpc]
pub(crate) trait CalledOnly {
    /// A request.
    async fn get(&self, key: String) -> volley::Result<u8>;
    /// Deprecated: the stub's method is deprecated too.
    #[deprecated = "use `get`"]
    async fn old(&self) -> volley::Result<u8>;
}

struct Impl;

impl ServedOnly for Impl {
    async fn get(&self) -> volley::Result<u8> {
        Ok(1)
    }

    async fn old(&self) {}
}

async fn call(peer: &volley::Peer) -> volley::Result<u8> {
    CalledOnlyClient::new(peer).get("k".to_owned()).await
}

fn main() {
    let _ = ServedOnly::into_service(Impl);
    let _ = call;
}
