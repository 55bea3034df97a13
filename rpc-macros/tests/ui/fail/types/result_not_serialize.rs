pub struct Opaque;

#[volley::rpc]
pub trait Service {
    async fn get(&self) -> volley::Result<Opaque>;
}

fn main() {}
