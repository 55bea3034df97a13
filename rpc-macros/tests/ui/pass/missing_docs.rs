//! Everything the macro generates is documented: `#![deny(missing_docs)]` holds.
#![deny(missing_docs)]

/// A documented service.
#[volley::rpc(namespace = "docs")]
pub trait Documented {
    /// A documented request.
    async fn request(&self, value: u8) -> volley::Result<u8>;
    /// A documented notification.
    #[rpc(notification)]
    async fn notification(&self);
}

/// A documented module holding a public trait without methods.
pub mod empty {
    /// Nothing on offer yet.
    #[volley::rpc]
    pub trait Empty {}
}

fn main() {
    struct Nothing;
    impl empty::Empty for Nothing {}
    let service = empty::Empty::into_service(Nothing);
    assert!(service.method_names().is_empty());
}
