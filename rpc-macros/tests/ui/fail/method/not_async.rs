#[volley::rpc]
pub trait Service {
    fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
}

// The trait is still emitted, so this impl adds no second error.
struct Impl;
impl Service for Impl {
    fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }
}

fn main() {}
