#[volley::rpc]
#[rpc(foo)]
pub trait Service {
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
