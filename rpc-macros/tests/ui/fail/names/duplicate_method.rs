#[volley::rpc]
pub trait Service {
    async fn get(&self) -> volley::Result<u8>;
    #[rpc(name = "get")]
    async fn get_again(&self) -> volley::Result<u8>;
}

fn main() {}
