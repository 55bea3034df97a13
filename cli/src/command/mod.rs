//! The commands, one module each, and the arguments two of them share ([`Message`]).

use serde_json::value::RawValue;

use crate::failure::Failure;
use crate::params::{self, Structure};

pub(crate) mod bridge;
pub(crate) mod call;
pub(crate) mod codegen;
pub(crate) mod discover;
pub(crate) mod listen;
pub(crate) mod notify;
pub(crate) mod repl;

/// What to send: where, which method, which params.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Message {
    /// The server's WebSocket URL (ws:// or wss://)
    pub(crate) url: String,
    /// The method's name
    pub(crate) method: String,
    /// The params: one JSON object or array, or key=value pairs (each value read as JSON, else
    /// taken as a string); none sends no params
    #[arg(value_name = "PARAMS")]
    pub(crate) params: Vec<String>,
    /// Send key=value pairs as an array of their values, in the order given
    #[arg(long)]
    pub(crate) positional: bool,
}

impl Message {
    /// The params as JSON text, `None` for none.
    pub(crate) fn params(&self) -> Result<Option<Box<RawValue>>, Failure> {
        let structure = if self.positional {
            Structure::ByPosition
        } else {
            Structure::ByName
        };
        params::params(&self.params, structure)
    }
}

/// How key=value values are read, for the commands' examples.
pub(crate) const VALUES: &str = "\
Values are read as JSON when they are JSON (1, true, null, [1,2], {\"x\":1}) and taken as
strings otherwise (hello, 'two words'); quote a string that reads as JSON: n='\"1\"'.";
