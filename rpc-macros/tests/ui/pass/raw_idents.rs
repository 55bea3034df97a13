//! Raw identifiers name methods and params without their `r#`.

use volley::RemoteService;

/// Keywords as names.
#[volley::rpc]
pub trait r#Keywords {
    /// A method named after a keyword.
    async fn r#match(&self, r#type: String, r#ref: u8) -> volley::Result<String>;
    /// A param renamed to another keyword.
    async fn plain(&self, #[rpc(name = "fn")] r#loop: u8) -> volley::Result<u8>;
}

struct Impl;

impl Keywords for Impl {
    async fn r#match(&self, r#type: String, r#ref: u8) -> volley::Result<String> {
        Ok(format!("{type}{ref}", type = r#type, ref = r#ref))
    }

    async fn plain(&self, r#loop: u8) -> volley::Result<u8> {
        Ok(r#loop)
    }
}

fn main() {
    let service = Impl.into_service();
    assert_eq!(service.method_names(), ["match", "plain"]);
    let description = KeywordsClient::DESCRIPTION;
    assert_eq!(description.name, "Keywords");
    let m = description.method("match").unwrap();
    assert_eq!(m.rust_name, "match");
    let params: Vec<_> = m.params.iter().map(|p| p.name).collect();
    assert_eq!(params, ["type", "ref"]);
    assert_eq!(description.method("plain").unwrap().params[0].name, "fn");

    #[allow(dead_code)]
    async fn call(client: KeywordsClient) -> volley::Result<String> {
        client.r#match("a".to_owned(), 1).await
    }
}
