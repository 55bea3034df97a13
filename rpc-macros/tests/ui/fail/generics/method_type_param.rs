#[volley::rpc]
pub trait Service {
    async fn echo<T>(&self, value: T) -> volley::Result<T>;
}

fn main() {}
