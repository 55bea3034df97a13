#[volley::rpc]
pub trait Service {
    type Item;
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
