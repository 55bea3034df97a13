//! The three servers the benchmark compares, each run as a child process of the benchmark
//! (the benchmark starts itself with the hidden `--serve KIND --runtime RUNTIME`):
//! [`volley`], [`jsonrpsee`] (0.26, a trivial `add`) and [`echo`] (tokio-tungstenite echoing
//! every frame with batched flushes: the ceiling). The `layers` scenario starts a fourth of
//! its own, [`echo_tokio_websockets`]: the same echo on tokio-websockets (it answers `add`
//! only, by echoing it). The `cluster` scenario starts [`node`]s of its own: volley servers
//! joined through a [`redis`] server it starts too.
//!
//! A server binds 127.0.0.1 at a free port, prints its WebSocket URL on stdout, and stops
//! when its stdin closes. JSON-RPC wise all three answer `add` (the echo by echoing the
//! request) and `notified` (how many notifications it has counted), so one load generator
//! drives them all.

pub(crate) mod echo;
pub(crate) mod echo_tokio_websockets;
pub(crate) mod jsonrpsee;
pub(crate) mod node;
pub(crate) mod redis;
pub(crate) mod volley;

use std::process::Stdio;
use std::time::Duration;

use clap::ValueEnum;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::BoxError;
use crate::system;

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    /// volley's server
    Volley,
    /// jsonrpsee 0.26's server
    Jsonrpsee,
    /// a tokio-tungstenite echo with batched flushes
    Echo,
    /// a tokio-websockets echo with batched flushes (the `layers` scenario's)
    EchoTokioWebsockets,
    /// volley's server as one node of a cluster, joined through Redis (the `cluster`
    /// scenario's)
    VolleyNode,
}

impl Kind {
    /// The name in tables.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Volley => "volley",
            Kind::Jsonrpsee => "jsonrpsee 0.26",
            Kind::Echo => "echo (ceiling)",
            Kind::EchoTokioWebsockets => "echo (tokio-websockets)",
            Kind::VolleyNode => "volley node",
        }
    }
}

/// The tokio runtime every server runs on (the same for all three).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Runtime {
    /// `new_current_thread`: everything on the one thread
    CurrentThread,
    /// `new_multi_thread` with one worker thread
    OneWorker,
}

impl Runtime {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Runtime::CurrentThread => "a tokio current_thread runtime",
            Runtime::OneWorker => "a tokio multi-thread runtime with 1 worker",
        }
    }

    fn build(self) -> std::io::Result<tokio::runtime::Runtime> {
        match self {
            Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
            Runtime::OneWorker => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build(),
        }
    }
}

/// Runs server `kind` on `runtime` until stdin closes: the child process's whole life. A
/// [`Kind::VolleyNode`] joins the cluster at the Redis at `redis` (`127.0.0.1:PORT`).
pub(crate) fn serve(kind: Kind, runtime: Runtime, redis: Option<&str>) -> Result<(), BoxError> {
    // One socket per connection: the memory and broadcast scenarios hold thousands.
    let _ = system::raise_nofile();
    runtime.build()?.block_on(async move {
        match kind {
            Kind::Volley => volley::serve().await,
            Kind::Jsonrpsee => jsonrpsee::serve().await,
            Kind::Echo => echo::serve().await,
            Kind::EchoTokioWebsockets => echo_tokio_websockets::serve().await,
            Kind::VolleyNode => node::serve(redis.ok_or("a node needs --redis")?).await,
        }
    })
}

/// Resolves when the parent closes our stdin (or is gone).
pub(crate) async fn parent_gone() {
    let mut line = String::new();
    let _ = BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await;
}

/// Serves an echo: binds with [`listener`], prints the URL, and runs `connection` on every
/// accepted stream in a task of its own, until the parent is gone.
pub(crate) async fn serve_each<F, Fut>(connection: F) -> Result<(), BoxError>
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = listener()?;
    println!("ws://{}", listener.local_addr()?);
    let accept = async {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream));
                }
                // Out of files, most likely: let connections close before accepting more.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    };
    tokio::select! {
        () = accept => {}
        () = parent_gone() => {}
    }
    Ok(())
}

/// A listener on 127.0.0.1 at a free port with a backlog of 4096, as volley's (tokio's
/// default of 1024 makes a burst of 10,000 connects retry for seconds).
pub(crate) fn listener() -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(([127, 0, 0, 1], 0).into())?;
    socket.listen(4096)
}

/// One running server process.
pub(crate) struct Child {
    pub(crate) kind: Kind,
    pub(crate) url: String,
    pub(crate) pid: u32,
    process: tokio::process::Child,
}

impl Child {
    /// Starts server `kind` as a child process (on CPU `cpu` when given) and waits for its
    /// URL.
    pub(crate) async fn start(
        kind: Kind,
        runtime: Runtime,
        cpu: Option<usize>,
    ) -> Result<Self, BoxError> {
        Self::spawn(kind, runtime, cpu, &[], &[]).await
    }

    /// Starts a [`Kind::VolleyNode`] (on CPU `cpu` when given) that joins the cluster at the
    /// Redis at `redis` (`127.0.0.1:PORT`), and waits for its URL: it prints it once it has
    /// joined.
    pub(crate) async fn start_node(
        runtime: Runtime,
        cpu: Option<usize>,
        redis: &str,
    ) -> Result<Self, BoxError> {
        let args = ["--redis".to_owned(), redis.to_owned()];
        Self::spawn(Kind::VolleyNode, runtime, cpu, &[], &args).await
    }

    /// [`Child::start`], the server run under `wrapper` (a program and its arguments, such
    /// as valgrind's), which must print nothing on stdout.
    pub(crate) async fn start_under(
        kind: Kind,
        runtime: Runtime,
        cpu: Option<usize>,
        wrapper: &[String],
    ) -> Result<Self, BoxError> {
        Self::spawn(kind, runtime, cpu, wrapper, &[]).await
    }

    /// Starts server `kind` under `wrapper` with the extra arguments `args`.
    async fn spawn(
        kind: Kind,
        runtime: Runtime,
        cpu: Option<usize>,
        wrapper: &[String],
        args: &[String],
    ) -> Result<Self, BoxError> {
        let exe = std::env::current_exe()?;
        let mut line: Vec<std::ffi::OsString> = Vec::new();
        if let Some(cpu) = cpu {
            line.extend(["taskset".into(), "-c".into(), cpu.to_string().into()]);
        }
        line.extend(wrapper.iter().map(Into::into));
        line.push(exe.into());
        let mut cmd = tokio::process::Command::new(&line[0]);
        cmd.args(&line[1..]);
        let mut process = cmd
            .arg("--serve")
            .arg(value(kind))
            .arg("--runtime")
            .arg(value(runtime))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let pid = process.id().ok_or("the server exited at once")?;
        let mut out = BufReader::new(process.stdout.take().ok_or("no stdout")?).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), out.next_line())
            .await
            .map_err(|_| format!("the {} server printed no URL within 60 s", kind.label()))??
            .ok_or_else(|| format!("the {} server exited before its URL", kind.label()))?;
        Ok(Self {
            kind,
            url,
            pid,
            process,
        })
    }

    /// An error when the process has exited.
    pub(crate) fn check_alive(&mut self) -> Result<(), BoxError> {
        match self.process.try_wait()? {
            None => Ok(()),
            Some(status) => {
                Err(format!("the {} server exited ({status})", self.kind.label()).into())
            }
        }
    }

    /// Closes its stdin and waits (10 s at most) for it to exit; kills it otherwise.
    pub(crate) async fn stop(self) {
        let _ = self.stop_within(Duration::from_secs(10)).await;
    }

    /// Closes its stdin and waits `wait` at most for it to exit (killing it after): whether
    /// it exited by itself, successfully.
    pub(crate) async fn stop_within(mut self, wait: Duration) -> Result<(), BoxError> {
        drop(self.process.stdin.take());
        match tokio::time::timeout(wait, self.process.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => {
                Err(format!("the {} server exited ({status})", self.kind.label()).into())
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                let _ = self.process.kill().await;
                Err(format!(
                    "the {} server had not exited after {wait:?}",
                    self.kind.label()
                )
                .into())
            }
        }
    }
}

/// A clap value as it is spelled on the command line.
fn value(v: impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_owned())
        .unwrap_or_default()
}

/// The three servers, one process each.
pub(crate) struct Servers {
    pub(crate) all: Vec<Child>,
}

impl Servers {
    /// Starts echo, jsonrpsee and volley.
    pub(crate) async fn start(runtime: Runtime, cpu: Option<usize>) -> Result<Self, BoxError> {
        let mut all = Vec::new();
        for kind in [Kind::Echo, Kind::Jsonrpsee, Kind::Volley] {
            all.push(Child::start(kind, runtime, cpu).await?);
        }
        Ok(Self { all })
    }

    pub(crate) fn get(&self, kind: Kind) -> &Child {
        self.all
            .iter()
            .find(|c| c.kind == kind)
            .expect("every kind is started")
    }

    pub(crate) fn pids(&self) -> Vec<u32> {
        self.all.iter().map(|c| c.pid).collect()
    }

    pub(crate) fn check_alive(&mut self) -> Result<(), BoxError> {
        self.all.iter_mut().try_for_each(Child::check_alive)
    }

    pub(crate) async fn stop(self) {
        for child in self.all {
            child.stop().await;
        }
    }
}
