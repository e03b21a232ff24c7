//! The web console: a live, TweetDeck-style view of the hits in the browser, served
//! on the `[api]` listener (so it is off unless `[api] listen` is set) when
//! `[console] enabled`.
//!
//! - `auth`: `[[users]]` with argon2 password hashes or one shared token, sessions in
//!   the store behind an HttpOnly, `SameSite=Strict` cookie, CSRF tokens, the
//!   login rate limit, and the [`Session`] / [`PageSession`] extractors.
//! - `api`: the JSON API under `/console/api/` (columns, hits as cards, search,
//!   authors, actions, reports) and report file serving under `/reports/`.
//! - `events`: the live feed, `GET /console/events` (Server-Sent Events resumed from
//!   the store's change log by `Last-Event-ID`).
//! - `pages`, `i18n` and `assets/`: the HTML pages, texts and static files.
//!
//! Every console response carries a strict Content-Security-Policy and the other
//! security headers ([`security_headers`]).

mod api;
mod auth;
mod events;
mod i18n;
mod pages;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::pipeline::snapshot::SharedKeywords;
use crate::settings::{FieldError, duration_value, take_secret};
use crate::store::{StoreError, StoreHandle};

pub use auth::{PageSession, Session, hash_password};

/// The Content-Security-Policy of every console response: nothing inline, nothing
/// from another origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One `[[users]]` entry: who may log in to the console.
#[derive(Clone)]
pub struct ConsoleUser {
    /// Login name.
    pub name: String,
    /// The argon2 PHC string of the password (`mentiond hash-password`).
    pub password_hash: SecretString,
    /// Name shown in the console (else `name`).
    pub display_name: Option<String>,
    /// The user's team.
    pub team: Option<String>,
}

impl fmt::Debug for ConsoleUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleUser")
            .field("name", &self.name)
            .field("password_hash", &"[REDACTED]")
            .field("display_name", &self.display_name)
            .field("team", &self.team)
            .finish()
    }
}

/// Validated `[console]` settings and `[[users]]`.
#[derive(Clone)]
pub struct ConsoleSettings {
    /// Serve the console (when `[api] listen` is set).
    pub enabled: bool,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// One shared token that logs in as the user `token`, if set.
    pub token: Option<SecretString>,
    /// Directory of the report files the console lists and serves.
    pub reports_dir: PathBuf,
    /// Mark the session cookie `Secure` even when the request did not come over TLS
    /// (behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Failed logins per client address, and per name, within `login_window` before
    /// further attempts are refused.
    pub login_attempts: u32,
    /// The window failed logins are counted in.
    pub login_window: Duration,
    /// The users.
    pub users: Vec<ConsoleUser>,
}

impl fmt::Debug for ConsoleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSettings")
            .field("enabled", &self.enabled)
            .field("session_ttl", &self.session_ttl)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("reports_dir", &self.reports_dir)
            .field("secure_cookies", &self.secure_cookies)
            .field("login_attempts", &self.login_attempts)
            .field("login_window", &self.login_window)
            .field("users", &self.users)
            .finish()
    }
}

impl ConsoleSettings {
    /// Validates `[console]` (`options`) and the `[[users]]` entries. `reports_dir`
    /// is the report writer's directory, used when `[console] reports_dir` is empty.
    /// Problems are keyed relative to `[console]` (`session_ttl`) or to the users
    /// list (`users[0].name`).
    pub fn parse(
        mut options: Map<String, Value>,
        users: Vec<Option<Map<String, Value>>>,
        reports_dir: PathBuf,
    ) -> Result<ConsoleSettings, Vec<FieldError>> {
        let mut problems = Vec::new();
        let token = take_secret(&mut options, "token").unwrap_or_else(|err| {
            problems.push(err);
            None
        });
        let mut take = |key: &str| options.remove(key);
        let enabled = match take("enabled") {
            Some(Value::Bool(enabled)) => enabled,
            None => true,
            Some(_) => {
                problems.push(FieldError::new("enabled", "expected true or false"));
                false
            }
        };
        let secure_cookies = match take("secure_cookies") {
            Some(Value::Bool(secure)) => secure,
            None => false,
            Some(_) => {
                problems.push(FieldError::new("secure_cookies", "expected true or false"));
                false
            }
        };
        let duration = |key: &str, value: Option<Value>, problems: &mut Vec<FieldError>| match value
            .as_ref()
            .map(duration_value)
        {
            Some(Ok(duration)) if !duration.is_zero() => duration,
            Some(Ok(_)) => {
                problems.push(FieldError::new(key, "must be longer than zero"));
                Duration::ZERO
            }
            Some(Err(err)) => {
                problems.push(FieldError::new(key, err.0));
                Duration::ZERO
            }
            None => {
                problems.push(FieldError::new(key, "missing"));
                Duration::ZERO
            }
        };
        let session_ttl = duration("session_ttl", take("session_ttl"), &mut problems);
        let login_window = duration("login_window", take("login_window"), &mut problems);
        let login_attempts = match take("login_attempts") {
            Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=1000).contains(&n)) => {
                n.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(5)
            }
            _ => {
                problems.push(FieldError::new(
                    "login_attempts",
                    "must be a number from 1 to 1000",
                ));
                0
            }
        };
        let reports_dir = match take("reports_dir") {
            Some(Value::String(dir)) if !dir.trim().is_empty() => PathBuf::from(dir),
            Some(Value::String(_)) | None => reports_dir,
            Some(_) => {
                problems.push(FieldError::new("reports_dir", "expected a path"));
                reports_dir
            }
        };
        problems.extend(
            options
                .keys()
                .map(|key| FieldError::new(key.as_str(), "unknown key")),
        );
        let users = parse_users(users, &mut problems);
        if problems.is_empty() {
            Ok(ConsoleSettings {
                enabled,
                session_ttl,
                token,
                reports_dir,
                secure_cookies,
                login_attempts,
                login_window,
                users,
            })
        } else {
            Err(problems)
        }
    }
}

/// Reads the `[[users]]` entries; problems are keyed `users[<index>].<key>`.
fn parse_users(
    entries: Vec<Option<Map<String, Value>>>,
    problems: &mut Vec<FieldError>,
) -> Vec<ConsoleUser> {
    let mut users: Vec<ConsoleUser> = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let Some(mut entry) = entry else { continue };
        let key = |field: &str| format!("users[{index}].{field}");
        let mut text = |field: &str, required: bool| match entry.remove(field) {
            Some(Value::String(value)) if !value.trim().is_empty() => Some(value),
            None | Some(Value::String(_)) if !required => None,
            Some(Value::String(_)) | None => {
                problems.push(FieldError::new(key(field), "required"));
                None
            }
            Some(_) => {
                problems.push(FieldError::new(key(field), "expected a string"));
                None
            }
        };
        let name = text("name", true);
        let hash = text("password_hash", true);
        let display_name = text("display_name", false);
        let team = text("team", false);
        problems.extend(
            entry
                .keys()
                .map(|unknown| FieldError::new(key(unknown), "unknown key")),
        );
        if let Some(hash) = &hash
            && let Err(message) = auth::check_password_hash(hash)
        {
            problems.push(FieldError::new(key("password_hash"), message));
            continue;
        }
        let (Some(name), Some(hash)) = (name, hash) else {
            continue;
        };
        if name == auth::TOKEN_USER || users.iter().any(|user| user.name == name) {
            problems.push(FieldError::new(
                key("name"),
                format!("name `{name}` is used twice (or reserved)"),
            ));
            continue;
        }
        users.push(ConsoleUser {
            name,
            password_hash: SecretString::from(hash),
            display_name,
            team,
        });
    }
    users
}

/// The users whose sessions a reload from `old` to `new` settings ends: those no
/// longer listed, those whose password hash changed, and the shared token's user
/// when the token changed or was removed. Everyone else keeps their sessions.
pub fn sessions_to_end(old: &ConsoleSettings, new: &ConsoleSettings) -> Vec<String> {
    let mut ended: Vec<String> = old
        .users
        .iter()
        .filter(|user| {
            !new.users.iter().any(|kept| {
                kept.name == user.name
                    && kept.password_hash.expose_secret() == user.password_hash.expose_secret()
            })
        })
        .map(|user| user.name.clone())
        .collect();
    let token = |settings: &ConsoleSettings| {
        settings
            .token
            .as_ref()
            .map(|token| token.expose_secret().to_string())
    };
    if old.token.is_some() && token(old) != token(new) {
        ended.push(auth::TOKEN_USER.to_string());
    }
    ended
}

/// What every console handler reads: the store, the settings, the rules in force
/// (for the default columns and SLAs), the login limiter and the shutdown token that
/// ends the live feeds.
pub struct ConsoleState {
    /// The store.
    pub store: StoreHandle,
    /// `[console]` and `[[users]]`, read once per request and swapped by a reload.
    settings: ArcSwap<ConsoleSettings>,
    /// The keyword snapshot in force (brands, topics, teams, router).
    pub keywords: Arc<SharedKeywords>,
    /// Ends every live feed at shutdown.
    pub shutdown: CancellationToken,
    /// Each source's kind by source name (a card's `platform`).
    pub platforms: HashMap<String, String>,
    limiter: auth::LoginLimiter,
}

impl ConsoleState {
    /// The state of a console serving `settings` over `store`.
    pub fn new(
        store: StoreHandle,
        settings: ConsoleSettings,
        keywords: Arc<SharedKeywords>,
        shutdown: CancellationToken,
    ) -> ConsoleState {
        ConsoleState {
            limiter: auth::LoginLimiter::new(settings.login_attempts, settings.login_window),
            store,
            settings: ArcSwap::from_pointee(settings),
            keywords,
            shutdown,
            platforms: HashMap::new(),
        }
    }

    /// The platform of posts from `source`: its kind, else its own name.
    pub fn platform<'a>(&'a self, source: &'a str) -> &'a str {
        self.platforms.get(source).map_or(source, String::as_str)
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<ConsoleSettings> {
        self.settings.load_full()
    }

    /// The configured user called `name`.
    pub fn user(&self, name: &str) -> Option<ConsoleUser> {
        self.settings
            .load()
            .users
            .iter()
            .find(|user| user.name == name)
            .cloned()
    }

    /// Swaps in reloaded `settings` (users, shared token, session TTL, cookies,
    /// reports dir, login limits; `enabled` is read only at start), then ends in the
    /// store the sessions [`sessions_to_end`] names. Returns those users. The swap
    /// comes first, so a login after it checks the new password; a request between
    /// the two may still pass with a session about to end.
    pub async fn reload(&self, settings: ConsoleSettings) -> Result<Vec<String>, StoreError> {
        self.limiter
            .set_limits(settings.login_attempts, settings.login_window);
        let old = self.settings.swap(Arc::new(settings));
        let ended = sessions_to_end(&old, &self.settings.load());
        if !ended.is_empty() {
            let users = ended.clone();
            self.store
                .call(move |store| store.delete_sessions_of(&users))
                .await
                .and_then(|result| result)?;
        }
        Ok(ended)
    }
}

/// The console's routes (login, JSON API, live feed, reports and the pages), with
/// the security headers on every response.
pub fn router(state: Arc<ConsoleState>) -> axum::Router {
    axum::Router::new()
        .merge(auth::routes())
        .merge(api::routes())
        .merge(events::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Adds the CSP, `nosniff`, `no-referrer` and `DENY` framing headers to a console
/// response, and `Cache-Control: no-store` to JSON (and anything else that did not
/// set a cache policy of its own).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A report page brings its own (stricter, inline-style) policy.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests;
