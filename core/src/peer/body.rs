//! [`Body`]: what a call sends besides its method and id.

use crate::frame::Frame;
use crate::message;
use crate::params::EncodedParams;

/// A call's params: JSON text (or none) to write into a request, or a request a stub has
/// already written its params into.
pub(crate) enum Body<'a> {
    Text(Option<&'a str>),
    Encoded(EncodedParams),
}

impl Body<'_> {
    /// The request's text with `id`, for an idempotent call's re-sends.
    pub(crate) fn request(&self, id: u64, method: &str) -> String {
        match self {
            Body::Text(params) => message::request(Some(id), method, *params),
            Body::Encoded(encoded) => encoded.request(id),
        }
    }

    /// The request's frame with `id`.
    pub(crate) fn into_frame(self, id: u64, method: &str) -> Frame {
        match self {
            Body::Text(params) => message::request_one(Some(id), method, params),
            Body::Encoded(encoded) => encoded.into_frame(Some(id)),
        }
    }
}
