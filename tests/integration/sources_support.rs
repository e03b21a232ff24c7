//! Shared pieces of the source tests: the example watch list, a [`SourceContext`]
//! with a small body cap, the project's fixtures, a store + pipeline harness that
//! commits pages like the daemon does, and the HTTP failure checks every network
//! source must pass (429, 5xx, malformed JSON, oversized and gzip-bomb bodies).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mentiond::http::BodyError;
use mentiond::keywords::{KeywordRules, parse_keywords};
use mentiond::model::{Post, SourceName};
use mentiond::pipeline::snapshot::{KeywordSnapshot, SharedKeywords};
use mentiond::pipeline::{Batch, Pipeline};
use mentiond::routing::GroupLabel;
use mentiond::routing::{RouteConfig, Router};
use mentiond::sources::{Source, SourceContext, SourceError};
use mentiond::store::{BatchOutcome, HitQuery, HitRow, Store, StoreHandle};
use tokio::sync::{mpsc, oneshot};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Body cap used by every source test.
pub const MAX_BODY: u64 = 64 * 1024;

/// The example brands, as a keywords file would list them.
pub fn keywords() -> KeywordRules {
    let text = String::from_utf8(crate::support::fixture("keywords/sources.toml")).unwrap();
    parse_keywords(Path::new("keywords/sources.toml"), &text).expect("test keywords are valid")
}

/// A context with a 5 s timeout and a [`MAX_BODY`] cap.
pub fn context() -> SourceContext {
    SourceContext {
        http: mentiond::http::client("mentiond-test/0", Duration::from_secs(5), true).unwrap(),
        max_body_bytes: MAX_BODY,
        keywords: Arc::new(arc_swap::ArcSwap::from_pointee(keywords())),
    }
}

/// A fixture of the project, `tests/fixtures/<platform>/<name>`, as text.
pub fn fixture(platform: &str, name: &str) -> String {
    String::from_utf8(crate::support::fixture(&format!("{platform}/{name}")))
        .expect("fixtures are UTF-8")
}

/// A recording in `../shared/fixtures/<platform>/<name>`, or `None` (with a notice)
/// when that folder is not there.
pub fn shared_recording(platform: &str, name: &str) -> Option<String> {
    let path = format!(
        "{}/../shared/fixtures/{platform}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("skipped: {path} not available");
            None
        }
    }
}

/// A 200 response with a JSON body and the given headers.
pub fn json(body: impl Into<String>, headers: &[(&str, &str)]) -> ResponseTemplate {
    headers.iter().fold(
        ResponseTemplate::new(200).set_body_raw(body.into().into_bytes(), "application/json"),
        |response, (name, value)| response.insert_header(*name, *value),
    )
}

/// A store in a temporary directory behind a real [`Pipeline`] that matches the
/// example keywords and plans deliveries to one receiver for every hit.
pub struct Harness {
    _dir: tempfile::TempDir,
    /// The store handle the pipeline writes through.
    pub store: StoreHandle,
    batches: mpsc::Sender<Batch>,
}

impl Harness {
    /// A fresh database; first-run posts older than `backfill` are not alerted.
    pub fn new(backfill: Duration) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("mentiond.db")).unwrap();
        let (store, _thread) = StoreHandle::spawn(store);
        let (batches, input) = mpsc::channel(4);
        let route = RouteConfig {
            team: None,
            brand: None,
            source: None,
            competitor: None,
            severity: None,
            min_priority: None,
            topic: None,
            sentiment: None,
            kind: None,
            receivers: vec!["team".into()],
            continue_matching: false,
            group_by: vec![GroupLabel::Brand],
            group_wait: Duration::ZERO,
            group_interval: Duration::ZERO,
            max_hits: 10,
            urgent_priority: None,
            quiet_hours: None,
            sla: Duration::from_secs(3600),
            escalate_to: Vec::new(),
            operator: false,
        };
        let router = Router::new(vec![route]);
        tokio::spawn(
            Pipeline {
                batches: input,
                keywords: Arc::new(SharedKeywords::new(
                    KeywordSnapshot::new(keywords(), router).unwrap(),
                )),
                store: store.clone(),
                wakers: Arc::default(),
                backfill,
                metrics: Default::default(),
                pulse: Default::default(),
            }
            .run(),
        );
        Harness {
            _dir: dir,
            store,
            batches,
        }
    }

    /// The committed cursor of `source`.
    pub async fn cursor(&self, source: &str) -> Option<String> {
        let source = SourceName::from(source);
        self.store
            .call(move |store| store.cursor(&source))
            .await
            .unwrap()
            .unwrap()
    }

    /// One poll as the daemon does it: fetch after the committed cursor, commit the
    /// page through the pipeline. Returns the fetched posts and what was stored.
    pub async fn poll(
        &self,
        source: &mut dyn Source,
    ) -> Result<(Vec<Post>, BatchOutcome), SourceError> {
        let cursor = self.cursor(source.name().as_str()).await;
        let page = source.fetch(cursor.as_deref()).await?;
        let (done, outcome) = oneshot::channel();
        let posts = page.posts.clone();
        self.batches
            .send(Batch {
                source: source.name().clone(),
                posts: page.posts,
                cursor: page.cursor,
                backfilling: cursor.is_none() || page.backfill,
                done,
                follows_unconfirmed: false,
            })
            .await
            .unwrap();
        Ok((posts, outcome.await.unwrap().unwrap()))
    }

    /// The first poll of a new install: posts are stored, hits found, and none of
    /// them (all older than the backfill) alerted. Returns the fetched posts.
    pub async fn first_run(&self, source: &mut dyn Source) -> Vec<Post> {
        let (posts, outcome) = self.poll(source).await.unwrap();
        assert!(outcome.new_hits > 0, "the fixtures mention the brands");
        assert_eq!(
            outcome.deliveries, 0,
            "first run: old posts are not alerted"
        );
        posts
    }

    /// The post text of every stored hit, newest first.
    pub async fn hit_texts(&self) -> Vec<String> {
        self.hits()
            .await
            .into_iter()
            .map(|hit| hit.post.text)
            .collect()
    }

    /// Every stored hit, newest first.
    pub async fn hits(&self) -> Vec<HitRow> {
        self.store
            .call(|store| store.hits(&HitQuery::default()))
            .await
            .unwrap()
            .unwrap()
            .hits
    }
}

/// `len` bytes of JSON-ish filler gzip-compressed to a few hundred bytes.
pub fn gzip_bomb(len: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(b"{\"filler\":\"").unwrap();
    encoder.write_all(&vec![b'a'; len]).unwrap();
    encoder.write_all(b"\"}").unwrap();
    encoder.finish().unwrap()
}

/// The page of `build(base_url)`'s first poll when, after `setup` (login
/// endpoints), every other request gets `body` (a recording).
pub async fn replay(
    setup: fn() -> Vec<Mock>,
    body: String,
    build: impl Fn(&str) -> Box<dyn Source>,
) -> mentiond::sources::Page {
    let server = MockServer::start().await;
    for mock in setup() {
        mock.mount(&server).await;
    }
    Mock::given(wiremock::matchers::any())
        .respond_with(json(body, &[]))
        .mount(&server)
        .await;
    build(&server.uri())
        .fetch(None)
        .await
        .expect("the recording parses")
}

/// The error of `build(base_url)`'s first poll when, after `setup` (login
/// endpoints), every other request gets `response`.
pub async fn first_poll_error(
    setup: fn() -> Vec<Mock>,
    response: ResponseTemplate,
    build: impl Fn(&str) -> Box<dyn Source>,
) -> SourceError {
    let server = MockServer::start().await;
    for mock in setup() {
        mock.mount(&server).await;
    }
    Mock::given(wiremock::matchers::any())
        .respond_with(response)
        .mount(&server)
        .await;
    let mut source = build(&server.uri());
    match source.fetch(None).await {
        Ok(page) => panic!("the poll must fail, got {} posts", page.posts.len()),
        Err(err) => err,
    }
}

/// Runs `build(base_url)`'s first poll against servers that, after `setup` (login
/// endpoints), answer 429, 503, broken JSON, JSON nested 50,000 deep, an oversized
/// body, a gzip bomb and a redirect to another host. Each must fail the poll the
/// right way, and the other host must never be asked.
pub async fn check_http_failures(
    setup: fn() -> Vec<Mock>,
    build: impl Fn(&str) -> Box<dyn Source>,
) {
    // Another host on loopback: 127.0.0.2 is not the 127.0.0.1 the source was given.
    let elsewhere = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let stolen = format!("http://{}/stolen", elsewhere.local_addr().unwrap());
    let bomb = gzip_bomb(4 * MAX_BODY as usize);
    assert!(
        bomb.len() < MAX_BODY as usize / 8,
        "the bomb is small on the wire"
    );
    let scenarios = [
        (
            "429",
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_string("{\"error\":\"Çok fazla istek\"}"),
        ),
        ("503", ResponseTemplate::new(503)),
        ("malformed", json("{\"data\": [ {\"id\": \"1\"", &[])),
        ("deeply nested", json("[".repeat(50_000), &[])),
        (
            "redirect elsewhere",
            ResponseTemplate::new(302).insert_header("location", stolen.as_str()),
        ),
        (
            "oversized",
            json(format!("[\"{}\"]", "ş".repeat(MAX_BODY as usize)), &[]),
        ),
        (
            "gzip bomb",
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .insert_header("content-type", "application/json")
                .set_body_raw(bomb.clone(), "application/json"),
        ),
    ];
    for (scenario, response) in scenarios {
        let err = first_poll_error(setup, response, &build).await;
        match scenario {
            "429" => {
                assert!(err.is_transient(), "{scenario}: {err}");
                assert_eq!(err.retry_after(), Some(Duration::from_secs(30)), "{err}");
            }
            "503" => assert!(err.is_transient() && err.retry_after().is_none(), "{err}"),
            "malformed" | "deeply nested" => {
                assert!(
                    matches!(err, SourceError::Malformed(_)),
                    "{scenario}: {err}"
                );
            }
            "redirect elsewhere" => {
                assert!(
                    err.to_string().contains("redirect to another host refused"),
                    "{err}"
                );
                assert!(
                    elsewhere.accept().is_err(),
                    "the other host was asked: {stolen}"
                );
            }
            _ => assert!(
                matches!(err, SourceError::Body(BodyError::TooLarge { .. })),
                "{scenario}: {err}"
            ),
        }
    }
}
