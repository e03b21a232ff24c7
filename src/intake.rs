//! HTTP intake: `POST /api/v1/posts` on the `[api]` listener, the one door for every
//! channel mentiond cannot poll (e-mail piped through a script, a call-centre CRM's
//! webhook, a helpdesk export). Each `[[intake]]` channel has a `name`, which becomes
//! the `source` of its posts, and its own bearer token, which selects the channel: a
//! leaked CRM token cannot post as `email`, the API's own token is no intake token,
//! and intake tokens open no other route.
//!
//! The body is one post in mentiond's JSON interchange form (the form the `jsonl`
//! source reads, decoded by the same [`Post::from_value_lenient`]), a JSON array of
//! them, or NDJSON (one per line); `source` may be left out. Every item is checked
//! before anything is stored: a bad one answers 400 naming the item (array index or
//! NDJSON line) and the field, and nothing of the request is kept, so the client fixes
//! it and sends it again. A body over `intake_max_body_bytes` or with more than
//! `intake_max_posts` posts answers 413.
//!
//! Accepted posts take the poll loops' path: one [`Batch`] to the pipeline (matcher,
//! sentiment, routing, store, alerts), whose committed outcome is awaited before the
//! answer. Posts are unique by `(channel, id)` in the store, so a retried request
//! stores nothing twice and alerts nothing twice; the 202 names, for each post, its
//! hits (`stored`), whether it was stored by an earlier request (`duplicates`), or
//! that it matched nothing and was not kept (`unmatched`), as for every source. Each
//! accepted request is recorded as a successful poll of the channel, so `mentiond
//! status` shows its last success and posts per minute beside the sources.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http_body_util::BodyExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::escape;
use crate::model::{DroppedField, HitId, Post, SourceName};
use crate::pipeline::Batch;
use crate::settings::{FieldError, same_secret, take_secret};
use crate::sources::api::warn_dropped;
use crate::store::{PollOutcome, StoreHandle};

/// The intake route's path.
pub const PATH: &str = "/api/v1/posts";

/// One `[[intake]]` channel.
#[derive(Clone)]
pub struct IntakeChannel {
    /// The channel's name: the `source` of its posts, its health row's key.
    pub name: SourceName,
    /// The bearer token that posts as this channel.
    pub token: SecretString,
}

impl fmt::Debug for IntakeChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntakeChannel")
            .field("name", &self.name)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

/// The intake's size limits, from `[api]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Largest request body in bytes (`intake_max_body_bytes`).
    pub max_body_bytes: u64,
    /// Most posts in one request (`intake_max_posts`).
    pub max_posts: usize,
}

/// Validated intake settings: the `[[intake]]` channels and the limits in `[api]`.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// Channels in file order; none: the intake route answers 401 to everyone.
    pub channels: Vec<IntakeChannel>,
    /// Body and count limits.
    pub limits: IntakeLimits,
}

impl IntakeLimits {
    /// Validates `[api] intake_max_body_bytes` and `intake_max_posts`; problems are
    /// keyed relative to `[api]`.
    pub fn parse(max_body_bytes: u64, max_posts: usize) -> Result<IntakeLimits, Vec<FieldError>> {
        let mut problems = Vec::new();
        if max_body_bytes < 1024 {
            problems.push(FieldError::new(
                "intake_max_body_bytes",
                "must be at least 1024",
            ));
        }
        if max_posts == 0 {
            problems.push(FieldError::new("intake_max_posts", "must be at least 1"));
        }
        match problems.is_empty() {
            true => Ok(IntakeLimits {
                max_body_bytes,
                max_posts,
            }),
            false => Err(problems),
        }
    }
}

/// Validates the `[[intake]]` tables: each a `name` and a token (`token`, `token_env`
/// or `token_file`), names and tokens unique. A name may not be a source's too (both
/// key a health row), nor a token the API's (the API's token must not post, an intake
/// token must not acknowledge). Returns the valid channels and the problems of the
/// others, keyed relative to the list (`[1].token`).
/// An entry that could not be read at all (`None`, reported already) is skipped and
/// the others keep their index.
pub fn parse_channels(
    entries: Vec<Option<Map<String, Value>>>,
    api_token: Option<&SecretString>,
    sources: &[SourceName],
) -> (Vec<IntakeChannel>, Vec<FieldError>) {
    let same = |a: &SecretString, b: &SecretString| {
        same_secret(a.expose_secret().as_bytes(), b.expose_secret().as_bytes())
    };
    let mut problems = Vec::new();
    let mut channels: Vec<IntakeChannel> = Vec::new();
    for (index, options) in entries.into_iter().enumerate() {
        let Some(mut options) = options else { continue };
        let key = |field: &str| format!("[{index}].{field}");
        let token = take_secret(&mut options, "token");
        let name = match options.remove("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => Some(name),
            Some(Value::String(_)) | None => {
                problems.push(FieldError::new(
                    key("name"),
                    "a channel needs a `name` (it becomes its posts' source)",
                ));
                None
            }
            Some(_) => {
                problems.push(FieldError::new(key("name"), "expected a string"));
                None
            }
        };
        problems.extend(
            options
                .keys()
                .map(|unknown| FieldError::new(key(unknown), "unknown key")),
        );
        let token = match token {
            Ok(Some(token)) if !token.expose_secret().is_empty() => Some(token),
            Ok(_) => {
                problems.push(FieldError::new(
                    key("token"),
                    "a channel needs a `token` (or `token_env`, `token_file`)",
                ));
                None
            }
            Err(err) => {
                problems.push(FieldError::new(key(&err.key), err.message));
                None
            }
        };
        let (Some(name), Some(token)) = (name, token) else {
            continue;
        };
        if channels.iter().any(|channel| channel.name == name.as_str()) {
            problems.push(FieldError::new(
                key("name"),
                format!("name `{name}` is used twice"),
            ));
        } else if sources.iter().any(|source| source == name.as_str()) {
            problems.push(FieldError::new(
                key("name"),
                format!("`{name}` is the name of a source too"),
            ));
        } else if channels.iter().any(|channel| same(&token, &channel.token)) {
            problems.push(FieldError::new(
                key("token"),
                "another channel has the same token: the token must tell the channel",
            ));
        } else if api_token.is_some_and(|api| same(&token, api)) {
            problems.push(FieldError::new(
                key("token"),
                "is the API's token: give each channel a token of its own",
            ));
        } else {
            channels.push(IntakeChannel {
                name: name.into(),
                token,
            });
        }
    }
    (channels, problems)
}

/// The channels in force, swapped whole by a reload.
pub type SharedChannels = Arc<ArcSwap<Vec<IntakeChannel>>>;

/// What the intake route needs.
pub struct Intake {
    /// The channels in force.
    pub channels: SharedChannels,
    /// Body and count limits.
    pub limits: IntakeLimits,
    /// The pipeline's input, shared with the poll loops.
    pub batches: mpsc::Sender<Batch>,
    /// The store, for what each post became and the channel's health.
    pub store: StoreHandle,
}

/// The intake route, ready to be merged into the API's router.
pub fn routes(intake: Intake) -> axum::Router {
    axum::Router::new()
        .route(PATH, axum::routing::post(receive))
        .with_state(Arc::new(intake))
}

/// A refused request: its status and what the client is told.
#[derive(Debug, PartialEq)]
struct Refusal {
    status: StatusCode,
    body: Value,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            body: json!({"error": message.into()}),
        }
    }

    /// A 400 about one item: which item (its position and, in NDJSON, its line) and
    /// which field.
    fn item(item: usize, line: Option<usize>, field: Option<&str>, message: &str) -> Refusal {
        let place = match line {
            Some(line) => format!("post {item} (line {line})"),
            None => format!("post {item}"),
        };
        let error = match field {
            Some(field) => format!("{place}: `{field}` {message}"),
            None => format!("{place}: {message}"),
        };
        Refusal {
            status: StatusCode::BAD_REQUEST,
            body: json!({"error": error, "item": item, "line": line, "field": field}),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// Posts read from a body, each with the optional fields it lost.
#[derive(Debug)]
struct Parsed {
    posts: Vec<Post>,
    warnings: Vec<Value>,
}

async fn receive(State(intake): State<Arc<Intake>>, headers: HeaderMap, body: Body) -> Response {
    let Some(channel) = channel_of(&headers, &intake.channels.load()) else {
        return Refusal::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token")
            .into_response();
    };
    match accept(&intake, &channel, &headers, body).await {
        Ok(answer) => (StatusCode::ACCEPTED, Json(answer)).into_response(),
        Err(refusal) => {
            tracing::info!(
                source = %channel,
                status = refusal.status.as_u16(),
                error = %escape::log(refusal.body["error"].as_str().unwrap_or_default()),
                "intake request refused"
            );
            refusal.into_response()
        }
    }
}

/// The channel whose token the request carries. Every channel's token is compared,
/// whichever matches, so the time taken does not tell which one did.
fn channel_of(headers: &HeaderMap, channels: &[IntakeChannel]) -> Option<SourceName> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    let mut found = None;
    for channel in channels {
        if same_secret(
            presented.as_bytes(),
            channel.token.expose_secret().as_bytes(),
        ) {
            found = Some(channel.name.clone());
        }
    }
    // An empty token never matches: channels are parsed with non-empty tokens only.
    found.filter(|_| !presented.is_empty())
}

/// Reads, checks and commits one request of `channel`; the 202 body.
async fn accept(
    intake: &Intake,
    channel: &SourceName,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, Refusal> {
    let limits = intake.limits;
    let bytes = read_capped(headers, body, limits.max_body_bytes).await?;
    let Parsed { posts, warnings } = parse_body(&bytes, channel.as_str(), limits.max_posts)?;
    let ids: Vec<String> = posts.iter().map(|post| post.id.clone()).collect();
    let newest_post_at = posts.iter().filter_map(|post| post.created_at).max();
    let n_posts = posts.len();
    let before = hits_of(intake, channel, &ids).await?;
    let (done, outcome) = oneshot::channel();
    let batch = Batch {
        source: channel.clone(),
        posts,
        cursor: None,
        backfilling: false,
        done,
        follows_unconfirmed: false,
    };
    let unavailable = || Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "mentiond is stopping");
    intake
        .batches
        .send(batch)
        .await
        .map_err(|_| unavailable())?;
    match outcome.await.map_err(|_| unavailable())? {
        Ok(_) => {}
        Err(err) => {
            tracing::error!(source = %channel, error = %err, "intake batch not stored");
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the posts could not be stored; send them again",
            ));
        }
    }
    let after = hits_of(intake, channel, &ids).await?;
    let (name, now) = (channel.clone(), Utc::now());
    let health = PollOutcome::Success {
        n_posts,
        newest_post_at,
    };
    let recorded = intake
        .store
        .call(move |store| store.record_poll(&name, &health, now))
        .await
        .and_then(|result| result);
    if let Err(err) = recorded {
        tracing::warn!(source = %channel, error = %err, "intake health not recorded");
    }
    Ok(answer(channel, &ids, &before, &after, warnings))
}

/// The 202 body: every post once, in request order, under `stored` (with its hits),
/// `unmatched`, and also under `duplicates` when an earlier request stored it.
fn answer(
    channel: &SourceName,
    ids: &[String],
    before: &HashMap<String, Vec<(HitId, String)>>,
    after: &HashMap<String, Vec<(HitId, String)>>,
    warnings: Vec<Value>,
) -> Value {
    let mut stored = Vec::new();
    let mut unmatched = Vec::new();
    for id in ids {
        match after.get(id) {
            Some(hits) => {
                let hits: Vec<Value> = hits
                    .iter()
                    .map(|(hit, brand)| json!({"id": hit, "brand": brand}))
                    .collect();
                stored.push(json!({"id": id, "hits": hits}));
            }
            None => unmatched.push(id),
        }
    }
    let duplicates: Vec<&String> = ids.iter().filter(|id| before.contains_key(*id)).collect();
    json!({
        "channel": channel,
        "accepted": ids.len(),
        "stored": stored,
        "duplicates": duplicates,
        "unmatched": unmatched,
        "warnings": warnings,
    })
}

/// The stored hits of `ids` of `channel`.
async fn hits_of(
    intake: &Intake,
    channel: &SourceName,
    ids: &[String],
) -> Result<HashMap<String, Vec<(HitId, String)>>, Refusal> {
    let (source, ids) = (channel.to_string(), ids.to_vec());
    intake
        .store
        .call(move |store| store.hits_of_posts(&source, &ids))
        .await
        .and_then(|result| result)
        .map_err(|err| {
            tracing::error!(source = %channel, error = %err, "intake cannot read the store");
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        })
}

/// The body, refused with 413 as soon as it is known to be larger than `max` bytes:
/// from `Content-Length` before reading, else while reading.
async fn read_capped(headers: &HeaderMap, mut body: Body, max: u64) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {max} bytes; send fewer posts per request"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {err}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() as u64 + data.len() as u64 > max {
                return Err(too_large());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// Reads a body of posts of `channel`: one JSON object, a JSON array of them, or
/// NDJSON. Any bad item refuses the whole body.
fn parse_body(body: &[u8], channel: &str, max_posts: usize) -> Result<Parsed, Refusal> {
    let start = body.iter().position(|byte| !byte.is_ascii_whitespace());
    let items: Vec<(Value, Option<usize>)> = match start.map(|at| body[at]) {
        None => Vec::new(),
        Some(b'[') => {
            let items: Vec<Value> = serde_json::from_slice(body).map_err(syntax)?;
            items.into_iter().map(|item| (item, None)).collect()
        }
        Some(_) => {
            let mut items = Vec::new();
            let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
            let (mut counted, mut line) = (0, 1);
            loop {
                let from = stream.byte_offset();
                let Some(item) = stream.next() else { break };
                let item = item.map_err(syntax)?;
                // The line the item starts on: the newlines before its first byte.
                let first = body[from..]
                    .iter()
                    .position(|byte| !byte.is_ascii_whitespace())
                    .map_or(body.len(), |at| from + at);
                line += body[counted..first].iter().filter(|b| **b == b'\n').count();
                counted = first;
                items.push((item, Some(line)));
                if items.len() > max_posts {
                    break;
                }
            }
            items
        }
    };
    if items.len() > max_posts {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("more than {max_posts} posts in one request; send them in several"),
        ));
    }
    if items.is_empty() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "the body holds no post",
        ));
    }
    let mut parsed = Parsed {
        posts: Vec::with_capacity(items.len()),
        warnings: Vec::new(),
    };
    let mut positions: HashMap<String, usize> = HashMap::new();
    for (item, (value, line)) in items.into_iter().enumerate() {
        let refuse = |field: Option<&str>, message: &str| Refusal::item(item, line, field, message);
        let post = post_of(value, channel).map_err(|(field, message)| refuse(field, &message))?;
        if let Some(first) = positions.insert(post.0.id.clone(), item) {
            return Err(refuse(Some("id"), &format!("repeats post {first}")));
        }
        let (post, dropped) = post;
        warn_dropped(&SourceName::from(channel), &dropped);
        parsed.warnings.extend(dropped.into_iter().map(|dropped| {
            json!({
                "item": item,
                "line": line,
                "field": dropped.field,
                "warning": "invalid value dropped, post kept",
            })
        }));
        parsed.posts.push(post);
    }
    Ok(parsed)
}

/// A body that is not JSON: 400 naming where the parser stopped.
fn syntax(err: serde_json::Error) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        body: json!({
            "error": format!("the body is not JSON, a JSON array or NDJSON: {err}"),
            "line": err.line(),
        }),
    }
}

/// The field of an item that is wrong (`None`: the item as a whole) and why.
type ItemError = (Option<&'static str>, String);

/// One item as a post of `channel`, or the field that is wrong and why. The required
/// fields are checked here so the answer names them; the rest is the interchange
/// form's own decoder.
fn post_of(mut value: Value, channel: &str) -> Result<(Post, Vec<DroppedField>), ItemError> {
    let Some(object) = value.as_object_mut() else {
        return Err((None, "must be a JSON object".into()));
    };
    match object.get("source") {
        None => {}
        Some(Value::String(source)) if source == channel => {}
        Some(_) => {
            return Err((
                Some("source"),
                format!("must be left out or be `{channel}`: the token names the channel"),
            ));
        }
    }
    object.insert("source".into(), Value::String(channel.to_string()));
    match object.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => {}
        Some(Value::String(_)) => return Err((Some("id"), "must not be empty".into())),
        Some(_) => {
            return Err((
                Some("id"),
                "must be a string (the post's id in its channel)".into(),
            ));
        }
        None => {
            return Err((
                Some("id"),
                "is missing: each post needs its id in the channel (a retry sends the same)".into(),
            ));
        }
    }
    match object.get("text") {
        Some(Value::String(_)) => {}
        Some(_) => return Err((Some("text"), "must be a string".into())),
        None => return Err((Some("text"), "is missing".into())),
    }
    Post::from_value_lenient(value).map_err(|err| (None, err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Parsed, Refusal> {
        parse_body(body.as_bytes(), "email", 3)
    }

    fn refusal(body: &str) -> (u16, Value) {
        let refusal = parse(body).unwrap_err();
        (refusal.status.as_u16(), refusal.body)
    }

    #[test]
    fn one_post_an_array_and_ndjson_are_read_with_the_channel_as_source() {
        let one = parse(r#"{"id":"m1","text":"Turkcell"}"#).unwrap();
        assert_eq!(one.posts.len(), 1);
        assert_eq!(one.posts[0].source, "email");
        let array =
            parse(r#" [{"id":"m1","text":"a"}, {"id":"m2","text":"b","source":"email"}]"#).unwrap();
        let ids: Vec<&str> = array.posts.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2"]);
        let ndjson =
            parse("{\"id\":\"m1\",\"text\":\"a\"}\n\n{\"id\":\"m2\",\"text\":\"b\"}\n").unwrap();
        assert_eq!(ndjson.posts.len(), 2);
        assert!(ndjson.posts.iter().all(|post| post.source == "email"));
        // A pretty-printed single object spans lines and is still one post.
        let pretty = parse("{\n  \"id\": \"m1\",\n  \"text\": \"a\"\n}\n").unwrap();
        assert_eq!(pretty.posts.len(), 1);
    }

    #[test]
    fn a_bad_item_is_named_by_position_line_and_field() {
        let (status, body) = refusal("{\"id\":\"m1\",\"text\":\"a\"}\n\n{\"id\":\"m2\"}\n");
        assert_eq!(status, 400);
        assert_eq!(body["item"], 1);
        assert_eq!(body["line"], 3);
        assert_eq!(body["field"], "text");
        assert_eq!(body["error"], "post 1 (line 3): `text` is missing");

        let (status, body) = refusal(r#"[{"id":"m1","text":"a"},{"id":7,"text":"b"}]"#);
        assert_eq!(status, 400);
        assert_eq!(body["item"], 1);
        assert!(body["line"].is_null());
        assert_eq!(body["field"], "id");

        let (_, body) = refusal(r#"{"id":"m1","text":"a","source":"crm"}"#);
        assert_eq!(body["field"], "source");
        let (_, body) = refusal(r#"[{"id":"m1","text":"a"},{"id":"m1","text":"b"}]"#);
        assert_eq!(body["error"], "post 1: `id` repeats post 0");
        let (_, body) = refusal(r#"["text"]"#);
        assert_eq!(body["error"], "post 0: must be a JSON object");
    }

    #[test]
    fn broken_json_empty_bodies_and_too_many_posts_are_refused() {
        let (status, body) = refusal("{\"id\":\"m1\",\"text\":\"a\"}\n{\"id\":\"m2\",");
        assert_eq!(status, 400);
        assert_eq!(body["line"], 2);
        assert_eq!(refusal("  \n").0, 400);
        let four = r#"[{"id":"1","text":"a"},{"id":"2","text":"a"},{"id":"3","text":"a"},{"id":"4","text":"a"}]"#;
        assert_eq!(refusal(four).0, 413);
        let lines = "{\"id\":\"1\",\"text\":\"a\"}\n".repeat(4);
        assert_eq!(refusal(&lines).0, 413);
    }

    #[test]
    fn an_invalid_optional_field_is_dropped_with_a_warning() {
        let parsed =
            parse(r#"{"id":"m1","text":"a","created_at":"yesterday","lang":"tr"}"#).unwrap();
        assert_eq!(parsed.posts[0].created_at, None);
        assert_eq!(parsed.posts[0].lang.as_deref(), Some("tr"));
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(parsed.warnings[0]["field"], "created_at");
    }

    fn table(value: Value) -> Option<Map<String, Value>> {
        value.as_object().cloned()
    }

    /// Two valid channels: `email` (token `t-email`) and `crm` (`t-crm`).
    fn email_and_crm() -> Vec<IntakeChannel> {
        let (channels, errors) = parse_channels(
            vec![
                table(json!({"name": "email", "token": "t-email"})),
                table(json!({"name": "crm", "token": "t-crm"})),
            ],
            None,
            &[],
        );
        assert!(errors.is_empty());
        channels
    }

    #[test]
    fn channels_need_a_unique_name_and_token() {
        let channels = email_and_crm();
        assert_eq!(channels.len(), 2);
        assert!(!format!("{channels:?}").contains("t-email"));

        let (valid, errors) = parse_channels(
            vec![
                table(json!({"name": "email", "token": "t-1"})),
                table(json!({"name": "email", "token": "t-2"})),
                table(json!({"name": "crm", "token": "t-1"})),
                table(json!({"token": "t-3", "colour": "red"})),
                table(json!({"name": "sms"})),
            ],
            None,
            &[],
        );
        assert_eq!(valid.len(), 1);
        let keys: Vec<&str> = errors.iter().map(|err| err.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "[1].name",
                "[2].token",
                "[3].name",
                "[3].colour",
                "[4].token"
            ]
        );
    }

    #[test]
    fn channels_may_not_share_a_source_name_or_the_api_token() {
        let api = SecretString::from("api-token");
        let (valid, errors) = parse_channels(
            vec![
                table(json!({"name": "tickets", "token": "t-1"})),
                None,
                table(json!({"name": "crm", "token": "api-token"})),
            ],
            Some(&api),
            &["tickets".into()],
        );
        assert!(valid.is_empty());
        let keys: Vec<String> = errors.into_iter().map(|err| err.key).collect();
        assert_eq!(keys, ["[0].name", "[2].token"]);
        assert_eq!(
            IntakeLimits::parse(100, 0).unwrap_err().len(),
            2,
            "both limits refused"
        );
    }

    #[test]
    fn the_token_selects_the_channel_and_nothing_else_does() {
        let channels = email_and_crm();
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            channel_of(&headers, &channels)
        };
        assert_eq!(with("Bearer t-crm"), Some("crm".into()));
        assert_eq!(with("Bearer t-email"), Some("email".into()));
        assert_eq!(with("Bearer t-emai"), None);
        assert_eq!(with("Bearer "), None);
        assert_eq!(with("t-crm"), None);
        assert_eq!(channel_of(&HeaderMap::new(), &channels), None);
    }
}
