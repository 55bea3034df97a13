//! `volley::testing`: two peers in one process, each serving its traits and calling the
//! other's, on the same engine and limits as over a socket. `readme` is the README's
//! "Testing your services" example, with its await under a timeout.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::t;
use volley::{Context, Error, PeerConfig, testing};

/// What the browser offers.
#[volley::rpc]
pub trait Browser {
    /// Asks the user a yes/no question.
    async fn confirm(&self, question: String) -> volley::Result<bool>;
    /// A tick from the server.
    #[rpc(notification)]
    async fn tick(&self, n: u64);
}

/// What the server offers.
#[volley::rpc]
pub trait Desk {
    /// Asks the calling browser, then answers.
    async fn ask(&self, cx: &Context, question: String) -> volley::Result<String>;
    /// Who the caller is, from its claims.
    async fn whoami(&self, cx: &Context) -> volley::Result<String>;
    /// Echoes its text.
    async fn echo(&self, text: String) -> volley::Result<String>;
}

struct Server;

impl Desk for Server {
    async fn ask(&self, cx: &Context, question: String) -> volley::Result<String> {
        let yes = BrowserClient::new(cx.peer()).confirm(question).await?;
        Ok(if yes { "confirmed" } else { "declined" }.to_owned())
    }

    async fn whoami(&self, cx: &Context) -> volley::Result<String> {
        Ok(cx
            .claims::<String>()
            .cloned()
            .unwrap_or_else(|| "nobody".into()))
    }

    async fn echo(&self, text: String) -> volley::Result<String> {
        Ok(text)
    }
}

#[derive(Default)]
struct User {
    ticks: AtomicU64,
}

impl Browser for Arc<User> {
    async fn confirm(&self, question: String) -> volley::Result<bool> {
        Ok(question.ends_with('?'))
    }

    async fn tick(&self, n: u64) {
        self.ticks.fetch_add(n, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_handler_calls_the_client_back_in_the_middle_of_a_call() {
    let pair = testing::pair()
        .add_server_service(Server.into_service())
        .add_client_service(Arc::new(User::default()).into_service())
        .connect();
    let desk = DeskClient::new(pair.client());
    assert_eq!(t(desk.ask("ready?".into())).await.unwrap(), "confirmed");
    assert_eq!(t(desk.ask("ready".into())).await.unwrap(), "declined");
}

#[tokio::test]
async fn the_server_end_calls_and_notifies_the_client() {
    let user = Arc::new(User::default());
    let pair = testing::pair()
        .add_server_service(Server.into_service())
        .add_client_service(user.clone().into_service())
        .connect();
    let browser = BrowserClient::new(pair.server());
    assert!(t(browser.confirm("sure?".into())).await.unwrap());
    browser.tick(2).await.unwrap();
    browser.tick(3).await.unwrap();
    // A call behind the notifications answers after they ran (one connection, in order).
    assert!(t(browser.confirm("done?".into())).await.unwrap());
    assert_eq!(user.ticks.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn claims_and_the_registry_read_as_on_a_server() {
    let user = Arc::new(User::default());
    let pair = testing::pair()
        .add_server_service(Server.into_service())
        .add_client_service(user.clone().into_service())
        .server_claims("alice".to_owned())
        .user("alice")
        .connect();
    let desk = DeskClient::new(pair.client());
    assert_eq!(t(desk.whoami()).await.unwrap(), "alice");
    assert_eq!(pair.peers().len(), 1);
    assert_eq!(
        pair.peers().user_of(pair.server().id()).as_deref(),
        Some("alice")
    );
    BrowserFanout::new(pair.peers().user("alice"))
        .tick(7)
        .unwrap();
    // The fan-out's tick is queued before this call: it has run when the call answers.
    assert!(
        t(BrowserClient::new(pair.server()).confirm("?".into()))
            .await
            .unwrap()
    );
    assert_eq!(user.ticks.load(Ordering::SeqCst), 7);

    // A second pair on the same registry: two peers, one user each.
    let other = testing::pair()
        .add_client_service(Arc::new(User::default()).into_service())
        .registry(pair.peers().clone())
        .user("bob")
        .connect();
    assert_eq!(pair.peers().len(), 2);
    other.close();
    t(other.server().closed()).await;
    assert_eq!(pair.peers().len(), 1);
}

#[tokio::test]
async fn a_frame_over_the_size_limit_closes_with_1009_and_the_call_fails() {
    let limit = 4 * 1024;
    let pair = testing::pair()
        .add_server_service(Server.into_service())
        .max_message_size(limit)
        .connect();
    let desk = DeskClient::new(pair.client());
    // Well under the limit (the frame is the text plus about 60 bytes of envelope).
    let text = "x".repeat(limit - 100);
    assert_eq!(t(desk.echo(text.clone())).await.unwrap(), text);
    let err = t(desk.echo("x".repeat(limit + 1))).await.unwrap_err();
    assert!(matches!(err, Error::Disconnected), "{err:?}");
    let reason = t(pair.client().closed()).await;
    assert_eq!(reason.code, 1009, "{reason:?}");
}

#[tokio::test]
async fn the_engine_limits_apply() {
    // The client never answers `confirm` until told to.
    struct Slow(tokio::sync::Notify);
    impl Browser for Arc<Slow> {
        async fn confirm(&self, _question: String) -> volley::Result<bool> {
            self.0.notified().await;
            Ok(true)
        }
        async fn tick(&self, _n: u64) {}
    }
    let slow = Arc::new(Slow(tokio::sync::Notify::new()));
    let pair = testing::pair()
        .add_server_service(Server.into_service())
        .add_client_service(slow.clone().into_service())
        .server_config(PeerConfig::default().request_timeout(Duration::from_millis(200)))
        .client_config(PeerConfig::default().max_pending_calls(1))
        .connect();
    let desk = DeskClient::new(pair.client());
    let asking = tokio::spawn({
        let desk = desk.clone();
        async move { desk.ask("wait?".into()).await }
    });
    // While `ask` waits, the client's one pending call is taken: another fails at once.
    t(async {
        while pair.client().pending_calls() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let err = t(desk.echo("hi".into())).await.unwrap_err();
    assert!(matches!(err, Error::TooManyPendingCalls(1)), "{err:?}");
    // The server's call back times out after its request timeout, and `ask` reports it.
    match t(asking).await.unwrap().unwrap_err() {
        Error::Remote(e) => {
            assert_eq!(e.code(), volley::codes::UPSTREAM_FAILED, "{e:?}");
            assert!(format!("{e:?}").contains("timed out"), "{e:?}");
        }
        other => panic!("expected the callback's timeout, got {other:?}"),
    }
    assert_eq!(t(desk.echo("hi".into())).await.unwrap(), "hi");
    pair.close();
    t(pair.server().closed()).await;
    let err = t(desk.echo("late".into())).await.unwrap_err();
    assert!(
        matches!(err, Error::Disconnected | Error::NotConnected),
        "{err:?}"
    );
}

/// The README's example.
mod readme {
    use super::t;

    #[volley::rpc]
    pub trait Browser {
        async fn confirm(&self, question: String) -> volley::Result<bool>;
    }

    #[volley::rpc]
    pub trait Desk {
        async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<String>;
    }

    struct Server;
    impl Desk for Server {
        async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<String> {
            let yes = BrowserClient::new(cx.peer()).confirm(question).await?;
            Ok(if yes { "confirmed" } else { "declined" }.to_owned())
        }
    }

    struct User;
    impl Browser for User {
        async fn confirm(&self, question: String) -> volley::Result<bool> {
            Ok(question.ends_with('?'))
        }
    }

    #[tokio::test]
    async fn ask_asks_the_browser() {
        let pair = volley::testing::pair()
            .add_server_service(Server.into_service())
            .add_client_service(User.into_service())
            .connect();
        let desk = DeskClient::new(pair.client());
        assert_eq!(t(desk.ask("ready?".into())).await.unwrap(), "confirmed");
    }
}
