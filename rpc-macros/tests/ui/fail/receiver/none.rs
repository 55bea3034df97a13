#[volley::rpc]
pub trait Service {
    async fn now() -> volley::Result<u64>;
}

fn main() {}
