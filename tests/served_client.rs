//! What a newcomer gets is what the tests check: a TypeScript client generated for a new
//! service type-checks with `tsc --strict` against exactly the `volley.js` and `volley.d.ts`
//! a running server serves (fetched over HTTP, not copied from the repository), and a wrong
//! call against the same files is refused.
//!
//! The service is written the way a newcomer would: named structs, an error enum, a
//! namespace, notifications both ways and a callback the server awaits.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use volley::codegen::TypeScriptOptions;
use volley::{ErrorObject, Server, schemars};
use volley_testing::{http, typescript, workspace_root};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A bid on one lot.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bid {
    /// The lot bid on.
    pub lot: u32,
    /// The amount, in cents.
    pub amount: u64,
}

/// What a bid got.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Receipt {
    /// The lot.
    pub lot: u32,
    /// Whether the bid now leads.
    pub leading: bool,
    /// A remark from the auctioneer.
    pub note: Option<String>,
}

/// Why a bid was refused.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AuctionError {
    /// Below the current price.
    TooLow {
        /// The least that would be accepted.
        minimum: u64,
    },
    /// The lot is closed.
    Closed,
}

impl From<AuctionError> for ErrorObject {
    fn from(e: AuctionError) -> Self {
        let code = match e {
            AuctionError::TooLow { .. } => 4001,
            AuctionError::Closed => 4002,
        };
        ErrorObject::owned(code, "bid refused", Some(e))
    }
}

/// The auction house.
#[volley::rpc(namespace = "auction")]
pub trait Auction {
    /// Places a [`Bid`]; the bidder is asked to [`Bidder::confirm`] a large one.
    async fn bid(&self, cx: &volley::Context, bid: Bid) -> Result<Receipt, AuctionError>;
    /// Follows a lot: outbid notices arrive as [`Bidder::outbid`].
    #[rpc(notification)]
    async fn watch(&self, lot: u32);
}

/// What every bidder's browser serves.
#[volley::rpc]
pub trait Bidder {
    /// Asks the bidder a yes/no question.
    async fn confirm(&self, question: String) -> volley::Result<bool>;
    /// Someone bid more.
    #[rpc(notification)]
    async fn outbid(&self, lot: u32, by: u64);
}

struct House;

impl Auction for House {
    async fn bid(&self, cx: &volley::Context, bid: Bid) -> Result<Receipt, AuctionError> {
        if bid.amount < 100 {
            return Err(AuctionError::TooLow { minimum: 100 });
        }
        let sure = BidderClient::new(cx.peer())
            .confirm(format!("bid {} on lot {}?", bid.amount, bid.lot))
            .await
            .unwrap_or(false);
        Ok(Receipt {
            lot: bid.lot,
            leading: sure,
            note: None,
        })
    }

    async fn watch(&self, _lot: u32) {}
}

/// How an application uses the generated module.
const APP: &str = r#"import * as auction from "./auction.js";
import { RpcError } from "./volley.js";

export async function run(url: string): Promise<number> {
  const outbid: number[] = [];
  const api = await auction.connectApi(url, {
    confirm: ({ question }) => question.endsWith("?"),
    outbid: ({ lot, by }) => {
      outbid.push(lot + by);
    },
  });
  const receipt: auction.Receipt = await api.server.auction.bid({ bid: { lot: 7, amount: 250 } });
  const note: string | null | undefined = receipt.note;
  api.server.auction.watch({ lot: receipt.lot });
  try {
    await api.server.auction.bid({ bid: { lot: 7, amount: 1 } });
  } catch (e) {
    if (e instanceof RpcError) outbid.push(e.code);
  }
  api.peer.close();
  return outbid.length + (receipt.leading ? 1 : 0) + (note ? 1 : 0);
}
"#;

/// A call a type checker must refuse: the amount is a string.
const BAD: &str = r#"import * as auction from "./auction.js";

export async function run(api: auction.Api): Promise<void> {
  await api.server.auction.bid({ bid: { lot: 7, amount: "lots" } });
}
"#;

/// tsc on `project` (a tsconfig.json), under a deadline.
async fn tsc(project: &Path) -> Output {
    let run = tokio::process::Command::new("node")
        .arg(typescript::tsc())
        .arg("-p")
        .arg(project)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("tsc finished in time")
        .expect("run node")
}

/// A strict tsconfig.json in `dir` checking `files`.
fn project(dir: &Path, name: &str, files: &[&str]) -> PathBuf {
    let config = serde_json::json!({
        "compilerOptions": {
            "strict": true,
            "noEmit": true,
            "target": "ES2022",
            "module": "NodeNext",
            "moduleResolution": "NodeNext",
            "lib": ["ES2022", "DOM"],
            "types": [],
            "noUnusedLocals": true,
            "noUnusedParameters": true,
            "noImplicitReturns": true,
            "exactOptionalPropertyTypes": true,
        },
        "files": files,
    });
    let path = dir.join(name);
    std::fs::write(&path, config.to_string()).expect("write tsconfig");
    path
}

#[tokio::test]
async fn a_generated_client_type_checks_against_what_the_server_serves() {
    let server = Server::builder()
        .add_service(House.into_service())
        .add_remote_service::<BidderClient>()
        .build();
    let running = tokio::time::timeout(TIMEOUT, server.listen("127.0.0.1:0"))
        .await
        .expect("listen in time")
        .expect("listen");
    let addr = running.local_addr();

    let js = http::get(addr, "/volley.js").await;
    assert_eq!(js.status, 200);
    assert!(
        js.headers["content-type"].starts_with("text/javascript"),
        "{js:?}"
    );
    assert_eq!(js.body, volley::VOLLEY_JS);
    let dts = http::get(addr, "/volley.d.ts").await;
    assert_eq!(dts.status, 200);
    assert!(
        dts.headers["content-type"].starts_with("application/typescript"),
        "{dts:?}"
    );
    assert_eq!(dts.body, volley::VOLLEY_D_TS);
    tokio::time::timeout(TIMEOUT, running.shutdown())
        .await
        .expect("shut down in time");

    let module = volley::codegen::typescript(server.api(), &TypeScriptOptions::default());
    // Doc comments reach the module as plain text.
    assert!(module.contains("Places a `Bid`"), "{module}");
    assert!(!module.contains("[`Bid`]"), "{module}");

    if !typescript::ready() {
        return;
    }
    let dir = workspace_root()
        .join("target/served-client")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).expect("create the project directory");
    for (name, text) in [
        ("volley.js", js.body.as_str()),
        ("volley.d.ts", dts.body.as_str()),
        ("auction.ts", module.as_str()),
        ("app.ts", APP),
        ("bad.ts", BAD),
        ("package.json", r#"{ "type": "module" }"#),
    ] {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
    }

    let good = tsc(&project(&dir, "tsconfig.json", &["auction.ts", "app.ts"])).await;
    assert!(
        good.status.success(),
        "tsc --strict refused the generated client:\n{}{}",
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr)
    );
    let bad = tsc(&project(
        &dir,
        "tsconfig.bad.json",
        &["auction.ts", "bad.ts"],
    ))
    .await;
    let said = String::from_utf8_lossy(&bad.stdout);
    assert!(!bad.status.success(), "tsc accepted a string amount");
    assert!(
        said.contains("bad.ts") && said.contains("TS2322"),
        "expected a type error in bad.ts, got:\n{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
