#[volley::rpc]
pub trait Service {
    #[rpc(name = "")]
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
