#[volley::rpc]
pub trait Store<'a> {
    async fn get(&self, key: String) -> volley::Result<String>;
}

fn main() {}
