//! A server that terminates TLS and authenticates every upgrade, driven from Chromium
//! (`tests/browser/auth.test.mjs`): `/docs?token=..` and volley.js's `connect(url, { token })`
//! pass the token in the query, a session cookie works too, and an upgrade without either is
//! refused; a guarded method shows its requirement. The screenshot lands in `target/artifacts/auth-docs.png`.
//!
//! Needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without them it prints
//! `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

mod common;

use std::time::Duration;

use common::services::{BrowserClient, Calc, Calculator};
use common::t;
use volley::{Handshake, Refusal, Server, Tls};
use volley_testing::browser;

const TOKEN: &str = "s3cret token";

/// A guarded method, for the requirement badge on `/docs`.
#[volley::rpc]
pub trait Admin {
    /// Wipes everything.
    #[rpc(requires = "admin")]
    async fn wipe(&self) -> volley::Result<()>;
}

struct Wiper;

impl Admin for Wiper {
    async fn wipe(&self) -> volley::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_token_in_the_query_or_a_cookie_reaches_a_tls_server_from_chromium() {
    if !browser::ready() {
        return;
    }
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("a certificate");
    let tls = Tls::from_pem(cert.pem().as_bytes(), key_pair.serialize_pem().as_bytes())
        .expect("a TLS identity");
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_service(Wiper.into_service())
        .add_remote_service::<BrowserClient>()
        .authenticate(|handshake: Handshake| async move {
            let token = handshake
                .query("token")
                .or_else(|| handshake.cookie("session").map(|c| c.replace("%20", " ")));
            match token.as_deref() {
                Some(TOKEN) => Ok(()),
                Some(_) => Err(Refusal::forbidden("wrong token")),
                None => Err(Refusal::unauthorized("a token is needed")),
            }
        })
        .tls(tls)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let base = running.http_url();
    browser::run_script(
        "auth.test.mjs",
        base.trim_end_matches('/'),
        Duration::from_secs(90),
        None,
    )
    .await;
    t(running.shutdown()).await;
}
