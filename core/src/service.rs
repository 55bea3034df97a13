//! [`Service`]: the methods one side of a connection serves.

use std::fmt;

use jsonrpsee::{Methods, RpcModule};

use crate::describe::ServiceDescription;

/// A set of methods a peer serves, with the descriptions of the traits they came from.
///
/// Build one with the `into_service()` method that `#[volley::rpc]` adds to a trait, or from
/// a hand-written jsonrpsee [`RpcModule`]; combine several with [`Service::merge`].
#[derive(Clone, Default)]
pub struct Service {
    methods: Methods,
    descriptions: Vec<&'static ServiceDescription>,
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
        Ok(())
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
