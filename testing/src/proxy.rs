//! A TCP proxy between a client and a server on loopback, for fault tests: it cuts every
//! connection at once, freezes them (bytes stop flowing, sockets stay open), or refuses new
//! ones, on command.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A proxy listening on `127.0.0.1:0` and forwarding to a target.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
}

struct State {
    /// Bumped to cut every connection open now.
    cuts: watch::Sender<u64>,
    /// While true, no byte is forwarded.
    frozen: watch::Sender<bool>,
    refusing: AtomicBool,
    accepted: AtomicUsize,
    target: std::sync::Mutex<SocketAddr>,
}

impl Proxy {
    /// Starts a proxy to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(State {
            cuts: watch::channel(0).0,
            frozen: watch::channel(false).0,
            refusing: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            target: std::sync::Mutex::new(target),
        });
        let accept_state = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if accept_state.refusing.load(Ordering::Acquire) {
                    drop(client);
                    continue;
                }
                accept_state.accepted.fetch_add(1, Ordering::Relaxed);
                let state = accept_state.clone();
                tokio::spawn(async move { forward(client, state).await });
            }
        });
        Proxy { addr, state }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://<proxy>/<path>`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Cuts every connection open now (both sockets closed at once, mid-frame or not).
    pub fn cut(&self) {
        self.state.cuts.send_modify(|n| *n += 1);
    }

    /// Stops (`true`) or resumes forwarding bytes on every connection, without closing any.
    pub fn freeze(&self, frozen: bool) {
        self.state.frozen.send_replace(frozen);
    }

    /// While on, new connections are accepted and closed at once.
    pub fn refuse(&self, refusing: bool) {
        self.state.refusing.store(refusing, Ordering::Release);
    }

    /// Forwards new connections to another target (a restarted server on a new port).
    pub fn retarget(&self, target: SocketAddr) {
        *self.state.target.lock().unwrap_or_else(|p| p.into_inner()) = target;
    }

    /// Connections accepted and forwarded so far.
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::Relaxed)
    }
}

async fn forward(client: TcpStream, state: Arc<State>) {
    let target = *state.target.lock().unwrap_or_else(|p| p.into_inner());
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut cuts = state.cuts.subscribe();
    cuts.borrow_and_update();
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pipe(cr, sw, state.frozen.subscribe());
    let down = pipe(sr, cw, state.frozen.subscribe());
    tokio::select! {
        _ = cuts.changed() => {}
        _ = async { tokio::join!(up, down) } => {}
    }
}

/// Copies one direction until EOF or an error, holding bytes while frozen.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
