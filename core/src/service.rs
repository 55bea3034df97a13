//! [`Service`]: the methods one side of a connection serves.

use std::fmt;
use std::sync::Arc;

use jsonrpsee::{Methods, RpcModule};

use crate::describe::ServiceDescription;
use crate::docs::{DocInfo, Side};

/// A set of methods a peer serves, with the descriptions of the traits they came from.
///
/// Build one with the `into_service()` method that `#[volley::rpc]` adds to a trait, or from
/// a hand-written jsonrpsee [`RpcModule`]; combine several with [`Service::merge`].
///
/// For its `rpc.discover` document a service may also know which end of the connection it
/// serves ([`Service::with_side`]), what the other end serves
/// ([`Service::with_peer_descriptions`]) and the document's title and version
/// ([`Service::with_info`]); the server sets all three on the service it hands each connection.
#[derive(Clone, Default)]
pub struct Service {
    methods: Methods,
    descriptions: Vec<&'static ServiceDescription>,
    side: Option<Side>,
    peer_descriptions: Vec<&'static ServiceDescription>,
    info: Option<Arc<DocInfo>>,
}

/// Two services registered the same method name.
#[derive(Debug, thiserror::Error)]
#[error("method `{0}` is registered twice")]
pub struct DuplicateMethod(pub String);

impl Service {
    /// An empty service (serves nothing but volley's built-in `rpc.*` methods).
    pub fn new() -> Self {
        Self::default()
    }

    /// A service from a jsonrpsee module and the description of the trait it implements.
    pub fn from_module<C: Send + Sync + 'static>(
        module: RpcModule<C>,
        description: Option<&'static ServiceDescription>,
    ) -> Self {
        Self {
            methods: module.into(),
            descriptions: description.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Adds every method of `other`; fails if a method name is taken.
    pub fn merge(&mut self, other: impl Into<Service>) -> Result<(), DuplicateMethod> {
        let other = other.into();
        if let Some(dup) = other
            .methods
            .method_names()
            .find(|n| self.methods.method(n).is_some())
        {
            return Err(DuplicateMethod(dup.to_owned()));
        }
        self.methods
            .merge(other.methods)
            .map_err(|e| DuplicateMethod(e.to_string()))?;
        self.descriptions.extend(other.descriptions);
        self.side = self.side.or(other.side);
        self.info = self.info.take().or(other.info);
        for d in other.peer_descriptions {
            self.add_peer_description(d);
        }
        Ok(())
    }

    /// Says which end of the connection serves this service (shown as `x-implemented-by` in
    /// its OpenRPC document).
    pub fn with_side(mut self, side: Side) -> Self {
        self.side = Some(side);
        self
    }

    /// Which end of the connection serves this service, when set.
    pub fn side(&self) -> Option<Side> {
        self.side
    }

    /// Adds descriptions of traits the other end of the connection serves, so this service's
    /// `rpc.discover` document describes both directions.
    pub fn with_peer_descriptions(
        mut self,
        descriptions: impl IntoIterator<Item = &'static ServiceDescription>,
    ) -> Self {
        for d in descriptions {
            self.add_peer_description(d);
        }
        self
    }

    fn add_peer_description(&mut self, d: &'static ServiceDescription) {
        if !self.peer_descriptions.iter().any(|p| std::ptr::eq(*p, d)) {
            self.peer_descriptions.push(d);
        }
    }

    /// Descriptions of the traits the other end serves (see
    /// [`Service::with_peer_descriptions`]).
    pub fn peer_descriptions(&self) -> &[&'static ServiceDescription] {
        &self.peer_descriptions
    }

    /// Sets the title, version and description of this service's documents.
    pub fn with_info(mut self, info: DocInfo) -> Self {
        self.info = Some(Arc::new(info));
        self
    }

    /// The title, version and description of this service's documents, when set.
    pub fn info(&self) -> Option<&DocInfo> {
        self.info.as_deref()
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
