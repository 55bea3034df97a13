//! [`Api`]: what the generators describe, and its [`Info`] and [`Side`].

use volley_core::Service;
use volley_core::describe::{MethodKind, ServiceDescription};

/// The `info` of a generated document: title, version and description.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// The API's name.
    pub title: String,
    /// The API's version (not the AsyncAPI or OpenRPC version).
    pub version: String,
    /// What the API is for (CommonMark); a standard paragraph about JSON-RPC over WebSocket is
    /// used when `None`.
    pub description: Option<String>,
}

impl Info {
    /// An info with a title and a version.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            version: version.into(),
            description: None,
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The default info for an API of these traits: titled after them (`Calculator API`),
    /// version `0.0.0`.
    pub fn for_services(services: &[&ServiceDescription]) -> Self {
        let mut names: Vec<&str> = Vec::new();
        for s in services {
            if !names.contains(&s.name) {
                names.push(s.name);
            }
        }
        let title = if names.is_empty() {
            "JSON-RPC API".to_owned()
        } else {
            format!("{} API", names.join(", "))
        };
        Self::new(title, "0.0.0")
    }
}

impl Default for Info {
    fn default() -> Self {
        Self::new("JSON-RPC API", "0.0.0")
    }
}

/// Which end of a connection serves a method: the one that accepted the WebSocket (`Server`)
/// or the one that dialed (`Client`). Shown as OpenRPC's `x-implemented-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that accepted the connection.
    Server,
    /// The end that dialed.
    Client,
}

impl Side {
    /// `"server"` or `"client"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Server => "server",
            Side::Client => "client",
        }
    }

    /// The other end.
    pub fn other(self) -> Side {
        match self {
            Side::Server => Side::Client,
            Side::Client => Side::Server,
        }
    }
}

/// One end's view of a connection's contract: the traits it serves, the traits the other end
/// serves (its *remote services*), and the documents' [`Info`]. Every generator takes one:
/// [`asyncapi`](crate::asyncapi), [`openrpc`](crate::openrpc),
/// [`typescript`](crate::typescript()).
///
/// ```
/// use volley_codegen::{Api, Info, Side};
/// # let calculator = &volley_core::describe::ServiceDescription {
/// #     name: "Calculator", docs: "", namespace: None, methods: &[] };
/// # let browser = &volley_core::describe::ServiceDescription {
/// #     name: "Browser", docs: "", namespace: None, methods: &[] };
/// let api = Api::new(Side::Server)
///     .with_served([calculator])
///     .with_remote([browser])
///     .with_info(Info::new("Calculator", "1.0.0"));
/// assert_eq!(api.server_serves()[0].name, "Calculator");
/// assert_eq!(api.client_serves()[0].name, "Browser");
/// ```
#[derive(Debug, Clone)]
pub struct Api {
    side: Side,
    info: Option<Info>,
    served: Vec<&'static ServiceDescription>,
    remote: Vec<&'static ServiceDescription>,
    undescribed: Vec<&'static str>,
}

impl Api {
    /// The API of the end `side`, serving nothing yet.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            info: None,
            served: Vec::new(),
            remote: Vec::new(),
            undescribed: Vec::new(),
        }
    }

    /// The API of the end `side` serving `service`: its traits' descriptions, and by name
    /// only the methods no description covers (hand-written jsonrpsee modules). The
    /// unsubscribe method of a described stream is described with its stream.
    pub fn of_service(side: Side, service: &Service) -> Self {
        let described = |name: &str| {
            service.descriptions().iter().any(|d| {
                d.methods.iter().any(|m| {
                    m.name == name
                        || matches!(m.kind, MethodKind::Stream { unsubscribe, .. } if unsubscribe == name)
                })
            })
        };
        let undescribed = service
            .method_names()
            .into_iter()
            .filter(|name| !described(name))
            .collect();
        Self {
            undescribed,
            ..Self::new(side).with_served(service.descriptions().iter().copied())
        }
    }

    /// Adds traits this end serves.
    pub fn with_served(
        mut self,
        services: impl IntoIterator<Item = &'static ServiceDescription>,
    ) -> Self {
        extend_unique(&mut self.served, services);
        self
    }

    /// Adds traits the other end serves (this end's remote services).
    pub fn with_remote(
        mut self,
        services: impl IntoIterator<Item = &'static ServiceDescription>,
    ) -> Self {
        extend_unique(&mut self.remote, services);
        self
    }

    /// Sets the documents' title, version and description.
    pub fn with_info(mut self, info: Info) -> Self {
        self.info = Some(info);
        self
    }

    /// The end this API belongs to.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The documents' info: as set, or [`Info::for_services`] of the served traits.
    pub fn info(&self) -> Info {
        self.info
            .clone()
            .unwrap_or_else(|| Info::for_services(&self.served))
    }

    /// The traits this end serves.
    pub fn served(&self) -> &[&'static ServiceDescription] {
        &self.served
    }

    /// The traits the other end serves.
    pub fn remote(&self) -> &[&'static ServiceDescription] {
        &self.remote
    }

    /// Methods this end serves that no description covers, by wire name.
    pub fn undescribed(&self) -> &[&'static str] {
        &self.undescribed
    }

    /// The traits the server serves, whichever end this is.
    pub fn server_serves(&self) -> &[&'static ServiceDescription] {
        match self.side {
            Side::Server => &self.served,
            Side::Client => &self.remote,
        }
    }

    /// The traits every client serves, whichever end this is.
    pub fn client_serves(&self) -> &[&'static ServiceDescription] {
        match self.side {
            Side::Server => &self.remote,
            Side::Client => &self.served,
        }
    }
}

fn extend_unique(
    list: &mut Vec<&'static ServiceDescription>,
    more: impl IntoIterator<Item = &'static ServiceDescription>,
) {
    for d in more {
        if !list.iter().any(|p| std::ptr::eq(*p, d)) {
            list.push(d);
        }
    }
}
