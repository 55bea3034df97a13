//! `volley call` against example-callbacks (`add(a, b)`, and `ask(question)`, which calls the
//! client's `confirm(question)` back before it answers): results on stdout, the server's
//! errors on stderr with exit 1, no connection with exit 2, credentials with `--token`.

mod common;

use common::{Server, t, volley};
use tokio::net::TcpListener;

#[tokio::test]
async fn params_go_as_json_as_pairs_or_by_position() {
    let server = Server::callbacks(&[]).await;
    let url = server.url.as_str();
    let call = |args: &'static [&'static str]| {
        let mut all = vec!["call", url];
        all.extend(args);
        async move { volley(&all).await }
    };
    // A pipe gets one line.
    assert_eq!(call(&["add", r#"{"a": 1, "b": 2}"#]).await.ok(), "3\n");
    assert_eq!(call(&["add", "[40, 2]"]).await.ok(), "42\n");
    assert_eq!(call(&["add", "a=1", "b=2"]).await.ok(), "3\n");
    // By position the names are only labels: `x` and `y` are not add's params.
    assert_eq!(
        call(&["add", "x=2", "y=3", "--positional"]).await.ok(),
        "5\n"
    );
    let by_name = call(&["add", "x=2", "y=3"]).await;
    assert_eq!(by_name.code(), Some(1), "{by_name:?}");
    server.stop().await;
}

#[tokio::test]
async fn the_servers_error_goes_to_stderr_with_exit_1() {
    let server = Server::callbacks(&[]).await;
    let out = volley(&["call", &server.url, "nope"]).await;
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(out.stdout(), "");
    assert_eq!(
        out.stderr(),
        "error -32601: Method not found\ndata: \"no method named `nope`\"\n"
    );
    let out = volley(&["call", &server.url, "add", "a=one", "b=2"]).await;
    assert_eq!(out.code(), Some(1), "{out:?}");
    let stderr = out.stderr();
    assert!(
        stderr.starts_with("error -32602: Invalid params\ndata: "),
        "{stderr}"
    );
    assert!(stderr.contains("invalid parameter `a`"), "{stderr}");
    server.stop().await;
}

#[tokio::test]
async fn answers_serve_the_servers_calls_made_during_the_call() {
    let server = Server::callbacks(&[]).await;
    let url = server.url.as_str();
    let yes = volley(&[
        "call",
        url,
        "ask",
        "question=hi",
        "--answer",
        "confirm=true",
    ])
    .await;
    assert_eq!(yes.ok(), "true\n");
    let no = volley(&["call", url, "ask", "question=hi", "--answer=confirm=false"]).await;
    assert_eq!(no.ok(), "false\n");
    // No answer for `confirm`: the client's engine answers -32601, and `ask` passes it on.
    let unanswered = volley(&["call", url, "ask", "question=hi", "--answer", "other=1"]).await;
    assert_eq!(unanswered.code(), Some(1), "{unanswered:?}");
    assert!(
        unanswered
            .stderr()
            .starts_with("error -32601: Method not found"),
        "{unanswered:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn no_connection_exits_2_and_says_why() {
    let url = common::refusing_url().await;
    let out = volley(&["call", &url, "add", "a=1", "b=2"]).await;
    assert_eq!(out.code(), Some(2), "{out:?}");
    assert!(
        out.stderr()
            .starts_with(&format!("volley: cannot reach {url}: could not connect")),
        "{out:?}"
    );
    assert!(out.stderr().contains("refused"), "{out:?}");

    // A server that accepts TCP and never answers the upgrade: the connect times out.
    let silent = t(TcpListener::bind("127.0.0.1:0")).await.expect("bind");
    let url = format!("ws://{}/ws", silent.local_addr().expect("an address"));
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let out = volley(&["call", &url, "add", "--timeout", "0.5"]).await;
    assert_eq!(out.code(), Some(2), "{out:?}");
    assert!(out.stderr().contains("timed out"), "{out:?}");
    hold.abort();
}

#[tokio::test]
async fn a_token_is_sent_as_a_bearer_and_its_absence_explained() {
    let server = Server::callbacks(&["--token", "SECRET"]).await;
    let url = server.url.as_str();
    let without = volley(&["call", url, "add", "a=1", "b=2"]).await;
    assert_eq!(without.code(), Some(2), "{without:?}");
    assert_eq!(
        without.stderr(),
        format!(
            "volley: cannot reach {url}: the server refused the connection: 401: a token is \
             needed (send credentials with --token or --header)\n"
        )
    );
    let wrong = volley(&["call", url, "add", "a=1", "b=2", "--token", "guess"]).await;
    assert_eq!(wrong.code(), Some(2), "{wrong:?}");
    assert!(wrong.stderr().contains("403: wrong token"), "{wrong:?}");

    let with = volley(&["call", url, "add", "a=1", "b=2", "--token", "SECRET"]).await;
    assert_eq!(with.ok(), "3\n");
    let header = ["--header", "Authorization: Bearer SECRET"];
    let mut args = vec!["call", url, "add", "a=1", "b=2"];
    args.extend(header);
    assert_eq!(volley(&args).await.ok(), "3\n");
    server.stop().await;
}

#[tokio::test]
async fn a_command_line_that_cannot_be_used_exits_64() {
    let url = "ws://127.0.0.1:9/ws";
    for args in [
        &["call", url, "add", "42"][..],
        &["call", url, "add", "a=1", "a=2"],
        &["call", url, "add", "[1]", "--positional"],
        &["call", url, "add", "--answer", "confirm"],
        &["call", url, "add", "--header", "no-colon"],
        &["call", url, "add", "--timeout", "0"],
        &["call", url],
        &["call", url, "add", "--nope"],
    ] {
        let out = volley(args).await;
        assert_eq!(out.code(), Some(64), "{args:?}: {out:?}");
        assert!(!out.stderr().is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn every_command_explains_itself_with_examples() {
    let top = volley(&["--help"]).await.ok();
    for word in ["call", "notify", "discover", "codegen", "Exit codes:"] {
        assert!(top.contains(word), "{word}: {top}");
    }
    for command in [
        &["call"][..],
        &["notify"],
        &["discover"],
        &["codegen", "typescript"],
        &["codegen", "asyncapi"],
        &["codegen", "openrpc"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let help = volley(&args).await.ok();
        assert!(help.contains("Examples"), "{command:?}: {help}");
        for option in [
            "--header <NAME:VALUE>",
            "--token <TOKEN>",
            "--ca <PEM_FILE>",
            "--timeout <SECONDS>",
        ] {
            assert!(help.contains(option), "{command:?} lacks {option}: {help}");
        }
    }
}

#[tokio::test]
async fn wss_takes_the_servers_certificate_from_ca() {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("a certificate");
    let dir = common::scratch("tls");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write the certificate");
    std::fs::write(&key_path, key_pair.serialize_pem()).expect("write the key");
    let (cert_arg, key_arg) = (cert_path.to_str().unwrap(), key_path.to_str().unwrap());
    let server = Server::callbacks(&["--tls-cert", cert_arg, "--tls-key", key_arg]).await;
    assert!(server.url.starts_with("wss://"), "{}", server.url);

    let untrusted = volley(&["call", &server.url, "add", "a=1", "b=2"]).await;
    assert_eq!(untrusted.code(), Some(2), "{untrusted:?}");
    assert!(
        untrusted
            .stderr()
            .ends_with("(trust the server's certificate with --ca PEM_FILE)\n"),
        "{untrusted:?}"
    );
    let trusted = volley(&["call", &server.url, "add", "a=1", "b=2", "--ca", cert_arg]).await;
    assert_eq!(trusted.ok(), "3\n");
    let missing = dir.join("missing.pem");
    let args = [
        "call",
        &server.url,
        "add",
        "--ca",
        missing.to_str().unwrap(),
    ];
    let unreadable = volley(&args).await;
    assert_eq!(unreadable.code(), Some(4), "{unreadable:?}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
