//! [`Service`]: the methods one side of a connection serves.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use jsonrpsee::{Methods, RpcModule};

use serde_json::value::RawValue;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::context::Context;

use crate::describe::ServiceDescription;
use crate::error::ErrorObject;
use crate::frame::Encoded;
use crate::params::CallParams;

/// A set of methods a peer serves, with the descriptions of the traits they came from.
///
/// Build one with the `into_service()` method that `#[volley::rpc]` adds to a trait, or from
/// a hand-written jsonrpsee [`RpcModule`]; combine several with [`Service::merge`].
///
/// A service answers volley's built-in `rpc.ping` and `rpc.cancel`, and `rpc.discover` once
/// it carries a document ([`Service::with_discover`]): the server and the client set the
/// OpenRPC document of both directions on the service they hand each connection.
#[derive(Clone, Default)]
pub struct Service {
    methods: Methods,
    descriptions: Vec<&'static ServiceDescription>,
    discover: Option<Arc<RawValue>>,
    /// What each guarded method requires (`#[rpc(requires = "..")]`), by wire name.
    requirements: Arc<ByName<&'static str>>,
    /// Each method's own deadline (`#[rpc(timeout = "..")]`), by wire name.
    deadlines: Arc<ByName<Duration>>,
    authorizer: Option<Authorizer>,
    /// What serves the methods nothing else serves, when set.
    fallback: Option<Fallback>,
    /// The methods `#[volley::rpc]` generated, callable directly (see [`Native`]).
    native: Arc<ByName<Native>>,
}

/// What a service keeps by method name, looked up for every incoming call.
pub(crate) type ByName<V> = HashMap<&'static str, V, BuildHasherDefault<NameHasher>>;

/// FNV-1a, for [`ByName`]: a few instructions per byte of a method name, where the default
/// SipHash costs some 150 per lookup. Its keys are the service's own method names, fixed when
/// it is built; a peer only looks names up, so crafted collisions cannot grow the table and
/// SipHash's protection buys nothing here.
pub(crate) struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A generated method as volley calls it: the params and the call's context in, the encoded
/// result out, without jsonrpsee's per-call extensions and response encoding (the same
/// method is in the jsonrpsee table too, for a bare `RpcModule`).
#[derive(Clone)]
pub(crate) struct Native {
    pub(crate) call: NativeCall,
    /// Whether the method takes the call's [`Context`]: one that does not is handed `None`,
    /// and the context (with its cancellation) is not made for it.
    pub(crate) takes_context: bool,
}

/// The function behind a [`Native`] method.
pub(crate) type NativeCall = Arc<
    dyn for<'a> Fn(
            CallParams<'a>,
            Option<Context>,
        ) -> BoxFuture<'static, Result<Encoded, ErrorObject>>
        + Send
        + Sync,
>;

/// The generated methods of a module, kept in its extensions until it becomes a [`Service`].
#[derive(Clone, Default)]
pub(crate) struct NativeMethods(pub(crate) ByName<Native>);

/// A request or notification for a method a [`Service`] has no handler for, as its fallback
/// gets it ([`Service::with_fallback`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Unhandled {
    /// The method's name, as the peer sent it.
    pub method: String,
    /// The params, as the peer sent them (an object or an array), when there were any.
    pub params: Option<Box<RawValue>>,
    /// True for a notification: whatever the fallback returns is dropped, nothing is sent.
    pub notification: bool,
}

/// A fallback handler (see [`Service::with_fallback`]).
pub(crate) type Fallback = Arc<
    dyn Fn(Context, Unhandled) -> BoxFuture<'static, Result<Encoded, ErrorObject>> + Send + Sync,
>;

/// The policy that decides whether the caller (its claims, its connection state) meets a
/// method's requirement: `|cx, requirement| ..`. Methods without a requirement are not asked
/// about; with no policy set, every requirement is refused.
pub type Authorizer = Arc<dyn Fn(&Context, &str) -> bool + Send + Sync>;

/// Two services registered the same method name.
#[derive(Debug, thiserror::Error)]
#[error("method `{0}` is registered twice")]
pub struct DuplicateMethodError(pub String);

impl Service {
    /// An empty service (serves nothing but volley's built-in `rpc.*` methods).
    pub fn new() -> Self {
        Self::default()
    }

    /// A service from a jsonrpsee module and the description of the trait it implements.
    pub fn from_module<C: Send + Sync + 'static>(
        mut module: RpcModule<C>,
        description: Option<&'static ServiceDescription>,
    ) -> Self {
        let native = module
            .extensions_mut()
            .remove::<NativeMethods>()
            .unwrap_or_default()
            .0;
        let requirements = description
            .into_iter()
            .flat_map(|d| d.methods)
            .filter_map(|m| Some((m.name, m.requires?)))
            .collect();
        let deadlines = description
            .into_iter()
            .flat_map(|d| d.methods)
            .filter_map(|m| Some((m.name, Duration::from_millis(m.timeout_ms?))))
            .collect();
        Self {
            methods: module.into(),
            descriptions: description.into_iter().collect(),
            requirements: Arc::new(requirements),
            deadlines: Arc::new(deadlines),
            native: Arc::new(native),
            ..Self::default()
        }
    }

    /// Adds every method of `other`; fails if a method name is taken.
    pub fn merge(&mut self, other: impl Into<Service>) -> Result<(), DuplicateMethodError> {
        let other = other.into();
        if let Some(dup) = other
            .methods
            .method_names()
            .find(|n| self.methods.method(n).is_some())
        {
            return Err(DuplicateMethodError(dup.to_owned()));
        }
        self.methods
            .merge(other.methods)
            .map_err(|e| DuplicateMethodError(e.to_string()))?;
        self.descriptions.extend(other.descriptions);
        if !other.requirements.is_empty() {
            Arc::make_mut(&mut self.requirements).extend(other.requirements.iter());
        }
        if !other.deadlines.is_empty() {
            Arc::make_mut(&mut self.deadlines).extend(other.deadlines.iter());
        }
        if !other.native.is_empty() {
            Arc::make_mut(&mut self.native)
                .extend(other.native.iter().map(|(k, v)| (*k, v.clone())));
        }
        self.authorizer = self.authorizer.take().or(other.authorizer);
        self.fallback = self.fallback.take().or(other.fallback);
        // The merged methods are not in either document.
        self.discover = None;
        Ok(())
    }

    /// Sets the document `rpc.discover` answers with (encoded once, here).
    pub fn with_discover(mut self, document: &serde_json::Value) -> Self {
        self.discover = serde_json::value::to_raw_value(document)
            .ok()
            .map(Arc::from);
        self
    }

    /// The document `rpc.discover` answers with, when set.
    pub fn discover(&self) -> Option<&RawValue> {
        self.discover.as_deref()
    }

    /// Sets the policy that checks methods' requirements (see [`Authorizer`]).
    pub fn with_authorizer(
        mut self,
        policy: impl Fn(&Context, &str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.authorizer = Some(Arc::new(policy));
        self
    }

    /// Serves every method this service has no handler for with `handler`: requests (its
    /// result or error is the answer) and notifications (its result is dropped), each in its
    /// own call, under the same limits, deadline and cancellation (`cx`) as any method.
    /// Volley's built-in `rpc.*` methods and stream items are not passed to it. Without a
    /// fallback, such a request is answered -32601 (Method not found) and such a notification
    /// dropped. Logs and metrics name these calls `(unhandled)`, whatever the method, so a
    /// peer cannot grow their label sets. Merging keeps the first fallback.
    ///
    /// A client that answers whatever the server calls, or a relay, is built on it:
    ///
    /// ```
    /// use volley_core::Service;
    /// use serde_json::value::RawValue;
    ///
    /// let service = Service::new().with_fallback(|_cx, call| async move {
    ///     println!("{} {:?}", call.method, call.params);
    ///     Ok(RawValue::from_string("null".into()).expect("JSON"))
    /// });
    /// ```
    pub fn with_fallback<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Context, Unhandled) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Box<RawValue>, ErrorObject>> + Send + 'static,
    {
        self.fallback = Some(Arc::new(move |cx, call| {
            let answer = handler(cx, call);
            Box::pin(async move { answer.await.map(|result| Encoded::raw(result.get())) })
        }));
        self
    }

    /// The fallback, when set.
    pub(crate) fn fallback(&self) -> Option<&Fallback> {
        self.fallback.as_ref()
    }

    /// A generated method by its wire name, to call directly.
    pub(crate) fn native(&self, name: &str) -> Option<(&'static str, &Native)> {
        self.native.get_key_value(name).map(|(k, v)| (*k, v))
    }

    /// The method `name`'s own deadline (`#[rpc(timeout = "..")]`), when it has one: past
    /// it the handler is cancelled and the caller answered -32014.
    pub fn deadline(&self, name: &str) -> Option<Duration> {
        if self.deadlines.is_empty() {
            return None;
        }
        self.deadlines.get(name).copied()
    }

    /// What the method `name` requires of its caller, when it is guarded.
    pub fn requirement(&self, name: &str) -> Option<&'static str> {
        if self.requirements.is_empty() {
            return None;
        }
        self.requirements.get(name).copied()
    }

    /// Whether the caller of `cx` may call a method that requires `required`: what the
    /// policy says (no when there is none).
    pub(crate) fn authorized(
        &self,
        required: &'static str,
        cx: &Context,
    ) -> Result<(), &'static str> {
        match &self.authorizer {
            Some(policy) if policy(cx, required) => Ok(()),
            _ => Err(required),
        }
    }

    /// The jsonrpsee method table.
    pub fn methods(&self) -> &Methods {
        &self.methods
    }

    /// Descriptions of the traits this service implements.
    pub fn descriptions(&self) -> &[&'static ServiceDescription] {
        &self.descriptions
    }

    /// Wire names of every method, sorted.
    pub fn method_names(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.methods.method_names().collect();
        v.sort_unstable();
        v
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("methods", &self.method_names())
            .finish()
    }
}

impl<C: Send + Sync + 'static> From<RpcModule<C>> for Service {
    fn from(module: RpcModule<C>) -> Self {
        Service::from_module(module, None)
    }
}
