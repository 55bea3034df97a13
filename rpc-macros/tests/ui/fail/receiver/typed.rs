#[volley::rpc]
pub trait Service {
    async fn add(self: std::sync::Arc<Self>, a: i64) -> volley::Result<i64>;
}

fn main() {}
