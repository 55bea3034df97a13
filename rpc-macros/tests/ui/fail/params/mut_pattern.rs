#[volley::rpc]
pub trait Service {
    async fn add(&self, mut a: i64) -> volley::Result<i64>;
}

fn main() {}
