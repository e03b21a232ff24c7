//! The HTTP API, off unless `[api] listen` is set. Every request carries
//! `Authorization: Bearer <token>` (401 without the right one).
//! - `POST /api/v1/hits/{id}/ack` acknowledges a hit, like `mentiond ack`, for chat
//!   bots and CRM integrations. Optional JSON body `{"by": "name"}`. Answers 200 with
//!   the first-response time, 409 if already acknowledged, 404 for an unknown hit.
//! - `GET /api/v1/hits` lists hits newest first, filtered like `mentiond hits`, in
//!   pages with opaque cursors (`next` for older hits, `latest` for polling newer
//!   ones); a bad parameter is a 400 naming it.
//! - `GET /api/v1/hits/{id}` shows one hit with its author's earlier hits.
//!
//! Connections are served by a hand-written accept loop rather than `axum::serve`,
//! which has no timeouts: at most `max_connections` at once (further ones wait in the
//! listen backlog), and hyper's header-read timeout closes a connection that has not
//! sent a request's headers within `header_timeout` of opening or of its previous
//! answer, so idle connections, authenticated or not, cannot hold file descriptors.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::escape;
use crate::model::HitId;
use crate::settings::{DurationSetting, FieldError, take_secret};
use crate::store::{AckOutcome, HitQuery, StoreError, StoreHandle, parse_time_bound};

/// Validated `[api]` settings.
#[derive(Clone)]
pub struct ApiSettings {
    /// Address to listen on (`127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// The bearer token every request must carry.
    pub token: SecretString,
    /// Longest wait for a request's headers, from a connection's start or its
    /// previous answer (so idle keep-alive connections close too).
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl ApiSettings {
    /// Validates `[api]`: `listen` (empty: the API is off) and the token options
    /// (`token`, `token_env`, `token_file`). Problems are keyed relative to `[api]`.
    pub fn parse(
        listen: &str,
        header_timeout: &DurationSetting,
        max_connections: usize,
        mut options: serde_json::Map<String, Value>,
    ) -> Result<Option<ApiSettings>, Vec<FieldError>> {
        let token = take_secret(&mut options, "token");
        let mut problems: Vec<FieldError> = options
            .keys()
            .map(|key| FieldError::new(key.as_str(), "unknown key"))
            .collect();
        let token = match token {
            Ok(token) => token,
            Err(err) => {
                problems.push(err);
                return Err(problems);
            }
        };
        let header_timeout = match header_timeout.to_duration() {
            Ok(timeout) if !timeout.is_zero() => timeout,
            Ok(_) => {
                problems.push(FieldError::new(
                    "header_timeout",
                    "must be longer than zero",
                ));
                Duration::ZERO
            }
            Err(message) => {
                problems.push(FieldError::new("header_timeout", message));
                Duration::ZERO
            }
        };
        if max_connections == 0 {
            problems.push(FieldError::new("max_connections", "must be at least 1"));
        }
        if listen.trim().is_empty() {
            return if problems.is_empty() {
                Ok(None)
            } else {
                Err(problems)
            };
        }
        let listen = listen.parse().map_err(|_| {
            FieldError::new(
                "listen",
                format!("`{listen}` is not an address such as 127.0.0.1:8080"),
            )
        });
        let token = token
            .filter(|token| !token.expose_secret().is_empty())
            .ok_or_else(|| {
                FieldError::new(
                    "token",
                    "the API needs a `token` (or `token_env`, `token_file`)",
                )
            });
        match (listen, token) {
            (Ok(listen), Ok(token)) if problems.is_empty() => Ok(Some(ApiSettings {
                listen,
                token,
                header_timeout,
                max_connections,
            })),
            (listen, token) => {
                problems.extend(listen.err());
                problems.extend(token.err());
                Err(problems)
            }
        }
    }
}

impl fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiSettings")
            .field("listen", &self.listen)
            .field("token", &"[REDACTED]")
            .field("header_timeout", &self.header_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

struct ApiState {
    store: StoreHandle,
    token: SecretString,
}

/// Pause after a failed `accept` (out of file descriptors, say) before the next.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves the API on `listener` until `shutdown` is cancelled, then lets requests in
/// progress finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: ApiSettings,
    store: StoreHandle,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .route("/api/v1/hits/{id}/ack", post(ack))
        .merge(hit_routes())
        .with_state(Arc::new(ApiState {
            store,
            token: settings.token,
        }));
    let service = TowerToHyperService::new(app);
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let connections = TaskTracker::new();
    loop {
        // A slot first: over the limit, new connections wait in the listen backlog.
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(error = %err, "api accept failed");
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            },
        };
        let service = service.clone();
        let shutdown = shutdown.clone();
        let header_timeout = settings.header_timeout;
        connections.spawn(async move {
            let _slot = slot;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let closed = tokio::select! {
                closed = connection.as_mut() => closed,
                _ = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = closed {
                tracing::debug!(error = %err, "api connection closed");
            }
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

async fn ack(
    State(state): State<Arc<ApiState>>,
    Path(hit_id): Path<HitId>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    if let Err(refused) = authorize(&state, &headers) {
        return refused;
    }
    let by = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(value) => value.get("by").and_then(Value::as_str).map(str::to_string),
            Err(_) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": "body must be JSON like {\"by\": \"name\"}"})),
                );
            }
        }
    }
    .filter(|by| !by.trim().is_empty())
    .unwrap_or_else(|| "api".to_string());
    let who = by.clone();
    let outcome = state
        .store
        .call(move |store| store.ack_hit(hit_id, &who, "api", Utc::now()))
        .await
        .and_then(|result| result);
    match outcome {
        Ok(AckOutcome::Acked {
            brand,
            first_response,
        }) => (
            StatusCode::OK,
            Json(json!({
                "hit_id": hit_id,
                "brand": brand,
                "acked_by": by,
                "first_response_secs": first_response.num_seconds(),
            })),
        ),
        Ok(AckOutcome::AlreadyAcked { by, at }) => (
            StatusCode::CONFLICT,
            Json(json!({"hit_id": hit_id, "acked_by": by, "acked_at": at})),
        ),
        Ok(AckOutcome::NotFound) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no hit {hit_id}")})),
        ),
        Err(err) => {
            tracing::error!(error = %err, "api ack failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "store unavailable"})),
            )
        }
    }
}

/// `Err` with the 401 answer unless `headers` carry the API's bearer token.
fn authorize(state: &ApiState, headers: &HeaderMap) -> Result<(), (StatusCode, Json<Value>)> {
    let presented = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if same_secret(presented.as_bytes(), state.token.expose_secret().as_bytes()) {
        Ok(())
    } else {
        Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "missing or wrong bearer token"})),
        ))
    }
}

// --- Hits: listing, search and detail -------------------------------------------

/// Hits on a page when `limit` is not given.
const DEFAULT_PAGE: usize = 50;
/// The most hits a page may hold.
const MAX_PAGE: usize = 500;
/// The parameters `GET /api/v1/hits` knows.
const HIT_PARAMETERS: &str =
    "brand, topic, team, source, status, since, until, q, before, after, limit";

fn hit_routes() -> axum::Router<Arc<ApiState>> {
    axum::Router::new()
        .route("/api/v1/hits", get(list_hits))
        .route("/api/v1/hits/{id}", get(hit_detail))
}

/// A 400 naming the parameter at fault.
fn bad_parameter(parameter: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message, "parameter": parameter})),
    )
        .into_response()
}

/// The 503 for a store that failed or is gone, logged.
fn store_failed(err: &StoreError) -> Response {
    tracing::error!(error = %escape::log(&err.to_string()), "api hits query failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"error": "store unavailable"})),
    )
        .into_response()
}

/// Reads the query string of `GET /api/v1/hits`; an empty value counts as absent.
/// `Err` holds the parameter at fault and why.
fn hit_query(
    pairs: &[(String, String)],
    now: chrono::DateTime<Utc>,
) -> Result<HitQuery, (String, String)> {
    let mut query = HitQuery {
        limit: Some(DEFAULT_PAGE),
        ..HitQuery::default()
    };
    for (name, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        let bad = |message: String| (name.clone(), message);
        let text = Some(value.clone());
        match name.as_str() {
            "brand" => query.brand = text,
            "topic" => query.topic = text,
            "team" => query.team = text,
            "source" => query.source = text,
            "q" => query.text = text,
            "status" => query.status = Some(value.parse().map_err(|err| bad(format!("{err}")))?),
            "since" => query.since = Some(parse_time_bound(value, now).map_err(|e| bad(e.0))?),
            "until" => query.until = Some(parse_time_bound(value, now).map_err(|e| bad(e.0))?),
            "before" => query.before = Some(value.parse().map_err(|err| bad(format!("{err}")))?),
            "after" => query.after = Some(value.parse().map_err(|err| bad(format!("{err}")))?),
            "limit" => {
                query.limit = Some(
                    value
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| (1..=MAX_PAGE).contains(limit))
                        .ok_or_else(|| bad(format!("must be a number from 1 to {MAX_PAGE}")))?,
                );
            }
            _ => return Err(bad(format!("unknown parameter; known: {HIT_PARAMETERS}"))),
        }
    }
    Ok(query)
}

/// `GET /api/v1/hits`: a page of hits, newest first, with `next` and `latest` cursors.
async fn list_hits(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let Ok(Query(pairs)) = pairs else {
        return bad_parameter("query", "the query string is not form-encoded");
    };
    let query = match hit_query(&pairs, Utc::now()) {
        Ok(query) => query,
        Err((parameter, message)) => return bad_parameter(&parameter, &message),
    };
    match state
        .store
        .call(move |store| store.hits(&query))
        .await
        .and_then(|result| result)
    {
        Ok(page) => Json(page).into_response(),
        Err(err) => store_failed(&err),
    }
}

/// `GET /api/v1/hits/{id}`: one hit and its author's earlier hits.
async fn hit_detail(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    hit_id: Result<Path<HitId>, PathRejection>,
) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let Ok(Path(hit_id)) = hit_id else {
        return bad_parameter("id", "a hit id is a number");
    };
    match state
        .store
        .call(move |store| store.hit_detail(hit_id))
        .await
        .and_then(|result| result)
    {
        Ok(Some(detail)) => Json(detail).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no hit {hit_id}")})),
        )
            .into_response(),
        Err(err) => store_failed(&err),
    }
}

/// Compares in time independent of where the inputs differ.
fn same_secret(presented: &[u8], expected: &[u8]) -> bool {
    presented.len() == expected.len()
        && presented
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_content_and_length() {
        assert!(same_secret(b"t0ken", b"t0ken"));
        assert!(!same_secret(b"t0kem", b"t0ken"));
        assert!(!same_secret(b"t0ke", b"t0ken"));
        assert!(!same_secret(b"", b"t0ken"));
    }
}
