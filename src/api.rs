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
//! `GET /healthz`, `/readyz` and `/metrics` need no token (`public_routes`):
//! liveness, readiness (the database takes a write and no source has been failing
//! for longer than `ready_failing_intervals` of its interval) and Prometheus text.
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
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use hyper_util::rt::{TokioIo, TokioTimer};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alerts::Wakers;
use crate::escape;
use crate::metrics::{self, Metrics, OutboxGauge, SourceGauge, StoreGauges};
use crate::model::{HitId, SourceName};
use crate::settings::{DurationSetting, FieldError, same_secret, take_secret};
use crate::store::{
    AckOutcome, HitCounts, HitQuery, OutboxDepth, SourceHealth, StoreError, StoreHandle,
    parse_time_bound,
};

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
    /// `/readyz` fails while a source has been failing for longer than this many of
    /// its intervals.
    pub ready_failing_intervals: u32,
}

impl ApiSettings {
    /// Validates `[api]`: `listen` (empty: the API is off) and the token options
    /// (`token`, `token_env`, `token_file`). Problems are keyed relative to `[api]`.
    pub fn parse(
        listen: &str,
        header_timeout: &DurationSetting,
        max_connections: usize,
        ready_failing_intervals: u32,
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
        if ready_failing_intervals == 0 {
            problems.push(FieldError::new(
                "ready_failing_intervals",
                "must be at least 1",
            ));
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
                ready_failing_intervals,
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
            .field("ready_failing_intervals", &self.ready_failing_intervals)
            .finish()
    }
}

struct ApiState {
    store: StoreHandle,
    token: SecretString,
    observed: Observed,
    ready_failing_intervals: u32,
    started: DateTime<Utc>,
}

/// What the health and metrics routes report on besides the store.
pub struct Observed {
    /// The daemon's counters.
    pub metrics: Arc<Metrics>,
    /// The sources running now.
    pub inventory: Arc<Inventory>,
    /// The delivery workers running now (their receivers show in the outbox gauges).
    pub wakers: Arc<Wakers>,
}

/// The sources running now, with their intervals: `app` updates it as it starts and
/// stops them (at start and at each reload), so `/readyz` judges and `/metrics` shows
/// the running set. (The running receivers are the [`Wakers`]' workers.)
#[derive(Debug, Default)]
pub struct Inventory(std::sync::RwLock<std::collections::BTreeMap<SourceName, Duration>>);

impl Inventory {
    /// Records a running source polled every `interval`.
    pub fn add_source(&self, source: SourceName, interval: Duration) {
        self.write().insert(source, interval);
    }

    /// Forgets a stopped source.
    pub fn remove_source(&self, source: &SourceName) {
        self.write().remove(source);
    }

    /// Every running source with its interval, by name.
    pub fn sources(&self) -> Vec<(SourceName, Duration)> {
        let table = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table
            .iter()
            .map(|(name, interval)| (name.clone(), *interval))
            .collect()
    }

    fn write(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, std::collections::BTreeMap<SourceName, Duration>> {
        // Every update is one map operation: a panic elsewhere cannot leave it half done.
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Pause after a failed `accept` (out of file descriptors, say) before the next.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Longest wait for the store in a health or metrics request.
const STORE_WAIT: Duration = Duration::from_secs(2);

/// Serves the API on `listener` until `shutdown` is cancelled, then lets requests in
/// progress finish. `extra` holds routes with their own state and authentication
/// (the HTTP intake), served on the same listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: ApiSettings,
    store: StoreHandle,
    observed: Observed,
    extra: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .route("/api/v1/hits/{id}/ack", post(ack))
        .merge(public_routes())
        .merge(hit_routes())
        .with_state(Arc::new(ApiState {
            store,
            token: settings.token,
            observed,
            ready_failing_intervals: settings.ready_failing_intervals,
            started: Utc::now(),
        }))
        .merge(extra);
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
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "api accept failed");
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            },
        };
        // Each request knows its peer (the console's login limit counts per address).
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                tower_service::Service::call(&mut app.clone(), request)
            },
        );
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

/// The routes that need no token: `/healthz` (the process serves), `/readyz` and
/// `/metrics`. Every other route checks the bearer token itself.
fn public_routes() -> axum::Router<Arc<ApiState>> {
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(scrape))
}

/// 200 when a write transaction on the database succeeds and no source has been
/// failing for too long; else 503 naming the reasons (and the failing sources).
async fn readyz(State(state): State<Arc<ApiState>>) -> (StatusCode, Json<Value>) {
    let now = Utc::now();
    let read = state.store.call(move |store| {
        store.probe_write()?;
        store.source_health(now)
    });
    let health = match tokio::time::timeout(STORE_WAIT, read).await {
        Ok(Ok(Ok(health))) => health,
        Ok(Ok(Err(err)) | Err(err)) => {
            return not_ready(vec![format!("database not writable: {err}")], &[]);
        }
        Err(_) => {
            return not_ready(
                vec![format!(
                    "database did not answer within {}",
                    humantime::format_duration(STORE_WAIT)
                )],
                &[],
            );
        }
    };
    let failing = failing_sources(
        &health,
        &state.observed.inventory.sources(),
        state.ready_failing_intervals,
        state.started,
        now,
    );
    if failing.is_empty() {
        return (StatusCode::OK, Json(json!({"ready": true})));
    }
    let reasons = failing
        .iter()
        .map(|(source, interval, failing_for)| {
            format!(
                "source {source} failing for {} (more than {} intervals of {})",
                humantime::format_duration(Duration::from_secs(failing_for.as_secs())),
                state.ready_failing_intervals,
                humantime::format_duration(*interval),
            )
        })
        .collect();
    let names: Vec<&SourceName> = failing.iter().map(|(source, _, _)| source).collect();
    not_ready(reasons, &names)
}

fn not_ready(reasons: Vec<String>, failing: &[&SourceName]) -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"ready": false, "reasons": reasons, "failing_sources": failing})),
    )
}

/// The configured sources that failed at their last poll and have not succeeded for
/// longer than `intervals` of their interval, counted from their last success or,
/// when later, from the daemon's start; each with its interval and that time.
fn failing_sources(
    health: &[SourceHealth],
    sources: &[(SourceName, Duration)],
    intervals: u32,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(SourceName, Duration, Duration)> {
    sources
        .iter()
        .filter_map(|(source, interval)| {
            let row = health.iter().find(|row| &row.source == source)?;
            if row.failures == 0 {
                return None;
            }
            let since = row.last_success_at.map_or(started, |at| at.max(started));
            let failing_for = (now - since).to_std().unwrap_or_default();
            (failing_for > interval.saturating_mul(intervals))
                .then(|| (source.clone(), *interval, failing_for))
        })
        .collect()
}

/// `/metrics`: the counters, and the gauges read from the store for this scrape
/// (left out, with a warning, when the store does not answer in time).
async fn scrape(State(state): State<Arc<ApiState>>) -> Response {
    let now = Utc::now();
    let read = state.store.call(move |store| -> Result<_, StoreError> {
        Ok((
            store.outbox_depth()?,
            store.hit_counts()?,
            store.source_health(now)?,
        ))
    });
    let gauges = match tokio::time::timeout(STORE_WAIT, read).await {
        Ok(Ok(Ok((outbox, hits, health)))) => {
            Some(store_gauges(&state.observed, &outbox, hits, &health, now))
        }
        Ok(Ok(Err(err)) | Err(err)) => {
            tracing::warn!(error = %err, "store gauges left out of a scrape");
            None
        }
        Err(_) => {
            tracing::warn!("store gauges left out of a scrape: the store did not answer");
            None
        }
    };
    match state.observed.metrics.encode(gauges.as_ref()) {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "metrics not encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The store's answers as gauges: every receiver (configured or with pending rows)
/// and every configured source.
fn store_gauges(
    observed: &Observed,
    outbox: &[OutboxDepth],
    hits: HitCounts,
    health: &[SourceHealth],
    now: DateTime<Utc>,
) -> StoreGauges {
    let now_ms = crate::store::unix_millis(now);
    let mut receivers: Vec<OutboxGauge> = outbox
        .iter()
        .map(|depth| OutboxGauge {
            receiver: depth.receiver.to_string(),
            pending: depth.pending,
            oldest_pending_age_seconds: (now_ms - depth.oldest_queued_at).max(0) as f64 / 1000.0,
        })
        .collect();
    for receiver in &observed.wakers.receivers() {
        if !outbox.iter().any(|depth| &depth.receiver == receiver) {
            receivers.push(OutboxGauge {
                receiver: receiver.to_string(),
                ..OutboxGauge::default()
            });
        }
    }
    let seconds = |at: DateTime<Utc>| at.timestamp_millis() as f64 / 1000.0;
    let sources = observed
        .inventory
        .sources()
        .iter()
        .map(|(source, _)| {
            let row = health.iter().find(|row| &row.source == source);
            SourceGauge {
                source: source.to_string(),
                last_success_unix_seconds: row.and_then(|row| row.last_success_at).map(seconds),
                lag_seconds: row
                    .and_then(|row| row.newest_post_at)
                    .map(|at| ((now - at).num_milliseconds().max(0)) as f64 / 1000.0),
                consecutive_failures: row.map_or(0, |row| u64::from(row.failures)),
            }
        })
        .collect();
    StoreGauges {
        outbox: receivers,
        open_hits: hits.open,
        sla_breached_hits: hits.sla_breached,
        sources,
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
    "brand, topic, team, source, author, status, since, until, q, before, after, limit";

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
            "author" => query.author = text,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_failing_after_n_of_its_intervals_without_success_since_start() {
        let at =
            |seconds: i64| DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default();
        let row = |source: &str, failures: u32, last_success: Option<i64>| SourceHealth {
            source: source.into(),
            last_success_at: last_success.map(at),
            last_error_at: None,
            last_error: None,
            failures,
            newest_post_at: None,
            posts_per_minute: 0.0,
        };
        let minute = Duration::from_secs(60);
        let sources: Vec<(SourceName, Duration)> = ["ok", "blip", "down", "never", "new"]
            .into_iter()
            .map(|name| (name.into(), minute))
            .collect();
        let health = [
            row("ok", 0, Some(0)),
            // Failing for 2 minutes: under 3 intervals.
            row("blip", 2, Some(460)),
            row("down", 5, Some(0)),
            // Never succeeded: counted from the daemon's start.
            row("never", 9, None),
            // Not configured any more: not its business.
            row("gone", 9, None),
        ];
        let names = |started: i64| -> Vec<(String, u64)> {
            failing_sources(&health, &sources, 3, at(started), at(600))
                .into_iter()
                .map(|(source, _, failing_for)| (source.to_string(), failing_for.as_secs()))
                .collect()
        };
        assert_eq!(
            names(0),
            [("down".to_string(), 600), ("never".to_string(), 600)]
        );
        // Just restarted: every source gets its intervals again.
        assert_eq!(names(500), []);
        assert_eq!(
            names(300),
            [("down".to_string(), 300), ("never".to_string(), 300)]
        );
    }
}
