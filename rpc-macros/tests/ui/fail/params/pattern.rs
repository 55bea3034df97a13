#[volley::rpc]
pub trait Service {
    async fn add(&self, (a, b): (i64, i64)) -> volley::Result<i64>;
}

fn main() {}
