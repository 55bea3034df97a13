//! Authentication at the handshake: a hook that sees the upgrade request ([`Handshake`]) and
//! either refuses it ([`Refusal`], 401 or 403 before the upgrade) or returns the claims every
//! handler of the connection then reads with `cx.claims::<T>()`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, Uri, header};
use volley_core::Claims;

/// The WebSocket upgrade request, as an authentication hook sees it.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub(crate) headers: HeaderMap,
    pub(crate) uri: Uri,
    pub(crate) remote_addr: Option<SocketAddr>,
}

impl Handshake {
    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request's URI (path and query).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Where the connection comes from (the TCP peer; behind a proxy, the proxy).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }

    /// The value of query parameter `name`, percent-decoded (`?token=...`: browsers cannot
    /// set headers on a WebSocket, so they pass a token here or in a cookie).
    pub fn query(&self, name: &str) -> Option<String> {
        self.uri.query()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key)? == name).then(|| decode(value)).flatten()
        })
    }

    /// The value of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then(|| value.trim_matches('"').to_owned())
            })
    }
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let [first, tail @ ..] = rest {
        match first {
            b'%' => {
                let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
                rest = &tail[2..];
            }
            b'+' => {
                bytes.push(b' ');
                rest = tail;
            }
            b => {
                bytes.push(*b);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).ok()
}

/// An authentication hook's "no": the HTTP status (401 or 403) and an optional body, sent
/// instead of the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) body: String,
}

impl Refusal {
    /// 401: no credentials, or credentials that do not identify anyone.
    pub fn unauthorized(body: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            body: body.into(),
        }
    }

    /// 403: the credentials are known, but may not connect.
    pub fn forbidden(body: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            body: body.into(),
        }
    }

    /// The status sent.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }
}

type Insert = Box<dyn FnOnce(&mut http::Extensions) + Send>;
type Checking = Pin<Box<dyn Future<Output = Result<Insert, Refusal>> + Send>>;

/// A type-erased hook: checks a handshake, and on success puts the claims in the
/// connection's extensions.
#[derive(Clone)]
pub(crate) struct Authenticator(Arc<dyn Fn(Handshake) -> Checking + Send + Sync>);

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator")
    }
}

impl Authenticator {
    pub(crate) fn new<F, Fut, C>(hook: F) -> Self
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, Refusal>> + Send + 'static,
        C: Clone + Send + Sync + 'static,
    {
        Self(Arc::new(move |handshake| {
            let checking = hook(handshake);
            Box::pin(async move {
                let claims = checking.await?;
                Ok(Box::new(move |ext: &mut http::Extensions| {
                    ext.insert(Claims(claims));
                }) as Insert)
            })
        }))
    }

    /// Runs the hook; on success the claims go into `extensions`.
    pub(crate) async fn check(
        &self,
        handshake: Handshake,
        extensions: &mut http::Extensions,
    ) -> Result<(), Refusal> {
        let insert = (self.0)(handshake).await?;
        insert(extensions);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(uri: &str, headers: &[(&str, &str)]) -> Handshake {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        Handshake {
            headers: map,
            uri: uri.parse().unwrap(),
            remote_addr: None,
        }
    }

    #[test]
    fn tokens_from_the_header_the_query_and_cookies() {
        let h = handshake(
            "/ws?a=1&token=s%20e+cret&empty",
            &[
                ("authorization", "Bearer abc"),
                ("cookie", "theme=dark; session=\"xyz\""),
                ("cookie", "other=1"),
            ],
        );
        assert_eq!(h.bearer_token(), Some("abc"));
        assert_eq!(h.query("token").as_deref(), Some("s e cret"));
        assert_eq!(h.query("empty").as_deref(), Some(""));
        assert_eq!(h.query("missing"), None);
        assert_eq!(h.cookie("session").as_deref(), Some("xyz"));
        assert_eq!(h.cookie("other").as_deref(), Some("1"));
        assert_eq!(h.cookie("sess"), None);
        let basic = handshake("/ws", &[("authorization", "Basic abc")]);
        assert_eq!(basic.bearer_token(), None);
        let bad = handshake("/ws?token=%zz", &[]);
        assert_eq!(bad.query("token"), None);
    }
}
