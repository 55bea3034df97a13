#[volley::rpc]
pub trait Service {
    #[rpc(stream, notification)]
    async fn both(&self);
    #[rpc(item = "x", unsubscribe = "y")]
    async fn not_a_stream(&self) -> volley::Result<u8>;
    #[rpc(stream, idempotent)]
    async fn subscribe_twice(&self) -> volley::Result<volley::ItemStream<u8>>;
    #[rpc(stream)]
    async fn subscribe_nothing(&self);
}

fn main() {}
