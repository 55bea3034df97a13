//! The generated code names everything by absolute path, so a module without the prelude
//! compiles.
#![no_implicit_prelude]

/// A service declared where nothing is in scope by default.
#[::volley::rpc(namespace = "bare")]
pub trait Bare {
    /// A request.
    async fn get(
        &self,
        cx: &::volley::Context,
        key: ::std::string::String,
        fallback: ::std::option::Option<::std::vec::Vec<u8>>,
    ) -> ::volley::Result<::std::string::String>;
    /// A request without params.
    async fn ping(&self) -> ::core::result::Result<(), ::volley::ErrorObject>;
    /// A notification.
    #[rpc(notification)]
    async fn tell(&self, value: i32);
}

struct Impl;

impl Bare for Impl {
    async fn get(
        &self,
        _cx: &::volley::Context,
        key: ::std::string::String,
        _fallback: ::std::option::Option<::std::vec::Vec<u8>>,
    ) -> ::volley::Result<::std::string::String> {
        ::core::result::Result::Ok(key)
    }

    async fn ping(&self) -> ::core::result::Result<(), ::volley::ErrorObject> {
        ::core::result::Result::Ok(())
    }

    async fn tell(&self, _value: i32) {}
}

fn main() {
    let service = Bare::into_service(Impl);
    ::std::assert_eq!(
        service.method_names(),
        ["bare.get", "bare.ping", "bare.tell"]
    );
}
