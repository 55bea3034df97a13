#[volley::rpc]
pub trait Service {
    #[rpc(foo)]
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
