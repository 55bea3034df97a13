#[volley::rpc]
pub trait Store<T> {
    async fn get(&self, key: String) -> volley::Result<T>;
}

fn main() {}
