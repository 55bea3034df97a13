#[volley::rpc]
pub trait Service {
    #[rpc(requires)]
    async fn wipe(&self) -> volley::Result<()>;
}

fn main() {}
