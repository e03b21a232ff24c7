//! Reddit through its OAuth API: `/search?sort=new` per query, `/r/<sub>/new` and
//! `/r/<sub>/comments` per watched subreddit, with an app-only token (client
//! credentials) or a script app's password grant, and the descriptive User-Agent
//! Reddit requires on every request.
//!
//! Each listing follows PRAW's stream algorithm: ask with `before=<newest fullname
//! seen>`, keep a bounded seen-set of fullnames, and when a listing comes back empty
//! drop `before` once (the item it names may have been deleted, which makes
//! `before` return nothing forever); the seen-set absorbs the repeat. When a page
//! asked without `before` is full of unseen items, more may have come in meanwhile:
//! the stream walks back with `after=` until it meets an item it has seen. Posts are
//! keyed on the fullname (`t3_…`, `t1_…`).

use chrono::DateTime;
use reqwest::header::{AUTHORIZATION, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::api::{ApiClient, RateLimitHeaders, decode_items};
use super::queries::{configured_or, phrase_terms};
use super::streams::{SeenSet, StreamPage, StreamSource, Streams};
use super::{SourceContext, SourceError, parse_http_url};
use crate::keywords::KeywordRules;
use crate::model::SourceName;
use crate::model::{Author, Engagement, Post};
use crate::settings::{FieldError, parse_options, take_secret};

/// API root unless `base_url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://oauth.reddit.com";

/// Token endpoint root unless `auth_url` says otherwise.
pub const DEFAULT_AUTH_URL: &str = "https://www.reddit.com";

/// Fullnames remembered per listing (PRAW keeps 301; a full page is 100).
const SEEN_CAPACITY: usize = 500;

/// A token is renewed this long before Reddit says it expires.
const TOKEN_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Validated `kind = "reddit"` options.
#[derive(Debug, Clone)]
pub struct RedditSettings {
    /// API root (`https://oauth.reddit.com`).
    pub base_url: reqwest::Url,
    /// Token endpoint root (`https://www.reddit.com`).
    pub auth_url: reqwest::Url,
    /// OAuth client id of the app.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: SecretString,
    /// Script apps: the account's name and password (password grant).
    pub login: Option<(String, SecretString)>,
    /// `<platform>:<app id>:<version> (by /u/<username>)`.
    pub user_agent: String,
    /// Subreddits whose new posts and comments are read.
    pub subreddits: Vec<String>,
    /// Site-wide search queries; empty means one per brand term.
    pub queries: Vec<String>,
    /// Run the site-wide searches at all.
    pub search: bool,
    /// Items per request (1–100).
    pub limit: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    base_url: Option<String>,
    auth_url: Option<String>,
    client_id: String,
    username: Option<String>,
    user_agent: String,
    #[serde(default)]
    subreddits: Vec<String>,
    #[serde(default)]
    queries: Vec<String>,
    search: Option<bool>,
    limit: Option<u32>,
}

impl RedditSettings {
    /// Validates the options; secrets come from `client_secret(_env|_file)` and, for
    /// script apps, `password(_env|_file)` with `username`.
    pub fn parse(mut options: Map<String, Value>) -> Result<RedditSettings, FieldError> {
        let client_secret = take_secret(&mut options, "client_secret")?.ok_or_else(|| {
            FieldError::new(
                "client_secret",
                "set `client_secret_env` or `client_secret_file`",
            )
        })?;
        let password = take_secret(&mut options, "password")?;
        let options: Options = parse_options(options)?;
        let login = match (options.username, password) {
            (Some(username), Some(password)) => Some((username, password)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(FieldError::new("password", "`username` needs a password"));
            }
            (None, Some(_)) => {
                return Err(FieldError::new("username", "a password needs `username`"));
            }
        };
        if !options.user_agent.contains("/u/") {
            return Err(FieldError::new(
                "user_agent",
                "Reddit requires a descriptive User-Agent: `<platform>:<app id>:<version> (by /u/<username>)`",
            ));
        }
        let limit = options.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(FieldError::new("limit", "must be 1 to 100"));
        }
        if let Some(index) = options.subreddits.iter().position(|sub| {
            sub.is_empty()
                || !sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+')
        }) {
            return Err(FieldError::new(
                format!("subreddits[{index}]"),
                "a subreddit name without `r/` (letters, digits, `_`, `+`)",
            ));
        }
        Ok(RedditSettings {
            base_url: parse_http_url(
                "base_url",
                options.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            )?,
            auth_url: parse_http_url(
                "auth_url",
                options.auth_url.as_deref().unwrap_or(DEFAULT_AUTH_URL),
            )?,
            client_id: options.client_id,
            client_secret,
            login,
            user_agent: options.user_agent,
            subreddits: options.subreddits,
            queries: options.queries,
            search: options.search.unwrap_or(true),
            limit,
        })
    }
}

/// Per-listing state in the cursor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListingState {
    /// Newest fullname seen, asked `before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<String>,
    /// While walking back over a possible gap: the oldest fullname fetched, asked `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// Recently seen fullnames.
    #[serde(default)]
    seen: SeenSet,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct Listing {
    data: ListingData,
}

#[derive(Deserialize)]
struct ListingData {
    children: Vec<Value>,
}

#[derive(Deserialize)]
struct Thing {
    kind: String,
    data: ThingData,
}

#[derive(Deserialize)]
struct ThingData {
    name: String,
    id: String,
    author: Option<String>,
    author_fullname: Option<String>,
    created_utc: Option<f64>,
    subreddit: Option<String>,
    permalink: Option<String>,
    title: Option<String>,
    #[serde(default)]
    selftext: String,
    body: Option<String>,
    parent_id: Option<String>,
    link_id: Option<String>,
    crosspost_parent: Option<String>,
    score: Option<i64>,
    num_comments: Option<u64>,
}

/// Reads Reddit listings and searches.
pub struct Reddit {
    name: SourceName,
    settings: RedditSettings,
    api: ApiClient,
    token: Option<(SecretString, Instant)>,
}

impl Reddit {
    /// A Reddit source named `name`: one stream per search query (when `search` is
    /// on), then `new` and `comments` of each subreddit.
    pub fn source(
        name: SourceName,
        settings: RedditSettings,
        context: &SourceContext,
    ) -> StreamSource<Reddit> {
        let (explicit, search) = (settings.queries.clone(), settings.search);
        let subreddits = settings.subreddits.clone();
        let keys = move |rules: &KeywordRules| {
            let queries = configured_or(&explicit, || phrase_terms(rules));
            let searches = queries
                .iter()
                .filter(|_| search)
                .map(|query| format!("search:{query}"));
            let listings = subreddits
                .iter()
                .flat_map(|sub| [format!("new:{sub}"), format!("comments:{sub}")]);
            searches.chain(listings).collect()
        };
        let streams = Reddit {
            name: name.clone(),
            settings,
            api: ApiClient::new(context, RateLimitHeaders::Reddit),
            token: None,
        };
        StreamSource::following(name, &context.keywords, keys, streams)
    }

    /// A valid access token, asking for a new one when none is held or it is about
    /// to expire.
    async fn token(&mut self) -> Result<String, SourceError> {
        if let Some((token, expires)) = &self.token
            && Instant::now() < *expires
        {
            return Ok(token.expose_secret().to_string());
        }
        let mut url = self.settings.auth_url.clone();
        url.set_path("/api/v1/access_token");
        let form: Vec<(&str, &str)> = match &self.settings.login {
            Some((username, password)) => vec![
                ("grant_type", "password"),
                ("username", username),
                ("password", password.expose_secret()),
            ],
            None => vec![("grant_type", "client_credentials")],
        };
        let request = self
            .api
            .http()
            .post(url)
            .header(USER_AGENT, &self.settings.user_agent)
            .basic_auth(
                &self.settings.client_id,
                Some(self.settings.client_secret.expose_secret()),
            )
            .form(&form);
        let reply = self
            .api
            .json::<TokenReply>(request)
            .await
            .map_err(|err| match err {
                SourceError::Status {
                    status: 400 | 401 | 403,
                    ..
                } => SourceError::Auth(format!(
                    "access_token refused for client `{}`",
                    self.settings.client_id
                )),
                other => other,
            })?;
        let lifetime =
            std::time::Duration::from_secs(reply.body.expires_in).saturating_sub(TOKEN_MARGIN);
        let token = reply.body.access_token;
        self.token = Some((SecretString::from(token.clone()), Instant::now() + lifetime));
        Ok(token)
    }

    async fn get_listing(&mut self, url: reqwest::Url) -> Result<Listing, SourceError> {
        let token = self.token().await?;
        let request = self
            .api
            .http()
            .get(url)
            .header(USER_AGENT, &self.settings.user_agent)
            .header(AUTHORIZATION, format!("bearer {token}"));
        Ok(self.api.json::<Listing>(request).await?.body)
    }

    fn listing_url(&self, key: &str) -> reqwest::Url {
        let mut url = self.settings.base_url.clone();
        let limit = self.settings.limit.to_string();
        match key.split_once(':') {
            Some(("search", query)) => {
                url.set_path("/search");
                url.query_pairs_mut()
                    .append_pair("q", query)
                    .append_pair("sort", "new")
                    .append_pair("t", "all")
                    .append_pair("type", "link");
            }
            Some((listing, sub)) => url.set_path(&format!("/r/{sub}/{listing}")),
            None => url.set_path(key),
        }
        url.query_pairs_mut()
            .append_pair("limit", &limit)
            .append_pair("raw_json", "1");
        url
    }

    fn to_post(&self, thing: Thing) -> Post {
        let data = thing.data;
        let is_comment = thing.kind == "t1";
        let url = match (&data.permalink, &data.subreddit, &data.link_id) {
            (Some(permalink), _, _) => format!("https://www.reddit.com{permalink}"),
            // 2016-era comments have no permalink.
            (None, Some(sub), Some(link)) => format!(
                "https://www.reddit.com/r/{sub}/comments/{}/_/{}/",
                link.trim_start_matches("t3_"),
                data.id
            ),
            (None, _, _) => format!("https://www.reddit.com/{}", data.name),
        };
        let text = if is_comment {
            data.body.unwrap_or_default()
        } else {
            let title = data.title.unwrap_or_default();
            if data.selftext.is_empty() {
                title
            } else {
                format!("{title}\n{}", data.selftext)
            }
        };
        let kind = match (is_comment, data.crosspost_parent.is_some()) {
            (true, _) => "comment",
            (false, true) => "repost",
            (false, false) => "post",
        };
        let author = data.author.filter(|a| a != "[deleted]");
        Post {
            source: self.name.to_string(),
            id: data.name,
            url: Some(url),
            author: author.map(|handle| Author {
                id: data.author_fullname,
                handle: Some(handle),
                name: None,
                followers: None,
            }),
            text,
            lang: None,
            created_at: data
                .created_utc
                .and_then(|at| DateTime::from_timestamp_millis((at * 1000.0) as i64)),
            kind: Some(kind.to_string()),
            in_reply_to: if is_comment { data.parent_id } else { None },
            // A score below zero reaches no one more than zero does.
            engagement: Engagement {
                score: data.score.map(|score| score.max(0) as u64),
                // A comment carries its thread's count, not its own replies.
                replies: data.num_comments.filter(|_| !is_comment),
                ..Engagement::default()
            }
            .known(),
        }
    }
}

#[async_trait::async_trait]
impl Streams for Reddit {
    type State = ListingState;

    async fn fetch_stream(
        &mut self,
        key: &str,
        state: Option<ListingState>,
    ) -> Result<StreamPage<ListingState>, SourceError> {
        let mut state = state.unwrap_or_default();
        let mut url = self.listing_url(key);
        let position = match (&state.after, &state.before) {
            (Some(after), _) => Some(("after", after)),
            (None, Some(before)) => Some(("before", before)),
            (None, None) => None,
        };
        if let Some((name, fullname)) = position {
            url.query_pairs_mut().append_pair(name, fullname);
        }
        let listing = match self.get_listing(url.clone()).await {
            // A revoked or expired token: ask for a new one, once.
            Err(SourceError::Status { status: 401, .. }) => {
                self.token = None;
                self.get_listing(url).await?
            }
            other => other?,
        };
        let full = listing.data.children.len() >= self.settings.limit as usize;
        let things: Vec<Thing> = decode_items(&self.name, listing.data.children);
        let had_seen = !state.seen.is_empty();
        let all_unseen = things.iter().all(|t| !state.seen.contains(&t.data.name));
        let walking_back = state.after.take().is_some();
        let asked_before = if walking_back {
            None
        } else {
            let asked = state.before.take();
            // Empty after `before`: nothing new, or the `before` item is gone. Asking
            // without it next time tells the two apart; the seen-set drops repeats.
            state.before = things.first().map(|newest| newest.data.name.clone());
            asked
        };
        if full && all_unseen && (walking_back || (asked_before.is_none() && had_seen)) {
            state.after = things.last().map(|oldest| oldest.data.name.clone());
        }
        let mut posts = Vec::new();
        for thing in things.into_iter().rev() {
            if !state.seen.contains(&thing.data.name) {
                state.seen.insert(thing.data.name.clone(), SEEN_CAPACITY);
                posts.push(self.to_post(thing));
            }
        }
        Ok(StreamPage {
            not_before: None,
            posts,
            more: state.after.is_some() || (asked_before.is_some() && full),
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{context, fuzz_items};

    #[test]
    fn fuzzed_things_become_posts_or_are_skipped_without_panicking() {
        let mut options = Map::new();
        options.insert("client_secret".into(), Value::from("fuzz-secret"));
        options.insert("client_id".into(), Value::from("fuzz-client"));
        options.insert("subreddits".into(), Value::from(vec!["turkey"]));
        options.insert(
            "user_agent".into(),
            Value::from("linux:mentiond-fuzz:0.1 (by /u/mentiond)"),
        );
        let settings = RedditSettings::parse(options).unwrap();
        let source = Reddit::source("reddit".into(), settings, &context());
        fuzz_items(
            "reddit thing",
            &[
                "reddit/r-turkey_new.json",
                "reddit/r-turkey_comments_page1.json",
                "reddit/search_sort-new.json",
            ],
            "/data/children",
            |thing: Thing| {
                let _ = source.streams().to_post(thing);
            },
        );
    }
}
