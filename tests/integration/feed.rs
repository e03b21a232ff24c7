//! The `feed` source against a local HTTP server: conditional GET, several URLs with
//! one failing, and the real recordings in `../shared/fixtures/feeds` when present.

use std::path::Path;

use mentiond::sources::feed::{FeedSettings, FeedSource};
use mentiond::sources::{Source, SourceContext, SourceError};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::fixture;

fn source(urls: Vec<String>) -> FeedSource {
    let settings =
        FeedSettings::parse(json!({ "urls": urls }).as_object().unwrap().clone()).unwrap();
    let context = SourceContext {
        http: mentiond::http::client("mentiond-test", std::time::Duration::from_secs(5), true)
            .unwrap(),
        max_body_bytes: 1 << 20,
        keywords: Default::default(),
    };
    FeedSource::new("news".into(), settings, context)
}

#[tokio::test]
async fn conditional_get_turns_an_unchanged_feed_into_a_304() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rss"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rss"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .insert_header("last-modified", "Sat, 21 Nov 2026 09:12:44 GMT")
                .set_body_raw(fixture("feeds/news_search.rss.xml"), "application/rss+xml"),
        )
        .mount(&server)
        .await;
    let mut feed = source(vec![format!("{}/rss", server.uri())]);

    let first = feed.fetch(None).await.unwrap();
    assert_eq!(first.posts.len(), 3);
    assert_eq!(
        first.not_before, None,
        "an RSS ttl rests its own URL, not the source"
    );
    let cursor = first.cursor.unwrap();
    assert!(
        cursor.contains("\\\"v1\\\""),
        "validators kept in the cursor: {cursor}"
    );

    // A restarted source only has the committed cursor, and still sends the validators.
    let mut restarted = source(vec![format!("{}/rss", server.uri())]);
    let second = restarted.fetch(Some(&cursor)).await.unwrap();
    assert!(second.posts.is_empty());
    assert_eq!(second.cursor.as_deref(), Some(cursor.as_str()));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].headers["if-modified-since"],
        "Sat, 21 Nov 2026 09:12:44 GMT"
    );
}

#[tokio::test]
async fn one_failing_url_does_not_hide_the_others_and_all_failing_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/atom"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("feeds/brand_blog.atom.xml"), "application/atom+xml"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/json"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("feeds/complaints.feed.json"),
            "application/feed+json",
        ))
        .mount(&server)
        .await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "120"))
        .mount(&server)
        .await;

    let uri = server.uri();
    let mut feed = source(vec![
        format!("{uri}/down"),
        format!("{uri}/atom"),
        format!("{uri}/json"),
    ]);
    let page = feed.fetch(None).await.unwrap();
    let texts: Vec<_> = page.posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(page.posts.len(), 4, "{texts:?}");
    let yapi = page.posts.iter().find(|p| p.id == "t3_1k9zq7x").unwrap();
    assert!(
        yapi.text
            .starts_with("Yapı Kredi mobil açılmıyor\nYapı Kredi mobil uygulaması"),
        "{}",
        yapi.text
    );
    assert_eq!(
        yapi.author.as_ref().unwrap().name.as_deref(),
        Some("/u/deniz_k")
    );
    let deniz = page
        .posts
        .iter()
        .find(|p| p.id == "https://jf.example/posts/1")
        .unwrap();
    assert!(
        deniz.text.contains("@DenizDinliyor yanıt vermiyor"),
        "{}",
        deniz.text
    );

    let mut down = source(vec![format!("{uri}/down")]);
    match down.fetch(None).await {
        Err(err @ SourceError::Status { status: 503, .. }) => {
            assert!(err.is_transient());
            assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(120)));
        }
        other => panic!("expected a 503 error, got {other:?}"),
    }
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/broken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("<rss><channel><item><title>x", "application/rss+xml"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/huge"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(vec![b' '; 2 << 20], "application/rss+xml"),
        )
        .mount(&server)
        .await;
    let uri = server.uri();
    assert!(matches!(
        source(vec![format!("{uri}/broken")]).fetch(None).await,
        Err(SourceError::Malformed(_))
    ));
    let err = source(vec![format!("{uri}/huge")])
        .fetch(None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn an_xml_entity_bomb_is_never_expanded() {
    let mut doctype = String::from("<!ENTITY lol \"lol\">");
    for level in 1..=9 {
        let previous = if level == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", level - 1)
        };
        doctype.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">",
            format!("&{previous};").repeat(10)
        ));
    }
    let bomb = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE rss [{doctype}]><rss version=\"2.0\"><channel><title>t</title>\
         <item><title>Turkcell &lol9;</title><guid>bomb-1</guid><description>&lol9;</description></item>\
         <item><title>Turkcell faturam yine yanlış</title><guid>plain-2</guid></item></channel></rss>"
    );
    let server = MockServer::start().await;
    Mock::given(path("/bomb"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(bomb, "application/rss+xml"))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let fetched = source(vec![format!("{}/bomb", server.uri())])
        .fetch(None)
        .await;
    // A billion "lol"s would take gigabytes and minutes: refused or left unexpanded.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    match fetched {
        Err(err) => assert!(matches!(err, SourceError::Malformed(_)), "{err}"),
        Ok(page) => {
            for post in &page.posts {
                assert!(
                    post.text.len() < 1000,
                    "an entity was expanded: {} bytes",
                    post.text.len()
                );
                assert!(!post.text.contains("lollol"), "{}", post.text);
            }
        }
    }
}

/// The real recordings beside the project, when this checkout has them.
#[tokio::test]
async fn real_recorded_feeds_parse_with_stable_ids() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/feeds/feed-rs");
    if !shared.exists() {
        eprintln!("skipping: {} not present", shared.display());
        return;
    }
    let server = MockServer::start().await;
    let files = [
        "rss2/rss_2.0_spiegel.xml",
        "atom/atom_example_reddit.xml",
        "jsonfeed/jsonfeed_example_1.json",
        "rss0/rss_0.91_missing_id.xml",
    ];
    for file in files {
        let body = std::fs::read(shared.join(file)).unwrap();
        Mock::given(path(format!("/{file}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(body))
            .mount(&server)
            .await;
    }
    for file in files {
        let url = format!("{}/{file}", server.uri());
        let first = source(vec![url.clone()]).fetch(None).await.unwrap();
        let again = source(vec![url]).fetch(None).await.unwrap();
        assert!(!first.posts.is_empty(), "{file}");
        let ids: Vec<_> = first.posts.iter().map(|p| &p.id).collect();
        assert_eq!(
            ids,
            again.posts.iter().map(|p| &p.id).collect::<Vec<_>>(),
            "{file}: ids stable"
        );
        assert!(
            first
                .posts
                .iter()
                .all(|p| !p.id.is_empty() && !p.text.contains("<p>")),
            "{file}"
        );
    }
}

#[tokio::test]
async fn a_huge_ttl_rests_only_its_own_url_and_the_others_new_items_still_arrive() {
    let server = MockServer::start().await;
    let huge_ttl = String::from_utf8(fixture("feeds/news_search.rss.xml"))
        .unwrap()
        .replace("<ttl>60</ttl>", "<ttl>4294967295</ttl>");
    Mock::given(path("/slow-rss"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(huge_ttl, "application/rss+xml"))
        .mount(&server)
        .await;
    let atom = String::from_utf8(fixture("feeds/brand_blog.atom.xml")).unwrap();
    Mock::given(path("/atom"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(atom.clone(), "application/atom+xml"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let mut feed = source(vec![
        format!("{}/slow-rss", server.uri()),
        format!("{}/atom", server.uri()),
    ]);
    let first = feed.fetch(None).await.unwrap();
    assert_eq!(first.posts.len(), 5);
    assert_eq!(first.not_before, None, "the source keeps its interval");

    // The atom feed gets a new entry; the next poll brings it, and skips the RSS URL.
    let first_entry = atom.find("<entry>").unwrap();
    let newer = format!(
        "{}<entry><id>urn:new-entry</id><title>Yapı Kredi yeni şube</title><updated>2026-11-22T10:00:00Z</updated></entry>{}",
        &atom[..first_entry],
        &atom[first_entry..]
    );
    Mock::given(path("/atom"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(newer, "application/atom+xml"))
        .mount(&server)
        .await;
    let second = feed.fetch(first.cursor.as_deref()).await.unwrap();
    assert!(
        second.posts.iter().any(|post| post.id == "urn:new-entry"),
        "{:?}",
        second.posts
    );
    let requests = server.received_requests().await.unwrap();
    let slow = requests
        .iter()
        .filter(|request| request.url.path() == "/slow-rss")
        .count();
    assert_eq!(slow, 1, "the feed with a huge ttl rests");
    assert_eq!(requests.len(), 3);
}
