//! The TypeScript client of a built server.

use volley_core::typescript::{TypeScriptOptions, generate};

use crate::Server;

impl Server {
    /// The TypeScript client module for this server: it calls what the server serves and
    /// serves what the server calls on its clients ([`ServerBuilder::client_serves`]). See
    /// [`volley_core::typescript`] for what the module contains.
    ///
    /// [`ServerBuilder::client_serves`]: crate::ServerBuilder::client_serves
    pub fn typescript(&self, options: &TypeScriptOptions) -> String {
        generate(
            self.service().descriptions(),
            self.client_services(),
            options,
        )
    }
}
