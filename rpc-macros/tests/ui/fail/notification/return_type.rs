#[volley::rpc]
pub trait Service {
    #[rpc(notification)]
    async fn log(&self, msg: String) -> volley::Result<()>;
}

fn main() {}
