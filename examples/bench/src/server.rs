//! The benchmark's server: the child process the benchmark starts with `--serve`.

use std::time::Instant;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{AnswerClient, Bench, Broadcast, ListenerClient, ListenerFanout, system};

/// The group the broadcast's listeners join.
pub(crate) const LISTENERS: &str = "listeners";

struct Server;

impl Bench for Server {
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
        AnswerClient::new(cx.peer()).confirm(question).await
    }
    async fn listen(&self, cx: &volley::Context) -> volley::Result<bool> {
        Ok(cx.join(LISTENERS))
    }
    async fn broadcast(&self, cx: &volley::Context, seq: u64) -> volley::Result<Broadcast> {
        let start = Instant::now();
        let delivery = ListenerFanout::new(cx.peers().group(LISTENERS)).tick(seq)?;
        let nanos = start.elapsed().as_nanos();
        Ok(Broadcast {
            queued: delivery.queued,
            overflowed: delivery.overflowed.len(),
            gone: delivery.gone.len(),
            nanos: u64::try_from(nanos).unwrap_or(u64::MAX),
        })
    }
    async fn open_files(&self) -> volley::Result<u64> {
        Ok(system::raise_nofile().soft)
    }
}

/// Serves on 127.0.0.1 at a free port, prints the WebSocket URL on stdout, and stops when
/// stdin closes.
pub(crate) async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    // One socket per connection: the broadcast holds thousands.
    let _ = system::raise_nofile();
    let server = volley::Server::builder()
        .add_service(Server.into_service())
        .add_remote_service::<AnswerClient>()
        .add_remote_service::<ListenerClient>()
        .build();
    let running = server.listen("127.0.0.1:0").await?;
    println!("{}", running.ws_url());
    // Stop when the parent closes our stdin.
    let mut line = String::new();
    let _ = BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await;
    running.shutdown().await;
    Ok(())
}
