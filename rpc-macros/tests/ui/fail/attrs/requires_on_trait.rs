#[volley::rpc(requires = "admin")]
pub trait Service {
    async fn wipe(&self) -> volley::Result<()>;
}

fn main() {}
