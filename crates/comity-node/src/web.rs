//! The web interface (server-rendered HTML).

use axum::Router;

use crate::AppState;

/// The web routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
