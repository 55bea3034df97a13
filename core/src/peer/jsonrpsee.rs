//! `Peer` as a jsonrpsee `ClientT`, so jsonrpsee's `#[rpc(client)]` stubs call through it.

use std::fmt;

use jsonrpsee::core::client::{BatchResponse, ClientT, Error as ClientError};
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::core::traits::ToRpcParams;
use serde::de::DeserializeOwned;

use super::Peer;
use crate::error::Error;

fn to_client_error(e: Error) -> ClientError {
    match e {
        Error::Remote(obj) => ClientError::Call(obj),
        Error::Timeout(_) => ClientError::RequestTimeout,
        Error::InvalidResult(e) | Error::InvalidParams(e) => ClientError::ParseError(e),
        other => ClientError::Transport(Box::new(other)),
    }
}

impl ClientT for Peer {
    async fn notification<Params>(&self, method: &str, params: Params) -> Result<(), ClientError>
    where
        Params: ToRpcParams + Send,
    {
        let params = params.to_rpc_params()?;
        self.notify_raw(method, params)
            .await
            .map_err(to_client_error)
    }

    async fn request<R, Params>(&self, method: &str, params: Params) -> Result<R, ClientError>
    where
        R: DeserializeOwned,
        Params: ToRpcParams + Send,
    {
        let params = params.to_rpc_params()?;
        let raw = self
            .request_raw(method, params, None)
            .await
            .map_err(to_client_error)?;
        serde_json::from_str(raw.get()).map_err(ClientError::ParseError)
    }

    async fn batch_request<'a, R>(
        &self,
        batch: BatchRequestBuilder<'a>,
    ) -> Result<BatchResponse<'a, R>, ClientError>
    where
        R: DeserializeOwned + fmt::Debug + 'a,
    {
        let entries = batch.build()?;
        let mut b = self.batch();
        for (method, params) in entries {
            b = b.call(method, &params).map_err(to_client_error)?;
        }
        let answers = b.send().await.map_err(to_client_error)?;
        let (mut ok, mut failed) = (0, 0);
        let mut out = Vec::with_capacity(answers.len());
        for a in answers {
            match a {
                Ok(raw) => {
                    ok += 1;
                    out.push(Ok(
                        serde_json::from_str(raw.get()).map_err(ClientError::ParseError)?
                    ));
                }
                Err(Error::Remote(obj)) => {
                    failed += 1;
                    out.push(Err(obj));
                }
                Err(e) => return Err(to_client_error(e)),
            }
        }
        Ok(BatchResponse::new(ok, out, failed))
    }
}
