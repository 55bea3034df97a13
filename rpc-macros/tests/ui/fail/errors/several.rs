// Independent mistakes are all reported at once.
#[volley::rpc]
pub trait Service {
    fn a(&self) -> volley::Result<u8>;
    async fn b(self) -> volley::Result<u8>;
    #[rpc(notification)]
    async fn c(&self) -> volley::Result<u8>;
}

fn main() {}
