//! `volley call`: one request, its result on stdout, its error on stderr.

use crate::answer::{self, Answer};
use crate::command::{Message, VALUES};
use crate::connect::{self, ConnectArgs};
use crate::failure::Failure;
use crate::output;

const EXAMPLES: &str = "\
Examples (against `cargo run -p example-callbacks`):
  volley call ws://127.0.0.1:8080/ws add a=1 b=2                 sends {\"a\":1,\"b\":2}, prints 3
  volley call ws://127.0.0.1:8080/ws add '{\"a\": 1, \"b\": 2}'      the same, as JSON
  volley call ws://127.0.0.1:8080/ws add a=1 b=2 --positional    sends [1,2]
  volley call ws://127.0.0.1:8080/ws ask question=hi --answer confirm=true
                           the server calls `confirm` back during `ask`; prints true
  volley call wss://api.example.com/ws whoami --token SECRET --ca ca.pem";

/// Calls a method and prints its result.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = format!("{EXAMPLES}\n\n{VALUES}"))]
pub(crate) struct CallArgs {
    #[command(flatten)]
    message: Message,
    /// Answer the server's calls of METHOD during this call with JSON (a value that is not
    /// JSON is taken as a string; repeatable). Calls of other methods get -32601.
    #[arg(long = "answer", value_name = "METHOD=JSON", value_parser = answer::parse)]
    answers: Vec<Answer>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Connects, calls, prints the result (or fails with the server's error), and closes.
pub(crate) async fn run(args: CallArgs) -> Result<(), Failure> {
    let params = args.message.params()?;
    let service = answer::service(&args.answers)?;
    let Message { url, method, .. } = &args.message;
    let timeout = args.connect.timeout;
    let client = connect::connect(url, &args.connect, service).await?;
    let outcome = client
        .peer()
        .request_raw(method, params, Some(timeout))
        .await;
    if let Ok(result) = &outcome {
        output::json(result.get());
    }
    // The answer is in: a close that takes too long changes nothing.
    let _ = connect::close(&client, timeout).await;
    match outcome {
        Ok(_) => Ok(()),
        Err(volley_core::Error::Remote(error)) => Err(Failure::Remote(error)),
        Err(source) => Err(Failure::NoAnswer {
            method: method.clone(),
            source,
        }),
    }
}
