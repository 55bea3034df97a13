#[volley::rpc]
pub trait Service {
    async fn echo(&self, value: String) -> volley::Result<String>
    where
        Self: Sized;
}

fn main() {}
