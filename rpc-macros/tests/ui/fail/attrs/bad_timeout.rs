#[volley::rpc]
pub trait Service {
    #[rpc(timeout = "5 seconds")]
    async fn slow(&self) -> volley::Result<()>;

    #[rpc(timeout = "0s")]
    async fn never(&self) -> volley::Result<()>;
}

fn main() {}
