// A message template may only name the variant's fields.
#[derive(Debug, volley::RpcError)]
pub enum BidError {
    #[code(4001)]
    #[message("bid too low: at least {minimum}")]
    TooLow { min: u64 },
}

fn main() {}
