//! The console's JSON API under `/console/api/`.

use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use serde_json::{Value, json};

use super::{ConsoleState, Session};

/// The JSON API's routes.
pub(crate) fn routes() -> axum::Router<Arc<ConsoleState>> {
    axum::Router::new().route("/console/api/me", get(me))
}

/// `GET /console/api/me`: who is logged in, in which language, and the CSRF token.
async fn me(session: Session) -> Json<Value> {
    Json(json!({
        "user": session.user,
        "display_name": session.display_name,
        "team": session.team,
        "lang": session.lang,
        "csrf": session.csrf,
    }))
}
