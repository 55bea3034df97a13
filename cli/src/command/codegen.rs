//! `volley codegen`: the TypeScript client, or an AsyncAPI or OpenRPC document, generated
//! from a server's `rpc.discover` document or from an OpenRPC file, by the generators the
//! server itself uses (`volley_codegen`, on the `Api` [`read_openrpc`] reads back).

use std::io::Read as _;
use std::path::PathBuf;

use serde_json::Value;
use volley_codegen::{Api, TypeScriptOptions, read_openrpc};

use crate::command::discover;
use crate::connect::{self, ConnectArgs};
use crate::failure::Failure;
use crate::output;

/// The path documents name when neither the source nor `--url` gives a URL: volley's
/// default WebSocket path.
const DEFAULT_PATH: &str = "/ws";

/// What to generate.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum CodegenCommand {
    /// The typed TypeScript client (an ES module over volley.js)
    #[command(after_help = TYPESCRIPT_EXAMPLES)]
    Typescript {
        /// The module specifier the client imports volley.js by
        #[arg(long, value_name = "SPECIFIER", default_value = "./volley.js")]
        volley_js: String,
        #[command(flatten)]
        source: Source,
    },
    /// The AsyncAPI 3.0 document of both directions, from the server's view
    #[command(after_help = ASYNCAPI_EXAMPLES)]
    Asyncapi {
        /// The WebSocket URL the document names (default: --from when it is a URL, else the
        /// file's `servers` entry, else the path /ws on localhost)
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        #[command(flatten)]
        source: Source,
    },
    /// The OpenRPC 1.3.2 document, as volley writes it
    #[command(after_help = OPENRPC_EXAMPLES)]
    Openrpc {
        /// The WebSocket URL the document names (default: --from when it is a URL, else the
        /// file's `servers` entry, else none)
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        #[command(flatten)]
        source: Source,
    },
}

const TYPESCRIPT_EXAMPLES: &str = "\
Examples:
  volley codegen typescript --from ws://127.0.0.1:8080/ws -o api.ts
  volley codegen typescript --from openrpc.json --volley-js volley-js > api.ts
  curl -s http://127.0.0.1:8080/openrpc.json | volley codegen typescript --from -

Save the module next to the server's /volley.js and /volley.d.ts.";

const ASYNCAPI_EXAMPLES: &str = "\
Examples:
  volley codegen asyncapi --from ws://127.0.0.1:8080/ws -o asyncapi.json
  volley codegen asyncapi --from openrpc.json --url wss://api.example.com/ws";

const OPENRPC_EXAMPLES: &str = "\
Examples:
  volley codegen openrpc --from ws://127.0.0.1:8080/ws -o openrpc.json
  volley codegen openrpc --from saved.json      (as volley writes it: extensions declared, examples made)";

/// Where the API comes from, and where the output goes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Source {
    /// A server's WebSocket URL (ws:// or wss://: its rpc.discover document), or an OpenRPC
    /// JSON file (`-`: stdin)
    #[arg(long, value_name = "URL|FILE")]
    from: String,
    /// Write to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Reads the API and writes what was asked for.
pub(crate) async fn run(command: CodegenCommand) -> Result<(), Failure> {
    let (source, text) = match command {
        CodegenCommand::Typescript { source, volley_js } => {
            let (api, _) = load(&source).await?;
            let options = TypeScriptOptions::new().volley_js(volley_js);
            let module = volley_codegen::typescript(&api, &options);
            (source, module)
        }
        CodegenCommand::Asyncapi { source, url } => {
            let (api, document) = load(&source).await?;
            let url = url
                .or_else(|| server_url(&source, &document))
                .unwrap_or_else(|| DEFAULT_PATH.to_owned());
            let document = volley_codegen::asyncapi(&api, &url);
            (source, pretty(&document))
        }
        CodegenCommand::Openrpc { source, url } => {
            let (api, document) = load(&source).await?;
            let url = url.or_else(|| server_url(&source, &document));
            let document = volley_codegen::openrpc(&api, url.as_deref());
            (source, pretty(&document))
        }
    };
    write(source.output.as_ref(), &text)
}

/// The API of `source`, and the OpenRPC document it was read from.
async fn load(source: &Source) -> Result<(Api, Value), Failure> {
    let (from, text) = if connect::is_url(&source.from) {
        let raw = discover::document(&source.from, &source.connect).await?;
        let from = format!("the rpc.discover answer of {}", source.from);
        (from, raw.get().to_owned())
    } else if source.from == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::input("cannot read stdin", e))?;
        ("stdin".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(&source.from)
            .map_err(|e| Failure::input(format!("cannot read {}", source.from), e))?;
        (source.from.clone(), text)
    };
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::input(format!("{from} is not JSON"), e))?;
    let api = read_openrpc(&document)
        .map_err(|e| Failure::input(format!("cannot read {from} as OpenRPC"), e))?;
    Ok((api, document))
}

/// The server URL of `source`: itself when it is a URL, else its document's first
/// `servers` entry.
fn server_url(source: &Source, document: &Value) -> Option<String> {
    if connect::is_url(&source.from) {
        return Some(source.from.clone());
    }
    document
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A document as `{:#}` writes it, with a final line break.
fn pretty(document: &Value) -> String {
    format!("{document:#}\n")
}

/// Writes `text` to `path`, or to stdout.
fn write(path: Option<&PathBuf>, text: &str) -> Result<(), Failure> {
    match path {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| Failure::input(format!("cannot write {}", path.display()), e))?;
            output::progress(&format!("wrote {}", path.display()));
            Ok(())
        }
        None => {
            output::stdout(text.strip_suffix('\n').unwrap_or(text));
            Ok(())
        }
    }
}
