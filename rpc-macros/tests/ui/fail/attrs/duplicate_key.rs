#[volley::rpc]
pub trait Service {
    #[rpc(name = "a", name = "b")]
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
