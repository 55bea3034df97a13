//! The generated TypeScript client: snapshots of the modules for the test APIs, `tsc --strict`
//! over `tests/ts/good.ts` (must pass) and `tests/ts/bad/*.ts` (each must fail with the error
//! its `// expect-error:` lines name), and Node scripts using generated clients against a
//! real server, in both directions: calls (`e2e.mjs`) and streams (`streams.mjs`).
//!
//! The tsc and Node tests need Node >= 20 and `npm ci` in tests/ts; without them they print
//! `SKIPPED: ...` and pass, unless `VOLLEY_REQUIRE_ALL=1`. `VOLLEY_UPDATE_SNAPSHOTS=1`
//! rewrites the snapshots. (Each example type-checks its own module in its
//! `tests/documents.rs`.)

#![allow(missing_docs)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::services::{BrowserClient, Calc, Calculator, CalculatorClient};
use common::t;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use volley::codegen::{Side, TypeScriptOptions};
use volley::describe::ServiceDescription;
use volley::{Context, Error, ItemStream, PeerEvent, RemoteService, Server, schemars};
use volley_testing::{snapshot, typescript};

// ---------------------------------------------------------------------------------------
// A richer API: structs, enums of every serde representation, Option, tuples, maps,
// recursion, generics, renamed fields and types, namespaces in both directions.

/// A point on the plane.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub struct Point {
    /// Horizontal, growing to the right.
    pub x: f64,
    /// Vertical, growing downwards.
    pub y: f64,
}

/// A shape, tagged by `kind`.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A circle around `center`.
    Circle { center: Point, radius: f64 },
    /// A closed polygon.
    Polygon { points: Vec<Point> },
    /// Nothing at all.
    Empty,
}

/// A named color.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub enum Color {
    Red,
    Green,
    Blue,
}

/// A drawing's id, or its title.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
#[serde(untagged)]
pub enum IdOrTitle {
    Id(u64),
    Title(String),
}

/// What changed, externally tagged.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub enum Change {
    /// Moved by an offset.
    Moved(Point),
    Renamed {
        from: String,
        to: String,
    },
    Recolored(Color, Color),
    Reset,
}

/// Distance in meters.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub struct Meters(pub f64);

/// A drawing.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub struct Drawing {
    /// Unique, assigned by the server.
    pub id: u64,
    /// Shown in lists; untitled drawings have none.
    pub title: Option<String>,
    pub shapes: Vec<Shape>,
    /// Free-form labels.
    pub tags: BTreeMap<String, String>,
    /// Top-left corner, in pixels.
    pub origin: (i32, i32),
    pub color: Color,
    /// The drawing this one was copied from.
    pub parent: Option<Box<Drawing>>,
    #[serde(rename = "z-index")]
    pub z_index: i8,
    pub scale: Meters,
    pub extra: Value,
    #[serde(default)]
    pub history: Vec<Change>,
}

/// One page of results.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; none on the last page.
    pub next: Option<String>,
}

/// The server's version (its name clashes with the generated `Api`).
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub struct Api {
    pub version: String,
}

/// A type whose schema name is not an identifier.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
#[serde(rename = "weird name-1")]
pub struct Weird {
    #[serde(rename = "0")]
    pub zero: bool,
}

/// Stores drawings.
#[volley::rpc(namespace = "draw")]
pub trait Drawings {
    /// Creates a drawing. Its params travel by position.
    #[rpc(params = "positional")]
    async fn create(
        &self,
        title: Option<String>,
        shapes: Vec<Shape>,
        origin: (i32, i32),
    ) -> volley::Result<Drawing>;
    /// Finds a drawing.
    async fn get(&self, id: IdOrTitle) -> volley::Result<Option<Drawing>>;
    /// The bounding box of a shape: top-left and bottom-right.
    async fn bounds(&self, shape: Shape) -> volley::Result<(Point, Point)>;
    /// Lists drawings, a page at a time.
    async fn list(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> volley::Result<Page<Drawing>>;
    /// Counts drawings per color.
    async fn census(&self) -> volley::Result<HashMap<String, u32>>;
    /// The server's version.
    async fn version(&self) -> volley::Result<Api>;
    /// A strange type.
    async fn weird(&self, weird: Weird) -> volley::Result<Weird>;
    /// Marks a drawing as seen.
    #[rpc(notification)]
    async fn touch(&self, id: u64);
    /// Removes every layer.
    #[rpc(name = "layers.clear", requires = "editor")]
    async fn clear_layers(&self, drawing: u64) -> volley::Result<()>;
    /// Every change to a drawing from now on.
    #[rpc(stream, timeout = "2s")]
    async fn subscribe_changes(&self, drawing: u64) -> volley::Result<ItemStream<Change>>;
}

/// What the drawing client does for the server.
#[volley::rpc(namespace = "ui")]
pub trait Viewer {
    /// Asks the user to pick one of `choices`.
    async fn pick_color(&self, choices: Vec<Color>) -> volley::Result<Color>;
    /// Something changed on the server.
    #[rpc(notification)]
    async fn changed(&self, drawing: u64, change: Change);
    /// Where the pointer is, until the server stops watching.
    #[rpc(stream)]
    async fn subscribe_pointer(&self) -> volley::Result<ItemStream<Point>>;
}

/// A click, at a position on the screen.
#[derive(Serialize, Deserialize, volley::JsonSchema)]
pub struct Click {
    pub x: i32,
    pub y: i32,
}

/// Streams the server serves, for the generated client in Node.
#[volley::rpc]
pub trait Feed {
    /// `count` numbers from `from`, then the end.
    #[rpc(stream)]
    async fn subscribe_numbers(&self, from: u64, count: u64) -> volley::Result<ItemStream<u64>>;
    /// Words, until the caller stops listening.
    #[rpc(stream, item = "word", unsubscribe = "stop_words")]
    async fn words(&self, prefix: Option<String>) -> volley::Result<ItemStream<String>>;
    /// Opens the caller's `clicks` stream and adds up `x + y` of every click.
    async fn sum_clicks(&self, cx: &Context, count: u32) -> volley::Result<i64>;
}

/// A stream the client serves.
#[volley::rpc]
pub trait Pointer {
    /// `count` clicks, then the end.
    #[rpc(stream)]
    async fn subscribe_clicks(&self, count: u32) -> volley::Result<ItemStream<Click>>;
}

/// The server of `Feed`; tells `gone` when a `words` stream's consumer went away.
struct Feeder {
    gone: mpsc::UnboundedSender<()>,
}

impl Feed for Feeder {
    async fn subscribe_numbers(&self, from: u64, count: u64) -> volley::Result<ItemStream<u64>> {
        Ok(ItemStream::iter(from..from + count))
    }

    async fn words(&self, prefix: Option<String>) -> volley::Result<ItemStream<String>> {
        let (tx, items) = ItemStream::channel(4);
        let gone = self.gone.clone();
        let prefix = prefix.unwrap_or_else(|| "word".to_owned());
        tokio::spawn(async move {
            for n in 0.. {
                tokio::select! {
                    _ = tx.closed() => break,
                    sent = tx.send(format!("{prefix}{n}")) => if sent.is_err() { break },
                }
            }
            let _ = gone.send(());
        });
        Ok(items)
    }

    async fn sum_clicks(&self, cx: &Context, count: u32) -> volley::Result<i64> {
        let mut clicks = PointerClient::new(cx.peer())
            .subscribe_clicks(count)
            .await?;
        let mut sum = 0;
        while let Some(click) = clicks.next().await {
            let click = click?;
            sum += i64::from(click.x) + i64::from(click.y);
        }
        Ok(sum)
    }
}

fn description<C: RemoteService>() -> &'static ServiceDescription {
    C::DESCRIPTION
}

/// The TypeScript module of a server serving `server` whose clients serve `client`.
fn typescript(
    server: &[&'static ServiceDescription],
    client: &[&'static ServiceDescription],
    options: &TypeScriptOptions,
) -> String {
    let api = volley::codegen::Api::new(Side::Server)
        .with_served(server.iter().copied())
        .with_remote(client.iter().copied());
    volley::codegen::typescript(&api, options)
}

/// The module for the shared test API (`Calculator` served by the server, `Browser` by
/// the client).
fn calc_module() -> String {
    typescript(
        &[description::<CalculatorClient>()],
        &[description::<BrowserClient>()],
        &TypeScriptOptions::default(),
    )
}

fn drawing_module() -> String {
    typescript(
        &[description::<DrawingsClient>()],
        &[description::<ViewerClient>()],
        &TypeScriptOptions::default(),
    )
}

fn streams_module() -> String {
    typescript(
        &[description::<FeedClient>()],
        &[description::<PointerClient>()],
        &TypeScriptOptions::default(),
    )
}

// ---------------------------------------------------------------------------------------
// Snapshots

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn generated_modules_match_their_snapshots() {
    let dir = root().join("tests/snapshots");
    snapshot::assert_all(
        [
            snapshot::check(&dir.join("typescript_calc.ts.snap"), &calc_module()),
            snapshot::check(&dir.join("typescript_drawing.ts.snap"), &drawing_module()),
            snapshot::check(&dir.join("typescript_streams.ts.snap"), &streams_module()),
        ],
        "cargo test -p volley --test typescript",
    );
}

#[test]
fn generation_is_deterministic_and_the_import_is_configurable() {
    assert_eq!(drawing_module(), drawing_module());
    let module = typescript(
        &[description::<CalculatorClient>()],
        &[],
        &TypeScriptOptions::new().volley_js("https://example.com/volley.js"),
    );
    assert!(
        module.contains("import * as volley from \"https://example.com/volley.js\";"),
        "{module}"
    );
    assert!(
        module.contains("export interface ClientHandlers {}"),
        "{module}"
    );
    assert!(
        module.contains("handlers: ClientHandlers = {},"),
        "{module}"
    );
}

#[test]
fn the_server_generates_the_module_of_both_directions() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_remote_service::<BrowserClient>()
        .build();
    assert_eq!(
        volley::codegen::typescript(server.api(), &TypeScriptOptions::default()),
        calc_module()
    );
}

// ---------------------------------------------------------------------------------------
// tsc and node

fn ts_dir() -> PathBuf {
    root().join("tests/ts")
}

/// Writes tests/ts/generated/ afresh (the two modules and a copy of volley.js with its
/// types), once per test run.
fn generated_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = ts_dir().join("generated");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create tests/ts/generated");
        std::fs::write(dir.join("calc.ts"), calc_module()).expect("write calc.ts");
        std::fs::write(dir.join("drawing.ts"), drawing_module()).expect("write drawing.ts");
        std::fs::write(dir.join("streams.ts"), streams_module()).expect("write streams.ts");
        for file in ["volley.js", "volley.d.ts"] {
            std::fs::copy(root().join("server/js").join(file), dir.join(file))
                .unwrap_or_else(|e| panic!("copy server/js/{file}: {e}"));
        }
        dir
    })
}

/// Runs node with `args` in tests/ts, under a deadline.
async fn node(args: &[&str], deadline: Duration) -> Output {
    let run = tokio::process::Command::new("node")
        .args(args)
        .current_dir(ts_dir())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(deadline, run)
        .await
        .unwrap_or_else(|_| panic!("node {args:?} took longer than {deadline:?}"))
        .expect("run node")
}

/// tsc's diagnostics, by file (continuation lines joined to their error).
fn diagnostics(output: &Output) -> BTreeMap<String, Vec<String>> {
    let text = String::from_utf8_lossy(&output.stdout);
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if let Some(at) = line.find(": error TS") {
            let file = line[..at]
                .rsplit_once('(')
                .map_or(&line[..at], |(f, _)| f)
                .to_owned();
            by_file
                .entry(file.clone())
                .or_default()
                .push(line.to_owned());
            last = Some(file);
        } else if let (Some(file), true) = (&last, line.starts_with(' ')) {
            if let Some(message) = by_file.get_mut(file).and_then(|v| v.last_mut()) {
                message.push('\n');
                message.push_str(line);
            }
        } else if !line.trim().is_empty() {
            by_file
                .entry("<tsc>".into())
                .or_default()
                .push(line.to_owned());
        }
    }
    by_file
}

/// The source text from the position of a tsc error (`file(line,col): error ...`) on.
fn text_at<'s>(source: &'s str, error: &str) -> Option<&'s str> {
    let (_, rest) = error.split_once('(')?;
    let (position, _) = rest.split_once(')')?;
    let (line, column) = position.split_once(',')?;
    let line: usize = line.parse().ok()?;
    let column: usize = column.parse().ok()?;
    let text = source.lines().nth(line.checked_sub(1)?)?;
    text.get(column.checked_sub(1)?..)
}

const TSC_DEADLINE: Duration = Duration::from_secs(180);

#[tokio::test]
async fn good_ts_type_checks_and_every_bad_ts_fails_with_its_error() {
    if !typescript::ready() {
        return;
    }
    generated_dir();
    let tsc = typescript::tsc();
    let tsc = tsc.to_str().expect("a UTF-8 path");

    let good = node(
        &[tsc, "-p", "tsconfig.json", "--pretty", "false"],
        TSC_DEADLINE,
    )
    .await;
    assert!(
        good.status.success(),
        "tsc -p tests/ts/tsconfig.json failed:\n{}{}",
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr)
    );

    let bad = node(
        &[tsc, "-p", "tsconfig.bad.json", "--pretty", "false"],
        TSC_DEADLINE,
    )
    .await;
    assert!(!bad.status.success(), "the bad files type-checked");
    let errors = diagnostics(&bad);
    let mut files: Vec<PathBuf> = std::fs::read_dir(ts_dir().join("bad"))
        .expect("read tests/ts/bad")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ts"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the bad/*.ts files, found {files:?}"
    );
    let mut checked = Vec::new();
    for path in &files {
        let name = format!(
            "bad/{}",
            path.file_name().and_then(|n| n.to_str()).expect("a name")
        );
        let source = std::fs::read_to_string(path).expect("read a bad file");
        let marked = |prefix: &str| -> Vec<String> {
            source
                .lines()
                .filter_map(|l| l.trim().strip_prefix(prefix))
                .map(|l| l.trim().to_owned())
                .collect()
        };
        let messages = marked("// expect-error:");
        let at = marked("// expect-error-at:");
        assert!(
            !messages.is_empty(),
            "{name} has no `// expect-error:` line"
        );
        let found = errors.get(&name).cloned().unwrap_or_default();
        let [error] = found.as_slice() else {
            panic!(
                "{name}: expected exactly one error, tsc said:\n{}",
                found.join("\n")
            );
        };
        for want in &messages {
            assert!(
                error.contains(want.as_str()),
                "{name}: the error does not mention {want:?}; tsc said:\n{error}"
            );
        }
        for want in &at {
            let text =
                text_at(&source, error).unwrap_or_else(|| panic!("{name}: no position in {error}"));
            assert!(
                text.starts_with(want.as_str()),
                "{name}: the error is not at `{want}` but at `{}`; tsc said:\n{error}",
                text.lines().next().unwrap_or_default()
            );
        }
        checked.push(name);
    }
    let strays: Vec<&String> = errors.keys().filter(|f| !checked.contains(f)).collect();
    assert!(
        strays.is_empty(),
        "errors outside the bad files: {strays:?}\n{errors:#?}"
    );
}

/// Compiles the generated modules the Node scripts use to tests/ts/generated/js/, with a
/// copy of volley.js beside them, once per test run.
async fn emit() {
    static EMITTED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    EMITTED
        .get_or_init(|| async {
            let dir = generated_dir();
            let tsc = typescript::tsc();
            let emit = node(
                &[
                    tsc.to_str().expect("a UTF-8 path"),
                    "-p",
                    "tsconfig.emit.json",
                    "--pretty",
                    "false",
                ],
                TSC_DEADLINE,
            )
            .await;
            assert!(
                emit.status.success(),
                "tsc -p tsconfig.emit.json failed:\n{}",
                String::from_utf8_lossy(&emit.stdout)
            );
            std::fs::copy(dir.join("volley.js"), dir.join("js/volley.js")).expect("copy volley.js");
        })
        .await;
}

/// The generated client in Node against a real server: calls by nested name and by wire
/// name, optional params left out, an application error, a notification, a callback in the
/// middle of a call; and the handlers it installs take params by position and refuse extra
/// positions and unknown names with -32602.
#[tokio::test]
async fn the_generated_client_talks_to_a_real_server_both_ways() {
    if !typescript::ready() {
        return;
    }
    emit().await;

    let (calc, mut logs) = Calc::logging();
    let server = Server::builder()
        .add_service(calc.into_service())
        .add_remote_service::<BrowserClient>()
        .build();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");

    let mut child = tokio::process::Command::new("node")
        .arg("e2e.mjs")
        .arg(running.ws_url())
        .current_dir(ts_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node e2e.mjs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stderr = child.stderr.take().expect("stderr");

    let PeerEvent::Connected(peer) = t(events.recv()).await.expect("peer events") else {
        panic!("expected e2e.mjs to connect")
    };
    let line = t(lines.next_line()).await.expect("read stdout");
    if line.as_deref() != Some("calls ok") {
        let mut err = String::new();
        let _ = t(tokio::io::AsyncReadExt::read_to_string(
            &mut stderr,
            &mut err,
        ))
        .await;
        panic!("e2e.mjs said {line:?}\n{err}");
    }
    assert_eq!(t(logs.recv()).await.as_deref(), Some("from typescript"));

    // The client's handlers, called by position and by name.
    let by_position: bool = t(peer.call("confirm", &json!(["yes?"])))
        .await
        .expect("confirm");
    assert!(by_position);
    let by_name: bool = t(peer.call("confirm", &json!({ "question": "no?" })))
        .await
        .expect("confirm");
    assert!(!by_name);
    for params in [json!(["a", "b"]), json!({ "question": "x", "nope": 1 })] {
        match t(peer.call::<_, bool>("confirm", &params)).await {
            Err(Error::Remote(e)) => assert_eq!(e.code(), -32602, "{params}: {e:?}"),
            other => panic!("{params}: expected -32602, got {other:?}"),
        }
    }
    // `tick(3)` tells the script to finish.
    t(BrowserClient::new(&peer).tick(3)).await.expect("tick");
    let last = t(lines.next_line()).await.expect("read stdout");
    assert_eq!(last.as_deref(), Some("done ticks=[3]"));
    let status = t(child.wait()).await.expect("wait for node");
    assert!(status.success(), "e2e.mjs exited with {status}");
    t(running.shutdown()).await;
}

/// The generated client's streams in Node against a real server: one the server ends, the
/// same by wire name, one the script leaves early (the server's producer sees the cancel),
/// and one the script serves with an async generator that the server consumes.
#[tokio::test]
async fn the_generated_client_streams_both_ways() {
    if !typescript::ready() {
        return;
    }
    emit().await;
    let (gone, mut gone_rx) = mpsc::unbounded_channel();
    let server = Server::builder()
        .add_service(Feeder { gone }.into_service())
        .add_remote_service::<PointerClient>()
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let run = tokio::process::Command::new("node")
        .arg("streams.mjs")
        .arg(running.ws_url())
        .current_dir(ts_dir())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("streams.mjs took longer than 30 s")
        .expect("run node streams.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.lines().any(|l| l == "streams ok"),
        "streams.mjs failed ({}):\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // Leaving the loop early unsubscribed: the server's producer saw its consumer go.
    t(gone_rx.recv()).await.expect("the words producer stopped");
    t(running.shutdown()).await;
}
