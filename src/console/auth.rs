//! Who may use the console: logging in (`POST /login` with a `[[users]]` name and
//! password, or the shared token), logging out, sessions, CSRF and the login limit.
//!
//! A session is a random 256-bit id in the `mentiond_session` cookie (HttpOnly,
//! `SameSite=Strict`, `Path=/`, `Secure` over TLS or with `[console]
//! secure_cookies`); the store keeps only its SHA-256, with the user, the expiry and
//! the session's CSRF token. Every POST, PUT and DELETE under a session must carry
//! that token in `X-CSRF-Token` (compared in constant time), else it is a 403. The
//! login form is protected by a double-submit token: `GET /console/api/login-csrf`
//! (or the login page, through [`login_form_token`]) sets the `mentiond_login_csrf`
//! cookie, and the form's `csrf` field must equal it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{ConnectInfo, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ConsoleState;
use crate::escape;
use crate::settings::same_secret;

/// The user name a login with the shared `[console]` token gets.
pub(crate) const TOKEN_USER: &str = "token";

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "mentiond_session";

/// The login form's double-submit cookie.
pub(crate) const LOGIN_CSRF_COOKIE: &str = "mentiond_login_csrf";

/// The header that carries the CSRF token of state-changing requests.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// A PHC string verified when the name is unknown, so a wrong name costs as long as
/// a wrong password (argon2id at the crate's default cost, of a random password).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// Hashes `password` into the argon2id PHC string `[[users]] password_hash` takes
/// (`mentiond hash-password`).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `hash` is a PHC string argon2 can verify against.
pub(crate) fn check_password_hash(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash)
        .map_err(|err| format!("not a PHC string (run `mentiond hash-password`): {err}"))?;
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => Ok(()),
        other => Err(format!(
            "algorithm `{other}` is not argon2 (run `mentiond hash-password`)"
        )),
    }
}

/// Whether `password` matches the PHC string `hash`. The cost comes from the string.
fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Runs `work` (an argon2 verification, tens of milliseconds) without holding up
/// the runtime's other tasks: on the daemon's multi-threaded runtime the worker hands
/// its tasks to others meanwhile; elsewhere it simply runs.
fn off_the_runtime<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// A new random token (256 bits, URL-safe base64).
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a session id.
pub(crate) fn session_hash(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Whether the request came over TLS (a TLS-terminating proxy says so in
/// `X-Forwarded-Proto`) or the settings ask for `Secure` cookies anyway.
fn secure(state: &ConsoleState, headers: &HeaderMap) -> bool {
    state.settings().secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Strict`, `Path=/`, `Secure` when asked;
/// `max_age` `None` deletes the cookie.
fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> HeaderValue {
    let age = max_age.map_or(0, |age| age.as_secs());
    let secure = if secure { "; Secure" } else { "" };
    // Names are constants and values URL-safe base64: always a valid header value.
    HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={age}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares a presented CSRF token with the expected one in constant time.
pub(crate) fn csrf_matches(presented: Option<&str>, expected: &str) -> bool {
    presented.is_some_and(|presented| same_secret(presented.as_bytes(), expected.as_bytes()))
}

/// The login form's CSRF token, and the `Set-Cookie` header that must go with the
/// page when the browser had no such cookie yet (for the login page's handler).
pub fn login_form_token(
    state: &ConsoleState,
    headers: &HeaderMap,
) -> (String, Option<HeaderValue>) {
    match cookie(headers, LOGIN_CSRF_COOKIE).filter(|token| token.len() >= 32) {
        Some(token) => (token.to_string(), None),
        None => {
            let token = random_token();
            let header = set_cookie(
                LOGIN_CSRF_COOKIE,
                &token,
                Some(Duration::from_secs(3600)),
                secure(state, headers),
            );
            (token, Some(header))
        }
    }
}

/// A JSON error answer `{ "error": … }`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// A logged-in user, for the JSON API and the live feed: without a valid session
/// the request is answered 401 (JSON); a POST, PUT or DELETE without the session's
/// CSRF token in `X-CSRF-Token` is answered 403.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's name.
    pub user: String,
    /// The name to show (the `display_name`, else the name).
    pub display_name: String,
    /// The user's team, if configured.
    pub team: Option<String>,
    /// `tr` or `en`: the user's choice, else the browser's `Accept-Language`.
    pub lang: String,
    /// The session's CSRF token, for the page to send back in `X-CSRF-Token`.
    pub csrf: String,
}

/// A logged-in user for the HTML pages: without a valid session the browser is
/// redirected to `/login?next=<this path>`; a POST, PUT or DELETE without the CSRF
/// token in `X-CSRF-Token` is answered 403.
#[derive(Debug, Clone)]
pub struct PageSession(pub Session);

/// Why a request has no usable session.
enum Refused {
    /// No session, or it expired.
    NoSession,
    /// A state change without the right CSRF token.
    Csrf,
    /// The store did not answer.
    Store,
}

impl Session {
    /// Whether `presented` (say, a form's `csrf` field) is this session's CSRF token.
    pub fn verify_csrf(&self, presented: &str) -> bool {
        csrf_matches(Some(presented), &self.csrf)
    }

    async fn read(parts: &Parts, state: &ConsoleState) -> Result<Session, Refused> {
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or(Refused::NoSession)?;
        let hash = session_hash(id);
        let now = Utc::now();
        let (stored, lang) = state
            .store
            .call(move |store| {
                let stored = store.session(&hash, now)?;
                let lang = match &stored {
                    Some(session) => store.user_lang(&session.user)?,
                    None => None,
                };
                Ok::<_, crate::store::StoreError>((stored, lang))
            })
            .await
            .and_then(|result| result)
            .map_err(|err| {
                tracing::error!(error = %escape::log(&err.to_string()), "console session read failed");
                Refused::Store
            })?;
        let stored = stored.ok_or(Refused::NoSession)?;
        let user = state.user(&stored.user);
        // A user removed from the configuration loses their sessions at once, and
        // the shared token's sessions end with the token.
        let token_user = stored.user == TOKEN_USER && state.settings().token.is_some();
        if user.is_none() && !token_user {
            return Err(Refused::NoSession);
        }
        if matches!(
            parts.method,
            Method::POST | Method::PUT | Method::DELETE | Method::PATCH
        ) {
            let presented = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok());
            if !csrf_matches(presented, &stored.csrf) {
                return Err(Refused::Csrf);
            }
        }
        Ok(Session {
            display_name: user
                .as_ref()
                .and_then(|user| user.display_name.clone())
                .unwrap_or_else(|| stored.user.clone()),
            team: user.and_then(|user| user.team),
            lang: lang.unwrap_or_else(|| browser_lang(&parts.headers).to_string()),
            user: stored.user,
            csrf: stored.csrf,
        })
    }
}

/// `tr` when the browser's `Accept-Language` puts Turkish first among tr/en, else `en`.
pub(crate) fn browser_lang(headers: &HeaderMap) -> &'static str {
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    for range in accepted.split(',') {
        let tag = range
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag == "tr" || tag.starts_with("tr-") {
            return "tr";
        }
        if tag == "en" || tag.starts_with("en-") {
            return "en";
        }
    }
    "en"
}

impl FromRequestParts<Arc<ConsoleState>> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ConsoleState>,
    ) -> Result<Session, Response> {
        Session::read(parts, state)
            .await
            .map_err(|refused| match refused {
                Refused::NoSession => json_error(StatusCode::UNAUTHORIZED, "login required"),
                Refused::Csrf => json_error(StatusCode::FORBIDDEN, "missing or wrong CSRF token"),
                Refused::Store => json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable"),
            })
    }
}

impl FromRequestParts<Arc<ConsoleState>> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ConsoleState>,
    ) -> Result<PageSession, Response> {
        match Session::read(parts, state).await {
            Ok(session) => Ok(PageSession(session)),
            Err(Refused::NoSession) => {
                let next = parts.uri.path_and_query().map_or("/", |path| path.as_str());
                Err(Redirect::to(&format!("/login?next={}", url_encode(next))).into_response())
            }
            Err(Refused::Csrf) => {
                Err((StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response())
            }
            Err(Refused::Store) => {
                Err((StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response())
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Where to go after login: a local path only (no scheme, no `//host`, no `\`).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.contains('\\')
                && !next.chars().any(char::is_control) =>
        {
            next
        }
        _ => "/",
    }
}

/// Failed logins per key (client address, or name) in a sliding window.
pub(crate) struct LoginLimiter {
    /// Attempts and window, which a reload may change.
    limits: Mutex<(u32, Duration)>,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Keys the limiter tracks at most; beyond that the oldest-failing keys are dropped
/// first, so a flood of made-up names cannot grow memory without bound.
const LIMITER_KEYS: usize = 10_000;

impl LoginLimiter {
    pub(crate) fn new(attempts: u32, window: Duration) -> LoginLimiter {
        LoginLimiter {
            limits: Mutex::new((attempts, window)),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts against `attempts` within `window` from now on; the failures counted
    /// so far stay.
    pub(crate) fn set_limits(&self, attempts: u32, window: Duration) {
        *self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (attempts, window);
    }

    fn limits(&self) -> (u32, Duration) {
        *self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // Each update is a few map operations: a panic cannot leave it half done.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long until one of `keys` may try again, if any is over its limit at `now`.
    pub(crate) fn blocked(&self, keys: &[String], now: Instant) -> Option<Duration> {
        let (attempts, window) = self.limits();
        let mut table = self.table();
        keys.iter()
            .filter_map(|key| {
                let times = table.get_mut(key)?;
                while times
                    .front()
                    .is_some_and(|first| now.duration_since(*first) >= window)
                {
                    times.pop_front();
                }
                (times.len() >= attempts as usize)
                    .then(|| {
                        times
                            .front()
                            .map(|first| window.saturating_sub(now.duration_since(*first)))
                    })
                    .flatten()
            })
            .max()
    }

    /// Counts a failed login against every one of `keys`.
    pub(crate) fn failed(&self, keys: &[String], now: Instant) {
        let (attempts, window) = self.limits();
        let mut table = self.table();
        if table.len() >= LIMITER_KEYS {
            table.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
        for key in keys {
            let times = table.entry(key.clone()).or_default();
            times.push_back(now);
            if times.len() > attempts as usize {
                times.pop_front();
            }
        }
    }

    /// Forgets the failures of `keys` (after a successful login).
    pub(crate) fn succeeded(&self, keys: &[String]) {
        let mut table = self.table();
        for key in keys {
            table.remove(key);
        }
    }
}

/// `POST /login`'s form.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// `POST /logout`'s form.
#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// Login, logout and the login form's CSRF token.
pub(crate) fn routes() -> axum::Router<Arc<ConsoleState>> {
    axum::Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/console/api/login-csrf", get(login_csrf))
}

/// `GET /console/api/login-csrf`: `{ "csrf": … }` for the login form, with its cookie.
async fn login_csrf(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    let (token, cookie) = login_form_token(&state, &headers);
    let mut response = Json(json!({ "csrf": token })).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether the client asked for JSON (`Accept: application/json`) rather than a page.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

/// `POST /login`: checks the double-submit token, the rate limit, then the name and
/// password (or the shared token); on success stores a session and sets its cookie.
/// Answers JSON when asked for it, else redirects (to `next`, or back to the login
/// page with `error=1`).
async fn login(
    State(state): State<Arc<ConsoleState>>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let json = wants_json(&headers);
    let Ok(Form(form)) = form else {
        return json_error(StatusCode::BAD_REQUEST, "expected a login form");
    };
    if !csrf_matches(cookie(&headers, LOGIN_CSRF_COOKIE), &form.csrf) || form.csrf.is_empty() {
        return json_error(StatusCode::FORBIDDEN, "missing or wrong login CSRF token");
    }
    let next = safe_next(form.next.as_deref()).to_string();
    let refuse = |status: StatusCode, message: &str| {
        if json {
            json_error(status, message)
        } else {
            Redirect::to(&format!("/login?error=1&next={}", url_encode(&next))).into_response()
        }
    };
    let ip = peer.map_or_else(|| "unknown".to_string(), |peer| peer.0.0.ip().to_string());
    let by_token = form.name.is_empty() && !form.token.is_empty();
    let name = if by_token {
        TOKEN_USER.to_string()
    } else {
        form.name.clone()
    };
    let keys = [format!("ip:{ip}"), format!("name:{name}")];
    if let Some(wait) = state.limiter.blocked(&keys, Instant::now()) {
        tracing::warn!(user = %escape::log(&name), address = %ip, "console login rate limited");
        let mut response = json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins; try again later",
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let ok = if by_token {
        state.settings().token.as_ref().is_some_and(|token| {
            same_secret(form.token.as_bytes(), token.expose_secret().as_bytes())
        })
    } else {
        let hash = state
            .user(&name)
            .map(|user| user.password_hash.expose_secret().to_string());
        let known = hash.is_some();
        let password = form.password.clone();
        let matches = off_the_runtime(move || {
            let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
            password_matches(&password, &hash)
        });
        known && matches
    };
    if !ok {
        state.limiter.failed(&keys, Instant::now());
        tracing::warn!(user = %escape::log(&name), address = %ip, "console login refused");
        return refuse(StatusCode::UNAUTHORIZED, "wrong name or password");
    }
    state.limiter.succeeded(&keys);
    let id = random_token();
    let csrf = random_token();
    let now = Utc::now();
    let ttl = state.settings().session_ttl;
    let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12));
    let (hash, user, token) = (session_hash(&id), name.clone(), csrf.clone());
    let stored = state
        .store
        .call(move |store| store.create_session(&hash, &user, &token, now, expires))
        .await
        .and_then(|result| result);
    if let Err(err) = stored {
        tracing::error!(error = %escape::log(&err.to_string()), "console session store failed");
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
    }
    tracing::info!(user = %escape::log(&name), address = %ip, "console login");
    let secure = secure(&state, &headers);
    let mut response = if json {
        Json(json!({ "user": name, "csrf": csrf })).into_response()
    } else {
        Redirect::to(&next).into_response()
    };
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &id, Some(ttl), secure),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", None, secure),
    );
    response
}

/// `POST /logout`: ends the session (CSRF token in `X-CSRF-Token` or the form's
/// `csrf` field) and deletes its cookie.
async fn logout(
    State(state): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let form = form.ok();
    let Some(id) = cookie(&headers, SESSION_COOKIE) else {
        return json_error(StatusCode::UNAUTHORIZED, "login required");
    };
    let hash = session_hash(id);
    let lookup = hash.clone();
    let now = Utc::now();
    let stored = state
        .store
        .call(move |store| store.session(&lookup, now))
        .await
        .and_then(|result| result);
    let stored = match stored {
        Ok(Some(stored)) => stored,
        Ok(None) => return json_error(StatusCode::UNAUTHORIZED, "login required"),
        Err(_) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable"),
    };
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .or(form.as_ref().map(|form| form.csrf.as_str()));
    if !csrf_matches(presented, &stored.csrf) {
        return json_error(StatusCode::FORBIDDEN, "missing or wrong CSRF token");
    }
    if let Err(err) = state
        .store
        .call(move |store| store.delete_session(&hash))
        .await
        .and_then(|result| result)
    {
        tracing::error!(error = %escape::log(&err.to_string()), "console logout failed");
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
    }
    let mut response = if wants_json(&headers) {
        Json(json!({ "ok": true })).into_response()
    } else {
        Redirect::to("/login").into_response()
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", None, secure(&state, &headers)),
    );
    response
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_match_only_when_equal() {
        assert!(csrf_matches(Some("abc"), "abc"));
        assert!(!csrf_matches(Some("abd"), "abc"));
        assert!(!csrf_matches(Some("ab"), "abc"));
        assert!(!csrf_matches(Some(""), "abc"));
        assert!(!csrf_matches(None, "abc"));
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("doğru şifre").unwrap();
        assert!(check_password_hash(&hash).is_ok());
        assert!(password_matches("doğru şifre", &hash));
        assert!(!password_matches("yanlis", &hash));
        assert!(!password_matches("doğru şifre", dummy_hash()));
        assert!(check_password_hash("plaintext").is_err());
    }

    #[test]
    fn the_limiter_blocks_after_the_attempts_and_forgets_after_the_window() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let keys = ["ip:127.0.0.1".to_string(), "name:ayse".to_string()];
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.blocked(&keys, start), None);
            limiter.failed(&keys, start);
        }
        assert!(limiter.blocked(&keys, start).is_some());
        assert!(limiter.blocked(&keys[1..], start).is_some(), "per name too");
        assert_eq!(limiter.blocked(&["ip:10.0.0.1".to_string()], start), None);
        assert_eq!(
            limiter.blocked(&keys, start + Duration::from_secs(61)),
            None
        );
    }

    #[test]
    fn next_is_a_local_path_only() {
        assert_eq!(safe_next(Some("/console?x=1")), "/console?x=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "", "x"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("xmentiond_session=no; mentiond_session=yes"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("yes"));
        assert_eq!(cookie(&headers, LOGIN_CSRF_COOKIE), None);
    }
}
