//! The console's HTML pages (`/`, `/login`, the author and search pages) and static
//! assets. Owned by the console-ui work: this file, `i18n.rs` and `assets/` are
//! filled there; the server side only merges [`routes`] into the console's router.
//! Page handlers take a [`super::PageSession`] (a redirect to `/login` without a
//! session) and, for the login page, [`super::auth::login_form_token`].

use std::sync::Arc;

use super::ConsoleState;

/// The page routes (none yet: the console-ui work fills them in).
pub(crate) fn routes() -> axum::Router<Arc<ConsoleState>> {
    axum::Router::new()
}
