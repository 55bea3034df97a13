#[volley::rpc]
pub trait Service {
    async fn echo(&self, value: impl Into<String>) -> volley::Result<String>;
}

fn main() {}
