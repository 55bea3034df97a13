#[volley::rpc]
pub trait Service {
    async fn ask(&self, question: String, cx: &volley::Context) -> volley::Result<bool>;
}

fn main() {}
