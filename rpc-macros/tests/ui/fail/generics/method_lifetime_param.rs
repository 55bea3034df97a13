#[volley::rpc]
pub trait Service {
    async fn echo<'a>(&'a self, value: String) -> volley::Result<String>;
}

fn main() {}
