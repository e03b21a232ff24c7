//! The live feed: `GET /console/events`, Server-Sent Events.

use std::sync::Arc;

use super::ConsoleState;

/// The live feed's route.
pub(crate) fn routes() -> axum::Router<Arc<ConsoleState>> {
    axum::Router::new()
}
