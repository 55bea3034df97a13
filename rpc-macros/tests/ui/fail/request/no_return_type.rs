#[volley::rpc]
pub trait Service {
    async fn log(&self, msg: String);
}

fn main() {}
