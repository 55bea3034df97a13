#[volley::rpc]
pub trait Service {
    async fn ask(&self, cx: &mut volley::Context, question: String) -> volley::Result<bool>;
}

fn main() {}
