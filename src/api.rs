//! The HTTP API, off unless `[api] listen` is set: `POST /api/v1/hits/{id}/ack` with
//! `Authorization: Bearer <token>` acknowledges a hit, like `mentiond ack`, for chat
//! bots and CRM integrations. Optional JSON body `{"by": "name"}`. Answers 200 with the
//! first-response time, 409 if already acknowledged, 404 for an unknown hit, 401
//! without the right token.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::settings::{FieldError, take_secret};
use crate::store::{AckOutcome, StoreHandle};

/// Validated `[api]` settings.
#[derive(Clone)]
pub struct ApiSettings {
    /// Address to listen on (`127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// The bearer token every request must carry.
    pub token: SecretString,
}

impl ApiSettings {
    /// Validates `[api]`: `listen` (empty: the API is off) and the token options
    /// (`token`, `token_env`, `token_file`). Problems are keyed relative to `[api]`.
    pub fn parse(
        listen: &str,
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
            (Ok(listen), Ok(token)) if problems.is_empty() => {
                Ok(Some(ApiSettings { listen, token }))
            }
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
            .finish()
    }
}

struct ApiState {
    store: StoreHandle,
    token: SecretString,
}

/// Serves the API on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    token: SecretString,
    store: StoreHandle,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .route("/api/v1/hits/{id}/ack", post(ack))
        .with_state(Arc::new(ApiState { store, token }));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn ack(
    State(state): State<Arc<ApiState>>,
    Path(hit_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let presented = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same_secret(presented.as_bytes(), state.token.expose_secret().as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "missing or wrong bearer token"})),
        );
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
