//! Mastodon hashtag and public timelines against a loopback instance serving
//! statuses in the recorded shape (HTML content, `Link` paging, rate-limit headers).

use std::time::Duration;

use mentiond::model::Engagement;
use mentiond::sources::Source;
use mentiond::sources::mastodon::{Mastodon, MastodonSettings};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sources_support::{
    Harness, check_http_failures, context, first_poll_error, fixture, json, replay,
    shared_recording,
};

const TAG: &str = "/api/v1/timelines/tag/turkcell";

fn source(base_url: &str, public: bool) -> Box<dyn Source> {
    let options = json!({
        "base_url": base_url, "hashtags": ["#Turkcell"], "public": public, "local": true,
        "limit": 3, "token": "s3cr3t-token",
    });
    let settings = MastodonSettings::parse(options.as_object().unwrap().clone()).unwrap();
    Box::new(Mastodon::source("mastodon".into(), settings, &context()))
}

/// The recorded header set: rate limit with an ISO reset, and `Link` next/prev.
fn link(base: &str, path: &str, max_id: &str, min_id: &str) -> String {
    format!(
        "<{base}{path}?limit=3&local=true&max_id={max_id}>; rel=\"next\", <{base}{path}?limit=3&local=true&min_id={min_id}>; rel=\"prev\""
    )
}

#[tokio::test]
async fn pages_forward_with_min_id_dedupes_and_survives_restart() {
    let server = MockServer::start().await;
    let base = server.uri();
    let limits = [
        ("x-ratelimit-limit", "300"),
        ("x-ratelimit-remaining", "297"),
        ("x-ratelimit-reset", "2026-11-20T10:05:00.290188Z"),
        (
            "cache-control",
            "max-age=15, public, stale-while-revalidate=30, stale-if-error=86400",
        ),
    ];
    let page = |name: &str, link: Option<String>| {
        let response = json(fixture("mastodon", name), &limits);
        match link {
            Some(link) => response.insert_header("link", link.as_str()),
            None => response,
        }
    };
    let timeline = |min_id: Option<&str>| {
        let mock = Mock::given(method("GET"))
            .and(path(TAG))
            .and(query_param("limit", "3"))
            .and(query_param("local", "true"))
            .and(header("authorization", "Bearer s3cr3t-token"));
        match min_id {
            Some(id) => mock.and(query_param("min_id", id)),
            None => mock.and(query_param_is_missing("min_id")),
        }
    };
    timeline(None)
        .respond_with(page(
            "tag_turkcell_page1.json",
            Some(link(&base, TAG, "115600000000000101", "115600000000000103")),
        ))
        .mount(&server)
        .await;
    timeline(Some("115600000000000103"))
        .respond_with(page(
            "tag_turkcell_page2.json",
            Some(link(&base, TAG, "115600000000000104", "115600000000000106")),
        ))
        .mount(&server)
        .await;
    timeline(Some("115600000000000106"))
        .respond_with(page(
            "tag_turkcell_page3.json",
            Some(link(&base, TAG, "115600000000000107", "115600000000000108")),
        ))
        .mount(&server)
        .await;
    timeline(Some("115600000000000108"))
        .respond_with(json("[]", &limits))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/public"))
        .and(query_param("local", "true"))
        .respond_with(json(fixture("mastodon", "public_local.json"), &limits))
        .mount(&server)
        .await;

    let harness = Harness::new(Duration::from_secs(3600));
    let mut first = source(&base, true);
    let posts = harness.first_run(first.as_mut()).await;
    assert_eq!(
        posts.len(),
        3,
        "the reply seen on both timelines counts once"
    );
    let complaint = &posts[0];
    assert_eq!(
        complaint.id,
        "https://sosyal.example/users/ayse/statuses/115600000000000001"
    );
    assert_eq!(
        complaint.text,
        "Turkcell'de üç gündür internet yok, \"arıza kaydı\" açtım ama dönen olmadı.\nKadıköy'de olan var mı? #turkcell"
    );
    assert_eq!(complaint.lang.as_deref(), Some("tr"));
    let author = complaint.author.as_ref().unwrap();
    assert_eq!(author.handle.as_deref(), Some("ayse@sosyal.example"));
    assert_eq!(
        (author.name.as_deref(), author.followers),
        (Some("Ayşe Yılmaz"), Some(1520))
    );
    assert_eq!(
        complaint.engagement,
        Some(Engagement {
            likes: Some(3),
            reposts: Some(1),
            replies: Some(0),
            ..Engagement::default()
        }),
        "favourites, reblogs, replies"
    );
    let reply = &posts[1];
    assert_eq!(reply.kind.as_deref(), Some("reply"));
    assert_eq!(reply.in_reply_to.as_deref(), Some(complaint.id.as_str()));
    assert_eq!(
        reply.author.as_ref().unwrap().handle.as_deref(),
        Some("TurkcellHizmet")
    );

    // Restart: a new source resumes from the committed min_id and pages forward.
    drop(first);
    let mut second = source(&base, true);
    let (posts, outcome) = harness.poll(second.as_mut()).await.unwrap();
    let kinds: Vec<_> = posts.iter().map(|p| p.kind.as_deref().unwrap()).collect();
    // The tag page without its followers-only status, then the public timeline's reply.
    assert_eq!(kinds, ["post", "repost", "reply"]);
    let boost = &posts[1];
    assert_eq!(
        boost.id,
        "https://toot.example/users/denizci/statuses/9f2c1a"
    );
    assert!(
        boost
            .text
            .starts_with("DenizBank kartım yurt dışında çalışmadı")
    );
    assert!(
        posts[0]
            .text
            .starts_with("Fatura şikâyeti, uzun\nFaturam iki katına")
    );
    assert!(outcome.deliveries > 0);
    // The tag page was full (limit 3): the next page is fetched, with a malformed status skipped.
    let (posts, _) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(
        posts.len(),
        1,
        "only the tag timeline, which had more, is asked again at once"
    );
    assert!(
        posts
            .iter()
            .any(|p| p.text.starts_with("Yapı Kredi şubesinde sıra 40 kişi 😩"))
    );
    let (_, outcome) = harness.poll(second.as_mut()).await.unwrap();
    assert_eq!(outcome.new_posts, 0, "re-polling stores nothing twice");
    let cursor = harness.cursor("mastodon").await.unwrap();
    assert!(cursor.contains("115600000000000108"), "{cursor}");
    assert!(!cursor.contains("s3cr3t"));
}

#[tokio::test]
async fn a_disabled_public_timeline_is_a_permanent_error() {
    let disabled = ResponseTemplate::new(401).set_body_raw(
        fixture("mastodon", "error_401_public_timeline_disabled.json"),
        "application/json",
    );
    let err = first_poll_error(Vec::new, disabled, |base| source(base, true)).await;
    assert!(!err.is_transient(), "{err}");
}

#[tokio::test]
async fn http_failures_fail_the_poll_the_right_way() {
    check_http_failures(Vec::new, |base| source(base, false)).await;
}

#[tokio::test]
async fn shared_recording_parses_when_available() {
    let Some(body) = shared_recording("mastodon", "timeline_tag_rstats_mastodon.social.json")
    else {
        return;
    };
    let page = replay(Vec::new, body, |base| source(base, false)).await;
    assert_eq!(page.posts.len(), 5);
    assert!(
        page.posts
            .iter()
            .all(|p| !p.text.contains("<p>") && p.id.starts_with("https://"))
    );
}
