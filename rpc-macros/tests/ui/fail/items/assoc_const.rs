#[volley::rpc]
pub trait Service {
    const LIMIT: usize;
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
