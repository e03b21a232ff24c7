//! The console's JSON API under `/console/api/` (a session required; errors are
//! `{ "error": … }`; `Cache-Control: no-store`), and the report files under
//! `/reports/`.
//!
//! - `GET me`, `PUT me/lang`: who is logged in, their language, the CSRF token.
//! - `GET columns`, `PUT columns`: the user's columns (a default set until they save
//!   their own: one per brand, topic and team, then `open`, `escalated`,
//!   `competitors`).
//! - `GET hits`: one page of a column's hits (or of `kind`/`key` and filters) as
//!   [`card`]s, newest first; `GET search?q=` (full text); `GET authors/{source}/{author}`.
//! - `POST hits/{id}/ack`, `POST hits/ack` (bulk), `POST hits/{id}/take`,
//!   `POST hits/{id}/release`, `POST hits/{id}/not-relevant` (CSRF token required).
//! - `GET reports`: the report files present; `GET /reports/{file}` serves one.
//!
//! Every hit read goes through the store's one `HitQuery`; post text reaches the
//! browser only inside JSON strings.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::json_error;
use super::{ConsoleState, Session};
use crate::escape;
use crate::keywords::Severity;
use crate::model::HitId;
use crate::report::ReportName;
use crate::routing::{HitLabels, Router};
use crate::sentiment::Sentiment;
use crate::store::{
    AckOutcome, FeedbackVerdict, HitCursor, HitQuery, HitRow, HitStatus, HitTake, Store,
    StoreError, TakeOutcome,
};

/// Hits on one page unless `limit` says otherwise.
const DEFAULT_PAGE: usize = 50;
/// Most hits on one page, and most ids in one bulk acknowledgement.
const MAX_PAGE: usize = 500;
/// Most columns a user can keep.
const MAX_COLUMNS: usize = 64;

/// What a column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// One brand's hits (`key` = the brand).
    Brand,
    /// One topic's hits (`key` = the topic).
    Topic,
    /// One team's hits (`key` = the team).
    Team,
    /// Hits nobody acknowledged whose SLA has not passed.
    Open,
    /// Hits escalated (SLA breached) and still not acknowledged.
    Escalated,
    /// Competitors' hits.
    Competitors,
    /// A full-text search (`key` = the search).
    Search,
}

/// A column's own filters; each set one must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnFilter {
    /// Only posts from this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only this tone (`negative`, `neutral`, `positive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<String>,
    /// Only posts in this language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Only authors with at least this many followers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_followers: Option<u64>,
    /// Only posts containing these words (full text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One column of a user's console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Unique among the user's columns (`brand:Turkcell`).
    pub id: String,
    /// What it shows.
    pub kind: ColumnKind,
    /// The brand, topic, team or search (`None` for the other kinds).
    #[serde(default)]
    pub key: Option<String>,
    /// Its heading.
    pub title: String,
    /// Its filters.
    #[serde(default)]
    pub filter: ColumnFilter,
}

impl Column {
    fn new(kind: ColumnKind, key: Option<&str>, title: &str) -> Column {
        let name = serde_json::to_value(kind)
            .ok()
            .and_then(|value| value.as_str().map(str::to_string))
            .unwrap_or_default();
        Column {
            id: match key {
                Some(key) => format!("{name}:{key}"),
                None => name,
            },
            kind,
            key: key.map(str::to_string),
            title: title.to_string(),
            filter: ColumnFilter::default(),
        }
    }

    /// Why the column cannot be kept, if it cannot.
    fn problem(&self) -> Option<String> {
        let needs_key = matches!(
            self.kind,
            ColumnKind::Brand | ColumnKind::Topic | ColumnKind::Team | ColumnKind::Search
        );
        let short = |text: &str, most: usize| text.chars().count() <= most;
        if self.id.trim().is_empty() || !short(&self.id, 200) {
            return Some("`id` must be 1 to 200 characters".into());
        }
        if self.title.trim().is_empty() || !short(&self.title, 200) {
            return Some(format!(
                "column `{}`: `title` must be 1 to 200 characters",
                self.id
            ));
        }
        match (&self.key, needs_key) {
            (Some(key), true) if !key.trim().is_empty() && short(key, 500) => {}
            (None, false) => {}
            (_, true) => return Some(format!("column `{}`: this kind needs a `key`", self.id)),
            (Some(_), false) => {
                return Some(format!("column `{}`: this kind takes no `key`", self.id));
            }
        }
        let filter = &self.filter;
        if let Some(sentiment) = &filter.sentiment
            && Sentiment::parse(sentiment).is_none()
        {
            return Some(format!(
                "column `{}`: `sentiment` is negative, neutral or positive",
                self.id
            ));
        }
        let texts = [&filter.source, &filter.lang, &filter.text];
        if texts
            .iter()
            .any(|text| text.as_ref().is_some_and(|t| !short(t, 500)))
        {
            return Some(format!("column `{}`: a filter is too long", self.id));
        }
        None
    }

    /// The hits the column shows, as a store query.
    fn query(&self) -> HitQuery {
        let key = self.key.clone();
        let mut query = HitQuery::default();
        match self.kind {
            ColumnKind::Brand => query.brand = key,
            ColumnKind::Topic => query.topic = key,
            ColumnKind::Team => query.team = key,
            ColumnKind::Open => query.status = Some(HitStatus::Open),
            ColumnKind::Escalated => query.status = Some(HitStatus::Escalated),
            ColumnKind::Competitors => query.competitor = Some(true),
            ColumnKind::Search => query.text = key,
        }
        let filter = self.filter.clone();
        query.source = filter.source;
        query.sentiment = filter.sentiment;
        query.lang = filter.lang;
        query.min_followers = filter.min_followers;
        if filter.text.is_some() {
            // A search column's own words and its filter's both must hold.
            query.text = match query.text {
                Some(words) => Some(format!("{words} {}", filter.text.unwrap_or_default())),
                None => filter.text,
            };
        }
        query
    }
}

/// The columns a user has before saving their own: one per own brand, topic and team
/// of the rules in force, then open, escalated and competitors.
fn default_columns(state: &ConsoleState, lang: &str) -> Vec<Column> {
    let keywords = state.keywords.current();
    let rules = &keywords.rules;
    let mut columns: Vec<Column> = rules
        .brands
        .iter()
        .filter(|brand| brand.competitor_of.is_none())
        .map(|brand| Column::new(ColumnKind::Brand, Some(&brand.name), &brand.name))
        .collect();
    columns.extend(
        rules
            .topics
            .iter()
            .map(|topic| Column::new(ColumnKind::Topic, Some(&topic.name), &topic.name)),
    );
    let mut teams: Vec<&str> = rules
        .brands
        .iter()
        .filter_map(|brand| brand.team.as_deref())
        .chain(
            rules
                .topics
                .iter()
                .filter_map(|topic| topic.team.as_deref()),
        )
        .collect();
    teams.sort_unstable();
    teams.dedup();
    columns.extend(
        teams
            .into_iter()
            .map(|team| Column::new(ColumnKind::Team, Some(team), team)),
    );
    let turkish = lang == "tr";
    let titles = if turkish {
        ["Açık", "Eskale / SLA aşıldı", "Rakipler"]
    } else {
        ["Open", "Escalated / SLA breached", "Competitors"]
    };
    columns.push(Column::new(ColumnKind::Open, None, titles[0]));
    columns.push(Column::new(ColumnKind::Escalated, None, titles[1]));
    columns.push(Column::new(ColumnKind::Competitors, None, titles[2]));
    columns
}

/// The API's routes and the report files.
pub(crate) fn routes() -> axum::Router<Arc<ConsoleState>> {
    axum::Router::new()
        .route("/console/api/me", get(me))
        .route("/console/api/me/lang", axum::routing::put(set_lang))
        .route("/console/api/columns", get(columns).put(set_columns))
        .route("/console/api/hits", get(list_hits))
        .route("/console/api/search", get(search))
        .route("/console/api/authors/{source}/{author}", get(author))
        .route("/console/api/hits/ack", post(ack_many))
        .route("/console/api/hits/{id}/ack", post(ack))
        .route("/console/api/hits/{id}/take", post(take))
        .route("/console/api/hits/{id}/release", post(release))
        .route("/console/api/hits/{id}/not-relevant", post(not_relevant))
        .route("/console/api/reports", get(reports))
        .route("/reports/{file}", get(report_file))
}

/// The 503 for a store that failed or is gone, logged.
fn store_failed(err: &StoreError) -> Response {
    tracing::error!(error = %escape::log(&err.to_string()), "console store call failed");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

/// Runs `f` on the store thread; a store failure becomes the 503.
async fn with_store<R, F>(state: &ConsoleState, f: F) -> Result<R, Response>
where
    R: Send + 'static,
    F: FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
{
    state
        .store
        .call(f)
        .await
        .and_then(|result| result)
        .map_err(|err| store_failed(&err))
}

/// `GET /console/api/me`: `{ user, display_name, team, lang, csrf }`.
async fn me(session: Session) -> Json<Value> {
    Json(json!({
        "user": session.user,
        "display_name": session.display_name,
        "team": session.team,
        "lang": session.lang,
        "csrf": session.csrf,
    }))
}

/// `PUT /console/api/me/lang` `{ "lang": "tr" | "en" }`.
async fn set_lang(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let lang = body
        .ok()
        .and_then(|Json(body)| body.get("lang").and_then(Value::as_str).map(str::to_string));
    let Some(lang) = lang.filter(|lang| lang == "tr" || lang == "en") else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "body must be {\"lang\": \"tr\" or \"en\"}",
        );
    };
    let (user, chosen) = (session.user.clone(), lang.clone());
    match with_store(&state, move |store| store.set_user_lang(&user, &chosen)).await {
        Ok(()) => Json(json!({ "lang": lang })).into_response(),
        Err(response) => response,
    }
}

/// The user's saved columns, else the default set.
async fn user_columns(state: &ConsoleState, session: &Session) -> Result<Vec<Column>, Response> {
    let user = session.user.clone();
    let saved = with_store(state, move |store| store.user_columns(&user)).await?;
    match saved.map(|text| serde_json::from_str::<Vec<Column>>(&text)) {
        Some(Ok(columns)) => Ok(columns),
        Some(Err(err)) => {
            // Saved by an older build in another shape: start again from the defaults.
            tracing::warn!(error = %err, "console columns unreadable, defaults shown");
            Ok(default_columns(state, &session.lang))
        }
        None => Ok(default_columns(state, &session.lang)),
    }
}

/// `GET /console/api/columns`: the user's columns in order.
async fn columns(State(state): State<Arc<ConsoleState>>, session: Session) -> Response {
    match user_columns(&state, &session).await {
        Ok(columns) => Json(columns).into_response(),
        Err(response) => response,
    }
}

/// `PUT /console/api/columns`: replaces the user's columns (the order is the order
/// shown); each is validated, ids must be unique.
async fn set_columns(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    body: Result<Json<Vec<Column>>, JsonRejection>,
) -> Response {
    let columns = match body {
        Ok(Json(columns)) => columns,
        Err(rejection) => {
            return json_error(StatusCode::BAD_REQUEST, &rejection.body_text());
        }
    };
    if columns.len() > MAX_COLUMNS {
        return json_error(
            StatusCode::BAD_REQUEST,
            &format!("at most {MAX_COLUMNS} columns"),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for column in &columns {
        if let Some(problem) = column.problem() {
            return json_error(StatusCode::BAD_REQUEST, &problem);
        }
        if !seen.insert(column.id.as_str()) {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("column id `{}` is used twice", column.id),
            );
        }
    }
    let text = match serde_json::to_string(&columns) {
        Ok(text) => text,
        Err(_) => return json_error(StatusCode::BAD_REQUEST, "columns cannot be stored"),
    };
    let user = session.user.clone();
    match with_store(&state, move |store| store.set_user_columns(&user, &text)).await {
        Ok(()) => Json(columns).into_response(),
        Err(response) => response,
    }
}

/// Reads a page's paging parameters (`before`, `after`, `limit`) into `query`;
/// `Err` is the 400's message.
fn paging(query: &mut HitQuery, params: &HashMap<String, String>) -> Result<(), String> {
    let given = |name: &str| params.get(name).filter(|value| !value.is_empty());
    if let Some(before) = given("before") {
        query.before = Some(before.parse().map_err(|err| format!("`before`: {err}"))?);
    }
    if let Some(after) = given("after") {
        query.after = Some(after.parse().map_err(|err| format!("`after`: {err}"))?);
    }
    query.limit = Some(match given("limit") {
        None => DEFAULT_PAGE,
        Some(limit) => limit
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_PAGE).contains(limit))
            .ok_or_else(|| format!("`limit`: must be a number from 1 to {MAX_PAGE}"))?,
    });
    Ok(())
}

/// `GET /console/api/hits`: `column=<id>` (one of the user's columns), or
/// `kind=…&key=…` with the filters `source`, `sentiment`, `lang`, `min_followers`,
/// `text`; paged with `before`/`after`/`limit`. Answers `{ hits, next_before, latest }`.
async fn list_hits(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "the query string is not form-encoded",
        );
    };
    let given = |name: &str| params.get(name).filter(|value| !value.is_empty()).cloned();
    let column = match given("column") {
        Some(id) => match user_columns(&state, &session).await {
            Ok(columns) => match columns.into_iter().find(|column| column.id == id) {
                Some(column) => column,
                None => return json_error(StatusCode::NOT_FOUND, "no such column"),
            },
            Err(response) => return response,
        },
        None => {
            let kind = given("kind").unwrap_or_else(|| "open".to_string());
            let Ok(kind) = serde_json::from_value::<ColumnKind>(Value::String(kind)) else {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "`kind` is brand, topic, team, open, escalated, competitors or search",
                );
            };
            let min_followers = match given("min_followers").map(|n| n.parse::<u64>()) {
                Some(Ok(n)) => Some(n),
                Some(Err(_)) => {
                    return json_error(StatusCode::BAD_REQUEST, "`min_followers` must be a number");
                }
                None => None,
            };
            let column = Column {
                id: "query".into(),
                kind,
                key: given("key"),
                title: "query".into(),
                filter: ColumnFilter {
                    source: given("source"),
                    sentiment: given("sentiment"),
                    lang: given("lang"),
                    min_followers,
                    text: given("text"),
                },
            };
            if let Some(problem) = column.problem() {
                return json_error(StatusCode::BAD_REQUEST, &problem);
            }
            column
        }
    };
    let query = column.query();
    page_of_cards(&state, query, &params).await
}

/// `GET /console/api/search?q=…`: every stored hit whose post has the words, newest
/// first, paged like `hits`.
async fn search(
    State(state): State<Arc<ConsoleState>>,
    _session: Session,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "the query string is not form-encoded",
        );
    };
    let Some(words) = params.get("q").filter(|q| !q.trim().is_empty()) else {
        return json_error(StatusCode::BAD_REQUEST, "`q` is required");
    };
    let query = HitQuery {
        text: Some(words.clone()),
        ..HitQuery::default()
    };
    page_of_cards(&state, query, &params).await
}

/// `GET /console/api/authors/{source}/{author}`: the author (by the key cards carry
/// as `author.key`) and every hit on their posts, newest first, paged like `hits`
/// (`next_before` until the last page: nothing is cut off).
async fn author(
    State(state): State<Arc<ConsoleState>>,
    _session: Session,
    path: Result<Path<(String, String)>, PathRejection>,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let (Ok(Path((source, author))), Ok(Query(params))) = (path, params) else {
        return json_error(StatusCode::BAD_REQUEST, "bad author path or query");
    };
    let mut query = HitQuery {
        source: Some(source.clone()),
        author: Some(author.clone()),
        ..HitQuery::default()
    };
    if let Err(message) = paging(&mut query, &params) {
        return json_error(StatusCode::BAD_REQUEST, &message);
    }
    let page = match load_cards(&state, query).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let profile = page.hits.first().map(|card| card["author"].clone());
    Json(json!({
        "source": source,
        "key": author,
        "profile": profile,
        "hits": page.hits,
        "next_before": page.next_before,
        "latest": page.latest,
    }))
    .into_response()
}

/// One page of cards.
#[derive(Debug, Serialize)]
pub(crate) struct CardPage {
    /// The cards, newest first.
    pub hits: Vec<Value>,
    /// Older hits exist: ask with `before` set to this.
    pub next_before: Option<HitCursor>,
    /// Ask with `after` set to this for the hits that arrive later.
    pub latest: Option<HitCursor>,
}

/// The page of cards `query` selects, paged by `params` (`before`, `after`, `limit`).
async fn page_of_cards(
    state: &ConsoleState,
    mut query: HitQuery,
    params: &HashMap<String, String>,
) -> Response {
    if let Err(message) = paging(&mut query, params) {
        return json_error(StatusCode::BAD_REQUEST, &message);
    }
    match load_cards(state, query).await {
        Ok(page) => Json(page).into_response(),
        Err(response) => response,
    }
}

/// Reads the hits of `query` with their takes and not-relevant verdicts in one store
/// call, and makes them cards.
pub(crate) async fn load_cards(
    state: &ConsoleState,
    query: HitQuery,
) -> Result<CardPage, Response> {
    let (page, takes, not_relevant) = with_store(state, move |store| {
        let page = store.hits(&query)?;
        let ids: Vec<HitId> = page.hits.iter().map(|hit| hit.id).collect();
        let takes = store.hit_takes(&ids)?;
        let not_relevant = store.hit_not_relevant_by(&ids)?;
        Ok((page, takes, not_relevant))
    })
    .await?;
    let router = Arc::clone(&state.keywords.current().router);
    let hits = page
        .hits
        .iter()
        .map(|hit| {
            card(
                hit,
                state.platform(&hit.post.source),
                takes.get(&hit.id),
                not_relevant.get(&hit.id).map_or(&[][..], Vec::as_slice),
                &router,
            )
        })
        .collect();
    Ok(CardPage {
        hits,
        next_before: page.next,
        latest: page.latest,
    })
}

/// The card of hit `id`, or `None` when there is no such hit.
pub(crate) async fn one_card(state: &ConsoleState, id: HitId) -> Result<Option<Value>, Response> {
    let query = HitQuery {
        ids: Some(vec![id]),
        limit: Some(1),
        ..HitQuery::default()
    };
    Ok(load_cards(state, query).await?.hits.pop())
}

/// The UTF-16 code-unit offset of byte `offset` of `text` (how JavaScript strings
/// index it); `None` when it is not a character boundary of `text`.
fn utf16_offset(text: &str, offset: usize) -> Option<usize> {
    text.get(..offset)
        .map(|before| before.encode_utf16().count())
}

/// The matched terms of a hit as spans of its text in UTF-16 code units. The store
/// keeps the matcher's byte offsets into the original text; a span that does not fit
/// the text (stored by an older build) is looked up by the matched words instead,
/// and left out when they are not there.
fn match_spans(text: &str, terms: &Value) -> Vec<Value> {
    let Some(terms) = terms.as_array() else {
        return Vec::new();
    };
    terms
        .iter()
        .filter_map(|term| {
            let field = |name: &str| term.get(name).and_then(Value::as_str).unwrap_or("");
            let start = term
                .get("start")
                .and_then(Value::as_u64)
                .map(|n| n as usize);
            let end = term.get("end").and_then(Value::as_u64).map(|n| n as usize);
            let by_offsets = match (start, end) {
                (Some(start), Some(end)) if start < end => {
                    utf16_offset(text, start).zip(utf16_offset(text, end))
                }
                _ => None,
            };
            let (start, end) = by_offsets.or_else(|| {
                let matched = field("matched");
                let at = (!matched.is_empty())
                    .then(|| text.find(matched))
                    .flatten()?;
                utf16_offset(text, at).zip(utf16_offset(text, at + matched.len()))
            })?;
            Some(json!({
                "start": start,
                "end": end,
                "term": field("term"),
                "variant": field("variant"),
                "kind": field("kind"),
            }))
        })
        .collect()
}

/// The SLA deadline of `hit` under `router` (its first escalating route), if any.
fn sla_due(hit: &HitRow, router: &Router) -> Option<DateTime<Utc>> {
    let labels = HitLabels {
        brand: hit.brand.clone(),
        team: hit.team.clone(),
        source: hit.post.source.clone(),
        competitor: hit.competitor,
        severity: Severity::parse(hit.severity).unwrap_or_default(),
        priority: hit.priority,
        is_topic: hit.topic,
        sentiment: Sentiment::parse(hit.sentiment).unwrap_or(Sentiment::Neutral),
    };
    let sla = chrono::Duration::from_std(router.sla_of(&labels)?).ok()?;
    hit.detected_at.checked_add_signed(sla)
}

/// A hit as the console shows it: the one place its JSON is built (the API pages,
/// the action answers and the live feed all use it). Fields:
/// - `id`: the hit id; `source`: the channel's name; `platform`: the source's kind
///   (`mastodon`, `x`, `intake`, …; the source name when unknown); `url`: the post.
/// - `author`: `{ name, handle, followers, earlier_hits, key }` (`key` for
///   `GET /console/api/authors/{source}/{key}`; `earlier_hits` is the author's
///   earlier hits counted when this one was stored, capped).
/// - `text`: the post text, unchanged (render it as text); `lang`.
/// - `matches`: `[{ start, end, term, variant, kind }]`, spans of `text` in UTF-16
///   code units (JavaScript string indices), with the keyword term, the folded
///   variant found and how it matched (`exact`, `typo`, `suffix`, …).
/// - `brand` (the brand or topic), `topic` (the topic's name when it is one, else
///   null), `team`, `competitor` (bool), `severity`.
/// - `sentiment`: `{ label, score }` (`score` null for hits stored without one).
/// - `priority`: 0 to 100; `status`: `open`, `acked` or `escalated`.
/// - `posted_at` (the platform's time), `stored_at` (when mentiond found it),
///   `sla_due_at` (when the SLA of its escalating route runs out; null without one),
///   `escalated_at`, `acked_at`, `acked_by`, `first_response_secs` (from posting,
///   or finding when the platform gave no time, to the acknowledgement).
/// - `taken_by`, `taken_at`: who took it; `not_relevant_by`: who called it not
///   relevant (a list).
///
/// Times are RFC 3339 UTC.
pub(crate) fn card(
    hit: &HitRow,
    platform: &str,
    take: Option<&HitTake>,
    not_relevant_by: &[String],
    router: &Router,
) -> Value {
    let post = &hit.post;
    let author = post.author.as_ref();
    let posted = post.created_at.unwrap_or(hit.detected_at);
    json!({
        "id": hit.id.0,
        "source": post.source,
        "platform": platform,
        "url": post.url,
        "author": {
            "name": author.and_then(|a| a.name.clone()),
            "handle": author.and_then(|a| a.handle.clone()),
            "followers": author.and_then(|a| a.followers),
            "earlier_hits": hit.author_earlier_hits,
            "key": post.author_key(),
        },
        "text": post.text,
        "lang": post.lang,
        "matches": match_spans(&post.text, &hit.terms),
        "brand": hit.brand,
        "topic": hit.topic.then_some(&hit.brand),
        "team": hit.team,
        "competitor": hit.competitor,
        "severity": hit.severity,
        "sentiment": { "label": hit.sentiment, "score": hit.sentiment_score },
        "priority": hit.priority,
        "status": hit.status.as_str(),
        "posted_at": post.created_at,
        "stored_at": hit.detected_at,
        "sla_due_at": sla_due(hit, router),
        "escalated_at": hit.escalated_at,
        "acked_at": hit.acked_at,
        "acked_by": hit.acked_by,
        "first_response_secs": hit.acked_at.map(|acked| (acked - posted).num_seconds().max(0)),
        "taken_by": take.map(|take| &take.by),
        "taken_at": take.map(|take| take.at),
        "not_relevant_by": not_relevant_by,
    })
}

/// The hit id of an action's path (`/console/api/hits/{id}/…`); a 400 JSON error
/// when it is not a number.
struct HitPath(HitId);

impl axum::extract::FromRequestParts<Arc<ConsoleState>> for HitPath {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<ConsoleState>,
    ) -> Result<HitPath, Response> {
        Path::<HitId>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| HitPath(id))
            .map_err(|_| json_error(StatusCode::BAD_REQUEST, "the hit id must be a number"))
    }
}

/// The hit's card after an action, or a 404 when it is gone.
async fn card_answer(state: &ConsoleState, id: HitId, extra: Value) -> Response {
    match one_card(state, id).await {
        Ok(Some(card)) => {
            let mut body = json!({ "hit": card });
            if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
                body.extend(extra);
            }
            Json(body).into_response()
        }
        Ok(None) => no_hit(id),
        Err(response) => response,
    }
}

/// `POST /console/api/hits/{id}/ack`: acknowledges the hit as the user, through the
/// store's one acknowledgement path (`Store::ack_hit`, as `/api/v1/hits/{id}/ack`
/// and `mentiond ack`). 200 with the card, 409 when acknowledged before.
async fn ack(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    HitPath(id): HitPath,
) -> Response {
    let by = session.user.clone();
    let outcome = with_store(&state, move |store| {
        store.ack_hit(id, &by, "console", Utc::now())
    })
    .await;
    match outcome {
        Ok(AckOutcome::Acked { .. }) => card_answer(&state, id, json!({})).await,
        Ok(AckOutcome::AlreadyAcked { by, at }) => {
            conflict(json!({ "error": "already acknowledged", "acked_by": by, "acked_at": at }))
        }
        Ok(AckOutcome::NotFound) => no_hit(id),
        Err(response) => response,
    }
}

/// 404 for a hit id the store does not hold.
fn no_hit(id: HitId) -> Response {
    json_error(StatusCode::NOT_FOUND, &format!("no hit {}", id.0))
}

/// 409 with `body`: a colleague's action came first (who and when are in `body`).
fn conflict(body: Value) -> Response {
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// `POST /console/api/hits/ack` `{ "ids": [...] }`: acknowledges each (at most
/// 500) as the user; answers which were `acked`, `already` acknowledged and `missing`.
async fn ack_many(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let ids: Option<Vec<HitId>> = body.ok().and_then(|Json(body)| {
        body.get("ids")?
            .as_array()?
            .iter()
            .map(|id| id.as_i64().map(HitId))
            .collect()
    });
    let Some(ids) = ids.filter(|ids| !ids.is_empty() && ids.len() <= MAX_PAGE) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            &format!("body must be {{\"ids\": [1 to {MAX_PAGE} hit ids]}}"),
        );
    };
    let by = session.user.clone();
    let outcome = with_store(&state, move |store| {
        let now = Utc::now();
        let mut done = (Vec::new(), Vec::new(), Vec::new());
        for id in ids {
            match store.ack_hit(id, &by, "console", now)? {
                AckOutcome::Acked { .. } => done.0.push(id.0),
                AckOutcome::AlreadyAcked { .. } => done.1.push(id.0),
                AckOutcome::NotFound => done.2.push(id.0),
            }
        }
        Ok(done)
    })
    .await;
    match outcome {
        Ok((acked, already, missing)) => {
            Json(json!({ "acked": acked, "already": already, "missing": missing })).into_response()
        }
        Err(response) => response,
    }
}

/// `POST /console/api/hits/{id}/take`: assigns the hit to the user (409 when a
/// colleague holds it).
async fn take(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    HitPath(id): HitPath,
) -> Response {
    hold(&state, &session, id, true).await
}

/// `POST /console/api/hits/{id}/release`: gives the user's hit back.
async fn release(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    HitPath(id): HitPath,
) -> Response {
    hold(&state, &session, id, false).await
}

/// Takes (`take`) or releases the path's hit as the session's user.
async fn hold(state: &ConsoleState, session: &Session, id: HitId, take: bool) -> Response {
    let by = session.user.clone();
    let outcome = with_store(state, move |store| match take {
        true => store.take_hit(id, &by, Utc::now()),
        false => store.release_hit(id, &by),
    })
    .await;
    match outcome {
        Ok(TakeOutcome::Done) => card_answer(state, id, json!({})).await,
        Ok(TakeOutcome::TakenBy(holder)) => {
            conflict(json!({ "error": "taken by someone else", "taken_by": holder }))
        }
        Ok(TakeOutcome::NotFound) => no_hit(id),
        Err(response) => response,
    }
}

/// `POST /console/api/hits/{id}/not-relevant`: records the user's verdict against
/// the term or variant that matched (`Store::record_feedback`, as `mentiond
/// feedback`), which the matcher's feedback switch reads; answers the card and
/// whether the variant is now switched off.
async fn not_relevant(
    State(state): State<Arc<ConsoleState>>,
    session: Session,
    HitPath(id): HitPath,
) -> Response {
    let by = session.user.clone();
    let outcome = state
        .store
        .call(move |store| {
            store.record_feedback(id.0, FeedbackVerdict::NotRelevant, &by, Utc::now())
        })
        .await
        .and_then(|result| result);
    match outcome {
        Ok(outcome) => {
            card_answer(
                &state,
                id,
                json!({
                    "variant": outcome.variant,
                    "switched_off": outcome.switched_off,
                }),
            )
            .await
        }
        Err(StoreError::UnknownHit(_)) => no_hit(id),
        Err(err) => store_failed(&err),
    }
}

/// The report files in `dir` (none when it does not exist yet).
async fn report_names(dir: &std::path::Path) -> std::io::Result<Vec<ReportName>> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        if entry.file_type().await?.is_file()
            && let Some(name) = entry.file_name().to_str().and_then(ReportName::parse)
        {
            names.push(name);
        }
    }
    Ok(names)
}

/// `GET /console/api/reports`: the report files in the reports directory, newest
/// first: `[{ file, date, period: "day" | "week", format, href }]`.
async fn reports(State(state): State<Arc<ConsoleState>>, _session: Session) -> Response {
    let mut names = match report_names(&state.settings().reports_dir).await {
        Ok(names) => names,
        Err(err) => {
            tracing::error!(error = %err, "console cannot list reports");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "reports unavailable");
        }
    };
    names.sort_by(|a, b| {
        (b.day, b.week, b.format.extension()).cmp(&(a.day, a.week, a.format.extension()))
    });
    let listed: Vec<Value> = names
        .iter()
        .map(|name| {
            let file = name.file_name();
            json!({
                "file": file,
                "date": name.day.format("%Y-%m-%d").to_string(),
                "period": if name.week { "week" } else { "day" },
                "format": name.format.extension(),
                "href": format!("/reports/{file}"),
            })
        })
        .collect();
    Json(listed).into_response()
}

/// The policy a served report page keeps: its own inline styles, nothing else.
const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /reports/{file}`: one report file, by a name the report writer produces
/// (anything else, `../` included, is a 404 without touching the file system).
async fn report_file(
    State(state): State<Arc<ConsoleState>>,
    _session: Session,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(name) = path.ok().and_then(|Path(file)| ReportName::parse(&file)) else {
        return json_error(StatusCode::NOT_FOUND, "no such report");
    };
    let file = state.settings().reports_dir.join(name.file_name());
    let bytes = match tokio::fs::read(&file).await {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return json_error(StatusCode::NOT_FOUND, "no such report");
        }
        Err(err) => {
            tracing::error!(error = %err, "console cannot read a report");
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "report unavailable");
        }
    };
    let content_type = match name.format.extension() {
        "html" => "text/html; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        _ => "text/markdown; charset=utf-8",
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    if name.format.extension() != "html" {
        // Other formats download rather than render.
        if let Ok(value) =
            HeaderValue::from_str(&format!("attachment; filename=\"{}\"", name.file_name()))
        {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_spans_are_utf16_offsets_and_fall_back_to_the_matched_words() {
        let text = "😀 Türk Telekom'a kızgınım";
        let start = text.find("Türk").unwrap();
        let end = start + "Türk Telekom".len();
        let terms = json!([
            {"term": "Türk Telekom", "matched": "Türk Telekom", "variant": "turk telekom",
             "kind": "suffix", "start": start, "end": end},
            {"term": "x", "matched": "kızgın", "variant": "kizgin", "kind": "exact",
             "start": 1, "end": 2},
        ]);
        let spans = match_spans(text, &terms);
        // The emoji is two UTF-16 units, then a space.
        assert_eq!(spans[0]["start"], 3);
        assert_eq!(spans[0]["end"], 3 + "Türk Telekom".encode_utf16().count());
        let second: Vec<u16> = text.encode_utf16().collect();
        let (s, e) = (
            spans[1]["start"].as_u64().unwrap() as usize,
            spans[1]["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(String::from_utf16(&second[s..e]).unwrap(), "kızgın");
    }

    #[test]
    fn columns_are_validated() {
        let mut column = Column::new(ColumnKind::Brand, Some("Turkcell"), "Turkcell");
        assert_eq!(column.problem(), None);
        column.key = None;
        assert!(column.problem().is_some());
        let mut open = Column::new(ColumnKind::Open, None, "Open");
        open.filter.sentiment = Some("angry".into());
        assert!(open.problem().is_some());
        assert_eq!(
            Column::new(ColumnKind::Search, Some("iade"), "iade")
                .query()
                .text
                .as_deref(),
            Some("iade")
        );
    }

    #[test]
    fn report_names_are_only_those_the_writer_makes() {
        for good in ["2026-11-25.html", "week-2026-11-25.csv", "2026-01-01.md"] {
            assert!(ReportName::parse(good).is_some(), "{good}");
        }
        for bad in [
            "../2026-11-25.html",
            "..%2F2026-11-25.html",
            "2026-11-25.HTML",
            "2026-11-25.markdown",
            ".2026-11-25.html.1.tmp",
            "2026-13-01.md",
            "passwd",
        ] {
            assert_eq!(ReportName::parse(bad), None, "{bad}");
        }
    }
}
