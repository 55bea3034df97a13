#[volley::rpc(namespace = "x", prefix = "y")]
pub trait Service {
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
