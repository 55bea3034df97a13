//! Reaching a server: the options every command takes ([`ConnectArgs`]) and the client they
//! make ([`connect`], [`close`]).
//!
//! The client is the volley Rust client with reconnection and session resumption off: one
//! plain WebSocket connection, which any JSON-RPC 2.0 server accepts.

use std::path::PathBuf;
use std::time::Duration;

use volley_client::{Client, Reconnect};
use volley_core::{PeerConfig, Service};

use crate::failure::Failure;
use crate::output;

/// How long to wait for the connection, and then for each answer, when `--timeout` is not
/// given.
pub(crate) const DEFAULT_TIMEOUT: &str = "30";

/// How to reach the server.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Connection")]
pub(crate) struct ConnectArgs {
    /// Add a header to the WebSocket upgrade request (repeatable)
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE", value_parser = parse_header)]
    headers: Vec<Header>,
    /// Send `Authorization: Bearer TOKEN` with the upgrade request
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Trust the certificates in this PEM file for wss://, besides the usual web roots (a
    /// private CA, or a server's self-signed certificate)
    #[arg(long, value_name = "PEM_FILE")]
    ca: Option<PathBuf>,
    /// How long to wait for the connection (TCP, TLS and the WebSocket handshake), and then
    /// for each answer
    #[arg(long, value_name = "SECONDS", default_value = DEFAULT_TIMEOUT, value_parser = parse_timeout)]
    pub(crate) timeout: Duration,
}

/// One `--header`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    name: String,
    value: String,
}

fn parse_header(text: &str) -> Result<Header, String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => Ok(Header {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
        }),
        _ => Err(format!("expected NAME:VALUE, got `{text}`")),
    }
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("expected a number of seconds, got `{text}`"))?;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a positive number of seconds, got `{text}`"))
}

/// Dials `url`, serving `service` to the server when there is one (the `--answer`s).
pub(crate) async fn connect(
    url: &str,
    args: &ConnectArgs,
    service: Option<Service>,
) -> Result<Client, Failure> {
    connect_with(url, args, service, None).await
}

/// [`connect`], dialing again as `reconnect` says when the connection is lost (`None`: the
/// connection ends with its first socket).
pub(crate) async fn connect_with(
    url: &str,
    args: &ConnectArgs,
    service: Option<Service>,
    reconnect: Option<Reconnect>,
) -> Result<Client, Failure> {
    let mut builder = Client::builder()
        .reconnect(reconnect)
        .resumption(None)
        .connect_timeout(args.timeout)
        .peer_config(PeerConfig::default().request_timeout(args.timeout));
    for header in &args.headers {
        builder = builder.header(&header.name, &header.value);
    }
    if let Some(token) = &args.token {
        builder = builder.bearer_token(token);
    }
    if let Some(path) = &args.ca {
        let pem = std::fs::read(path)
            .map_err(|e| Failure::input(format!("cannot read {}", path.display()), e))?;
        builder = builder.add_root_certificate_pem(pem);
    }
    if let Some(service) = service {
        builder = builder.add_service(service);
    }
    output::progress(&format!("connecting to {url}"));
    let client = builder
        .connect(url)
        .await
        .map_err(|source| Failure::Connect {
            url: url.to_owned(),
            source,
        })?;
    output::progress(&format!("connected to {url}"));
    Ok(client)
}

/// Closes the connection cleanly (what was queued is written, then the close frame) and
/// waits, up to `timeout`, until it is closed; false when it was not closed in time.
pub(crate) async fn close(client: &Client, timeout: Duration) -> bool {
    client.close();
    tokio::time::timeout(timeout, client.closed()).await.is_ok()
}

/// Whether `source` names a server (`ws://` or `wss://`) rather than a file.
pub(crate) fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("ws://") || lower.starts_with("wss://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_timeouts_are_read() {
        assert_eq!(
            parse_header("X-Trace: a:b"),
            Ok(Header {
                name: "X-Trace".into(),
                value: "a:b".into()
            })
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": empty name").is_err());
        assert_eq!(parse_timeout("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("-1").is_err());
        assert!(parse_timeout("soon").is_err());
        assert!(is_url("WSS://example.com/ws"));
        assert!(!is_url("api.json"));
    }
}
