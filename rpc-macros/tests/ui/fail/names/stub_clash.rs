#[volley::rpc]
pub trait Service {
    async fn peer(&self) -> volley::Result<u8>;
}

fn main() {}
