#[derive(Debug)]
pub struct MyError;

#[volley::rpc]
pub trait Service {
    async fn get(&self) -> Result<u8, MyError>;
}

fn main() {}
