#[volley::rpc]
pub trait Service {
    #[rpc(stream)]
    async fn subscribe_numbers(&self) -> volley::Result<Vec<u8>>;
}

fn main() {}
