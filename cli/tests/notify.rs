//! `volley notify`: the notification reaches the server and its handler runs before the
//! program exits. Against example-chat, whose `join` announces the newcomer to the room: a
//! member already in the lobby hears `cli joined`.

mod common;

use common::{Server, t, volley};
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use volley_client::Client;
use volley_core::Service;
use volley_core::jsonrpsee::RpcModule;

#[tokio::test]
async fn a_notification_is_written_and_handled_before_the_program_exits() {
    let server = Server::chat().await;
    // A member of the lobby, who hears every line said in it.
    let (lines, mut heard) = mpsc::unbounded_channel();
    let mut member = RpcModule::new(());
    member
        .register_method("message", move |params, _, _| {
            let _ = lines.send(params.as_str().unwrap_or_default().to_owned());
        })
        .expect("a method");
    member
        .register_method("members", |_, _, _| ())
        .expect("a method");
    let watcher = Client::builder()
        .add_service(Service::from(member))
        .reconnect(None)
        .connect(&server.url);
    let watcher = t(watcher).await.expect("connect");
    let name = RawValue::from_string(r#"{"name":"watcher"}"#.to_owned()).expect("json");
    t(watcher.peer().request_raw("join", Some(name), None))
        .await
        .expect("join");

    let out = volley(&["notify", &server.url, "join", "name=cli"]).await;
    assert_eq!(out.ok(), "", "a notification prints nothing");
    assert_eq!(out.stderr(), "");
    t(async {
        loop {
            let line = heard.recv().await.expect("the room's lines");
            if line.contains("cli joined") {
                break;
            }
        }
    })
    .await;
    watcher.close();
    server.stop().await;
}

#[tokio::test]
async fn a_notification_without_a_server_exits_2() {
    let url = common::refusing_url().await;
    let out = volley(&["notify", &url, "tick", "[1]"]).await;
    assert_eq!(out.code(), Some(2), "{out:?}");
    assert!(
        out.stderr()
            .starts_with(&format!("volley: cannot reach {url}")),
        "{out:?}"
    );
}
