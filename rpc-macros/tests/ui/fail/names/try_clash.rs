#[volley::rpc]
pub trait Service {
    #[rpc(notification)]
    async fn tick(&self, n: u64);
    async fn try_tick(&self) -> volley::Result<u8>;
}

fn main() {}
