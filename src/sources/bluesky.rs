//! Bluesky search: `app.bsky.feed.searchPosts` (`sort=latest`) per query through an
//! app-password session on the PDS (`createSession`, renewed with `refreshSession`
//! when the access token expires). Unauthenticated search is refused by the public
//! AppView, hence the session.
//!
//! Each query keeps a watermark (newest `indexedAt` seen); the next poll asks
//! `since = watermark − overlap` and follows `cursor` while pages come back full.
//! Posts are keyed on their `at://` uri; follower counts come from `getProfiles` in
//! batches of 25 and are cached per DID.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api::{ApiClient, RateLimitHeaders, Reply, decode_items};
use super::queries::{configured_or, phrase_terms};
use super::streams::{StreamPage, StreamSource, Streams};
use super::{SourceContext, SourceError, parse_http_url};
use crate::escape;
use crate::keywords::KeywordRules;
use crate::model::SourceName;
use crate::model::{Author, Engagement, Post};
use crate::settings::{FieldError, parse_options, take_secret};

/// PDS used unless `base_url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://bsky.social";

/// Posts indexed this long before the watermark are asked for again.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(60);

/// Actors per `getProfiles` call (the API maximum).
const PROFILES_PER_CALL: usize = 25;

/// Follower counts kept before the cache starts over.
const MAX_CACHED_PROFILES: usize = 10_000;

/// Validated `kind = "bluesky_search"` options.
#[derive(Debug, Clone)]
pub struct BlueskySettings {
    /// PDS root (`https://bsky.social`).
    pub base_url: reqwest::Url,
    /// Account handle or email of the session.
    pub identifier: String,
    /// App password (never the account password).
    pub app_password: SecretString,
    /// Explicit queries; empty means one per brand term.
    pub queries: Vec<String>,
    /// Posts per request (1–100).
    pub limit: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    base_url: Option<String>,
    identifier: String,
    #[serde(default)]
    queries: Vec<String>,
    limit: Option<u32>,
}

impl BlueskySettings {
    /// Validates the options; the app password comes from `app_password`,
    /// `app_password_env` or `app_password_file` and is required.
    pub fn parse(mut options: Map<String, Value>) -> Result<BlueskySettings, FieldError> {
        let app_password = take_secret(&mut options, "app_password")?.ok_or_else(|| {
            FieldError::new(
                "app_password",
                "set `app_password_env` or `app_password_file` (an app password)",
            )
        })?;
        let options: Options = parse_options(options)?;
        let limit = options.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(FieldError::new("limit", "must be 1 to 100"));
        }
        if options.identifier.trim().is_empty() {
            return Err(FieldError::new("identifier", "must not be empty"));
        }
        Ok(BlueskySettings {
            base_url: parse_http_url(
                "base_url",
                options.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            )?,
            identifier: options.identifier,
            app_password,
            queries: options.queries,
            limit,
        })
    }
}

/// Per-query state in the cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchState {
    /// Newest `indexedAt` seen.
    watermark: Option<DateTime<Utc>>,
    /// While walking one window: its `since` and the next cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    walking: Option<(DateTime<Utc>, String)>,
}

struct Session {
    access: SecretString,
    refresh: SecretString,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionReply {
    access_jwt: String,
    refresh_jwt: String,
}

#[derive(Deserialize)]
struct SearchReply {
    posts: Vec<Value>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    author: ProfileView,
    record: PostRecord,
    embed: Option<Embed>,
    indexed_at: DateTime<Utc>,
    like_count: Option<u64>,
    repost_count: Option<u64>,
    reply_count: Option<u64>,
    quote_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileView {
    did: String,
    handle: String,
    display_name: Option<String>,
    followers_count: Option<u64>,
}

/// An `app.bsky.feed.post` record, as `searchPosts` (inside a post view) and Jetstream
/// (inside a commit) both carry it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PostRecord {
    text: String,
    created_at: Option<String>,
    #[serde(default)]
    langs: Vec<String>,
    reply: Option<ReplyRef>,
    /// Rich-text facets; each is read on its own, so one odd facet costs only itself.
    #[serde(default)]
    facets: Vec<Value>,
    embed: Option<Embed>,
}

#[derive(Deserialize)]
struct ReplyRef {
    parent: StrongRef,
}

#[derive(Deserialize)]
struct StrongRef {
    uri: String,
}

#[derive(Deserialize)]
struct Embed {
    #[serde(rename = "$type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Facet {
    index: ByteSlice,
    features: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ByteSlice {
    byte_start: usize,
    byte_end: usize,
}

/// One facet feature; the kinds that add words to the matched text.
#[derive(Deserialize)]
#[serde(tag = "$type")]
enum Feature {
    #[serde(rename = "app.bsky.richtext.facet#link")]
    Link { uri: String },
    #[serde(rename = "app.bsky.richtext.facet#tag")]
    Tag { tag: String },
}

/// The permalink of post `rkey` by `did` on bsky.app (the DID form: handles change).
pub(super) fn permalink(did: &str, rkey: &str) -> String {
    format!("https://bsky.app/profile/{did}/post/{rkey}")
}

/// Maps a post record to a [`Post`] of `source`: `uri` is its `at://` id, `author`
/// who wrote it, `view_embed` the post view's embed type when there is a view (search),
/// `seen_at` the server's time, used when the client-supplied `createdAt` is unusable.
/// Facets are expanded into the text (see [`expand_facets`]), so links shortened in
/// the text and tags not written in it are matched too.
pub(super) fn record_to_post(
    source: &SourceName,
    uri: String,
    author: Author,
    record: PostRecord,
    view_embed: Option<&str>,
    seen_at: DateTime<Utc>,
) -> Post {
    let rkey = uri.rsplit('/').next().unwrap_or_default();
    let did = author.id.as_deref().unwrap_or_default();
    let embed = view_embed.or(record.embed.as_ref().and_then(|e| e.kind.as_deref()));
    let kind = if record.reply.is_some() {
        "reply"
    } else if embed.is_some_and(|kind| {
        matches!(
            kind.trim_end_matches("#view"),
            "app.bsky.embed.record" | "app.bsky.embed.recordWithMedia"
        )
    }) {
        "quote"
    } else {
        "post"
    };
    Post {
        source: source.to_string(),
        url: Some(permalink(did, rkey)),
        text: expand_facets(&record.text, &record.facets),
        author: Some(author),
        id: uri,
        lang: record.langs.into_iter().next(),
        // createdAt is client-supplied and its format varies; the server's time is not.
        created_at: record
            .created_at
            .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| at.with_timezone(&Utc))
            .or(Some(seen_at)),
        kind: Some(kind.to_string()),
        in_reply_to: record.reply.map(|reply| reply.parent.uri),
        engagement: None,
    }
}

/// The post text with its facets expanded: a link facet whose text is shortened
/// (`example.com/very-lo...`) is replaced by its full URI, and a tag facet whose tag
/// is not what the text shows is appended as `#tag`. Mentions are written in the text
/// already (`@handle`). Facet offsets are UTF-8 byte offsets; a facet that overlaps
/// another or does not fall on character boundaries is ignored.
pub(super) fn expand_facets(text: &str, facets: &[Value]) -> String {
    let mut links: Vec<(usize, usize, String)> = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for facet in facets {
        let Ok(facet) = Facet::deserialize(facet) else {
            continue;
        };
        let (start, end) = (facet.index.byte_start, facet.index.byte_end);
        let Some(shown) = text.get(start..end) else {
            continue;
        };
        for feature in &facet.features {
            match Feature::deserialize(feature) {
                Ok(Feature::Link { uri }) if shown != uri => links.push((start, end, uri)),
                Ok(Feature::Tag { tag })
                    if !shown.trim_start_matches('#').eq_ignore_ascii_case(&tag) =>
                {
                    tags.push(tag)
                }
                _ => {}
            }
        }
    }
    if links.is_empty() && tags.is_empty() {
        return text.to_string();
    }
    links.sort_by_key(|(start, _, _)| *start);
    let mut expanded = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for (start, end, uri) in links {
        if start < at {
            continue;
        }
        expanded.push_str(&text[at..start]);
        expanded.push_str(&uri);
        at = end;
    }
    expanded.push_str(&text[at..]);
    for tag in tags {
        expanded.push_str(" #");
        expanded.push_str(&tag);
    }
    expanded
}

#[derive(Deserialize)]
struct Profiles {
    profiles: Vec<Value>,
}

/// Searches Bluesky for each query through an app-password session.
pub struct Bluesky {
    name: SourceName,
    settings: BlueskySettings,
    api: ApiClient,
    session: Option<Session>,
    followers: HashMap<String, u64>,
}

impl Bluesky {
    /// A Bluesky search source named `name`, one stream per query.
    pub fn source(
        name: SourceName,
        settings: BlueskySettings,
        context: &SourceContext,
    ) -> StreamSource<Bluesky> {
        let explicit = settings.queries.clone();
        let queries = move |rules: &KeywordRules| configured_or(&explicit, || phrase_terms(rules));
        let streams = Bluesky {
            name: name.clone(),
            settings,
            api: ApiClient::new(context, RateLimitHeaders::Bluesky),
            session: None,
            followers: HashMap::new(),
        };
        StreamSource::following(name, &context.keywords, queries, streams)
    }

    fn xrpc(&self, method: &str) -> reqwest::Url {
        let mut url = self.settings.base_url.clone();
        url.set_path(&format!("/xrpc/{method}"));
        url
    }

    /// Logs in with the app password, or renews with the refresh token when one is held.
    async fn open_session(&mut self, renew: bool) -> Result<(), SourceError> {
        let refresh = self.session.take().filter(|_| renew).map(|s| s.refresh);
        let reply: Result<Reply<SessionReply>, SourceError> = match refresh {
            Some(refresh) => {
                let request = self
                    .api
                    .http()
                    .post(self.xrpc("com.atproto.server.refreshSession"))
                    .header(AUTHORIZATION, bearer(&refresh));
                match self.api.json(request).await {
                    Ok(reply) => Ok(reply),
                    // An expired refresh token: log in again.
                    Err(SourceError::Status {
                        status: 400 | 401, ..
                    }) => self.create_session().await,
                    Err(err) => Err(err),
                }
            }
            None => self.create_session().await,
        };
        let reply = reply?;
        self.session = Some(Session {
            access: SecretString::from(reply.body.access_jwt),
            refresh: SecretString::from(reply.body.refresh_jwt),
        });
        Ok(())
    }

    async fn create_session(&mut self) -> Result<Reply<SessionReply>, SourceError> {
        let body = serde_json::json!({
            "identifier": self.settings.identifier,
            "password": self.settings.app_password.expose_secret(),
        });
        let request = self
            .api
            .http()
            .post(self.xrpc("com.atproto.server.createSession"))
            .json(&body);
        self.api.json(request).await.map_err(|err| match err {
            SourceError::Status {
                status: 400 | 401, ..
            } => SourceError::Auth(format!(
                "createSession refused for `{}`",
                self.settings.identifier
            )),
            other => other,
        })
    }

    /// GET `url` with the session's access token, renewing the session once when
    /// the token has expired (400 `ExpiredToken` or 401).
    async fn get<T: serde::de::DeserializeOwned>(
        &mut self,
        url: reqwest::Url,
    ) -> Result<Reply<T>, SourceError> {
        if self.session.is_none() {
            self.open_session(false).await?;
        }
        match self.get_with_session(url.clone()).await {
            Err(SourceError::Status {
                status: 400 | 401, ..
            }) => {
                self.open_session(true).await?;
                self.get_with_session(url).await
            }
            result => result,
        }
    }

    async fn get_with_session<T: serde::de::DeserializeOwned>(
        &mut self,
        url: reqwest::Url,
    ) -> Result<Reply<T>, SourceError> {
        let Some(session) = &self.session else {
            return Err(SourceError::Auth("no session".into()));
        };
        let request = self
            .api
            .http()
            .get(url)
            .header(AUTHORIZATION, bearer(&session.access));
        self.api.json(request).await
    }

    /// Fills in follower counts, asking `getProfiles` for authors not cached yet.
    /// Counts are an enrichment: a failure is logged and the posts go on without.
    async fn add_followers(&mut self, posts: &mut [Post]) {
        let mut missing: Vec<String> = posts
            .iter()
            .filter_map(|post| post.author.as_ref()?.id.clone())
            .filter(|did| !self.followers.contains_key(did))
            .collect();
        missing.sort();
        missing.dedup();
        if self.followers.len() + missing.len() > MAX_CACHED_PROFILES {
            self.followers.clear();
        }
        for batch in missing.chunks(PROFILES_PER_CALL) {
            let mut url = self.xrpc("app.bsky.actor.getProfiles");
            for did in batch {
                url.query_pairs_mut().append_pair("actors", did);
            }
            match self.get::<Profiles>(url).await {
                Ok(reply) => {
                    for profile in decode_items::<ProfileView>(&self.name, reply.body.profiles) {
                        if let Some(count) = profile.followers_count {
                            self.followers.insert(profile.did, count);
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(source = %self.name, error = %escape::log(&err.to_string()), "getProfiles failed");
                    break;
                }
            }
        }
        for post in posts {
            if let Some(author) = post.author.as_mut()
                && let Some(count) = author.id.as_ref().and_then(|did| self.followers.get(did))
            {
                author.followers = Some(*count);
            }
        }
    }

    fn to_post(&self, view: PostView) -> Post {
        let author = Author {
            id: Some(view.author.did),
            handle: Some(view.author.handle),
            name: view.author.display_name.filter(|name| !name.is_empty()),
            followers: view.author.followers_count,
        };
        let embed = view.embed.as_ref().and_then(|e| e.kind.as_deref());
        let engagement = Engagement {
            likes: view.like_count,
            reposts: view.repost_count,
            replies: view.reply_count,
            quotes: view.quote_count,
            score: None,
        }
        .known();
        let post = record_to_post(
            &self.name,
            view.uri,
            author,
            view.record,
            embed,
            view.indexed_at,
        );
        Post { engagement, ..post }
    }
}

fn bearer(token: &SecretString) -> String {
    format!("Bearer {}", token.expose_secret())
}

#[async_trait::async_trait]
impl Streams for Bluesky {
    type State = SearchState;

    async fn fetch_stream(
        &mut self,
        query: &str,
        state: Option<SearchState>,
    ) -> Result<StreamPage<SearchState>, SourceError> {
        let watermark = state.as_ref().and_then(|state| state.watermark);
        let (since, cursor) = match state.and_then(|state| state.walking) {
            Some((since, cursor)) => (Some(since), Some(cursor)),
            None => (watermark.map(|at| at - OVERLAP), None),
        };
        let mut url = self.xrpc("app.bsky.feed.searchPosts");
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("sort", "latest")
            .append_pair("limit", &self.settings.limit.to_string());
        if let Some(since) = since {
            url.query_pairs_mut().append_pair(
                "since",
                &since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            );
        }
        if let Some(cursor) = &cursor {
            url.query_pairs_mut().append_pair("cursor", cursor);
        }
        let reply = self.get::<SearchReply>(url).await?;
        let fetched = reply.body.posts.len();
        let views: Vec<PostView> = decode_items(&self.name, reply.body.posts);
        let newest = views.iter().map(|view| view.indexed_at).max();
        let mut posts: Vec<Post> = views.into_iter().map(|view| self.to_post(view)).collect();
        self.add_followers(&mut posts).await;
        // The first poll takes the newest page only; backfill is not the point.
        let walking = match (since, reply.body.cursor) {
            (Some(since), Some(next)) if fetched >= self.settings.limit as usize => {
                Some((since, next))
            }
            _ => None,
        };
        Ok(StreamPage {
            not_before: None,
            posts,
            more: walking.is_some(),
            state: SearchState {
                watermark: watermark.max(newest),
                walking,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(options: Value) -> Result<BlueskySettings, FieldError> {
        BlueskySettings::parse(options.as_object().unwrap().clone())
    }

    #[test]
    fn identifier_and_app_password_are_required_and_the_password_never_printed() {
        let missing = serde_json::json!({"identifier": "marka.bsky.social"});
        assert_eq!(parse(missing).unwrap_err().key, "app_password");
        let missing = serde_json::json!({"app_password": "p"});
        assert_eq!(parse(missing).unwrap_err().key, "identifier");
        let settings = parse(serde_json::json!({
            "identifier": "marka.bsky.social", "app_password": "abcd-şifre", "limit": 50
        }))
        .unwrap();
        assert!(!format!("{settings:?}").contains("abcd-şifre"));
        let bad_limit = serde_json::json!({"identifier": "i", "app_password": "p", "limit": 0});
        assert_eq!(parse(bad_limit).unwrap_err().key, "limit");
    }

    #[test]
    fn facets_expand_links_and_unshown_tags_and_ignore_bad_offsets() {
        let text = "bak: example.com/turkc... #ucus @marka.bsky.social";
        let facet = |start: usize, end: usize, feature: Value| serde_json::json!({"index": {"byteStart": start, "byteEnd": end}, "features": [feature]});
        let facets = [
            facet(
                5,
                25,
                serde_json::json!({"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/turkcell-kesinti"}),
            ),
            // Shown as written: nothing to add.
            facet(
                26,
                31,
                serde_json::json!({"$type": "app.bsky.richtext.facet#tag", "tag": "ucus"}),
            ),
            facet(
                26,
                31,
                serde_json::json!({"$type": "app.bsky.richtext.facet#tag", "tag": "THY"}),
            ),
            facet(
                32,
                50,
                serde_json::json!({"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:m"}),
            ),
            // Overlapping, outside the text, inside a character: ignored.
            facet(
                6,
                9,
                serde_json::json!({"$type": "app.bsky.richtext.facet#link", "uri": "https://x.example"}),
            ),
            facet(
                40,
                400,
                serde_json::json!({"$type": "app.bsky.richtext.facet#link", "uri": "https://y.example"}),
            ),
            serde_json::json!({"index": "broken"}),
        ];
        assert_eq!(
            expand_facets(text, &facets),
            "bak: https://example.com/turkcell-kesinti #ucus @marka.bsky.social #THY"
        );
        let accents = "ş";
        let inside = [facet(
            1,
            2,
            serde_json::json!({"$type": "app.bsky.richtext.facet#link", "uri": "https://z.example"}),
        )];
        assert_eq!(expand_facets(accents, &inside), "ş");
    }

    #[test]
    fn fuzzed_post_views_become_posts_or_are_skipped_without_panicking() {
        use crate::sources::test_support::{context, fuzz_items};
        let settings =
            parse(serde_json::json!({"identifier": "care.example", "app_password": "x"})).unwrap();
        let source = Bluesky::source("bsky".into(), settings, &context());
        fuzz_items(
            "bluesky post view",
            &[
                "bluesky/searchPosts_page1.json",
                "bluesky/searchPosts_page2.json",
            ],
            "/posts",
            |view: PostView| {
                let _ = source.streams().to_post(view);
            },
        );
    }
}
