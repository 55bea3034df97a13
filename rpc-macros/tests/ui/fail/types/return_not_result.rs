#[volley::rpc]
pub trait Service {
    async fn get(&self) -> u8;
}

fn main() {}
