// Every variant needs its code and its message; codes are unique and outside -32768..=-32000.
#[derive(Debug, volley::RpcError)]
pub enum BidError {
    #[message("closed")]
    Closed,
    #[code(-32001)]
    #[message("reserved")]
    Reserved,
    #[code(7)]
    #[message("a")]
    A,
    #[code(7)]
    #[message("b")]
    B,
}

fn main() {}
