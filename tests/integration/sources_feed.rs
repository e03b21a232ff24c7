//! The feed source held to the same HTTP rules as the platform sources: 429 with
//! `Retry-After`, 5xx, malformed bodies, oversized and gzip-bomb bodies; and a 429
//! on one feed URL does not hold back the others.

use mentiond::sources::Source;
use mentiond::sources::feed::{FeedSettings, FeedSource};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sources_support::{check_http_failures, context};

fn source(urls: Vec<String>) -> FeedSource {
    let settings =
        FeedSettings::parse(json!({ "urls": urls }).as_object().unwrap().clone()).unwrap();
    FeedSource::new("news".into(), settings, context())
}

#[tokio::test]
async fn http_failures_fail_the_poll_the_right_way() {
    check_http_failures(Vec::new, |base| {
        Box::new(source(vec![format!("{base}/rss")])) as Box<dyn Source>
    })
    .await;
}

#[tokio::test]
async fn one_rate_limited_feed_does_not_stop_the_others() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "600"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ok"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            crate::support::fixture("feeds/news_search.rss.xml"),
            "application/rss+xml",
        ))
        .mount(&server)
        .await;
    let uri = server.uri();
    let page = source(vec![format!("{uri}/busy"), format!("{uri}/ok")])
        .fetch(None)
        .await
        .unwrap();
    assert_eq!(page.posts.len(), 3);
    let cursor = page.cursor.unwrap();
    assert!(
        cursor.contains("/ok") && !cursor.contains("/busy"),
        "{cursor}"
    );
}
