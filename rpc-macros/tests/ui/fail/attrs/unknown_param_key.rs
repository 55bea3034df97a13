#[volley::rpc]
pub trait Service {
    async fn get(&self, #[rpc(rename = "k")] key: String) -> volley::Result<u8>;
}

fn main() {}
