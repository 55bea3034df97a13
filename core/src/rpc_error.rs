//! Errors in the contract: an error type whose variants have their own codes
//! ([`RpcError`], usually `#[derive(volley::RpcError)]`), and what a generated stub returns
//! for a method that declares one ([`CallError`]): the peer's error decoded into that type,
//! or everything else (no answer, or an error that is not one of the type's) kept apart.

use std::fmt;

pub use crate::describe::ErrorDescription;
use crate::error::{Error, ErrorObject};

/// An error type whose variants are JSON-RPC errors with codes of their own, part of the
/// contract: the documents list each variant's code, message and `data` schema, the
/// TypeScript client gets a union of them, and a generated stub decodes an error answer back
/// into the type ([`CallError::App`]).
///
/// `#[derive(volley::RpcError)]` implements it, with `From<Self> for ErrorObject` (the code,
/// the message from the variant's template, and the variant's fields as `data`) and
/// `Display` (the same message).
pub trait RpcError: Sized + Into<ErrorObject> {
    /// One entry per variant, in declaration order.
    const ERRORS: &'static [ErrorDescription];

    /// The error `object` is, when its code is one of this type's and its `data` decodes
    /// into that variant's fields; `None` otherwise.
    fn from_error_object(object: &ErrorObject) -> Option<Self>;

    /// This error's code (its variant's), without building the error object.
    fn code(&self) -> i32;
}

/// What a generated stub returns for a method that declares its own error type `E`: the
/// peer's answer with one of `E`'s errors, decoded, or anything else as a volley [`Error`]
/// (the connection was lost, the call timed out or was cancelled or refused, or the peer
/// answered with an error that is not one of `E`'s, as [`Error::Remote`]).
///
/// `?` turns it into a volley [`Error`] (an `App` error becomes [`Error::Remote`] again), so
/// a handler that calls another peer passes its errors on unchanged.
#[derive(Debug)]
pub enum CallError<E> {
    /// The peer answered with one of the method's own errors.
    App(E),
    /// No answer, or an error answer that is not one of `E`'s.
    Other(Error),
}

impl<E> CallError<E> {
    /// The method's own error, when the peer answered with one.
    pub fn app(&self) -> Option<&E> {
        match self {
            CallError::App(e) => Some(e),
            CallError::Other(_) => None,
        }
    }

    /// The method's own error, when the peer answered with one.
    pub fn into_app(self) -> Option<E> {
        match self {
            CallError::App(e) => Some(e),
            CallError::Other(_) => None,
        }
    }

    /// The volley error, when it was not one of the method's own.
    pub fn other(&self) -> Option<&Error> {
        match self {
            CallError::App(_) => None,
            CallError::Other(e) => Some(e),
        }
    }

    /// The error object of an error answer that is not one of `E`'s ([`Error::Remote`]).
    pub fn remote(&self) -> Option<&ErrorObject> {
        self.other().and_then(Error::remote)
    }

    /// True when no answer came because of the connection (see [`Error::is_disconnected`]).
    pub fn is_disconnected(&self) -> bool {
        self.other().is_some_and(Error::is_disconnected)
    }

    /// True when the call ran out of time (see [`Error::is_timeout`]).
    pub fn is_timeout(&self) -> bool {
        self.other().is_some_and(Error::is_timeout)
    }
}

impl<E> From<Error> for CallError<E> {
    fn from(e: Error) -> Self {
        CallError::Other(e)
    }
}

impl<E: Into<ErrorObject>> From<CallError<E>> for Error {
    /// An `App` error as the error object it came as ([`Error::Remote`]); anything else as it
    /// is.
    fn from(e: CallError<E>) -> Self {
        match e {
            CallError::App(e) => Error::Remote(e.into()),
            CallError::Other(e) => e,
        }
    }
}

impl<E: Into<ErrorObject>> From<CallError<E>> for ErrorObject {
    /// What a handler that returns it answers: the method's own error as it came, anything
    /// else as a volley [`Error`] becomes one.
    fn from(e: CallError<E>) -> Self {
        Error::from(e).into()
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::App(e) => e.fmt(f),
            CallError::Other(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::App(_) => None,
            CallError::Other(e) => e.source(),
        }
    }
}

/// Probes an error type for [`RpcError`] (autoref specialisation, as
/// [`Probe`](crate::private::Probe) does for schemas): [`Decodes`] when it implements it,
/// [`Undecodable`] otherwise, so a stub can decode what it can without requiring it.
#[doc(hidden)]
pub struct ErrorProbe<E>(std::marker::PhantomData<E>);

impl<E> ErrorProbe<E> {
    /// A probe for `E`.
    pub const fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<E> Default for ErrorProbe<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// [`ErrorProbe`] of an [`RpcError`] type.
#[doc(hidden)]
pub trait Decodes<E> {
    /// The call's error, with a remote error decoded when it is one of `E`'s.
    fn call_error(&self, error: Error) -> CallError<E>;
    /// `E`'s variants.
    fn errors(&self) -> &'static [ErrorDescription];
}

impl<E: RpcError> Decodes<E> for ErrorProbe<E> {
    fn call_error(&self, error: Error) -> CallError<E> {
        match &error {
            Error::Remote(object) => match E::from_error_object(object) {
                Some(e) => CallError::App(e),
                None => CallError::Other(error),
            },
            _ => CallError::Other(error),
        }
    }

    fn errors(&self) -> &'static [ErrorDescription] {
        E::ERRORS
    }
}

/// [`ErrorProbe`] of any other error type.
#[doc(hidden)]
pub trait Undecodable<E> {
    /// The call's error as it is.
    fn call_error(&self, error: Error) -> CallError<E>;
    /// No variants.
    fn errors(&self) -> &'static [ErrorDescription];
}

impl<E> Undecodable<E> for &ErrorProbe<E> {
    fn call_error(&self, error: Error) -> CallError<E> {
        CallError::Other(error)
    }

    fn errors(&self) -> &'static [ErrorDescription] {
        &[]
    }
}

/// The error object of a variant with fields: `data` is `fields` as JSON (left out when they
/// do not encode, which a derived type's fields always do).
#[doc(hidden)]
pub fn with_data<D: serde::Serialize>(code: i32, message: String, fields: &D) -> ErrorObject {
    let data = serde_json::value::to_raw_value(fields).ok();
    ErrorObject::owned(code, message, data)
}

/// The error object of a variant without fields.
#[doc(hidden)]
pub fn without_data(code: i32, message: String) -> ErrorObject {
    ErrorObject::owned::<()>(code, message, None)
}

/// The `data` of `object` decoded as a variant's fields; `None` when absent or of another
/// shape.
#[doc(hidden)]
pub fn data_of<D: serde::de::DeserializeOwned>(object: &ErrorObject) -> Option<D> {
    object
        .data()
        .and_then(|data| serde_json::from_str(data.get()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::error_object;

    /// A hand-written `RpcError`: what the derive generates, in short.
    #[derive(Debug, PartialEq)]
    enum Bid {
        TooLow(u64),
    }

    impl From<Bid> for ErrorObject {
        fn from(e: Bid) -> Self {
            let Bid::TooLow(n) = e;
            ErrorObject::owned(4001, format!("too low: {n}"), Some(n))
        }
    }

    impl RpcError for Bid {
        const ERRORS: &'static [ErrorDescription] = &[];
        fn code(&self) -> i32 {
            4001
        }
        fn from_error_object(object: &ErrorObject) -> Option<Self> {
            (object.code() == 4001)
                .then(|| object.data())
                .flatten()
                .and_then(|d| serde_json::from_str(d.get()).ok())
                .map(Bid::TooLow)
        }
    }

    #[test]
    fn remote_errors_of_the_type_decode_and_others_stay_apart() {
        let probe = ErrorProbe::<Bid>::new();
        let own = Error::Remote(Bid::TooLow(5).into());
        assert_eq!(probe.call_error(own).into_app(), Some(Bid::TooLow(5)));
        let foreign = Error::Remote(error_object(-32603, "boom".to_owned()));
        assert!(matches!(
            probe.call_error(foreign),
            CallError::Other(Error::Remote(_))
        ));
        let lost = probe.call_error(Error::Disconnected);
        assert!(lost.is_disconnected());
        // Back into a volley error: the same error object.
        let back = Error::from(CallError::App(Bid::TooLow(7)));
        assert_eq!(back.remote().map(ErrorObject::code), Some(4001));
    }

    #[test]
    fn types_without_rpc_error_keep_every_error_untyped() {
        #[derive(Debug)]
        struct Plain;
        let probe = ErrorProbe::<Plain>::new();
        let e = (&probe).call_error(Error::Remote(error_object(4001, "x".to_owned())));
        assert!(matches!(e, CallError::Other(Error::Remote(_))));
        assert!((&probe).errors().is_empty());
    }
}
