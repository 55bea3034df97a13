#[volley::rpc]
pub trait Service {
    #[rpc(requires = "admin", requires = "owner")]
    async fn wipe(&self) -> volley::Result<()>;
}

fn main() {}
