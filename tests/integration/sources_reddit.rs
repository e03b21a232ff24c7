//! Reddit search and subreddit listings through OAuth, against loopback token and
//! API servers serving payloads in the recorded shape.

use std::time::Duration;

use mentiond::model::Engagement;
use mentiond::sources::reddit::{Reddit, RedditSettings};
use mentiond::sources::{Source, SourceError};
use serde_json::json;
use wiremock::matchers::{
    body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sources_support::{
    Harness, check_http_failures, context, first_poll_error, fixture, json, replay,
    shared_recording,
};

const USER_AGENT: &str = "linux:mentiond-test:0.1 (by /u/mentiond_ops)";

fn source(base_url: &str) -> Box<dyn Source> {
    let options = json!({
        "base_url": base_url, "auth_url": base_url, "client_id": "cl1ent-1d",
        "client_secret": "s3cret-value", "user_agent": USER_AGENT,
        "subreddits": ["Turkey"], "queries": ["Turkcell"], "limit": 2,
    });
    let settings = RedditSettings::parse(options.as_object().unwrap().clone()).unwrap();
    Box::new(Reddit::source("reddit".into(), settings, &context()))
}

/// One site-wide search stream and no subreddits.
fn search_only(base_url: &str) -> Box<dyn Source> {
    let options = json!({
        "base_url": base_url, "auth_url": base_url, "client_id": "cl1ent-1d",
        "client_secret": "s3cret-value", "user_agent": USER_AGENT, "queries": ["x"],
    });
    let settings = RedditSettings::parse(options.as_object().unwrap().clone()).unwrap();
    Box::new(Reddit::source("reddit".into(), settings, &context()))
}

fn token_mock() -> Vec<Mock> {
    // Basic base64("cl1ent-1d:s3cret-value")
    vec![
        Mock::given(method("POST"))
            .and(path("/api/v1/access_token"))
            .and(header(
                "authorization",
                "Basic Y2wxZW50LTFkOnMzY3JldC12YWx1ZQ==",
            ))
            .and(header("user-agent", USER_AGENT))
            .and(body_string_contains("grant_type=client_credentials"))
            .respond_with(json(fixture("reddit", "oauth_access_token.json"), &[])),
    ]
}

fn listing(name: &str) -> ResponseTemplate {
    json(
        fixture("reddit", name),
        &[
            ("x-ratelimit-remaining", "598.0"),
            ("x-ratelimit-reset", "525"),
            ("x-ratelimit-used", "2"),
        ],
    )
}

async fn mount(server: &MockServer, at: &str, before: Option<&str>, body: &str) {
    let mock = Mock::given(method("GET"))
        .and(path(at))
        .and(query_param("raw_json", "1"))
        .and(header("authorization", "bearer <ACCESS_TOKEN>"))
        .and(header("user-agent", USER_AGENT));
    let mock = match before {
        Some(before) => mock.and(query_param("before", before)),
        None => mock.and(query_param_is_missing("before")),
    };
    mock.respond_with(listing(body)).mount(server).await;
}

#[tokio::test]
async fn listings_follow_before_with_a_seen_set_and_survive_restart() {
    let server = MockServer::start().await;
    for mock in token_mock() {
        mock.mount(&server).await;
    }
    mount(&server, "/search", None, "search_sort-new.json").await;
    mount(&server, "/search", Some("t3_1gx9k2a"), "listing_empty.json").await;
    mount(&server, "/r/Turkey/new", None, "r-turkey_new.json").await;
    mount(
        &server,
        "/r/Turkey/new",
        Some("t3_1gx9p0q"),
        "listing_empty.json",
    )
    .await;
    mount(
        &server,
        "/r/Turkey/comments",
        None,
        "r-turkey_comments_page1.json",
    )
    .await;
    mount(
        &server,
        "/r/Turkey/comments",
        Some("t1_m7k2b9x"),
        "r-turkey_comments_page2.json",
    )
    .await;
    mount(
        &server,
        "/r/Turkey/comments",
        Some("t1_m7k4ddd"),
        "listing_empty.json",
    )
    .await;

    let harness = Harness::new(Duration::from_secs(3600));
    let mut first = source(&server.uri());
    let posts = harness.first_run(first.as_mut()).await;
    assert_eq!(posts.len(), 5);
    let outage = posts.iter().find(|p| p.id == "t3_1gx9k2a").unwrap();
    assert_eq!(
        outage.text,
        "Turkcell Superonline fiber kesintisi – Kadıköy'de 2 gündür yok\nArıza kaydı açtım, \"48 saat içinde\" dediler. Başka yaşayan var mı?"
    );
    assert_eq!(
        outage.url.as_deref(),
        Some("https://www.reddit.com/r/Turkey/comments/1gx9k2a/baslik/")
    );
    assert_eq!(
        outage.engagement,
        Some(Engagement {
            score: Some(1),
            replies: Some(0),
            ..Engagement::default()
        })
    );
    let crosspost = posts.iter().find(|p| p.id == "t3_1gx8abc").unwrap();
    assert_eq!(crosspost.kind.as_deref(), Some("repost"));
    assert!(crosspost.author.is_none(), "[deleted] is no author");
    let old_comment = posts.iter().find(|p| p.id == "t1_m7k1aaa").unwrap();
    assert_eq!(old_comment.kind.as_deref(), Some("comment"));
    assert_eq!(old_comment.in_reply_to.as_deref(), Some("t3_1gx5bnk"));
    assert_eq!(
        old_comment.engagement,
        Some(Engagement {
            score: Some(1),
            ..Engagement::default()
        }),
        "a comment's num_comments is its thread's"
    );
    assert_eq!(
        old_comment.url.as_deref(),
        Some("https://www.reddit.com/r/Turkey/comments/1gx5bnk/_/m7k1aaa/"),
        "built when the payload has no permalink"
    );

    drop(first);
    let mut second = source(&server.uri());
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    let ids: Vec<_> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["t1_m7k3ccc", "t1_m7k4ddd"], "oldest first");
    assert_eq!(posts[0].in_reply_to.as_deref(), Some("t1_m7k2b9x"));
    assert!(outcome.deliveries > 0);
    // Only the comments, which had more, are asked at once: nothing newer.
    let (posts, _) = harness.poll(second.as_mut()).await.unwrap();
    assert!(posts.is_empty(), "{posts:?}");
    // Then every listing: empty listings dropped `before`, so search and new return
    // their newest page again, and the seen-set absorbs the repeats.
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert!(posts.is_empty(), "{posts:?}");
    assert_eq!(outcome.new_posts, 0);
    let asked_again = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/search" && !r.url.query().unwrap().contains("before"))
        .count();
    assert_eq!(asked_again, 2, "the first run and after the empty listing");
    let cursor = harness.cursor("reddit").await.unwrap();
    assert!(
        !cursor.contains("ACCESS_TOKEN") && !cursor.contains("s3cret"),
        "{cursor}"
    );
    let texts = harness.hit_texts().await;
    assert!(
        texts
            .iter()
            .any(|t| t == "DenizBank'tan dönüş aldım, sorun 10 dakikada çözüldü 👍")
    );
}

#[tokio::test]
async fn a_refused_client_is_a_permanent_auth_error() {
    let refused = ResponseTemplate::new(401).set_body_raw(
        r#"{"message": "Unauthorized", "error": 401}"#,
        "application/json",
    );
    let err = first_poll_error(Vec::new, refused, source).await;
    assert!(
        matches!(err, SourceError::Auth(_)) && !err.is_transient(),
        "{err}"
    );
    assert!(!err.to_string().contains("s3cret"));
}

#[tokio::test]
async fn settings_require_a_descriptive_user_agent() {
    let options = json!({"client_id": "a", "client_secret": "b", "user_agent": "mentiond/0.1"});
    let err = RedditSettings::parse(options.as_object().unwrap().clone()).unwrap_err();
    assert_eq!(err.key, "user_agent");
    let options =
        json!({"client_id": "a", "client_secret": "b", "user_agent": USER_AGENT, "username": "u"});
    assert_eq!(
        RedditSettings::parse(options.as_object().unwrap().clone())
            .unwrap_err()
            .key,
        "password"
    );
}

#[tokio::test]
async fn http_failures_fail_the_poll_the_right_way() {
    check_http_failures(token_mock, |base| source(base)).await;
}

#[tokio::test]
async fn shared_recordings_parse_when_available() {
    for (name, expected) in [
        ("r-all_comments_before-cursor_2016.json", 4),
        ("r-all_new_before-cursor_2016.json", 4),
        ("r-all_comments_before-cursor_empty_2016.json", 0),
    ] {
        let Some(body) = shared_recording("reddit", name) else {
            return;
        };
        let page = replay(token_mock, body, search_only).await;
        assert_eq!(page.posts.len(), expected, "{name}");
        assert!(
            page.posts.iter().all(|p| p
                .url
                .as_deref()
                .unwrap()
                .starts_with("https://www.reddit.com/r/")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_full_page_of_unseen_items_walks_back_over_the_gap() {
    let server = MockServer::start().await;
    for mock in token_mock() {
        mock.mount(&server).await;
    }
    mount(&server, "/r/Turkey/new", None, "listing_empty.json").await;
    let comments = "/r/Turkey/comments";
    // First run, then the `before` item vanishes, then two new comments fill a page.
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param_is_missing("before"))
        .and(query_param_is_missing("after"))
        .respond_with(listing("r-turkey_comments_page1.json"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount(&server, comments, Some("t1_m7k2b9x"), "listing_empty.json").await;
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param_is_missing("before"))
        .and(query_param_is_missing("after"))
        .respond_with(listing("r-turkey_comments_page2.json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(comments))
        .and(query_param("after", "t1_m7k3ccc"))
        .respond_with(listing("r-turkey_comments_page1.json"))
        .expect(1)
        .mount(&server)
        .await;
    let options = json!({
        "base_url": server.uri(), "auth_url": server.uri(), "client_id": "cl1ent-1d",
        "client_secret": "s3cret-value", "user_agent": USER_AGENT,
        "subreddits": ["Turkey"], "search": false, "limit": 2,
    });
    let settings = RedditSettings::parse(options.as_object().unwrap().clone()).unwrap();
    let mut reddit = Reddit::source("reddit".into(), settings, &context());
    let harness = Harness::new(Duration::from_secs(3600));
    harness.first_run(&mut reddit).await;
    let (posts, _) = harness.poll(&mut reddit).await.unwrap();
    assert!(
        posts.is_empty(),
        "the vanished `before` item gives an empty listing"
    );
    let (posts, _) = harness.poll(&mut reddit).await.unwrap();
    assert_eq!(posts.len(), 2, "a full page, none seen before: maybe a gap");
    let cursor = harness.cursor("reddit").await.unwrap();
    assert!(cursor.contains(r#""after":"t1_m7k3ccc""#), "{cursor}");
    let (posts, _) = harness.poll(&mut reddit).await.unwrap();
    assert!(posts.is_empty(), "walked back to known items");
    let cursor = harness.cursor("reddit").await.unwrap();
    assert!(!cursor.contains("after"), "the walk ended: {cursor}");
}
