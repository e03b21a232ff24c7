//! Hacker News through the Algolia HN Search API: `search_by_date` per query with
//! `tags=(story,comment)`, newest first. Each query's state is a watermark (the newest
//! `created_at_i` seen); the next poll asks for `created_at_i > watermark − overlap`
//! and pages through `page` until `nbPages`. Algolia matches by prefix and with
//! typos, so the matcher re-checks every hit's text. Ids are `objectID`s.

use std::time::Duration;

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api::{ApiClient, RateLimitHeaders, decode_items};
use super::html::html_to_text;
use super::queries::{configured_or, phrase_terms};
use super::streams::{StreamPage, StreamSource, Streams};
use super::{SourceContext, SourceError, parse_http_url};
use crate::keywords::KeywordRules;
use crate::model::SourceName;
use crate::model::{Author, Engagement, Post};
use crate::settings::{FieldError, parse_options};

/// Where the API lives unless `base_url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://hn.algolia.com";

/// Items created this long before the watermark are asked for again, because the
/// index is updated a little after an item is posted.
const OVERLAP: Duration = Duration::from_secs(300);

/// Hits per request (the API maximum is 1000; 100 keeps bodies small).
const HITS_PER_PAGE: u32 = 100;

/// Validated `kind = "hackernews"` options.
#[derive(Debug, Clone)]
pub struct HackerNewsSettings {
    /// API root (`https://hn.algolia.com`).
    pub base_url: reqwest::Url,
    /// Explicit queries; empty means one per brand term of the keywords.
    pub queries: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    base_url: Option<String>,
    #[serde(default)]
    queries: Vec<String>,
}

impl HackerNewsSettings {
    /// Validates `base_url` and `queries`.
    pub fn parse(options: Map<String, Value>) -> Result<HackerNewsSettings, FieldError> {
        let options: Options = parse_options(options)?;
        Ok(HackerNewsSettings {
            base_url: parse_http_url(
                "base_url",
                options.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            )?,
            queries: options.queries,
        })
    }
}

/// Per-query state in the cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WindowState {
    /// Newest `created_at_i` seen.
    watermark: i64,
    /// While paging through one window: its lower bound and the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paging: Option<(i64, u32)>,
}

#[derive(Deserialize)]
struct SearchResponse {
    hits: Vec<Value>,
    #[serde(default)]
    page: u32,
    #[serde(rename = "nbPages", default)]
    nb_pages: u32,
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "objectID")]
    object_id: String,
    created_at_i: i64,
    author: Option<String>,
    title: Option<String>,
    url: Option<String>,
    story_text: Option<String>,
    comment_text: Option<String>,
    story_title: Option<String>,
    parent_id: Option<i64>,
    points: Option<i64>,
    num_comments: Option<u64>,
    #[serde(rename = "_tags", default)]
    tags: Vec<String>,
}

/// Polls Algolia `search_by_date` for each query.
pub struct HackerNews {
    name: SourceName,
    settings: HackerNewsSettings,
    api: ApiClient,
}

impl HackerNews {
    /// A Hacker News source named `name`, one stream per query.
    pub fn source(
        name: SourceName,
        settings: HackerNewsSettings,
        context: &SourceContext,
    ) -> StreamSource<HackerNews> {
        let explicit = settings.queries.clone();
        let queries = move |rules: &KeywordRules| configured_or(&explicit, || phrase_terms(rules));
        let streams = HackerNews {
            name: name.clone(),
            settings,
            api: ApiClient::new(context, RateLimitHeaders::None),
        };
        StreamSource::following(name, &context.keywords, queries, streams)
    }

    fn to_post(&self, hit: Hit) -> Post {
        let is_comment = hit.tags.iter().any(|tag| tag == "comment");
        let mut parts = Vec::new();
        if let Some(title) = hit.title.filter(|t| !t.is_empty()) {
            parts.push(html_to_text(&title));
        }
        // A story's link is part of what it says (a brand's domain names the brand).
        parts.extend(hit.url.filter(|u| !u.is_empty()));
        for html in [hit.story_text, hit.comment_text].into_iter().flatten() {
            let text = html_to_text(&html);
            if !text.is_empty() {
                parts.push(text);
            }
        }
        if parts.is_empty()
            && let Some(title) = hit.story_title
        {
            parts.push(title);
        }
        Post {
            source: self.name.to_string(),
            url: Some(format!(
                "https://news.ycombinator.com/item?id={}",
                hit.object_id
            )),
            id: hit.object_id,
            author: hit.author.map(|author| Author {
                id: Some(author.clone()),
                handle: Some(author),
                name: None,
                followers: None,
            }),
            text: parts.join("\n"),
            lang: None,
            created_at: DateTime::from_timestamp(hit.created_at_i, 0),
            kind: Some(if is_comment { "comment" } else { "post" }.to_string()),
            in_reply_to: if is_comment {
                hit.parent_id.map(|id| id.to_string())
            } else {
                None
            },
            engagement: Engagement {
                score: hit.points.map(|points| points.max(0) as u64),
                replies: hit.num_comments,
                ..Engagement::default()
            }
            .known(),
        }
    }
}

#[async_trait::async_trait]
impl Streams for HackerNews {
    type State = WindowState;

    async fn fetch_stream(
        &mut self,
        query: &str,
        state: Option<WindowState>,
    ) -> Result<StreamPage<WindowState>, SourceError> {
        let (from, page) = match &state {
            Some(WindowState {
                paging: Some((from, page)),
                ..
            }) => (Some(*from), *page),
            Some(state) => (Some(state.watermark - OVERLAP.as_secs() as i64), 0),
            None => (None, 0),
        };
        let mut url = self.settings.base_url.clone();
        url.set_path("/api/v1/search_by_date");
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("tags", "(story,comment)")
            .append_pair("hitsPerPage", &HITS_PER_PAGE.to_string())
            .append_pair("page", &page.to_string());
        if let Some(from) = from {
            url.query_pairs_mut()
                .append_pair("numericFilters", &format!("created_at_i>{from}"));
        }
        let reply = self
            .api
            .json::<SearchResponse>(self.api.http().get(url))
            .await?;
        let hits: Vec<Hit> = decode_items(&self.name, reply.body.hits);
        let newest = hits.iter().map(|hit| hit.created_at_i).max();
        let watermark = state
            .as_ref()
            .map(|s| s.watermark)
            .max(newest)
            .unwrap_or_default();
        // The first poll takes the newest page only; backfill is not the point.
        let paging = match from {
            Some(from) if reply.body.page + 1 < reply.body.nb_pages => {
                Some((from, reply.body.page + 1))
            }
            _ => None,
        };
        Ok(StreamPage {
            not_before: None,
            posts: hits.into_iter().map(|hit| self.to_post(hit)).collect(),
            more: paging.is_some(),
            state: WindowState { watermark, paging },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{context, fuzz_items};

    #[test]
    fn fuzzed_hits_become_posts_or_are_skipped_without_panicking() {
        let settings = HackerNewsSettings::parse(Default::default()).unwrap();
        let source = HackerNews::source("hn".into(), settings, &context());
        fuzz_items(
            "hacker news hit",
            &[
                "hackernews/search_by_date_page0.json",
                "hackernews/search_by_date_page1.json",
            ],
            "/hits",
            |hit: Hit| {
                let _ = source.streams().to_post(hit);
            },
        );
    }
}
