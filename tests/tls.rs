//! TLS on both ends: a server that terminates TLS with a certificate generated here, and a
//! Rust client that trusts it, calling both ways over `wss://`.

mod common;

use common::services::{Browser, Calc, Calculator, CalculatorClient, TestBrowser};
use common::t;
use volley::{Client, ConnectError, Server, Tls};

/// A self-signed certificate for `localhost` and 127.0.0.1: (certificate PEM, key PEM).
fn certificate() -> (String, String) {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(names).expect("a certificate");
    (cert.pem(), key_pair.serialize_pem())
}

fn tls_server(cert: &str, key: &str) -> Server {
    Server::builder()
        .add_service(Calc::new().into_service())
        .add_remote_service::<common::services::BrowserClient>()
        .tls(Tls::from_pem(cert.as_bytes(), key.as_bytes()).expect("a TLS identity"))
        .build()
}

#[tokio::test]
async fn calls_go_both_ways_over_wss() {
    let (cert, key) = certificate();
    let server = tls_server(&cert, &key);
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
    assert!(running.http_url().starts_with("https://"));

    for url in [url.clone(), url.replace("127.0.0.1", "localhost")] {
        let client = t(Client::builder()
            .add_service(TestBrowser::new(true).into_service())
            .add_root_certificate_pem(&cert)
            .connect(&url))
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
        let calc = CalculatorClient::new(client.peer());
        assert_eq!(t(calc.add(2, 3)).await.expect("add"), 5);
        // The server calls the client back over the same TLS connection.
        assert!(t(calc.ask("over TLS?".into())).await.expect("ask"));
        client.close();
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn an_untrusted_certificate_or_a_bad_root_fails_the_connect() {
    let (cert, key) = certificate();
    let server = tls_server(&cert, &key);
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();

    // The webpki roots alone do not trust a self-signed certificate.
    let untrusted = t(Client::connect(&url)).await.expect_err("untrusted");
    assert!(
        matches!(untrusted, ConnectError::WebSocket(_)),
        "{untrusted}"
    );
    let source = std::error::Error::source(&untrusted).map(ToString::to_string);
    assert!(
        source.as_deref().is_some_and(|s| s.contains("certificate")),
        "{source:?}"
    );
    // Another certificate is not this one.
    let (other, _) = certificate();
    let wrong = t(Client::builder()
        .add_root_certificate_pem(&other)
        .connect(&url))
    .await
    .expect_err("another root");
    assert!(matches!(wrong, ConnectError::WebSocket(_)), "{wrong}");
    // A root that is not a certificate is refused before dialing.
    let bad = t(Client::builder()
        .add_root_certificate_pem("not a pem")
        .connect(&url))
    .await
    .expect_err("a bad root");
    assert!(matches!(bad, ConnectError::Tls(_)), "{bad}");
    // Plain WebSocket to a TLS port does not get through.
    let plain = t(Client::connect(&url.replace("wss://", "ws://"))).await;
    assert!(plain.is_err());
    // The server carries on.
    let client = t(Client::builder()
        .add_root_certificate_pem(&cert)
        .connect(&url))
    .await
    .expect("a trusted connection after the failed ones");
    assert_eq!(
        t(CalculatorClient::new(client.peer()).add(1, 1))
            .await
            .unwrap(),
        2
    );
    client.close();
    t(running.shutdown()).await;
}

#[test]
fn identities_load_from_pem_files_and_bad_ones_say_why() {
    let (cert, key) = certificate();
    let dir = std::env::temp_dir().join(format!("volley-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    assert!(Tls::from_pem_files(&cert_path, &key_path).is_ok());
    let missing = Tls::from_pem_files(dir.join("nope.pem"), &key_path).unwrap_err();
    assert!(missing.to_string().contains("nope.pem"), "{missing}");
    let swapped = Tls::from_pem(key.as_bytes(), cert.as_bytes()).unwrap_err();
    assert!(swapped.to_string().contains("certificate"), "{swapped}");
    let (other_cert, _) = certificate();
    let mismatched = Tls::from_pem(other_cert.as_bytes(), key.as_bytes()).unwrap_err();
    assert!(mismatched.to_string().contains("key"), "{mismatched}");
    let _ = std::fs::remove_dir_all(&dir);
}
