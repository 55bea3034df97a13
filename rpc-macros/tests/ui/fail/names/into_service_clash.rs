#[volley::rpc]
pub trait Service {
    async fn into_service(&self) -> volley::Result<u8>;
}

fn main() {}
