//! X (Twitter) API v2 recent search with an app-only bearer token.
//!
//! Queries OR together the brands' terms, handles and hashtags and are split to stay
//! within the 512-character limit. Each query follows the documented polling
//! protocol: a cycle asks with `since_id` and pages with `next_token` (same
//! `since_id`) until no token is left; only then does `since_id` become the
//! `newest_id` of the cycle's first page. The first poll takes the newest page only.
//!
//! Posts are keyed on the first id of `edit_history_tweet_ids` so an edited post is
//! not a new one. Both the documented and the 2026 field names are accepted
//! (`referenced_tweets`/`referenced_posts`, `edit_history_tweet_ids`/`_post_ids`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api::{ApiClient, RateLimitHeaders, decode_items};
use super::html::decode_entities;
use super::queries::{all_clauses, configured_or, or_queries};
use super::streams::{StreamPage, StreamSource, Streams};
use super::{SourceContext, SourceError, parse_http_url};
use crate::keywords::KeywordRules;
use crate::model::SourceName;
use crate::model::{Author, Engagement, Post};
use crate::settings::{FieldError, parse_options, take_secret};

/// API root unless `base_url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.x.com";

/// Longest query on standard access.
pub const MAX_QUERY_CHARS: usize = 512;

const TWEET_FIELDS: &str = "created_at,lang,public_metrics,referenced_tweets,author_id,note_tweet,edit_history_tweet_ids,conversation_id,in_reply_to_user_id";

/// Validated `kind = "x"` options.
#[derive(Debug, Clone)]
pub struct XSettings {
    /// API root (`https://api.x.com`).
    pub base_url: reqwest::Url,
    /// App-only bearer token.
    pub token: SecretString,
    /// Explicit queries; empty means queries built from the keywords.
    pub queries: Vec<String>,
    /// Results per request (10–100).
    pub max_results: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    base_url: Option<String>,
    #[serde(default)]
    queries: Vec<String>,
    max_results: Option<u32>,
}

impl XSettings {
    /// Validates the options; the bearer token comes from `token`, `token_env` or
    /// `token_file` and is required.
    pub fn parse(mut options: Map<String, Value>) -> Result<XSettings, FieldError> {
        let token = take_secret(&mut options, "token")?.ok_or_else(|| {
            FieldError::new("token", "set `token_env` or `token_file` (a bearer token)")
        })?;
        let options: Options = parse_options(options)?;
        let max_results = options.max_results.unwrap_or(100);
        if !(10..=100).contains(&max_results) {
            return Err(FieldError::new("max_results", "must be 10 to 100"));
        }
        if let Some(index) = options
            .queries
            .iter()
            .position(|q| q.trim().is_empty() || q.chars().count() > MAX_QUERY_CHARS)
        {
            return Err(FieldError::new(
                format!("queries[{index}]"),
                format!("must be 1 to {MAX_QUERY_CHARS} characters"),
            ));
        }
        Ok(XSettings {
            base_url: parse_http_url(
                "base_url",
                options.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            )?,
            token,
            queries: options.queries,
            max_results,
        })
    }
}

/// Per-query state in the cursor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CycleState {
    /// Newest id of the last finished cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since_id: Option<String>,
    /// Token of the next page of the cycle in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    /// `newest_id` of the cycle in progress (its first page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cycle_newest: Option<String>,
}

impl CycleState {
    /// The state of a cycle asking for what is newer than `since_id` (`None`: the
    /// newest page only).
    pub fn since(since_id: Option<String>) -> CycleState {
        CycleState {
            since_id,
            ..CycleState::default()
        }
    }

    /// The `since_id` of the next request.
    pub fn since_id(&self) -> Option<&str> {
        self.since_id.as_deref()
    }
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    data: Vec<Value>,
    #[serde(default)]
    includes: Includes,
    meta: Meta,
}

#[derive(Default, Deserialize)]
struct Includes {
    #[serde(default)]
    users: Vec<Value>,
    #[serde(default, alias = "posts")]
    tweets: Vec<Value>,
}

#[derive(Deserialize)]
struct Meta {
    newest_id: Option<String>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct Tweet {
    id: String,
    text: String,
    author_id: Option<String>,
    created_at: Option<DateTime<Utc>>,
    lang: Option<String>,
    #[serde(default, alias = "referenced_posts")]
    referenced_tweets: Vec<Reference>,
    #[serde(default, alias = "edit_history_post_ids")]
    edit_history_tweet_ids: Vec<String>,
    note_tweet: Option<NoteTweet>,
    public_metrics: Option<TweetMetrics>,
}

#[derive(Deserialize)]
struct TweetMetrics {
    like_count: Option<u64>,
    retweet_count: Option<u64>,
    reply_count: Option<u64>,
    quote_count: Option<u64>,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize)]
struct NoteTweet {
    text: String,
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: String,
    name: Option<String>,
    public_metrics: Option<UserMetrics>,
}

#[derive(Deserialize)]
struct UserMetrics {
    followers_count: Option<u64>,
}

/// Polls X recent search for each query.
pub struct X {
    name: SourceName,
    settings: XSettings,
    api: ApiClient,
}

impl X {
    /// An X source named `name`, one stream per query.
    pub fn source(
        name: SourceName,
        settings: XSettings,
        context: &SourceContext,
    ) -> StreamSource<X> {
        let explicit = settings.queries.clone();
        let queries = move |rules: &KeywordRules| {
            configured_or(&explicit, || {
                or_queries(&all_clauses(rules), "", MAX_QUERY_CHARS)
            })
        };
        let streams = X::search(name.clone(), settings, context);
        StreamSource::following(name, &context.keywords, queries, streams)
    }

    /// Recent search alone, without the [`StreamSource`] around it: the backfill of
    /// the filtered stream, which also maps its messages through it.
    pub fn search(name: SourceName, settings: XSettings, context: &SourceContext) -> X {
        X {
            name,
            settings,
            api: ApiClient::new(context, RateLimitHeaders::XApi),
        }
    }

    /// The posts of one filtered-stream message (`{data, includes, matching_rules}`),
    /// mapped as search results are; a malformed message is logged and yields none.
    pub fn message_posts(&self, message: Value) -> Vec<Post> {
        #[derive(Deserialize)]
        struct Message {
            data: Value,
            #[serde(default)]
            includes: Includes,
        }
        let Some(message) = decode_items::<Message>(&self.name, vec![message]).pop() else {
            return Vec::new();
        };
        self.to_posts(SearchResponse {
            data: vec![message.data],
            includes: message.includes,
            meta: Meta {
                newest_id: None,
                next_token: None,
            },
        })
    }

    /// The query parameters every request for posts carries (fields and expansions),
    /// so stream messages and search results have the same shape.
    pub fn post_fields(url: &mut reqwest::Url) {
        url.query_pairs_mut()
            .append_pair("tweet.fields", TWEET_FIELDS)
            .append_pair(
                "expansions",
                "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
            )
            .append_pair("user.fields", "username,name,public_metrics");
    }

    fn to_posts(&self, response: SearchResponse) -> Vec<Post> {
        let users: HashMap<String, User> =
            decode_items::<User>(&self.name, response.includes.users)
                .into_iter()
                .map(|user| (user.id.clone(), user))
                .collect();
        let originals: HashMap<String, Tweet> =
            decode_items::<Tweet>(&self.name, response.includes.tweets)
                .into_iter()
                .map(|tweet| (tweet.id.clone(), tweet))
                .collect();
        decode_items::<Tweet>(&self.name, response.data)
            .into_iter()
            .map(|tweet| {
                let reference = |kind: &str| {
                    tweet
                        .referenced_tweets
                        .iter()
                        .find(|r| r.kind == kind)
                        .map(|r| r.id.clone())
                };
                let retweeted = reference("retweeted");
                let replied_to = reference("replied_to");
                let kind = if retweeted.is_some() {
                    "repost"
                } else if replied_to.is_some() {
                    "reply"
                } else if reference("quoted").is_some() {
                    "quote"
                } else {
                    "post"
                };
                // A retweet stands for its original: its own text is a truncated
                // `RT @user: …`, and keying it on the original means a hundred retweets
                // of one complaint are one post and one alert, as Mastodon boosts are.
                let shown = retweeted
                    .and_then(|id| originals.get(&id))
                    .unwrap_or(&tweet);
                let text = shown
                    .note_tweet
                    .as_ref()
                    .map_or(shown.text.as_str(), |note| note.text.as_str());
                let user = shown.author_id.as_ref().and_then(|id| users.get(id));
                let id = shown
                    .edit_history_tweet_ids
                    .first()
                    .cloned()
                    .unwrap_or_else(|| shown.id.clone());
                Post {
                    source: self.name.to_string(),
                    url: Some(match user {
                        Some(user) => {
                            format!("https://x.com/{}/status/{}", user.username, shown.id)
                        }
                        None => format!("https://x.com/i/web/status/{}", shown.id),
                    }),
                    id,
                    author: Some(Author {
                        id: shown.author_id.clone(),
                        handle: user.map(|u| u.username.clone()),
                        name: user.and_then(|u| u.name.clone()),
                        followers: user
                            .and_then(|u| u.public_metrics.as_ref())
                            .and_then(|m| m.followers_count),
                    }),
                    text: decode_entities(text),
                    lang: shown.lang.clone().filter(|lang| lang != "und"),
                    created_at: shown.created_at,
                    kind: Some(kind.to_string()),
                    in_reply_to: replied_to,
                    engagement: shown.public_metrics.as_ref().and_then(|m| {
                        Engagement {
                            likes: m.like_count,
                            reposts: m.retweet_count,
                            replies: m.reply_count,
                            quotes: m.quote_count,
                            score: None,
                        }
                        .known()
                    }),
                }
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Streams for X {
    type State = CycleState;

    async fn fetch_stream(
        &mut self,
        query: &str,
        state: Option<CycleState>,
    ) -> Result<StreamPage<CycleState>, SourceError> {
        let state = state.unwrap_or_default();
        let mut url = self.settings.base_url.clone();
        url.set_path("/2/tweets/search/recent");
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("max_results", &self.settings.max_results.to_string());
        X::post_fields(&mut url);
        if let Some(since_id) = &state.since_id {
            url.query_pairs_mut().append_pair("since_id", since_id);
        }
        if let Some(token) = &state.next_token {
            url.query_pairs_mut().append_pair("next_token", token);
        }
        let request = self.api.http().get(url).header(
            AUTHORIZATION,
            format!("Bearer {}", self.settings.token.expose_secret()),
        );
        let reply = self.api.json::<SearchResponse>(request).await?;
        let meta_newest = reply.body.meta.newest_id.clone();
        let next_token = reply.body.meta.next_token.clone();
        let posts = self.to_posts(reply.body);
        let cycle_newest = if state.next_token.is_some() {
            state.cycle_newest.clone()
        } else {
            meta_newest
        };
        // The first poll takes the newest page only: paging back 7 days is backfill.
        let next = match next_token {
            Some(token) if state.since_id.is_some() => CycleState {
                since_id: state.since_id.clone(),
                next_token: Some(token),
                cycle_newest,
            },
            _ => CycleState {
                since_id: cycle_newest.or(state.since_id),
                next_token: None,
                cycle_newest: None,
            },
        };
        Ok(StreamPage {
            not_before: None,
            posts,
            more: next.next_token.is_some(),
            state: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(options: Value) -> Result<XSettings, FieldError> {
        XSettings::parse(options.as_object().unwrap().clone())
    }

    #[test]
    fn the_bearer_token_is_required_and_never_printed() {
        assert_eq!(parse(serde_json::json!({})).unwrap_err().key, "token");
        let settings = parse(serde_json::json!({"token": "AAAA-gizli"})).unwrap();
        assert!(!format!("{settings:?}").contains("AAAA-gizli"));
        assert_eq!(settings.base_url.as_str(), "https://api.x.com/");
    }

    #[test]
    fn bad_options_name_their_key() {
        let too_long = "x".repeat(MAX_QUERY_CHARS + 1);
        let cases = [
            (
                serde_json::json!({"token": "t", "max_results": 5}),
                "max_results",
            ),
            (
                serde_json::json!({"token": "t", "queries": ["ok", too_long]}),
                "queries[1]",
            ),
            (
                serde_json::json!({"token": "t", "base_url": "ftp://x"}),
                "base_url",
            ),
            (serde_json::json!({"token": "t", "query": "x"}), "query"),
        ];
        for (options, key) in cases {
            assert_eq!(parse(options).unwrap_err().key, key);
        }
    }

    #[test]
    fn fuzzed_stream_messages_and_search_pages_map_or_are_skipped_without_panicking() {
        use crate::sources::test_support::{context, fixture};
        let read = |name: &str| String::from_utf8(fixture(&format!("x/{name}"))).unwrap();
        let stream = read("filtered_stream.ndjson");
        let pages = [
            read("search_recent_page1.json"),
            read("search_recent_edited.json"),
        ];
        let seeds: Vec<&[u8]> = stream
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::as_bytes)
            .chain(pages.iter().map(|page| page.as_bytes()))
            .collect();
        let x = X::search(
            "x".into(),
            parse(serde_json::json!({"token": "t"})).unwrap(),
            &context(),
        );
        crate::fuzz::run("x message and search page", &seeds, |input| {
            // As the stream reads it: a line, as `Lines` hands it on.
            let line = crate::sources::live::line_text(input);
            if let crate::sources::live::Step::Item(message) =
                crate::sources::x_stream::decode_line(&line)
            {
                let _ = x.message_posts(message);
            }
            if let Ok(page) = serde_json::from_slice::<SearchResponse>(input) {
                let _ = x.to_posts(page);
            }
        });
    }
}
