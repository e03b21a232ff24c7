//! Mastodon, one instance per source: `timelines/tag/:tag` for each brand hashtag and,
//! optionally, `timelines/public` (or its `local` half). Mastodon has no global
//! full-text search without a user token, so keyword matching is local.
//!
//! Paging is forward with `min_id`: each stream remembers the `min_id` of the
//! `Link rel="prev"` header (the newest status of the last page) and asks again while
//! pages come back full. Ids are instance-local and opaque; posts are keyed on the
//! status `uri`, the same on every instance. `content` is HTML, turned into text.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, HeaderMap, LINK};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api::{ApiClient, RateLimitHeaders, decode_items};
use super::html::html_to_text;
use super::queries::{configured_or, hashtags};
use super::streams::{StreamPage, StreamSource, Streams};
use super::{SourceContext, SourceError, parse_http_url};
use crate::keywords::KeywordRules;
use crate::model::SourceName;
use crate::model::{Author, Engagement, Post};
use crate::settings::{FieldError, parse_options, take_secret};

/// Instance used unless `base_url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://mastodon.social";

/// Statuses per request unless `limit` says otherwise: the API maximum.
const MAX_LIMIT: usize = 40;

/// Local ids remembered to turn `in_reply_to_id` into the parent's `uri`.
const REMEMBERED_IDS: usize = 10_000;

/// Stream key of the public timeline.
const PUBLIC: &str = "public";

/// Validated `kind = "mastodon"` options.
#[derive(Debug, Clone)]
pub struct MastodonSettings {
    /// The instance (`https://mastodon.social`).
    pub base_url: reqwest::Url,
    /// Hashtags to follow, without `#`; empty means the keywords' hashtags.
    pub hashtags: Vec<String>,
    /// Also poll the public timeline.
    pub public: bool,
    /// Restrict the timelines to the instance's own accounts.
    pub local: bool,
    /// Statuses per request (1–40).
    pub limit: usize,
    /// Optional access token (instances that restrict their timelines).
    pub token: Option<SecretString>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    base_url: Option<String>,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    local: bool,
    limit: Option<usize>,
}

impl MastodonSettings {
    /// Validates the options; the token may come from `token`, `token_env` or `token_file`.
    pub fn parse(mut options: Map<String, Value>) -> Result<MastodonSettings, FieldError> {
        let token = take_secret(&mut options, "token")?;
        let options: Options = parse_options(options)?;
        if let Some(bad) = options
            .hashtags
            .iter()
            .position(|tag| tag.trim_start_matches('#').trim().is_empty())
        {
            return Err(FieldError::new(
                format!("hashtags[{bad}]"),
                "must not be empty",
            ));
        }
        let limit = options.limit.unwrap_or(MAX_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(FieldError::new(
                "limit",
                format!("must be 1 to {MAX_LIMIT}"),
            ));
        }
        Ok(MastodonSettings {
            limit,
            base_url: parse_http_url(
                "base_url",
                options.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            )?,
            hashtags: options
                .hashtags
                .iter()
                .map(|tag| tag.trim().trim_start_matches('#').to_lowercase())
                .collect(),
            public: options.public,
            local: options.local,
            token,
        })
    }
}

/// The stream keys of the timelines to follow: `tag:<hashtag>` for each hashtag
/// (`explicit`, else the keywords' own), then `public` when asked for.
pub fn timeline_keys(explicit: &[String], public: bool, rules: &KeywordRules) -> Vec<String> {
    let tags = configured_or(explicit, || hashtags(rules));
    let mut keys: Vec<String> = tags.iter().map(|tag| format!("tag:{tag}")).collect();
    if public {
        keys.push(PUBLIC.to_string());
    }
    keys
}

/// Per-timeline state: the `min_id` to ask from next (`None` while the timeline
/// has shown nothing yet: ask for its newest page again).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineState {
    min_id: Option<String>,
}

impl TimelineState {
    /// The state that asks for what is newer than the instance-local id `min_id`
    /// (`None`: the newest page).
    pub fn after(min_id: Option<String>) -> TimelineState {
        TimelineState { min_id }
    }

    /// The id the next request starts after.
    pub fn min_id(&self) -> Option<&str> {
        self.min_id.as_deref()
    }
}

#[derive(Deserialize)]
struct Status {
    id: String,
    uri: String,
    url: Option<String>,
    created_at: Option<DateTime<Utc>>,
    in_reply_to_id: Option<String>,
    #[serde(default)]
    spoiler_text: String,
    visibility: String,
    language: Option<String>,
    #[serde(default)]
    content: String,
    reblog: Option<Box<Status>>,
    account: Account,
    favourites_count: Option<u64>,
    reblogs_count: Option<u64>,
    replies_count: Option<u64>,
}

#[derive(Deserialize)]
struct Account {
    id: String,
    acct: String,
    display_name: Option<String>,
    followers_count: Option<u64>,
}

/// Polls one Mastodon instance's hashtag and public timelines.
pub struct Mastodon {
    name: SourceName,
    settings: MastodonSettings,
    api: ApiClient,
    /// Local id → uri of recently seen statuses, oldest first in `order`.
    uris: HashMap<String, String>,
    order: VecDeque<String>,
}

impl Mastodon {
    /// A Mastodon source named `name`: one stream per hashtag timeline, then the
    /// public timeline when `public` is set.
    pub fn source(
        name: SourceName,
        settings: MastodonSettings,
        context: &SourceContext,
    ) -> StreamSource<Mastodon> {
        let (explicit, public) = (settings.hashtags.clone(), settings.public);
        let keys = move |rules: &KeywordRules| timeline_keys(&explicit, public, rules);
        let streams = Mastodon::timelines(name.clone(), settings, context);
        StreamSource::following(name, &context.keywords, keys, streams)
    }

    /// The timelines alone, without the [`StreamSource`] around them: the REST half
    /// of the streaming source, which backfills through them.
    pub fn timelines(
        name: SourceName,
        settings: MastodonSettings,
        context: &SourceContext,
    ) -> Mastodon {
        Mastodon {
            name,
            settings,
            api: ApiClient::new(context, RateLimitHeaders::Mastodon),
            uris: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// A status as the streaming API sends it (the same entity as the timelines),
    /// remembered for its replies and turned into a post; `None` when it is malformed
    /// (logged) or not public.
    pub fn status_post(&mut self, status: Value) -> Option<Post> {
        let status: Status = decode_items(&self.name, vec![status]).pop()?;
        self.remember(&status.id, &status.uri);
        self.to_post(status)
    }

    fn timeline_url(&self, key: &str) -> reqwest::Url {
        let mut url = self.settings.base_url.clone();
        {
            let mut segments = url.path_segments_mut().expect("http(s) URLs have a path");
            segments.pop_if_empty().extend(["api", "v1", "timelines"]);
            match key.strip_prefix("tag:") {
                Some(tag) => segments.extend(["tag", tag]),
                None => segments.push("public"),
            };
        }
        url.query_pairs_mut()
            .append_pair("limit", &self.settings.limit.to_string());
        if self.settings.local {
            url.query_pairs_mut().append_pair("local", "true");
        }
        url
    }

    fn remember(&mut self, id: &str, uri: &str) {
        if self.uris.insert(id.to_string(), uri.to_string()).is_none() {
            self.order.push_back(id.to_string());
            if self.order.len() > REMEMBERED_IDS
                && let Some(old) = self.order.pop_front()
            {
                self.uris.remove(&old);
            }
        }
    }

    fn to_post(&self, status: Status) -> Option<Post> {
        if !matches!(status.visibility.as_str(), "public" | "unlisted") {
            return None;
        }
        let (kind, shown) = match status.reblog {
            Some(inner) => ("repost", *inner),
            None if status.in_reply_to_id.is_some() => ("reply", status),
            None => ("post", status),
        };
        let content = html_to_text(&shown.content);
        let text = if shown.spoiler_text.trim().is_empty() {
            content
        } else {
            format!("{}\n{content}", shown.spoiler_text.trim())
        };
        Some(Post {
            source: self.name.to_string(),
            in_reply_to: shown
                .in_reply_to_id
                .as_ref()
                .and_then(|id| self.uris.get(id).cloned()),
            url: shown.url.or_else(|| Some(shown.uri.clone())),
            id: shown.uri,
            author: Some(Author {
                id: Some(shown.account.id),
                handle: Some(shown.account.acct),
                name: shown.account.display_name.filter(|n| !n.is_empty()),
                followers: shown.account.followers_count,
            }),
            text,
            lang: shown.language,
            created_at: shown.created_at,
            kind: Some(kind.to_string()),
            engagement: Engagement {
                likes: shown.favourites_count,
                reposts: shown.reblogs_count,
                replies: shown.replies_count,
                ..Engagement::default()
            }
            .known(),
        })
    }
}

/// The `min_id` query parameter of the `rel="prev"` link, if any.
fn prev_min_id(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"prev\"") {
            return None;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        let url = reqwest::Url::parse(target).ok()?;
        url.query_pairs()
            .find(|(name, _)| name == "min_id")
            .map(|(_, value)| value.into_owned())
    })
}

#[async_trait::async_trait]
impl Streams for Mastodon {
    type State = TimelineState;

    async fn fetch_stream(
        &mut self,
        key: &str,
        state: Option<TimelineState>,
    ) -> Result<StreamPage<TimelineState>, SourceError> {
        let mut url = self.timeline_url(key);
        let resume = state.and_then(|state| state.min_id);
        if let Some(min_id) = &resume {
            url.query_pairs_mut().append_pair("min_id", min_id);
        }
        let mut request = self.api.http().get(url);
        if let Some(token) = &self.settings.token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
        }
        let reply = self.api.json::<Vec<Value>>(request).await?;
        let fetched = reply.body.len();
        let statuses: Vec<Status> = decode_items(&self.name, reply.body);
        // Before mapping, so a reply finds a parent in the same page; oldest first, so
        // the oldest are the first forgotten.
        for status in statuses.iter().rev() {
            self.remember(&status.id, &status.uri);
        }
        let newest = statuses.first().map(|status| status.id.clone());
        let mut posts: Vec<Post> = statuses
            .into_iter()
            .filter_map(|status| self.to_post(status))
            .collect();
        // Pages come newest first; posts are handed on in the order they were written.
        posts.reverse();
        // The first poll takes the newest page only; backfill is not the point.
        let more = resume.is_some() && fetched >= self.settings.limit;
        let min_id = prev_min_id(&reply.headers).or(newest).or(resume);
        Ok(StreamPage {
            not_before: None,
            posts,
            more,
            state: TimelineState { min_id },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mastodon(options: Value) -> StreamSource<Mastodon> {
        let settings = MastodonSettings::parse(options.as_object().unwrap().clone()).unwrap();
        Mastodon::source(
            "m".into(),
            settings,
            &crate::sources::test_support::context(),
        )
    }

    #[test]
    fn non_ascii_hashtags_are_path_encoded() {
        let source = mastodon(serde_json::json!({
            "base_url": "https://sosyal.example/", "hashtags": ["#TürkHavaYolları"], "public": true
        }));
        assert_eq!(source.keys(), ["tag:türkhavayolları", "public"]);
        let source = source.streams();
        assert_eq!(
            source.timeline_url("tag:türkhavayolları").as_str(),
            "https://sosyal.example/api/v1/timelines/tag/t%C3%BCrkhavayollar%C4%B1?limit=40"
        );
        assert_eq!(
            source.timeline_url("public").as_str(),
            "https://sosyal.example/api/v1/timelines/public?limit=40"
        );
    }

    #[test]
    fn a_status_with_a_bad_timestamp_or_follower_count_is_kept_without_them() {
        let status = serde_json::json!({
            "id": "1", "uri": "https://m.example/users/a/statuses/1", "visibility": "public",
            "created_at": "dün", "content": "<p>Turkcell çekmiyor</p>",
            "account": {"id": "9", "acct": "ayse", "followers_count": "çok"},
        });
        let statuses: Vec<Status> = decode_items(&"m-lenient".into(), vec![status]);
        let source = mastodon(serde_json::json!({"base_url": "https://m.example/"}));
        let post = source
            .streams()
            .to_post(statuses.into_iter().next().unwrap());
        let post = post.expect("a public status");
        assert_eq!(post.text, "Turkcell çekmiyor");
        assert_eq!(post.created_at, None);
        assert_eq!(post.author.unwrap().followers, None);
    }

    #[test]
    fn prev_link_gives_the_min_id() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            "<https://m.example/api/v1/timelines/public?max_id=7>; rel=\"next\", <https://m.example/api/v1/timelines/public?min_id=01HZY>; rel=\"prev\""
                .parse()
                .unwrap(),
        );
        assert_eq!(prev_min_id(&headers).as_deref(), Some("01HZY"));
        assert_eq!(prev_min_id(&HeaderMap::new()), None);
    }

    #[test]
    fn settings_name_bad_keys_and_never_print_the_token() {
        let parse = |v: Value| MastodonSettings::parse(v.as_object().unwrap().clone());
        assert_eq!(
            parse(serde_json::json!({"limit": 80})).unwrap_err().key,
            "limit"
        );
        assert_eq!(
            parse(serde_json::json!({"hashtag": ["x"]}))
                .unwrap_err()
                .key,
            "hashtag"
        );
        let settings = parse(serde_json::json!({"token": "gizli-jeton"})).unwrap();
        assert!(!format!("{settings:?}").contains("gizli-jeton"));
    }

    #[test]
    fn fuzzed_statuses_become_posts_or_are_skipped_without_panicking() {
        let source = mastodon(serde_json::json!({"public": true}));
        // `status_post`'s decoding and mapping (its `remember` needs the stream's
        // own state, which only the stream holds mutably).
        crate::sources::test_support::fuzz_items(
            "mastodon status",
            &["mastodon/public_local.json"],
            "",
            |status: Status| {
                let _ = source.streams().to_post(status);
            },
        );
    }
}
