#[volley::rpc]
pub struct Service {
    value: u8,
}

fn main() {}
