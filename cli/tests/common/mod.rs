//! Shared by the tests: the `volley` binary run as a user runs it, the examples' servers
//! started as a user starts them, and a timeout around every await.
//!
//! An integration test sees only its own package's binaries (`CARGO_BIN_EXE_volley`), not
//! the examples'. So [`example`] builds an example's server binary with cargo, once per test
//! binary, into the target directory this test runs from (`target/debug/deps/<test>` is two
//! levels below `target/`): `cargo build --bin example-callbacks -p example-callbacks`, which
//! does nothing when it is up to date. The binary is then `target/debug/example-callbacks`.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::OnceCell;
use volley_testing::process;

/// The binary under test.
pub const VOLLEY: &str = env!("CARGO_BIN_EXE_volley");

/// How long one await may take in a test.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How long building the examples may take (a first build compiles the whole workspace).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

/// Every await goes through this: a hang fails the test instead of wedging it.
pub async fn t<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .expect("timed out after 30 s")
}

/// `volley args` to the end, under [`process::DEADLINE`].
pub async fn volley(args: &[&str]) -> Run {
    Run(process::output(VOLLEY, args).await)
}

/// A finished run of `volley`.
#[derive(Debug)]
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// Asserts exit 0 and returns stdout.
    pub fn ok(&self) -> String {
        assert_eq!(self.code(), Some(0), "{self:?}");
        self.stdout()
    }

    /// Stdout read as JSON, after exit 0.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the workspace root")
}

/// The directory cargo puts this test's profile in (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps/")
        .to_owned()
}

/// The examples' server binaries, built once for all the tests of this binary.
static BUILT: OnceCell<()> = OnceCell::const_new();

/// The path of the example's server binary `name` (`example-callbacks`), built if needed.
pub async fn example(name: &str) -> PathBuf {
    let profile = profile_dir();
    BUILT
        .get_or_init(|| async {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let target = profile.parent().expect("target/");
            let mut build = Command::new(cargo);
            build
                .arg("build")
                .arg("--manifest-path")
                .arg(workspace().join("Cargo.toml"))
                .arg("--target-dir")
                .arg(target);
            if profile.file_name().is_some_and(|p| p == "release") {
                build.arg("--release");
            }
            for example in ["example-callbacks", "example-chat"] {
                build.args(["-p", example, "--bin", example]);
            }
            let out = tokio::time::timeout(
                BUILD_TIMEOUT,
                build.stdin(Stdio::null()).kill_on_drop(true).output(),
            )
            .await
            .expect("the examples built in time")
            .expect("run cargo");
            assert!(
                out.status.success(),
                "building the examples failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        })
        .await;
    profile.join(name)
}

/// An example's server, running on 127.0.0.1:0 until dropped (killed).
pub struct Server {
    pub child: Child,
    /// Its WebSocket URL.
    pub url: String,
}

impl Server {
    /// `example-callbacks --addr 127.0.0.1:0 args`.
    pub async fn callbacks(args: &[&str]) -> Self {
        Self::start("example-callbacks", args, "connect to ").await
    }

    /// `example-chat --addr 127.0.0.1:0`.
    pub async fn chat() -> Self {
        Self::start("example-chat", &[], "WebSocket endpoint: ").await
    }

    async fn start(name: &str, args: &[&str], prefix: &str) -> Self {
        let bin = example(name).await;
        let bin = bin.to_str().expect("a UTF-8 path");
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend(args);
        let (child, line) = process::spawn_until(bin, &all, prefix).await;
        let url = line[prefix.len()..].to_owned();
        assert!(
            url.starts_with("ws://127.0.0.1:") || url.starts_with("wss://127.0.0.1:"),
            "{line}"
        );
        Self { child, url }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        let rest = self.url.split_once("://").expect("a URL").1;
        let host = rest.split('/').next().expect("a host");
        host.parse().expect("an address")
    }

    pub async fn stop(mut self) {
        t(self.child.kill()).await.expect("stop the server");
    }
}

/// A directory of its own for one test's files.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("volley-cli-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A WebSocket URL on 127.0.0.1 where nothing listens: a port taken, then given back.
pub async fn refusing_url() -> String {
    let listener = t(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    format!("ws://{addr}/ws")
}
