#[volley::rpc]
pub trait Service {
    /// Cancels with `unsubscribe_a`, which is taken.
    #[rpc(stream)]
    async fn subscribe_a(&self) -> volley::Result<volley::ItemStream<u8>>;
    async fn unsubscribe_a(&self) -> volley::Result<bool>;
    #[rpc(stream, item = "rpc.item", unsubscribe = "rpc.stop")]
    async fn subscribe_b(&self) -> volley::Result<volley::ItemStream<u8>>;
}

fn main() {}
