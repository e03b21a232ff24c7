//! RSS 2.0, Atom and JSON Feed sources, parsed by feed-rs, fetched with conditional
//! GET (`ETag` / `Last-Modified`) so an unchanged feed costs a 304.
//!
//! Entry ids are stable across polls: the feed's own id (Atom `<id>`, RSS `<guid>`,
//! JSON Feed `id`), else the first link, else a hash of the title; never a random id.

use std::time::Duration;

use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::api::{ApiClient, RateLimitHeaders};
use super::html::html_to_text;
use super::streams::{StreamPage, StreamSource, Streams};
use super::{SourceContext, SourceError, parse_http_url};
use crate::model::SourceName;
use crate::model::{Author, Post};
use crate::settings::{FieldError, parse_options};

/// The longest rest a feed's `ttl` can ask for; past it, the feed is polled anyway.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Validated `kind = "feed"` options.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// Feed URLs, polled in order.
    pub urls: Vec<reqwest::Url>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedOptions {
    url: Option<String>,
    #[serde(default)]
    urls: Vec<String>,
}

impl FeedSettings {
    /// Validates `url` / `urls`.
    pub fn parse(options: Map<String, Value>) -> Result<FeedSettings, FieldError> {
        let options: FeedOptions = parse_options(options)?;
        let mut raw = Vec::new();
        if let Some(url) = options.url {
            raw.push(("url".to_string(), url));
        }
        raw.extend(
            options
                .urls
                .into_iter()
                .enumerate()
                .map(|(i, url)| (format!("urls[{i}]"), url)),
        );
        if raw.is_empty() {
            return Err(FieldError::new("url", "set `url` or `urls`"));
        }
        let urls = raw
            .into_iter()
            .map(|(key, url)| parse_http_url(&key, &url))
            .collect::<Result<_, _>>()?;
        Ok(FeedSettings { urls })
    }
}

/// Validators remembered per URL for conditional GET: the per-URL stream state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

/// Polls one or more feeds; each URL is a stream with its own validators.
pub struct Feed {
    name: SourceName,
    api: ApiClient,
}

/// The feed source as the poll loop drives it.
pub type FeedSource = StreamSource<Feed>;

impl FeedSource {
    /// A feed source named `name`.
    pub fn new(name: SourceName, settings: FeedSettings, context: SourceContext) -> FeedSource {
        let urls = settings.urls.iter().map(|url| url.to_string()).collect();
        let streams = Feed {
            name: name.clone(),
            api: ApiClient::new(&context, RateLimitHeaders::None),
        };
        StreamSource::build(name, urls, streams)
    }
}

#[async_trait::async_trait]
impl Streams for Feed {
    type State = Validators;

    /// Feeds live on unrelated servers: one host's 429 says nothing about the others.
    fn shared_rate_limit(&self) -> bool {
        false
    }

    async fn fetch_stream(
        &mut self,
        url: &str,
        validators: Option<Validators>,
    ) -> Result<StreamPage<Validators>, SourceError> {
        let validators = validators.unwrap_or_default();
        let mut request = self.api.http().get(url);
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let reply = match self.api.bytes(request).await {
            Err(SourceError::Status { status: 304, .. }) => {
                return Ok(StreamPage {
                    posts: Vec::new(),
                    state: validators,
                    more: false,
                    not_before: None,
                });
            }
            other => other?,
        };
        let header = |name| {
            reply
                .headers
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let next = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let (posts, ttl) = parse_feed(&self.name, url, &reply.body)?;
        Ok(StreamPage {
            posts,
            state: next,
            more: false,
            not_before: ttl,
        })
    }
}

/// Parses a feed body into posts of source `source`; also returns the RSS `ttl`,
/// capped at [`MAX_TTL`].
fn parse_feed(
    source: &SourceName,
    feed_url: &str,
    body: &[u8],
) -> Result<(Vec<Post>, Option<Duration>), SourceError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url))
        .id_generator(stable_id)
        .build();
    let feed = parser
        .parse(body)
        .map_err(|err| SourceError::Malformed(format!("feed: {err}")))?;
    let ttl = feed
        .ttl
        .map(|minutes| Duration::from_secs(u64::from(minutes) * 60).min(MAX_TTL));
    let language = feed.language.clone();
    let posts = feed
        .entries
        .into_iter()
        .filter(|entry| !entry.id.is_empty())
        .map(|entry| {
            let title = entry
                .title
                .as_ref()
                .map(|t| html_to_text(&t.content))
                .unwrap_or_default();
            let body = entry
                .summary
                .as_ref()
                .map(|s| html_to_text(&s.content))
                .or_else(|| {
                    entry
                        .content
                        .as_ref()
                        .and_then(|c| c.body.as_deref())
                        .map(html_to_text)
                })
                .unwrap_or_default();
            let text = match (title.is_empty(), body.is_empty() || body == title) {
                (false, false) => format!("{title}\n{body}"),
                (false, true) => title,
                (true, _) => body,
            };
            Post {
                source: source.to_string(),
                id: entry.id,
                url: entry.links.first().map(|link| link.href.clone()),
                author: entry.authors.first().map(|person| Author {
                    id: person.uri.clone(),
                    handle: None,
                    name: Some(person.name.clone()),
                    followers: None,
                }),
                text,
                lang: entry.language.or_else(|| language.clone()),
                created_at: entry.published.or(entry.updated),
                kind: Some("article".to_string()),
                in_reply_to: None,
                engagement: None,
            }
        })
        .collect();
    Ok((posts, ttl))
}

/// Id for an entry that has none: its first link, else a hash of its title.
fn stable_id(
    links: &[feed_rs::model::Link],
    title: &Option<feed_rs::model::Text>,
    _base: Option<&str>,
) -> String {
    if let Some(link) = links.first() {
        return link.href.clone();
    }
    match title {
        Some(title) => {
            let digest = Sha256::digest(title.content.as_bytes());
            format!("sha256:{}", hex(&digest[..16]))
        }
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/feeds/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn rss_items_become_posts_with_plain_text() {
        let (posts, ttl) = parse_feed(
            &"news".into(),
            "https://news.example/rss",
            &fixture("news_search.rss.xml"),
        )
        .unwrap();
        assert_eq!(ttl, Some(Duration::from_secs(60 * 60)));
        assert_eq!(posts.len(), 3);
        let first = &posts[0];
        assert_eq!(first.source, "news");
        assert!(
            first.text.starts_with("Turkcell'de yaygın kesinti"),
            "{}",
            first.text
        );
        assert!(!first.text.contains('<'));
        assert_eq!(first.kind.as_deref(), Some("article"));
        assert!(first.created_at.is_some());
    }

    #[test]
    fn a_huge_ttl_is_capped_at_a_day() {
        let body = String::from_utf8(fixture("news_search.rss.xml"))
            .unwrap()
            .replace("<ttl>60</ttl>", "<ttl>4294967295</ttl>");
        assert!(body.contains("4294967295"));
        let (_, ttl) =
            parse_feed(&"news".into(), "https://news.example/rss", body.as_bytes()).unwrap();
        assert_eq!(ttl, Some(MAX_TTL));
    }

    #[test]
    fn ids_are_stable_across_parses_even_without_guid() {
        let body = fixture("news_search.rss.xml");
        let (a, _) = parse_feed(&"news".into(), "https://news.example/rss", &body).unwrap();
        let (b, _) = parse_feed(&"news".into(), "https://news.example/rss", &body).unwrap();
        let ids: Vec<_> = a.iter().map(|p| p.id.clone()).collect();
        assert_eq!(ids, b.iter().map(|p| p.id.clone()).collect::<Vec<_>>());
        assert!(ids.iter().all(|id| !id.is_empty()));
    }

    #[test]
    fn atom_and_json_feed_parse() {
        let (atom, _) = parse_feed(
            &"blog".into(),
            "https://blog.example/",
            &fixture("brand_blog.atom.xml"),
        )
        .unwrap();
        assert_eq!(atom.len(), 2);
        assert!(atom.iter().any(|p| p.text.contains("Yapı Kredi")));
        let (json, _) = parse_feed(
            &"jf".into(),
            "https://jf.example/",
            &fixture("complaints.feed.json"),
        )
        .unwrap();
        assert_eq!(json.len(), 2);
        assert_eq!(json[0].id, "https://jf.example/posts/1");
    }

    #[test]
    fn malformed_feed_is_an_error_not_a_panic() {
        let err =
            parse_feed(&"x".into(), "https://x.example/", b"<rss><channel><item>").unwrap_err();
        assert!(matches!(err, SourceError::Malformed(_)));
    }

    #[test]
    fn settings_accept_url_and_urls_and_name_bad_keys() {
        let options = |v: Value| v.as_object().unwrap().clone();
        let ok = FeedSettings::parse(options(serde_json::json!({
            "url": "https://a.example/rss", "urls": ["http://b.example/atom"]
        })))
        .unwrap();
        assert_eq!(ok.urls.len(), 2);
        let err = FeedSettings::parse(options(
            serde_json::json!({"urls": ["https://a", "ftp://b"]}),
        ))
        .unwrap_err();
        assert_eq!(err.key, "urls[1]");
        let err = FeedSettings::parse(options(serde_json::json!({"link": "x"}))).unwrap_err();
        assert_eq!(err.key, "link");
        assert!(FeedSettings::parse(Map::new()).is_err());
    }

    #[test]
    fn fuzzed_feeds_parse_or_fail_without_panicking() {
        let fixture = |name: &str| crate::sources::test_support::fixture(&format!("feeds/{name}"));
        let (rss, atom, json) = (
            fixture("news_search.rss.xml"),
            fixture("brand_blog.atom.xml"),
            fixture("complaints.feed.json"),
        );
        let source: SourceName = "news".into();
        crate::fuzz::run("feed", &[&rss, &atom, &json], |input| {
            let _ = parse_feed(&source, "https://news.example/rss", input);
        });
    }
}
