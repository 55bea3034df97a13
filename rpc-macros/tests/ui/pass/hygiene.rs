//! Parameters may use the names the generated code uses for its own locals and fields.

/// Every name the expansion might reach for.
#[volley::rpc]
pub trait Names {
    /// Parameters named like generated locals.
    async fn locals(
        &self,
        this: u8,
        module: u8,
        params: u8,
        reader: u8,
        cx: u8,
    ) -> volley::Result<u8>;
    /// Parameters named like the stub's fields.
    async fn fields(&self, peer: u8, timeout: u8) -> volley::Result<u8>;
    /// A context under another name, then a param named like the usual context.
    async fn context(&self, this: &volley::Context, cx: u8) -> volley::Result<u8>;
}

struct Impl;

impl Names for Impl {
    async fn locals(
        &self,
        this: u8,
        module: u8,
        params: u8,
        reader: u8,
        cx: u8,
    ) -> volley::Result<u8> {
        Ok(this + module + params + reader + cx)
    }

    async fn fields(&self, peer: u8, timeout: u8) -> volley::Result<u8> {
        Ok(peer + timeout)
    }

    async fn context(&self, _this: &volley::Context, cx: u8) -> volley::Result<u8> {
        Ok(cx)
    }
}

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn main() {
    let service = Impl.into_service();
    let sum: u8 = block_on(service.methods().call("locals", [1, 2, 3, 4, 5])).unwrap();
    assert_eq!(sum, 15);
    let sum: u8 = block_on(service.methods().call("fields", [1, 2])).unwrap();
    assert_eq!(sum, 3);

    #[allow(dead_code)]
    async fn call(client: &NamesClient) -> volley::Result<u8> {
        client.locals(1, 2, 3, 4, 5).await?;
        client.fields(1, 2).await?;
        client.context(3).await
    }
}
