//! The two binaries as a user runs them: the server serves on the address it is given and
//! says where, the client takes its options from the command line, and both explain their
//! arguments with `--help` and refuse unknown ones.

mod common;

use std::time::Duration;

use common::{TestServer, t};
use volley_testing::process;

const SERVER: &str = env!("CARGO_BIN_EXE_example-callbacks");
const CLIENT: &str = env!("CARGO_BIN_EXE_client");

#[tokio::test]
async fn the_server_serves_on_the_address_it_is_given() {
    let (mut server, line) =
        process::spawn_until(SERVER, &["--addr", "127.0.0.1:0"], "connect to ").await;
    let url = line.strip_prefix("connect to ").expect("a URL");
    assert!(url.starts_with("ws://127.0.0.1:"), "{line}");

    let client = t(volley::Client::connect(url)).await.expect("connect");
    let sum = t(example_callbacks::CalculatorClient::new(client.peer()).add(1, 2)).await;
    assert_eq!(sum.expect("add"), 3);
    client.close();
    t(server.kill()).await.expect("stop the server");
}

#[tokio::test]
async fn the_client_takes_its_options_from_the_command_line() {
    let server = TestServer::start(Duration::from_millis(20)).await;
    let url = server.url();
    let args = [
        "--url",
        &url,
        "--answer",
        "no",
        "--ticks=2",
        "--question",
        "sure?",
    ];
    let out = process::output(CLIENT, &args).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout
            .lines()
            .any(|l| l == "server asks: sure? -> answering no"),
        "{stdout}"
    );
    let done = stdout
        .lines()
        .find_map(|l| l.strip_prefix("done: sum 3, confirmed false, ticks ["))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    assert_eq!(done.matches(',').count(), 1, "two ticks: {done}");
    server.stop().await;
}

#[tokio::test]
async fn both_binaries_explain_their_arguments_and_refuse_unknown_ones() {
    let server_flags = [
        "--addr <HOST:PORT>",
        "--print-asyncapi",
        "--print-openrpc",
        "--print-typescript",
    ];
    let client_flags = [
        "--url <URL>",
        "--answer <yes|no>",
        "--ticks <N>",
        "--question <TEXT>",
    ];
    for (bin, flags) in [(SERVER, &server_flags), (CLIENT, &client_flags)] {
        let help = process::output(bin, &["--help"]).await;
        assert!(help.status.success(), "{help:?}");
        let text = String::from_utf8_lossy(&help.stdout);
        for flag in flags {
            assert!(text.contains(flag), "{bin} --help lacks {flag}:\n{text}");
        }
        let wrong = process::output(bin, &["--nope"]).await;
        assert_eq!(wrong.status.code(), Some(2), "{bin}: {wrong:?}");
        assert!(String::from_utf8_lossy(&wrong.stderr).contains("--nope"));
    }
    for args in [
        &["--print-asyncapi", "--print-openrpc"][..],
        &["--addr"][..],
    ] {
        let wrong = process::output(SERVER, args).await;
        assert_eq!(wrong.status.code(), Some(2), "{args:?}: {wrong:?}");
    }
    for args in [&["--answer", "maybe"][..], &["--ticks", "many"][..]] {
        let wrong = process::output(CLIENT, args).await;
        assert_eq!(wrong.status.code(), Some(2), "{args:?}: {wrong:?}");
    }
}

#[tokio::test]
async fn with_a_token_and_tls_the_client_needs_both_and_says_why_it_was_refused() {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("a certificate");
    let dir = std::env::temp_dir().join(format!("example-callbacks-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write the certificate");
    std::fs::write(&key_path, key_pair.serialize_pem()).expect("write the key");
    let (cert_arg, key_arg) = (cert_path.to_str().unwrap(), key_path.to_str().unwrap());

    let args = [
        "--addr",
        "127.0.0.1:0",
        "--token",
        "s3cret",
        "--tls-cert",
        cert_arg,
        "--tls-key",
        key_arg,
    ];
    let (mut server, line) = process::spawn_until(SERVER, &args, "connect to ").await;
    let url = line.strip_prefix("connect to ").expect("a URL").to_owned();
    assert!(url.starts_with("wss://127.0.0.1:"), "{line}");

    let with = [
        "--url",
        &url,
        "--token",
        "s3cret",
        "--ca",
        cert_arg,
        "--ticks=1",
    ];
    let out = process::output(CLIENT, &with).await;
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("done: sum 3"));

    for (args, expected) in [
        (
            &["--url", &url, "--ca", cert_arg][..],
            "401: a token is needed",
        ),
        (
            &["--url", &url, "--ca", cert_arg, "--token", "guess"][..],
            "403: wrong token",
        ),
        (&["--url", &url, "--token", "s3cret"][..], "certificate"),
    ] {
        let out = process::output(CLIENT, args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    t(server.kill()).await.expect("stop the server");
    let _ = std::fs::remove_dir_all(&dir);
}
