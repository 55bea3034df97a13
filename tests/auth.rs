//! Authentication at the handshake, typed claims on both ends, per-connection state, and the
//! Rust client's connect options, over real sockets.
//!
//! - A token in the `Authorization` header (the Rust client), in the query string or in a
//!   cookie (what a browser can send) becomes typed claims that handlers and the registry
//!   read; a missing token gets 401, an unknown one 403, both with the server's reason, and
//!   the client's error shows the status and the reason.
//! - The hook guards the WebSocket only: the documents, `/docs` and `/volley.js` stay open.
//! - Handlers keep typed state per connection, separate between connections and dropped when
//!   the connection closes.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::t;
use tokio::sync::broadcast;
use volley::{Client, ConnectError, Context, Handshake, PeerEvent, Refusal, Server};
use volley_testing::http;

/// Who a connection belongs to.
#[derive(Debug, Clone, PartialEq)]
struct User(String);

/// What a client says about itself, to its own handlers.
#[derive(Debug, Clone, PartialEq)]
struct Device(&'static str);

/// The rooms one connection joined; counts its drops.
#[derive(Default)]
struct Rooms {
    names: Vec<String>,
    dropped: Option<Arc<AtomicUsize>>,
}

impl Drop for Rooms {
    fn drop(&mut self) {
        if let Some(counter) = &self.dropped {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// What the test server serves.
#[volley::rpc]
pub trait Account {
    /// The caller's user, from the claims.
    async fn me(&self, cx: &Context) -> volley::Result<String>;
    /// Joins a room; returns every room this connection joined.
    async fn join(&self, cx: &Context, room: String) -> volley::Result<Vec<String>>;
    /// Asks the caller which device it is.
    async fn device(&self, cx: &Context) -> volley::Result<String>;
}

/// What the test client serves.
#[volley::rpc]
pub trait Gadget {
    /// The device's name, from the client's own claims.
    async fn name(&self, cx: &Context) -> volley::Result<String>;
}

struct Accounts {
    dropped: Arc<AtomicUsize>,
}

impl Account for Accounts {
    async fn me(&self, cx: &Context) -> volley::Result<String> {
        Ok(cx.claims::<User>().map(|u| u.0.clone()).unwrap_or_default())
    }

    async fn join(&self, cx: &Context, room: String) -> volley::Result<Vec<String>> {
        let dropped = self.dropped.clone();
        Ok(cx.with_state(|rooms: &mut Rooms| {
            rooms.dropped.get_or_insert(dropped);
            rooms.names.push(room);
            rooms.names.clone()
        }))
    }

    async fn device(&self, cx: &Context) -> volley::Result<String> {
        GadgetClient::new(cx.peer()).name().await
    }
}

struct Phone;

impl Gadget for Phone {
    async fn name(&self, cx: &Context) -> volley::Result<String> {
        Ok(cx.claims::<Device>().map_or("unknown", |d| d.0).to_owned())
    }
}

/// The token of a handshake: the bearer header, else `?token=`, else the `session` cookie.
fn token(handshake: &Handshake) -> Option<String> {
    handshake
        .bearer_token()
        .map(str::to_owned)
        .or_else(|| handshake.query("token"))
        .or_else(|| handshake.cookie("session"))
}

fn server(dropped: Arc<AtomicUsize>) -> Server {
    Server::builder()
        .add_service(Accounts { dropped }.into_service())
        .add_remote_service::<GadgetClient>()
        .authenticate(|handshake: Handshake| async move {
            let token =
                token(&handshake).ok_or_else(|| Refusal::unauthorized("a token is needed"))?;
            match token.as_str() {
                "alice-secret" => Ok(User("alice".into())),
                "bob secret" => Ok(User("bob".into())),
                _ => Err(Refusal::forbidden("unknown token")),
            }
        })
        .subprotocols(["volley.v1"])
        .build()
}

#[tokio::test]
async fn a_token_in_a_header_the_query_or_a_cookie_becomes_typed_claims() {
    let server = server(Arc::default());
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();

    let by_header = t(Client::builder().bearer_token("alice-secret").connect(&url))
        .await
        .expect("a bearer token");
    let by_query = t(Client::connect(&format!("{url}?token=bob%20secret")))
        .await
        .expect("a token in the query");
    let by_cookie = t(Client::builder()
        .header("Cookie", "theme=dark; session=alice-secret")
        .connect(&url))
    .await
    .expect("a token in a cookie");
    for (client, user) in [
        (&by_header, "alice"),
        (&by_query, "bob"),
        (&by_cookie, "alice"),
    ] {
        let me = t(AccountClient::new(client.peer()).me()).await.expect("me");
        assert_eq!(me, user);
    }

    // The registry finds every connection of one user by its claims.
    let of = |name: &str| {
        let user = User(name.into());
        server
            .peers()
            .list()
            .into_iter()
            .filter(|p| p.claims::<User>() == Some(&user))
            .count()
    };
    assert_eq!(of("alice"), 2, "two connections of alice");
    assert_eq!(of("bob"), 1);
    // Claims of another type are not these.
    assert!(
        server
            .peers()
            .list()
            .iter()
            .all(|p| p.claims::<String>().is_none())
    );

    for client in [by_header, by_query, by_cookie] {
        client.close();
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn without_a_token_401_with_an_unknown_one_403_and_the_client_says_why() {
    let server = server(Arc::default());
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();

    let missing = t(Client::connect(&url)).await.expect_err("no token");
    assert_eq!(missing.status(), Some(401));
    assert!(matches!(&missing, ConnectError::Refused { body, .. } if body == "a token is needed"));
    assert_eq!(
        missing.to_string(),
        "the server refused the connection: 401: a token is needed"
    );
    let unknown = t(Client::builder().bearer_token("mallory").connect(&url))
        .await
        .expect_err("an unknown token");
    assert_eq!(unknown.status(), Some(403));
    assert!(unknown.to_string().contains("unknown token"), "{unknown}");
    assert!(
        server.peers().is_empty(),
        "no refused connection was registered"
    );

    // The hook guards the WebSocket only.
    for path in [
        "/volley.js",
        "/volley.d.ts",
        "/openrpc.json",
        "/asyncapi.json",
        "/docs",
    ] {
        let response = http::get(running.local_addr(), path).await;
        assert_eq!(response.status, 200, "{path}");
    }
    // A 401 names the scheme it wants.
    match t(tokio_tungstenite::connect_async(url.as_str())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
        }
        other => panic!("expected a 401, got {other:?}"),
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn handlers_keep_state_per_connection_dropped_when_it_closes() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let server = server(dropped.clone());
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();
    let a = t(Client::builder().bearer_token("alice-secret").connect(&url))
        .await
        .expect("a");
    let b = t(Client::builder().bearer_token("alice-secret").connect(&url))
        .await
        .expect("b");
    let (account_a, account_b) = (AccountClient::new(a.peer()), AccountClient::new(b.peer()));
    assert_eq!(t(account_a.join("lobby".into())).await.unwrap(), ["lobby"]);
    assert_eq!(
        t(account_a.join("games".into())).await.unwrap(),
        ["lobby", "games"]
    );
    assert_eq!(
        t(account_b.join("music".into())).await.unwrap(),
        ["music"],
        "its own state"
    );

    let server_side_a = server
        .peers()
        .list()
        .into_iter()
        .find(|p| p.with_state(|rooms: &mut Rooms| rooms.names.len()) == 2)
        .expect("a's connection on the server");
    a.close();
    wait_for_disconnect(&mut events, server_side_a.id()).await;
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "a's rooms were dropped with it"
    );
    assert!(
        server_side_a.take_state::<Rooms>().is_none(),
        "nothing of a's state is left"
    );
    assert_eq!(
        t(account_b.join("news".into())).await.unwrap(),
        ["music", "news"]
    );
    b.close();
    t(running.shutdown()).await;
    assert_eq!(dropped.load(Ordering::SeqCst), 2);
}

async fn wait_for_disconnect(events: &mut broadcast::Receiver<PeerEvent>, id: volley::PeerId) {
    loop {
        match t(events.recv()).await.expect("an event") {
            PeerEvent::Disconnected { id: gone, .. } if gone == id => return,
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_client_has_claims_of_its_own_and_sees_the_servers_answer() {
    let server = server(Arc::default());
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let client = t(Client::builder()
        .add_service(Phone.into_service())
        .claims(Device("phone-7"))
        .bearer_token("alice-secret")
        .subprotocol("volley.v1")
        .connect(&running.ws_url()))
    .await
    .expect("connect");
    let device = t(AccountClient::new(client.peer()).device()).await;
    assert_eq!(device.expect("device"), "phone-7");
    assert_eq!(client.subprotocol(), Some("volley.v1"));
    assert_eq!(client.response_headers()["upgrade"], "websocket");

    let bad = t(Client::builder()
        .header("Bad Header", "x")
        .connect(&running.ws_url()))
    .await
    .expect_err("an invalid header name");
    assert!(matches!(bad, ConnectError::InvalidRequest(_)), "{bad}");
    client.close();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_server_that_never_answers_the_handshake_is_given_up_on_at_the_connect_timeout() {
    let listener = t(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .expect("bind");
    let url = format!("ws://{}/ws", listener.local_addr().expect("address"));
    // Accepts the TCP connection and then says nothing.
    let silent = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        std::future::pending::<()>().await;
        drop(socket);
    });
    let deadline = std::time::Duration::from_millis(200);
    let error = t(Client::builder().connect_timeout(deadline).connect(&url))
        .await
        .expect_err("no handshake");
    assert!(
        matches!(error, ConnectError::Timeout(d) if d == deadline),
        "{error}"
    );
    assert_eq!(error.to_string(), "connect timed out after 200ms");
    silent.abort();
}
