//! The test Redis server: it answers PING on its port, is gone after `stop`, and answers again
//! on the same port after `restart`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use volley_testing::redis::RedisServer;

const TIMEOUT: Duration = Duration::from_secs(20);

async fn ping(port: u16) -> std::io::Result<String> {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await?;
    socket.write_all(b"PING\r\n").await?;
    let mut answer = [0u8; 7];
    socket.read_exact(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_server_of_its_own_stops_and_restarts_on_its_port() {
    let Some(mut redis) = tokio::time::timeout(TIMEOUT, RedisServer::start())
        .await
        .expect("started in time")
    else {
        return;
    };
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}/"));
    let answer = tokio::time::timeout(TIMEOUT, ping(port))
        .await
        .expect("in time");
    assert_eq!(answer.expect("an answer"), "+PONG\r\n");
    tokio::time::timeout(TIMEOUT, redis.stop())
        .await
        .expect("stopped in time");
    let refused = tokio::time::timeout(TIMEOUT, ping(port))
        .await
        .expect("in time");
    assert!(refused.is_err(), "{refused:?}");
    tokio::time::timeout(TIMEOUT, redis.restart())
        .await
        .expect("restarted in time");
    let answer = tokio::time::timeout(TIMEOUT, ping(port))
        .await
        .expect("in time");
    assert_eq!(answer.expect("an answer"), "+PONG\r\n");
}
