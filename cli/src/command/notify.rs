//! `volley notify`: one notification, written before the connection closes.

use crate::command::{Message, VALUES};
use crate::connect::{self, ConnectArgs};
use crate::failure::Failure;

const EXAMPLES: &str = "\
Examples:
  volley notify ws://127.0.0.1:8080/ws add a=1 b=2       (example-callbacks runs `add`, answers nothing)
  volley notify ws://127.0.0.1:8080/ws join name=ada     (example-chat: the room sees ada join)
  volley notify ws://127.0.0.1:8080/ws log '[\"started\", 3]'

Exits once the notification is written and the connection is closed cleanly.";

/// Sends a notification.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = format!("{EXAMPLES}\n\n{VALUES}"))]
pub(crate) struct NotifyArgs {
    #[command(flatten)]
    message: Message,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Connects, sends the notification, and closes: closing writes what was queued, then the
/// close frame, and the command waits for the close to complete.
pub(crate) async fn run(args: NotifyArgs) -> Result<(), Failure> {
    let params = args.message.params()?;
    let Message { url, method, .. } = &args.message;
    let client = connect::connect(url, &args.connect, None).await?;
    let timeout = args.connect.timeout;
    let mut sent = client.peer().notify_raw(method, params).await;
    if !connect::close(&client, timeout).await && sent.is_ok() {
        sent = Err(volley_core::Error::Timeout(timeout));
    }
    sent.map_err(|source| Failure::NotSent {
        method: method.clone(),
        source,
    })
}
