#[volley::rpc(crate = "not a path")]
pub trait Service {
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
