//! Hacker News (Algolia `search_by_date`) against a loopback server serving
//! payloads in the recorded shape.

use std::time::Duration;

use mentiond::model::Engagement;
use mentiond::sources::hackernews::{HackerNews, HackerNewsSettings};
use mentiond::sources::{Source, SourceError};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::sources_support::{
    Harness, check_http_failures, context, fixture, json, replay, shared_recording,
};

const SEARCH: &str = "/api/v1/search_by_date";

fn source(base_url: &str) -> Box<dyn Source> {
    let options = json!({"base_url": base_url, "queries": ["Turkcell"]});
    let settings = HackerNewsSettings::parse(options.as_object().unwrap().clone()).unwrap();
    Box::new(HackerNews::source("hn".into(), settings, &context()))
}

#[tokio::test]
async fn pages_dedupes_survives_restart_and_keeps_turkish_text() {
    let server = MockServer::start().await;
    let page0 = fixture("hackernews", "search_by_date_page0.json");
    let page1 = fixture("hackernews", "search_by_date_page1.json");
    // The watermark is the newest created_at_i (1795167667) minus the 300 s overlap.
    let window = "created_at_i>1795167367";
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", "Turkcell"))
        .and(query_param("tags", "(story,comment)"))
        .and(query_param("page", "1"))
        .and(query_param("numericFilters", window))
        .respond_with(json(page1, &[]))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("page", "0"))
        .respond_with(json(page0, &[]))
        .mount(&server)
        .await;
    let harness = Harness::new(Duration::from_secs(3600));

    let mut first = source(&server.uri());
    let posts = harness.first_run(first.as_mut()).await;
    assert_eq!(posts.len(), 2, "the hit without created_at_i is skipped");
    let comment = &posts[0];
    assert_eq!(comment.id, "46010299");
    assert_eq!(comment.kind.as_deref(), Some("comment"));
    assert_eq!(comment.in_reply_to.as_deref(), Some("46010211"));
    assert_eq!(
        comment.url.as_deref(),
        Some("https://news.ycombinator.com/item?id=46010299")
    );
    assert_eq!(
        comment.text,
        "Turkcell'in yeni fiber paketinde \"sınırsız\" yazıyor ama 200 GB'dan sonra hız düşüyor.\nMüşteri hizmetlerine ulaşmak imkânsız / bekleme süresi 45 dk."
    );
    assert_eq!(comment.engagement, None, "no points on a comment");
    assert_eq!(posts[1].kind.as_deref(), Some("post"));
    assert_eq!(
        posts[1].engagement,
        Some(Engagement {
            score: Some(12),
            replies: Some(3),
            ..Engagement::default()
        }),
        "points and comments"
    );
    assert!(posts[1].text.starts_with("Show HN: Türk Hava Yolları"));

    // Restart: a new source object resumes from the committed cursor.
    drop(first);
    let mut second = source(&server.uri());
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(posts.len(), 2, "the overlap window returns the same page");
    assert_eq!(outcome.new_posts, 0, "no duplicates");
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(posts.len(), 1, "second page of the window");
    assert_eq!(outcome.new_posts, 1);
    assert!(
        outcome.deliveries > 0,
        "after the first run, hits are alerted"
    );

    let texts = harness.hit_texts().await;
    assert!(
        texts.iter().any(|t| t
            .starts_with("Yapı Kredi mobil uygulaması dün gece çöktü, EFT yapamadım.")
            && t.ends_with('🙁')),
        "{texts:?}"
    );
    let cursor = harness.cursor("hn").await.unwrap();
    assert!(cursor.contains("1795167667"), "{cursor}");
}

#[tokio::test]
async fn http_failures_fail_the_poll_the_right_way() {
    check_http_failures(Vec::new, |base| source(base)).await;
}

#[tokio::test]
async fn shared_recording_parses_when_available() {
    let Some(body) = shared_recording("hackernews", "search_by_date_tags-comment_query-apple.json")
    else {
        return;
    };
    let page = replay(Vec::new, body, source).await;
    assert_eq!(page.posts.len(), 1);
    let post = &page.posts[0];
    assert_eq!(post.id, "7919418");
    assert_eq!(post.in_reply_to.as_deref(), Some("7919290"));
    assert!(post.text.contains("aren't contributing"), "{}", post.text);
    assert!(!post.text.contains("&#x27;"));
}

#[tokio::test]
async fn a_query_added_later_backfills_without_alerting() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", "Yapı Kredi"))
        .respond_with(json(
            fixture("hackernews", "search_by_date_page1.json"),
            &[],
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(json(
            fixture("hackernews", "search_by_date_page0.json"),
            &[],
        ))
        .mount(&server)
        .await;
    let harness = Harness::new(Duration::from_secs(3600));
    harness.first_run(source(&server.uri()).as_mut()).await;

    let options = json!({"base_url": server.uri(), "queries": ["Turkcell", "Yapı Kredi"]});
    let settings = HackerNewsSettings::parse(options.as_object().unwrap().clone()).unwrap();
    let mut widened = HackerNews::source("hn".into(), settings, &context());
    let (_, outcome) = harness.poll(&mut widened).await.unwrap();
    assert_eq!(outcome.new_posts, 1, "the new query's post is stored");
    assert!(outcome.new_hits > 0);
    assert_eq!(outcome.deliveries, 0, "but its old posts are not alerted");
}

#[tokio::test]
async fn a_hanging_server_times_out_as_a_transient_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let context = mentiond::sources::SourceContext {
        http: mentiond::http::client("mentiond-test/0", Duration::from_millis(300), true).unwrap(),
        ..context()
    };
    let options = json!({"base_url": server.uri(), "queries": ["Turkcell"]});
    let settings = HackerNewsSettings::parse(options.as_object().unwrap().clone()).unwrap();
    let started = std::time::Instant::now();
    let err = HackerNews::source("hn".into(), settings, &context)
        .fetch(None)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the request timeout applies"
    );
    assert!(
        matches!(err, SourceError::Transport(_)) && err.is_transient(),
        "{err}"
    );
    // The cause and the time, not reqwest's "error sending request".
    assert!(
        err.to_string()
            .starts_with("request failed: timed out after 0."),
        "{err}"
    );
}
