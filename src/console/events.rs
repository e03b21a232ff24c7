//! The live feed: `GET /console/events` (a session required), Server-Sent Events.
//!
//! Each event is one entry of the store's change log (`hit_changes`), its `id:` the
//! entry's sequence number: `event: hit` when a hit was stored, `event: update` when
//! it was acknowledged, escalated, taken, released or called not relevant; `data:`
//! is the hit's current card (`api::card`). The stream starts after the sequence
//! number in the `Last-Event-ID` header (a reconnect), else in `?last_event_id=`
//! (the page's first connect), else at the newest change; so the missed changes are
//! replayed from the store before the live ones, none lost and none twice.
//!
//! The stream is pulled: it reads the log after its position whenever the store's
//! `changes` watch moves past it (the writer thread sets it after each commit that
//! logged a change; no polling), at most [`BATCH`] entries a read, and only as fast
//! as the client takes them, so a slow client costs the store nothing and never
//! holds it up. Comments keep the connection alive every 15 s; the stream ends when
//! the client goes (the connection task drops it) or at shutdown.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use futures_util::stream;

use super::api::load_cards;
use super::auth::{SESSION_COOKIE, cookie, json_error, session_hash};
use super::{ConsoleState, Session};
use crate::model::HitId;
use crate::store::{HitChange, HitQuery};

/// Change-log entries read (and cards built) at once.
const BATCH: usize = 100;

/// Time between keep-alive comments.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The live feed's route.
pub(crate) fn routes() -> axum::Router<Arc<ConsoleState>> {
    axum::Router::new().route("/console/events", get(events))
}

/// Where a feed starts: `Last-Event-ID`, else `?last_event_id=`, else `None` (now).
fn resume_from(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Option<i64>, &'static str> {
    let given = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .or_else(|| params.get("last_event_id").map(String::as_str))
        .map(str::trim)
        .filter(|value| !value.is_empty());
    match given {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|seq| *seq >= 0)
            .map(Some)
            .ok_or("`Last-Event-ID` must be an event id the feed sent"),
    }
}

/// The feed's position and what it has read but not sent yet.
struct Feed {
    state: Arc<ConsoleState>,
    changes: tokio::sync::watch::Receiver<i64>,
    /// The SHA-256 of the session the feed was opened with: checked at every read, so
    /// a logout, an expiry or a reload that ended the session ends the feed too.
    session: String,
    seq: i64,
    ready: VecDeque<Event>,
}

impl Feed {
    /// The next event: a read one, else the next entries of the log, else a wait for
    /// the store to log more. `None` ends the stream (shutdown, the store is gone, or
    /// the session ended).
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Feed)> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some((Ok(event), self));
            }
            // Marked seen before reading, so a change committed after the read wakes us.
            self.changes.borrow_and_update();
            match self.read().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(()) => return None,
            }
            tokio::select! {
                _ = self.state.shutdown.cancelled() => return None,
                changed = self.changes.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Reads the log after the position into events; `Ok(false)` when there was
    /// nothing new.
    async fn read(&mut self) -> Result<bool, ()> {
        let after = self.seq;
        let session = self.session.clone();
        let read = self
            .state
            .store
            .call(move |store| match store.session(&session, Utc::now())? {
                Some(_) => store.hit_changes_after(after, BATCH).map(Some),
                None => Ok(None),
            })
            .await
            .and_then(|result| result);
        let entries: Vec<HitChange> = match read {
            Ok(Some(entries)) => entries,
            Ok(None) => return Err(()),
            Err(err) => {
                tracing::error!(error = %crate::escape::log(&err.to_string()), "console feed read failed");
                return Err(());
            }
        };
        let Some(last) = entries.last().map(|entry| entry.seq) else {
            return Ok(false);
        };
        let mut ids: Vec<HitId> = entries.iter().map(|entry| entry.hit).collect();
        ids.sort_unstable_by_key(|id| id.0);
        ids.dedup();
        let query = HitQuery {
            ids: Some(ids),
            ..HitQuery::default()
        };
        let cards = load_cards(&self.state, query).await.map_err(|_| ())?;
        let by_id: HashMap<i64, &serde_json::Value> = cards
            .hits
            .iter()
            .filter_map(|card| Some((card["id"].as_i64()?, card)))
            .collect();
        for entry in entries {
            // A hit purged since its entry was logged has nothing left to show.
            let Some(card) = by_id.get(&entry.hit.0) else {
                continue;
            };
            let kind = if entry.kind == "hit" { "hit" } else { "update" };
            match Event::default()
                .id(entry.seq.to_string())
                .event(kind)
                .json_data(card)
            {
                Ok(event) => self.ready.push_back(event),
                Err(err) => tracing::error!(error = %err, "console feed event not encoded"),
            }
        }
        self.seq = last;
        Ok(true)
    }
}

/// `GET /console/events`: the live feed (see the module documentation).
async fn events(
    State(state): State<Arc<ConsoleState>>,
    _session: Session,
    headers: HeaderMap,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    let resume = match resume_from(&headers, &params) {
        Ok(resume) => resume,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, message),
    };
    let changes = state.store.changes();
    let seq = match resume {
        Some(seq) => seq,
        None => {
            match state
                .store
                .call(|store| store.latest_change())
                .await
                .and_then(|result| result)
            {
                Ok(seq) => seq,
                Err(_) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable"),
            }
        }
    };
    // The extractor found the session by this cookie.
    let Some(session) = cookie(&headers, SESSION_COOKIE).map(session_hash) else {
        return json_error(StatusCode::UNAUTHORIZED, "no session");
    };
    let feed = Feed {
        state,
        changes,
        session,
        seq,
        ready: VecDeque::new(),
    };
    let events = stream::unfold(feed, Feed::next);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // Proxies such as nginx would otherwise hold the events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_wins_over_the_query_and_garbage_is_refused() {
        let mut headers = HeaderMap::new();
        let mut params = HashMap::new();
        assert_eq!(resume_from(&headers, &params), Ok(None));
        params.insert("last_event_id".to_string(), "7".to_string());
        assert_eq!(resume_from(&headers, &params), Ok(Some(7)));
        headers.insert("Last-Event-ID", HeaderValue::from_static("12"));
        assert_eq!(resume_from(&headers, &params), Ok(Some(12)));
        headers.insert("Last-Event-ID", HeaderValue::from_static("12x"));
        assert!(resume_from(&headers, &params).is_err());
        headers.insert("Last-Event-ID", HeaderValue::from_static("-1"));
        assert!(resume_from(&headers, &params).is_err());
    }
}
