//! What the documents say about streams (PROTOCOL.md, "Streams"): the subscription id, the
//! unsubscribe method, and the wording both documents share.

use serde_json::{Value, json};

/// The schema of a subscription id: what a subscribe request is answered with, what item
/// notifications and the unsubscribe method name.
pub(crate) fn subscription_id() -> Value {
    json!({
        "description": "A subscription id, as the answer to the subscribe request gave it \
            (volley's are small integers; other servers may use strings): treat it as opaque.",
        "type": ["integer", "string"],
    })
}

/// The schema of the unsubscribe method's answer.
pub(crate) fn unsubscribed() -> Value {
    json!({
        "description": "`true` when the stream was running and is now cancelled; `false` when \
            it had ended or never existed.",
        "type": "boolean",
    })
}

/// The id the examples use for a subscription.
pub(crate) const EXAMPLE_ID: u64 = 1;

/// The description of a stream method's result: what follows the answer.
pub(crate) fn subscribe_result(item: &str, unsubscribe: &str) -> String {
    format!(
        "The subscription id. Then each item comes as a `{item}` notification, params \
         `{{\"subscription\": id, \"result\": item}}`, until the stream ends with \
         `{{\"subscription\": id, \"error\": null}}` (or an error object when it failed), or \
         the caller cancels it with `{unsubscribe}`."
    )
}

/// The summary of an unsubscribe method.
pub(crate) fn unsubscribe_summary(subscribe: &str) -> String {
    format!("Cancels a `{subscribe}` stream.")
}

/// The description of an unsubscribe method.
pub(crate) fn unsubscribe_description(item: &str) -> String {
    format!(
        "Takes the subscription id by position (`[id]`). Answers `true` when the stream was \
         running and `false` when it had ended or never existed. Only the connection that \
         subscribed can cancel; `{item}` notifications already on their way may still arrive."
    )
}

/// The summary of a stream's item notification.
pub(crate) fn item_summary(subscribe: &str) -> String {
    format!("An item of a `{subscribe}` stream.")
}

/// The summary of a stream's last notification.
pub(crate) fn end_summary(subscribe: &str) -> String {
    format!(
        "The end of a `{subscribe}` stream: `error` is null when it finished, else why it failed."
    )
}
