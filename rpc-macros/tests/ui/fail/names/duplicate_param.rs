#[volley::rpc]
pub trait Service {
    async fn get(&self, key: String, #[rpc(name = "key")] other: String) -> volley::Result<u8>;
}

fn main() {}
