#[volley::rpc]
pub trait Service {
    async fn add(self, a: i64, b: i64) -> volley::Result<i64>;
}

fn main() {}
