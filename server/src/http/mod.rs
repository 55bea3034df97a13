//! The server's HTTP routes: the WebSocket endpoint, and beside it the generated documents
//! ([`documents`]), the `/docs` page ([`docs_page`]) and the browser client ([`assets`]).

pub(crate) mod assets;
pub(crate) mod docs_page;
pub(crate) mod documents;

use axum::Router;
use axum::routing::get;

use crate::server::Server;

/// Every route of `server`, as [`Server::router`] returns them.
pub(crate) fn router(server: &Server) -> Router {
    let settings = &server.inner.settings;
    let mut router = Router::new()
        .route(&settings.path, get(crate::upgrade::upgrade))
        .route(assets::VOLLEY_JS_PATH, get(assets::volley_js))
        .route(assets::VOLLEY_D_TS_PATH, get(assets::volley_d_ts));
    if settings.documents {
        router = router
            .route(documents::ASYNCAPI_PATH, get(documents::asyncapi))
            .route(documents::OPENRPC_PATH, get(documents::openrpc));
    }
    if settings.docs_page {
        router = router.route(docs_page::PATH, get(docs_page::serve));
    }
    router.with_state(server.clone())
}
