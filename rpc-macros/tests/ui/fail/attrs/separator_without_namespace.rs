#[volley::rpc(namespace_separator = "/")]
pub trait Service {
    async fn get(&self) -> volley::Result<u8>;
}

fn main() {}
