//! The request path every JSON platform source shares: send, map a non-success status
//! to [`SourceError::Status`] (with `Retry-After`, or the rate-limit reset on a 429),
//! read the body under the decoded-size cap, decode JSON, and remember the platform's
//! rate-limit headers so the next request waits for the window instead of earning a 429.
//!
//! Each platform writes its rate-limit headers differently (`sources.md`), so the
//! dialect is chosen per source; the reading and the pacing happen only here.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::{SourceContext, SourceError};
use crate::escape;
use crate::http::{describe, read_body_capped, retry_after};
use crate::model::SourceName;
use crate::model::{DroppedField, decode_lenient};

/// How a platform reports its rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitHeaders {
    /// X API v2: `x-rate-limit-remaining`, `x-rate-limit-reset` in Unix epoch seconds.
    XApi,
    /// Mastodon: `X-RateLimit-Remaining`, `X-RateLimit-Reset` as an ISO-8601 timestamp.
    Mastodon,
    /// Bluesky PDS/AppView: `RateLimit-Remaining`, `RateLimit-Reset` in epoch seconds.
    Bluesky,
    /// Reddit: `X-Ratelimit-Remaining` as a float, `X-Ratelimit-Reset` in seconds from now.
    Reddit,
    /// No documented headers (Hacker News Algolia).
    None,
}

/// What the last response said about the request budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests left in the current window.
    pub remaining: f64,
    /// Time from the response until the window resets.
    pub reset_in: Duration,
}

impl RateLimitHeaders {
    /// Reads the budget from `headers` in this dialect; `None` if absent or unreadable.
    pub fn read(self, headers: &HeaderMap, now: DateTime<Utc>) -> Option<RateLimit> {
        let header = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
        let (remaining, reset) = match self {
            RateLimitHeaders::XApi => ("x-rate-limit-remaining", "x-rate-limit-reset"),
            RateLimitHeaders::Mastodon | RateLimitHeaders::Reddit => {
                ("x-ratelimit-remaining", "x-ratelimit-reset")
            }
            RateLimitHeaders::Bluesky => ("ratelimit-remaining", "ratelimit-reset"),
            RateLimitHeaders::None => return None,
        };
        let remaining: f64 = header(remaining)?.parse().ok()?;
        let reset = header(reset)?;
        let reset_in = match self {
            RateLimitHeaders::XApi | RateLimitHeaders::Bluesky => {
                let at = DateTime::from_timestamp(reset.parse().ok()?, 0)?;
                (at - now).to_std().unwrap_or(Duration::ZERO)
            }
            RateLimitHeaders::Mastodon => {
                let at = DateTime::parse_from_rfc3339(reset)
                    .ok()?
                    .with_timezone(&Utc);
                (at - now).to_std().unwrap_or(Duration::ZERO)
            }
            RateLimitHeaders::Reddit => Duration::try_from_secs_f64(reset.parse().ok()?).ok()?,
            RateLimitHeaders::None => return None,
        };
        Some(RateLimit {
            remaining,
            reset_in,
        })
    }
}

/// A decoded response with its headers (for `Link`, cursors and the like).
#[derive(Debug)]
pub struct Reply<T> {
    /// The decoded body.
    pub body: T,
    /// The response headers.
    pub headers: HeaderMap,
}

/// One source's HTTP access to a JSON API, with its rate-limit memory.
pub struct ApiClient {
    http: reqwest::Client,
    max_body_bytes: u64,
    dialect: RateLimitHeaders,
    exhausted_until: Option<Instant>,
}

impl ApiClient {
    /// A client using the shared HTTP client and body cap, reading `dialect` headers.
    pub fn new(context: &SourceContext, dialect: RateLimitHeaders) -> ApiClient {
        ApiClient {
            http: context.http.clone(),
            max_body_bytes: context.max_body_bytes,
            dialect,
            exhausted_until: None,
        }
    }

    /// The underlying HTTP client, to build requests.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` and decodes the JSON body as `T`.
    pub async fn json<T: DeserializeOwned>(
        &mut self,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply<T>, SourceError> {
        let reply = self.bytes(request).await?;
        let body = serde_json::from_slice(&reply.body)
            .map_err(|err| SourceError::Malformed(format!("JSON: {err}")))?;
        Ok(Reply {
            body,
            headers: reply.headers,
        })
    }

    /// Sends `request` and reads the body under the cap. Any status other than 2xx
    /// (a 304 included) is a [`SourceError::Status`].
    ///
    /// Refuses to send while the last response said the window is used up
    /// ([`SourceError::RateLimited`]), so the platform never has to answer 429.
    pub async fn bytes(
        &mut self,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply<Vec<u8>>, SourceError> {
        let started = std::time::Instant::now();
        let response = self.open(request).await?;
        let headers = response.headers().clone();
        let body = read_body_capped(response, self.max_body_bytes, started).await?;
        Ok(Reply { body, headers })
    }

    /// Sends `request` and returns the successful response with its body unread, for
    /// a live stream that reads it as it arrives ([`super::live`]); statuses and the
    /// rate limit are handled as in [`ApiClient::bytes`].
    pub async fn open(
        &mut self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        if let Some(until) = self.exhausted_until {
            let now = Instant::now();
            if until > now {
                return Err(SourceError::RateLimited { wait: until - now });
            }
            self.exhausted_until = None;
        }
        let started = std::time::Instant::now();
        let response = request
            .send()
            .await
            .map_err(|err| SourceError::Transport(describe(&err, started.elapsed())))?;
        let status = response.status();
        let headers = response.headers().clone();
        let now = Utc::now();
        let limit = self.dialect.read(&headers, now);
        if let Some(limit) = limit.filter(|limit| limit.remaining < 1.0) {
            self.exhausted_until = Some(Instant::now() + limit.reset_in);
        }
        if !status.is_success() {
            let asked = retry_after(&headers, now).or_else(|| {
                (status.as_u16() == 429)
                    .then(|| limit.map(|limit| limit.reset_in))
                    .flatten()
            });
            return Err(SourceError::Status {
                status: status.as_u16(),
                retry_after: asked,
            });
        }
        Ok(response)
    }

    /// The cap on a decoded body, which also bounds one line of a live stream.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }
}

/// Decodes each element of a platform's item list on its own: an item that does not
/// fit the expected shape is logged with the source's name and skipped, the rest kept;
/// an optional field with an invalid value is dropped ([`decode_lenient`]) and
/// reported by [`warn_dropped`].
pub fn decode_items<T: DeserializeOwned>(
    source: &SourceName,
    items: Vec<serde_json::Value>,
) -> Vec<T> {
    items
        .into_iter()
        .filter_map(|item| match decode_lenient(item) {
            Ok((decoded, dropped)) => {
                warn_dropped(source, &dropped);
                Some(decoded)
            }
            Err(err) => {
                tracing::warn!(source = %source, error = %escape::log(&err.to_string()), "malformed item skipped");
                None
            }
        })
        .collect()
}

/// Warns about each invalid optional field an item of `source` lost, once per source
/// and field for the life of the process: a platform that sends one field in a
/// format we do not read would otherwise log it with every item.
pub fn warn_dropped(source: &SourceName, dropped: &[DroppedField]) {
    // Bounded by the sources times the fields of their schemas: only fields a wire
    // type declares can fail to decode.
    static WARNED: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());
    if dropped.is_empty() {
        return;
    }
    let mut warned = WARNED.lock().unwrap_or_else(PoisonError::into_inner);
    for field in dropped {
        if warned.insert((source.to_string(), field.field.clone())) {
            tracing::warn!(
                source = %source,
                field = %escape::log(&field.field),
                example = %escape::log(&field.example),
                "invalid optional field dropped, item kept"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_log::Captured;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn each_dialect_reads_its_own_reset_format() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let epoch = "1795168860"; // 2026-11-20T10:01:00Z
        let x = headers(&[
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", epoch),
        ]);
        assert_eq!(
            RateLimitHeaders::XApi.read(&x, now),
            Some(RateLimit {
                remaining: 0.0,
                reset_in: Duration::from_secs(60)
            })
        );
        let mastodon = headers(&[
            ("X-RateLimit-Remaining", "299"),
            ("X-RateLimit-Reset", "2026-11-20T10:05:00.290188Z"),
        ]);
        let read = RateLimitHeaders::Mastodon.read(&mastodon, now).unwrap();
        assert_eq!(read.remaining, 299.0);
        assert_eq!(read.reset_in.as_secs(), 300);
        let bluesky = headers(&[("RateLimit-Remaining", "2999"), ("RateLimit-Reset", epoch)]);
        assert_eq!(
            RateLimitHeaders::Bluesky
                .read(&bluesky, now)
                .unwrap()
                .reset_in,
            Duration::from_secs(60)
        );
        let reddit = headers(&[
            ("x-ratelimit-remaining", "599.0"),
            ("x-ratelimit-reset", "525"),
        ]);
        assert_eq!(
            RateLimitHeaders::Reddit.read(&reddit, now),
            Some(RateLimit {
                remaining: 599.0,
                reset_in: Duration::from_secs(525)
            })
        );
        // The same headers read in the wrong dialect are not silently misread.
        assert_eq!(RateLimitHeaders::XApi.read(&reddit, now), None);
        assert_eq!(RateLimitHeaders::Mastodon.read(&reddit, now), None);
        assert_eq!(RateLimitHeaders::None.read(&x, now), None);
    }

    #[derive(Debug, serde::Deserialize)]
    struct Item {
        id: String,
        created_at: Option<DateTime<Utc>>,
        followers: Option<u64>,
    }

    #[test]
    fn invalid_optional_fields_cost_the_field_and_warn_once_per_source_and_field() {
        let (log, _guard) = Captured::start(tracing::Level::WARN);
        let bad = |id: &str| serde_json::json!({"id": id, "created_at": "yesterday", "followers": "many\u{202e}"});
        let items: Vec<Item> = decode_items(&"lenient-a".into(), vec![bad("1"), bad("2")]);
        let ids: Vec<_> = items.iter().map(|item| item.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"], "both items are kept");
        assert!(
            items
                .iter()
                .all(|item| item.created_at.is_none() && item.followers.is_none())
        );
        assert_eq!(
            log.count("invalid optional field dropped"),
            2,
            "{}",
            log.text()
        );
        assert_eq!(log.count("field=created_at"), 1, "{}", log.text());
        assert_eq!(log.count("field=followers"), 1, "{}", log.text());
        assert!(
            log.text().contains(r#"example="yesterday""#),
            "{}",
            log.text()
        );
        assert!(
            log.text().contains(r#"example="many\u{202e}""#),
            "{}",
            log.text()
        );
        // A later poll of the same source stays quiet; another source warns for itself.
        let _: Vec<Item> = decode_items(&"lenient-a".into(), vec![bad("3")]);
        assert_eq!(log.count("invalid optional field dropped"), 2);
        let _: Vec<Item> = decode_items(&"lenient-b".into(), vec![bad("4")]);
        assert_eq!(log.count("invalid optional field dropped"), 4);
        // A required field with an invalid value still skips the item.
        let skipped: Vec<Item> =
            decode_items(&"lenient-a".into(), vec![serde_json::json!({"id": 5})]);
        assert!(skipped.is_empty());
        assert_eq!(log.count("malformed item skipped"), 1);
    }

    #[test]
    fn a_reset_in_the_past_means_no_wait() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let x = headers(&[("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "5")]);
        assert_eq!(
            RateLimitHeaders::XApi.read(&x, now).unwrap().reset_in,
            Duration::ZERO
        );
    }
}
