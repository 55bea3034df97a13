#[volley::rpc(namespace = "rpc")]
pub trait Service {
    async fn discover(&self) -> volley::Result<u8>;
}

fn main() {}
