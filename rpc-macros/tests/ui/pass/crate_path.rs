//! `crate = "..."` lets a crate that re-exports volley expand the macro without users
//! depending on volley themselves.

mod framework {
    pub use ::volley as rpc_runtime;
    pub use ::volley::rpc;
}

/// A service generated against a re-exported runtime.
#[framework::rpc(crate = "crate::framework::rpc_runtime", namespace = "re")]
pub trait Reexported {
    /// A request.
    async fn get(&self) -> framework::rpc_runtime::Result<u8>;
}

/// Options can also be given in a separate `#[rpc(...)]` on the trait.
#[framework::rpc]
#[rpc(crate = "crate::framework::rpc_runtime")]
#[rpc(namespace = "other", namespace_separator = "/")]
pub trait Separate {
    /// A request.
    async fn get(&self) -> framework::rpc_runtime::Result<u8>;
}

struct Impl;

impl Reexported for Impl {
    async fn get(&self) -> framework::rpc_runtime::Result<u8> {
        Ok(1)
    }
}

impl Separate for Impl {
    async fn get(&self) -> framework::rpc_runtime::Result<u8> {
        Ok(2)
    }
}

fn main() {
    let mut service = Reexported::into_service(Impl);
    service.merge(Separate::into_service(Impl)).unwrap();
    assert_eq!(service.method_names(), ["other/get", "re.get"]);
}
