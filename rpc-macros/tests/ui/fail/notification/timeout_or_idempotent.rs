#[volley::rpc]
pub trait Service {
    #[rpc(notification, timeout = "5s")]
    async fn log(&self, msg: String);

    #[rpc(notification, idempotent)]
    async fn tick(&self, n: u64);
}

fn main() {}
