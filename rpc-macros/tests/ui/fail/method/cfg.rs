#[volley::rpc]
pub trait Service {
    #[cfg(test)]
    async fn get(&self) -> volley::Result<i64>;
}

fn main() {}
