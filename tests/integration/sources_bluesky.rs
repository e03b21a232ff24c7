//! Bluesky `searchPosts` through an app-password session, against a loopback PDS
//! serving payloads in the recorded shape.

use std::time::Duration;

use mentiond::model::Engagement;
use mentiond::sources::bluesky::{Bluesky, BlueskySettings};
use mentiond::sources::{Source, SourceError};
use serde_json::json;
use wiremock::matchers::{
    body_partial_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sources_support::{
    Harness, check_http_failures, context, first_poll_error, fixture, json, replay,
    shared_recording,
};

const SEARCH: &str = "/xrpc/app.bsky.feed.searchPosts";

fn source(base_url: &str) -> Box<dyn Source> {
    let options = json!({
        "base_url": base_url, "identifier": "mentiond-test.bsky.social",
        "app_password": "abcd-efgh-ijkl-mnop", "queries": ["Türk Hava Yolları"], "limit": 2,
    });
    let settings = BlueskySettings::parse(options.as_object().unwrap().clone()).unwrap();
    Box::new(Bluesky::source("bluesky".into(), settings, &context()))
}

/// The login and profile endpoints every test needs.
fn session_mocks() -> Vec<Mock> {
    vec![
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.server.createSession"))
            .and(body_partial_json(json!({
                "identifier": "mentiond-test.bsky.social", "password": "abcd-efgh-ijkl-mnop"
            })))
            .respond_with(json(fixture("bluesky", "createSession.json"), &[])),
        Mock::given(method("GET"))
            .and(path("/xrpc/app.bsky.actor.getProfiles"))
            .respond_with(json(fixture("bluesky", "getProfiles.json"), &[])),
    ]
}

fn page(name: &str) -> ResponseTemplate {
    let reset = (chrono::Utc::now().timestamp() + 300).to_string();
    json(
        fixture("bluesky", name),
        &[
            ("RateLimit-Limit", "3000"),
            ("RateLimit-Remaining", "2990"),
            ("RateLimit-Reset", reset.as_str()),
            ("RateLimit-Policy", "3000;w=300"),
        ],
    )
}

#[tokio::test]
async fn search_walks_windows_dedupes_and_survives_restart() {
    let server = MockServer::start().await;
    for mock in session_mocks() {
        mock.mount(&server).await;
    }
    let search = || {
        Mock::given(method("GET"))
            .and(path(SEARCH))
            .and(query_param("q", "Türk Hava Yolları"))
            .and(query_param("sort", "latest"))
            .and(header("authorization", "Bearer access-one"))
    };
    search()
        .and(query_param_is_missing("since"))
        .respond_with(page("searchPosts_page1.json"))
        .mount(&server)
        .await;
    search()
        .and(query_param("since", "2026-11-20T09:29:02.113Z"))
        .and(query_param_is_missing("cursor"))
        .respond_with(page("searchPosts_page2.json"))
        .mount(&server)
        .await;
    search()
        .and(query_param("since", "2026-11-20T09:29:02.113Z"))
        .and(query_param("cursor", "2"))
        .respond_with(page("searchPosts_page3.json"))
        .mount(&server)
        .await;
    search()
        .and(query_param("since", "2026-11-20T09:49:00.900Z"))
        .respond_with(page("searchPosts_page3.json"))
        .mount(&server)
        .await;

    let harness = Harness::new(Duration::from_secs(3600));
    let mut first = source(&server.uri());
    let posts = harness.first_run(first.as_mut()).await;
    assert_eq!(posts.len(), 3, "the post without an author is skipped");
    let delay = &posts[0];
    assert_eq!(
        delay.url.as_deref(),
        Some("https://bsky.app/profile/did:plc:thyfan9a8b7c6d5e4f3g2h1j/post/3mbq7thya22k")
    );
    let author = delay.author.as_ref().unwrap();
    assert_eq!(author.name.as_deref(), Some("Uçuş Kurdu ✈️"));
    assert_eq!(author.followers, Some(12800), "from getProfiles");
    assert_eq!(
        delay.engagement,
        Some(Engagement {
            likes: Some(5),
            reposts: Some(1),
            replies: Some(0),
            quotes: Some(0),
            score: None,
        })
    );
    assert_eq!(delay.lang.as_deref(), Some("tr"));
    let reply = &posts[1];
    assert_eq!(reply.kind.as_deref(), Some("reply"));
    assert_eq!(
        reply.in_reply_to.as_deref(),
        Some("at://did:plc:thyfan9a8b7c6d5e4f3g2h1j/app.bsky.feed.post/3mbq5orig11a")
    );
    assert_eq!(
        reply.created_at.unwrap().to_rfc3339(),
        "2026-11-20T09:28:40+00:00",
        "createdAt with an offset is read"
    );
    assert_eq!(posts[2].kind.as_deref(), Some("quote"));

    drop(first);
    let mut second = source(&server.uri());
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(posts.len(), 2);
    assert!(outcome.deliveries > 0);
    let cursor = harness.cursor("bluesky").await.unwrap();
    assert!(cursor.contains("walking"), "{cursor}");
    let (posts, _) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(
        posts[0].text,
        "THY bagaj kaybı: 2 gündür valizim yok #türkhavayolları"
    );
    let (_, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(
        outcome.new_posts, 0,
        "the overlap returns a known post; not stored twice"
    );
    let cursor = harness.cursor("bluesky").await.unwrap();
    assert!(
        !cursor.contains("access-one") && !cursor.contains("abcd-efgh"),
        "{cursor}"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once() {
    let server = MockServer::start().await;
    for mock in session_mocks() {
        mock.mount(&server).await;
    }
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(header("authorization", "Bearer access-one"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            fixture("bluesky", "error_400_expired_token.json"),
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-one"))
        .respond_with(json(fixture("bluesky", "refreshSession.json"), &[]))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(header("authorization", "Bearer access-two"))
        .respond_with(page("searchPosts_page3.json"))
        .mount(&server)
        .await;
    let page = source(&server.uri()).fetch(None).await.unwrap();
    assert_eq!(page.posts.len(), 1);
}

#[tokio::test]
async fn a_refused_login_is_a_permanent_auth_error() {
    let refused = ResponseTemplate::new(401).set_body_raw(
        fixture("bluesky", "error_401_auth_required.json"),
        "application/json",
    );
    let err = first_poll_error(Vec::new, refused, source).await;
    assert!(
        matches!(err, SourceError::Auth(_)) && !err.is_transient(),
        "{err}"
    );
    assert!(!err.to_string().contains("abcd-efgh"));
}

#[tokio::test]
async fn http_failures_fail_the_poll_the_right_way() {
    check_http_failures(session_mocks, |base| source(base)).await;
}

#[tokio::test]
async fn shared_recording_parses_when_available() {
    let Some(body) = shared_recording("bluesky", "searchPosts_q-redistricting.json") else {
        return;
    };
    let page = replay(session_mocks, body, source).await;
    assert_eq!(page.posts.len(), 25);
    assert!(page.posts.iter().all(|p| {
        p.url
            .as_deref()
            .unwrap()
            .starts_with("https://bsky.app/profile/did:")
    }));
    assert!(
        page.posts
            .iter()
            .any(|p| p.kind.as_deref() == Some("reply"))
    );
    assert!(
        page.posts
            .iter()
            .any(|p| p.kind.as_deref() == Some("quote"))
    );
}
