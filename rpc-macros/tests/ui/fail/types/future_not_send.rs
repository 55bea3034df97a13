use std::rc::Rc;

#[volley::rpc]
pub trait Service {
    async fn get(&self) -> volley::Result<u8>;
}

struct Impl;

impl Service for Impl {
    async fn get(&self) -> volley::Result<u8> {
        let local = Rc::new(1);
        std::future::ready(()).await;
        Ok(*local)
    }
}

fn main() {}
