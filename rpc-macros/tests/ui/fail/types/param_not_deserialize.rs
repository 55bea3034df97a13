pub struct Opaque;

#[volley::rpc]
pub trait Service {
    async fn take(&self, value: Opaque) -> volley::Result<()>;
}

fn main() {}
