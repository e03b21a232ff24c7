//! X API v2 recent search against a loopback server serving payloads in the
//! recorded shape (expansions, both old and new field names, rate-limit headers).

use std::time::Duration;

use mentiond::model::Engagement;
use mentiond::sources::x::{X, XSettings};
use mentiond::sources::{Source, SourceError};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sources_support::{
    Harness, check_http_failures, context, first_poll_error, fixture, json, replay,
    shared_recording,
};

const SEARCH: &str = "/2/tweets/search/recent";
const QUERY: &str = "(Turkcell OR @TK_HelpDesk OR \"Yapı Kredi\" OR DenizBank) -is:nullcast";

fn source(base_url: &str) -> Box<dyn Source> {
    let options = json!({"base_url": base_url, "token": "AAAA-test-bearer", "queries": [QUERY]});
    let settings = XSettings::parse(options.as_object().unwrap().clone()).unwrap();
    Box::new(X::source("x".into(), settings, &context()))
}

fn search(since_id: Option<&str>, next_token: Option<&str>) -> wiremock::MockBuilder {
    let mock = Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("query", QUERY))
        .and(query_param(
            "expansions",
            "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
        ))
        .and(header("authorization", "Bearer AAAA-test-bearer"));
    let mock = match since_id {
        Some(id) => mock.and(query_param("since_id", id)),
        None => mock.and(query_param_is_missing("since_id")),
    };
    match next_token {
        Some(token) => mock.and(query_param("next_token", token)),
        None => mock.and(query_param_is_missing("next_token")),
    }
}

fn limits(remaining: &str, reset: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-rate-limit-limit", "450".into()),
        ("x-rate-limit-remaining", remaining.into()),
        ("x-rate-limit-reset", reset.into()),
    ]
}

fn page(name: &str) -> ResponseTemplate {
    let reset = (chrono::Utc::now().timestamp() + 900).to_string();
    limits("440", &reset)
        .iter()
        .fold(json(fixture("x", name), &[]), |r, (k, v)| {
            r.insert_header(*k, v.as_str())
        })
}

#[tokio::test]
async fn since_id_cycle_with_next_token_pages_dedupes_edits_and_survives_restart() {
    let server = MockServer::start().await;
    let first_newest = "1860000000000000120";
    search(None, None)
        .respond_with(page("search_recent_page1.json"))
        .mount(&server)
        .await;
    search(Some(first_newest), None)
        .respond_with(page("search_recent_page2_new_field_names.json"))
        .mount(&server)
        .await;
    search(
        Some(first_newest),
        Some("b26v89c19zqg8o3fpzbkk8ay5ewmq1x9mfyj4xs9lrha5"),
    )
    .respond_with(page("search_recent_page3.json"))
    .mount(&server)
    .await;
    search(Some("1860000000000000230"), None)
        .respond_with(page("search_recent_edited.json"))
        .mount(&server)
        .await;
    search(Some("1860000000000000300"), None)
        .respond_with(page("search_recent_empty.json"))
        .mount(&server)
        .await;

    let harness = Harness::new(Duration::from_secs(3600));
    let mut first = source(&server.uri());
    let posts = harness.first_run(first.as_mut()).await;
    assert_eq!(posts.len(), 3, "the tweet without text is skipped");
    let complaint = &posts[0];
    assert_eq!(
        complaint.url.as_deref(),
        Some("https://x.com/ayse_yolcu/status/1860000000000000120")
    );
    assert_eq!(complaint.author.as_ref().unwrap().followers, Some(2140));
    assert_eq!(
        complaint.engagement,
        Some(Engagement {
            likes: Some(4),
            reposts: Some(0),
            replies: Some(1),
            quotes: Some(0),
            score: None,
        }),
        "public_metrics"
    );
    let reply = &posts[1];
    assert_eq!(reply.kind.as_deref(), Some("reply"));
    assert_eq!(reply.in_reply_to.as_deref(), Some("1860000000000000100"));
    assert_eq!(
        reply.author.as_ref().unwrap().handle.as_deref(),
        Some("TK_HelpDesk")
    );
    let retweet = &posts[2];
    assert_eq!(retweet.kind.as_deref(), Some("repost"));
    assert_eq!(
        retweet.text,
        "Yapı Kredi'nin yeni faiz oranları & kampanyaları açıklandı, mevduatta %45 > beklenti",
        "the original's full, unescaped text"
    );
    assert_eq!(retweet.id, "1860000000000000001", "keyed on the original");
    assert_eq!(
        retweet.url.as_deref(),
        Some("https://x.com/borsaci_mert/status/1860000000000000001")
    );

    // Restart; the cycle from the committed since_id pages with next_token.
    drop(first);
    let mut second = source(&server.uri());
    let (posts, _) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(posts.len(), 2, "new field names are read too");
    assert!(
        posts[1].text.ends_with("#turkcell"),
        "note_tweet gives the long text"
    );
    assert!(posts[1].text.chars().count() > 280);
    let cursor = harness.cursor("x").await.unwrap();
    assert!(cursor.contains("next_token"), "{cursor}");
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(posts[0].kind.as_deref(), Some("quote"));
    assert_eq!(outcome.new_posts, 1);
    // The cycle is done: since_id is the newest id of its first page.
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(
        posts[0].id, "1860000000000000120",
        "an edit keeps the original id"
    );
    assert_eq!(outcome.new_posts, 0, "so it is not stored twice");
    let (posts, _) = harness.poll(second.as_mut()).await.unwrap();
    assert!(posts.is_empty(), "a result with only meta is an empty page");
    let cursor = harness.cursor("x").await.unwrap();
    assert!(
        cursor.contains("1860000000000000300") && !cursor.contains("AAAA"),
        "{cursor}"
    );
    let texts = harness.hit_texts().await;
    assert!(
        texts
            .iter()
            .any(|t| t == "DenizBank mobil şube yine çöktü, EFT yapamıyorum 😡 #denizbank")
    );
}

#[tokio::test]
async fn a_used_up_window_is_waited_for_without_asking() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now().timestamp() + 120).to_string();
    let response = limits("0", &reset).iter().fold(
        json(fixture("x", "search_recent_empty.json"), &[]),
        |r, (k, v)| r.insert_header(*k, v.as_str()),
    );
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let mut source = source(&server.uri());
    source.fetch(None).await.unwrap();
    let err = source.fetch(None).await.unwrap_err();
    assert!(err.is_transient());
    let SourceError::RateLimited { wait } = err else {
        panic!("expected RateLimited, got {err}");
    };
    assert!(
        wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_429_without_retry_after_waits_for_the_reset() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now().timestamp() + 60).to_string();
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.as_str())
                .set_body_raw(r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let err = source(&server.uri()).fetch(None).await.unwrap_err();
    let wait = err.retry_after().expect("the reset is the wait");
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
}

#[tokio::test]
async fn unauthorized_is_permanent() {
    let unauthorized = ResponseTemplate::new(401).set_body_raw(
        fixture("x", "error_401_unauthorized.json"),
        "application/problem+json",
    );
    let err = first_poll_error(Vec::new, unauthorized, source).await;
    assert!(!err.is_transient(), "{err}");
}

#[tokio::test]
async fn http_failures_fail_the_poll_the_right_way() {
    check_http_failures(Vec::new, |base| source(base)).await;
}

#[tokio::test]
async fn shared_recordings_parse_when_available() {
    for (name, expected) in [
        ("search_all_ichbinhanna_expansions_de.json", 15),
        // 16 retweets of 8 originals: one post per original.
        ("search_all_retweets_of_kfc.json", 8),
        ("search_recent_q-Tweepy_default_fields.json", 0),
        ("search_all_empty_result.json", 0),
    ] {
        let Some(body) = shared_recording("twitter", name) else {
            return;
        };
        let page = replay(Vec::new, body, source).await;
        if expected > 0 {
            assert_eq!(page.posts.len(), expected, "{name}");
        }
        assert!(
            page.posts.iter().all(|p| !p.text.starts_with("RT @")),
            "{name}"
        );
    }
}
