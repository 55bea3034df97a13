//! The volley traits of the benchmark: what its volley server serves, what a client serves
//! back, the broadcast's notification, and what the `cluster` scenario's nodes serve. The
//! load generator speaks them as raw JSON text; the `own-clients`, `broadcast` and `cluster`
//! scenarios call them through the generated stubs.

use volley::schemars;

/// The benchmark server's methods.
#[volley::rpc]
pub trait Bench {
    /// Adds two numbers.
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
    /// Calls the caller's `confirm` and returns its answer.
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
    /// Counted, nothing else (the `notify` scenario).
    #[rpc(notification)]
    async fn note(&self, seq: u64);
    /// How many `note` notifications this server has handled since it started.
    async fn notified(&self) -> volley::Result<u64>;
    /// Calls the caller's `add` for `millis` milliseconds, `window` calls in flight, checking
    /// every result, and says how many calls that made (the `callbacks` scenario).
    async fn drive(&self, cx: &volley::Context, window: u32, millis: u64)
    -> volley::Result<Driven>;
    /// Sends the caller `tick` notifications for `millis` milliseconds, as fast as its
    /// outgoing queue takes them, and says how many (the `notify` scenario).
    async fn blast(&self, cx: &volley::Context, millis: u64) -> volley::Result<u64>;
    /// Makes the caller one of the listeners that `broadcast` sends to.
    async fn listen(&self, cx: &volley::Context) -> volley::Result<bool>;
    /// Sends `tick(seq)` to every listener and says what that did and how long it took.
    async fn broadcast(&self, cx: &volley::Context, seq: u64) -> volley::Result<Broadcast>;
    /// The server's open-files limit (each connection takes one).
    async fn open_files(&self) -> volley::Result<u64>;
}

/// What a benchmark client serves: the server calls these in the `callbacks` scenario.
#[volley::rpc]
pub trait Answer {
    /// Always yes.
    async fn confirm(&self, question: String) -> volley::Result<bool>;
    /// Adds two numbers.
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
}

/// What the broadcast's listeners (and the caller of `blast`) are sent.
#[volley::rpc]
pub trait Listener {
    /// One notification, numbered.
    #[rpc(notification)]
    async fn tick(&self, seq: u64);
}

/// What the `cluster` scenario's nodes serve: volley servers joined through one Redis.
#[volley::rpc]
pub trait Node {
    /// The caller's peer id (it names the caller's node).
    async fn whoami(&self, cx: &volley::Context) -> volley::Result<u64>;
    /// Calls `add(a, b)` on the peer `to`, on this node or another, and returns its answer.
    async fn relay(&self, cx: &volley::Context, to: u64, a: i64, b: i64) -> volley::Result<i64>;
    /// How many other nodes this one hears from.
    async fn nodes(&self) -> volley::Result<usize>;
    /// Puts the caller in `group`.
    async fn join(&self, cx: &volley::Context, group: String) -> volley::Result<bool>;
    /// Sends `tick(seq)` to every member of `group`, on every node, and says what that did
    /// on this node.
    async fn broadcast(
        &self,
        cx: &volley::Context,
        group: String,
        seq: u64,
    ) -> volley::Result<Broadcast>;
    /// Sequential PINGs from this node to its Redis for `millis` milliseconds, each on the
    /// same connection after the previous answer: their round trips.
    async fn ping_redis(&self, millis: u64) -> volley::Result<RoundTrips>;
}

/// Sequential round trips: how many, and their p50 and p99.
#[derive(
    Clone, Copy, Debug, volley::serde::Serialize, volley::serde::Deserialize, volley::JsonSchema,
)]
#[serde(crate = "volley::serde")]
pub(crate) struct RoundTrips {
    /// How many were made.
    pub(crate) count: usize,
    /// The median, in nanoseconds.
    pub(crate) p50: u64,
    /// The 99th percentile, in nanoseconds.
    pub(crate) p99: u64,
}

impl RoundTrips {
    /// Of `samples`, in nanoseconds (not empty).
    pub(crate) fn of(mut samples: Vec<u64>) -> Self {
        samples.sort_unstable();
        let n = samples.len();
        Self {
            count: n,
            p50: samples[n / 2],
            p99: samples[(n * 99 / 100).min(n - 1)],
        }
    }
}

/// What one `drive` did on the server.
#[derive(Debug, volley::serde::Serialize, volley::serde::Deserialize, volley::JsonSchema)]
#[serde(crate = "volley::serde")]
pub(crate) struct Driven {
    /// Calls made and answered correctly.
    pub(crate) calls: u64,
    /// Nanoseconds from the first call to the last answer.
    pub(crate) nanos: u64,
}

/// What one `broadcast` did on the server.
#[derive(Debug, volley::serde::Serialize, volley::serde::Deserialize, volley::JsonSchema)]
#[serde(crate = "volley::serde")]
pub(crate) struct Broadcast {
    /// Listeners the tick was queued for.
    pub(crate) queued: usize,
    /// Listeners whose outgoing queue was full.
    pub(crate) overflowed: usize,
    /// Listeners that had gone.
    pub(crate) gone: usize,
    /// Nanoseconds the server took to encode the tick and queue it for every listener.
    pub(crate) nanos: u64,
}
