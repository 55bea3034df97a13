//! Per-method authorization in the contract: `#[rpc(requires = "..")]` methods run only for
//! callers the server's policy allows; others get -32013 and the handler never runs.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::t;
use volley::{Client, Context, Error, Handshake, Refusal, Server, codes};

/// Who connected, from the handshake.
#[derive(Debug, Clone)]
struct User {
    admin: bool,
}

/// A store with guarded methods.
#[volley::rpc]
pub trait Store {
    /// Anyone may read.
    async fn count(&self) -> volley::Result<usize>;
    /// Only administrators may wipe.
    #[rpc(requires = "admin")]
    async fn wipe(&self) -> volley::Result<usize>;
    /// Only administrators may log, and a refused notification is dropped silently.
    #[rpc(notification, requires = "admin")]
    async fn note(&self, line: String);
}

#[derive(Clone, Default)]
struct Counted {
    wiped: Arc<AtomicUsize>,
    noted: Arc<AtomicUsize>,
}

impl Store for Counted {
    async fn count(&self) -> volley::Result<usize> {
        Ok(self.noted.load(Ordering::SeqCst))
    }

    async fn wipe(&self) -> volley::Result<usize> {
        Ok(self.wiped.fetch_add(1, Ordering::SeqCst) + 1)
    }

    async fn note(&self, _line: String) {
        self.noted.fetch_add(1, Ordering::SeqCst);
    }
}

fn server(store: Counted, with_policy: bool) -> Server {
    let builder = Server::builder()
        .add_service(store.into_service())
        .authenticate(|handshake: Handshake| async move {
            match handshake.bearer_token() {
                Some("root") => Ok(User { admin: true }),
                Some("guest") => Ok(User { admin: false }),
                _ => Err(Refusal::unauthorized("a token is needed")),
            }
        });
    if with_policy {
        builder
            .authorize(|cx: &Context, requirement| match requirement {
                "admin" => cx.claims::<User>().is_some_and(|u| u.admin),
                _ => false,
            })
            .build()
    } else {
        builder.build()
    }
}

async fn connect(url: &str, token: &str) -> Client {
    t(Client::builder().bearer_token(token).connect(url))
        .await
        .expect("connect")
}

fn assert_forbidden(result: volley::Result<usize>) {
    match result {
        Err(Error::Remote(e)) => {
            assert_eq!(e.code(), codes::FORBIDDEN);
            assert_eq!(e.message(), "Forbidden");
            assert_eq!(
                e.data().map(|d| d.get()),
                Some(r#""`wipe` requires `admin`""#)
            );
        }
        other => panic!("expected -32013, got {other:?}"),
    }
}

#[tokio::test]
async fn the_policy_lets_allowed_callers_through_and_the_handler_never_runs_for_others() {
    let store = Counted::default();
    let server = server(store.clone(), true);
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let (admin, guest) = (
        connect(&running.ws_url(), "root").await,
        connect(&running.ws_url(), "guest").await,
    );
    let (as_admin, as_guest) = (
        StoreClient::new(admin.peer()),
        StoreClient::new(guest.peer()),
    );

    assert_eq!(t(as_admin.wipe()).await.expect("an admin wipes"), 1);
    assert_forbidden(t(as_guest.wipe()).await);
    assert_eq!(
        store.wiped.load(Ordering::SeqCst),
        1,
        "the guest's wipe never ran"
    );
    // Unguarded methods are for everyone.
    assert_eq!(t(as_guest.count()).await.expect("count"), 0);

    // A refused notification is dropped; an allowed one runs. (This test runs on one thread,
    // where the handlers of a connection's messages start in the order they arrived, and
    // `note` finishes without waiting: the `count` after it sees what it did.)
    t(as_guest.note("no".into())).await.expect("sent");
    t(as_admin.note("yes".into())).await.expect("sent");
    assert_eq!(t(as_admin.count()).await.expect("count"), 1);
    assert_eq!(t(as_guest.count()).await.expect("count"), 1);

    admin.close();
    guest.close();
    t(running.shutdown()).await;
}

#[tokio::test]
async fn without_a_policy_every_requirement_is_refused() {
    let store = Counted::default();
    let server = server(store.clone(), false);
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let admin = connect(&running.ws_url(), "root").await;
    assert_forbidden(t(StoreClient::new(admin.peer()).wipe()).await);
    assert_eq!(store.wiped.load(Ordering::SeqCst), 0);
    admin.close();
    t(running.shutdown()).await;
}

#[test]
fn the_requirement_is_in_the_description_and_the_documents() {
    let description = <StoreClient as volley::RemoteService>::DESCRIPTION;
    let requires: Vec<_> = description.methods.iter().map(|m| m.requires).collect();
    assert_eq!(requires, [None, Some("admin"), Some("admin")]);
    let server = server(Counted::default(), true);
    let openrpc = volley::codegen::openrpc(server.api(), None);
    let wipe = common::method(&openrpc, "wipe");
    assert_eq!(wipe["x-requires"], "admin");
    assert!(
        common::method(&openrpc, "count")
            .get("x-requires")
            .is_none()
    );
    assert!(
        openrpc["x-extensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "x-requires")
    );
    let asyncapi = volley::codegen::asyncapi(server.api(), "/ws");
    assert_eq!(asyncapi["operations"]["server.wipe"]["x-requires"], "admin");
    let ts = volley::codegen::typescript(server.api(), &Default::default());
    assert!(
        ts.contains("Requires `admin`: a caller without it gets error -32013 (Forbidden)."),
        "{ts}"
    );
}
