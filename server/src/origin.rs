//! Which pages may open a WebSocket: the check against cross-site WebSocket hijacking.
//!
//! A browser sends `Origin` with every WebSocket upgrade and attaches the user's cookies, so
//! a page on another site could otherwise act as the user. By default an upgrade is accepted
//! when it has no `Origin` (a program, not a browser), when its origin is the server's own
//! (scheme, host and port as the request reached the server), or when the origin is on the
//! allowlist; anything else gets 403 before the upgrade.

use axum::http::{HeaderMap, header};

/// How upgrades are checked against their `Origin` header.
#[derive(Debug, Clone, Default)]
pub(crate) struct OriginPolicy {
    /// Origins accepted besides the server's own, normalised.
    pub(crate) allowed: Vec<String>,
    /// Whether `X-Forwarded-Proto`/`X-Forwarded-Host`/`Forwarded` say how the request reached
    /// the server (only behind a proxy that sets them; otherwise a client could).
    pub(crate) behind_proxy: bool,
    /// Every origin is accepted (development only).
    pub(crate) any: bool,
}

impl OriginPolicy {
    /// Whether an upgrade with these headers may proceed; `tls` when the server itself
    /// terminated TLS for it.
    pub(crate) fn accepts(&self, headers: &HeaderMap, tls: bool) -> Result<(), String> {
        if self.any {
            return Ok(());
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let Some(origin) = origin.to_str().ok().and_then(normalise) else {
            return Err("origin not allowed".to_owned());
        };
        if self.allowed.contains(&origin) || self.own_origin(headers, tls).as_ref() == Some(&origin)
        {
            Ok(())
        } else {
            Err(format!("origin {origin} not allowed"))
        }
    }

    /// The server's own origin as this request reached it.
    fn own_origin(&self, headers: &HeaderMap, tls: bool) -> Option<String> {
        let text = |name: &str| first_value(headers, name);
        let forwarded = self
            .behind_proxy
            .then(|| text("forwarded").map(parse_forwarded))
            .flatten()
            .unwrap_or_default();
        let proxy = |name| self.behind_proxy.then(|| text(name)).flatten();
        let scheme = forwarded
            .0
            .or_else(|| proxy("x-forwarded-proto").map(str::to_owned))
            .unwrap_or_else(|| if tls { "https" } else { "http" }.to_owned());
        let host = forwarded
            .1
            .or_else(|| proxy("x-forwarded-host").map(str::to_owned))
            .or_else(|| text(header::HOST.as_str()).map(str::to_owned))?;
        normalise(&format!("{scheme}://{host}"))
    }
}

/// The first value of header `name` (before any comma: proxies append theirs), trimmed; `None`
/// when absent or empty.
pub(crate) fn first_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `proto` and `host` of the first element of a `Forwarded` header (RFC 7239).
fn parse_forwarded(value: &str) -> (Option<String>, Option<String>) {
    let mut proto = None;
    let mut host = None;
    for pair in value.split(';') {
        let Some((key, val)) = pair.split_once('=') else {
            continue;
        };
        let val = val.trim().trim_matches('"').to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "proto" => proto = Some(val),
            "host" => host = Some(val),
            _ => {}
        }
    }
    (proto, host)
}

/// An origin as `scheme://host[:port]`, lower case, without a default port or a trailing
/// slash; `None` for what is not an http(s) origin (`null`, a path, another scheme).
pub(crate) fn normalise(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = origin.split_once("://")?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains(['/', '?', '#', '@'])
    {
        return None;
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = rest.strip_suffix(default_port).unwrap_or(rest);
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn origins_normalise_to_scheme_host_and_port() {
        assert_eq!(
            normalise("HTTPS://App.Example.com/").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            normalise("https://a.test:443").as_deref(),
            Some("https://a.test")
        );
        assert_eq!(
            normalise("http://a.test:80").as_deref(),
            Some("http://a.test")
        );
        assert_eq!(
            normalise("http://a.test:8080").as_deref(),
            Some("http://a.test:8080")
        );
        for bad in [
            "null",
            "file://",
            "a.test",
            "ftp://a.test",
            "http://a.test/x",
            "http://u@a.test",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_servers_own_origin_is_accepted_and_others_refused() {
        let policy = OriginPolicy::default();
        let own = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(policy.accepts(&own, false).is_ok());
        let tls = headers(&[("host", "api.test"), ("origin", "https://api.test")]);
        assert!(
            policy.accepts(&tls, false).is_err(),
            "http server, https origin"
        );
        assert!(policy.accepts(&tls, true).is_ok());
        let other = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8081"),
        ]);
        assert!(policy.accepts(&other, false).is_err());
        let none = headers(&[("host", "127.0.0.1:8080")]);
        assert!(
            policy.accepts(&none, false).is_ok(),
            "no Origin: not a browser"
        );
        let null = headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]);
        assert!(policy.accepts(&null, false).is_err());
    }

    #[test]
    fn proxy_headers_count_only_behind_a_proxy() {
        let request = headers(&[
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "app.example.com"),
            ("origin", "https://app.example.com"),
        ]);
        assert!(OriginPolicy::default().accepts(&request, false).is_err());
        let proxied = OriginPolicy {
            behind_proxy: true,
            ..OriginPolicy::default()
        };
        assert!(proxied.accepts(&request, false).is_ok());
        let forwarded = headers(&[
            ("host", "10.0.0.5:8080"),
            (
                "forwarded",
                "for=1.2.3.4;proto=https;host=\"app.example.com\", for=5.6.7.8",
            ),
            ("origin", "https://app.example.com"),
        ]);
        assert!(proxied.accepts(&forwarded, false).is_ok());
    }

    #[test]
    fn the_allowlist_and_the_opt_out() {
        let request = headers(&[("host", "api.test"), ("origin", "https://app.test")]);
        let allowed = OriginPolicy {
            allowed: vec!["https://app.test".into()],
            ..OriginPolicy::default()
        };
        assert!(allowed.accepts(&request, false).is_ok());
        let any = OriginPolicy {
            any: true,
            ..OriginPolicy::default()
        };
        assert!(any.accepts(&request, false).is_ok());
    }
}
