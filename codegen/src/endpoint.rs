//! Where a document says the WebSocket is.

/// A WebSocket endpoint: `ws://host:port/path`, `wss://...`, or just a path (`/ws`, host
/// unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `ws` or `wss`.
    pub(crate) protocol: String,
    /// `host:port`, when known.
    pub(crate) host: Option<String>,
    /// The path, starting with `/`.
    pub(crate) path: String,
}

impl Endpoint {
    pub(crate) fn parse(url: &str) -> Self {
        let url = url.trim();
        let (protocol, rest) = match url.split_once("://") {
            Some((scheme, rest)) => {
                let protocol = match scheme.to_ascii_lowercase().as_str() {
                    "wss" | "https" => "wss",
                    _ => "ws",
                };
                (protocol.to_owned(), Some(rest))
            }
            None => ("ws".to_owned(), None),
        };
        let (host, path) = match rest {
            Some(rest) => match rest.find(['/', '?', '#']) {
                Some(i) => (Some(rest[..i].to_owned()), &rest[i..]),
                None => (Some(rest.to_owned()), ""),
            },
            None => (None, url),
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        Self {
            protocol,
            host: host.filter(|h| !h.is_empty()),
            path,
        }
    }

    /// The full URL, when the host is known.
    pub(crate) fn url(&self) -> Option<String> {
        self.host
            .as_ref()
            .map(|h| format!("{}://{h}{}", self.protocol, self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("ws://127.0.0.1:8080/ws");
        assert_eq!(e.protocol, "ws");
        assert_eq!(e.host.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(e.path, "/ws");
        assert_eq!(e.url().as_deref(), Some("ws://127.0.0.1:8080/ws"));
        let e = Endpoint::parse("wss://example.com");
        assert_eq!((e.protocol.as_str(), e.path.as_str()), ("wss", "/"));
        let e = Endpoint::parse("/rpc?x=1");
        assert_eq!((e.host, e.path.as_str()), (None, "/rpc"));
        assert_eq!(Endpoint::parse("rpc").path, "/rpc");
    }
}
