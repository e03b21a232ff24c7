//! The `bluesky_jetstream` source against a local WebSocket server replaying the
//! project's Jetstream fixtures (the shape of the recorded capture): posts arrive,
//! match and are alerted through the real daemon; a connection dropped mid-stream
//! resumes from the committed cursor minus the rewind and loses and doubles nothing;
//! pings keep a quiet connection, silence does not; a refusing host is skipped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use mentiond::sources::jetstream::{JetstreamSettings, JetstreamSource};
use mentiond::sources::{Page, Source};
use mentiond::store::Store;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sources_support::{context, fixture};
use crate::support::{KEYWORDS, Workspace, wait_for_async};

const WAIT: Duration = Duration::from_secs(20);

/// What the server does once it has sent every event of a connection.
#[derive(Clone, Copy)]
enum Then {
    /// Sends a WebSocket ping this often, and nothing else.
    Pings(Duration),
    /// Sends nothing and reads nothing (a stalled server).
    Silent,
}

/// What the first connection does at its cut once notified.
#[derive(Clone, Copy)]
enum Cut {
    /// Ends without a close frame.
    Drop,
    /// Sends the rest.
    Pause,
}

/// A Jetstream stand-in on 127.0.0.1: each connection gets the events whose
/// `time_us` is at or after its `cursor` parameter, in file order (relay order).
struct JetstreamServer {
    addr: SocketAddr,
    /// The request URI of every connection, in order.
    requests: Arc<Mutex<Vec<String>>>,
}

impl JetstreamServer {
    /// Serves `events`; the first connection stops after `cut` events and waits for
    /// the notification, then is dropped without a close frame (`Cut::Drop`) or
    /// goes on (`Cut::Pause`).
    async fn start(
        events: Vec<String>,
        then: Then,
        cut: Option<(usize, Arc<Notify>, Cut)>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            let mut cut = cut;
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let uri = Arc::new(Mutex::new(String::new()));
                let record = uri.clone();
                // The callback's signature is tungstenite's, large error type included.
                #[allow(clippy::result_large_err)]
                let callback = move |request: &Request, response: Response| {
                    *record.lock().unwrap() = request.uri().to_string();
                    Ok(response)
                };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await
                else {
                    continue;
                };
                let uri = uri.lock().unwrap().clone();
                seen.lock().unwrap().push(uri.clone());
                let cursor = query(&uri, "cursor").map_or(0, |c| c.parse::<u64>().unwrap());
                let events = events.clone();
                let cut = cut.take();
                tokio::spawn(async move {
                    // A frame without a readable time_us (a malformed one) is always sent.
                    let due = events.iter().filter(|event| {
                        serde_json::from_str::<Value>(event)
                            .ok()
                            .and_then(|event| event["time_us"].as_u64())
                            .is_none_or(|time_us| time_us >= cursor)
                    });
                    for (sent, event) in due.enumerate() {
                        if let Some((at, go_on, cut)) = &cut
                            && sent == *at
                        {
                            go_on.notified().await;
                            if matches!(cut, Cut::Drop) {
                                return;
                            }
                        }
                        if socket.send(Message::text(event.clone())).await.is_err() {
                            return;
                        }
                    }
                    match then {
                        Then::Pings(every) => loop {
                            tokio::time::sleep(every).await;
                            if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                                return;
                            }
                        },
                        Then::Silent => std::future::pending::<()>().await,
                    }
                });
            }
        });
        JetstreamServer { addr, requests }
    }

    fn url(&self) -> String {
        format!("ws://{}/subscribe", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A query parameter of a request URI.
fn query(uri: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("ws://host{uri}")).unwrap();
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn time_us(event: &str) -> u64 {
    serde_json::from_str::<Value>(event).unwrap()["time_us"]
        .as_u64()
        .unwrap()
}

fn events(name: &str) -> Vec<String> {
    fixture("bluesky", name)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A port on 127.0.0.1 that refuses connections.
async fn refusing_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A daemon config: the stream source on `hosts`, alerts to a file at once (no
/// grouping), fixture posts (from November 2026) counted as new.
fn config(hosts: &[String], resolve_url: &str) -> String {
    let hosts: Vec<String> = hosts.iter().map(|host| format!("\"{host}\"")).collect();
    format!(
        r#"
[poll]
backoff_initial = "100ms"
backoff_max = "200ms"
backfill = "3650days"

[[sources]]
kind = "bluesky_jetstream"
name = "bluesky"
hosts = [{}]
stall_timeout = "2s"
rewind = "2s"
resolve_url = "{resolve_url}"

[route_defaults]
group_wait = "0s"
group_interval = "0s"

[[receivers]]
kind = "file"
name = "f"
path = "{{dir}}/alerts.jsonl"

[[routes]]
receivers = ["f"]
"#,
        hosts.join(", ")
    )
}

/// The post ids of every hit in the alerts file.
fn alerted_post_ids(workspace: &Workspace) -> Vec<String> {
    let text = std::fs::read_to_string(workspace.path("alerts.jsonl")).unwrap_or_default();
    let mut ids: Vec<String> = text
        .lines()
        .flat_map(|line| {
            let alert: Value = serde_json::from_str(line).unwrap();
            alert["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|hit| hit["post"]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    ids.sort();
    ids
}

fn hit_post_ids(workspace: &Workspace) -> Vec<String> {
    let mut ids: Vec<String> = workspace
        .hits()
        .iter()
        .map(|hit| hit["post"]["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The six posts of `jetstream_stream.jsonl` that mention Turkcell or THY (the
/// shortened link only after its facet is expanded; not "thy kingdom", not the edit).
const MATCHING: [&str; 6] = [
    "at://did:plc:a7kq3mzr2xw4c5ynhtp6vbde/app.bsky.feed.post/3mzqa1complaint",
    "at://did:plc:a7kq3mzr2xw4c5ynhtp6vbde/app.bsky.feed.post/3mzqa2quote",
    "at://did:plc:b2nd4lq6xe8wstv3kfrz7uhm/app.bsky.feed.post/3mzqb2reply",
    "at://did:plc:c9fy2gjm5rkp7hzaq4tx3wne/app.bsky.feed.post/3mzqc2typo",
    "at://did:plc:d4wv8sbn6ykq2tmzr5pj7hcx/app.bsky.feed.post/3mzqd1link",
    "at://did:plc:e6tr3nkw9qzb4mxy2vhp8jds/app.bsky.feed.post/3mzqe1tarmac",
];

async fn committed_cursor(workspace: &Workspace) -> Option<u64> {
    let store = Store::open_read_only(&workspace.path("mentiond.db")).ok()?;
    store.cursor(&"bluesky".into()).ok()??.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_posts_match_after_failing_over_and_show_in_status() {
    let server = JetstreamServer::start(
        events("jetstream_stream.jsonl"),
        Then::Pings(Duration::from_millis(300)),
        None,
    )
    .await;
    let refused = format!("ws://127.0.0.1:{}/subscribe", refusing_port().await);
    let workspace = Workspace::new(&config(&[refused, server.url()], "http://127.0.0.1:9"));
    let daemon = workspace.start();
    wait_for_async("six hits", WAIT, || async {
        hit_post_ids(&workspace).len() >= 6
    })
    .await;
    assert_eq!(hit_post_ids(&workspace), MATCHING);
    let log = daemon.log_text();
    assert!(log.contains("connection refused"), "{log}");
    assert!(log.contains("stream connected"), "{log}");
    // Live from now on a first run: no cursor asked for.
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(query(&requests[0], "cursor"), None);
    assert_eq!(
        query(&requests[0], "wantedCollections").as_deref(),
        Some("app.bsky.feed.post")
    );
    wait_for_async("six alerted hits", WAIT, || async {
        alerted_post_ids(&workspace).len() >= 6
    })
    .await;
    assert_eq!(alerted_post_ids(&workspace), MATCHING);
    let link = workspace
        .hits()
        .into_iter()
        .find(|hit| hit["post"]["id"].as_str().unwrap().ends_with("3mzqd1link"))
        .unwrap();
    assert_eq!(link["brand"], "THY", "{link}");

    let status = workspace.command(&["status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.lines()
            .any(|line| line.starts_with("bluesky (bluesky_jetstream): ok")),
        "{text}"
    );
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_from_the_cursor_and_loses_and_doubles_nothing() {
    let events = events("jetstream_stream.jsonl");
    // The first connection ends after the identity event, in the middle of the file.
    let cut = 8;
    let first_part = events[..cut]
        .iter()
        .map(|event| time_us(event))
        .max()
        .unwrap();
    let last = events.iter().map(|event| time_us(event)).max().unwrap();
    let drop_now = Arc::new(Notify::new());
    let server = JetstreamServer::start(
        events,
        Then::Pings(Duration::from_millis(300)),
        Some((cut, drop_now.clone(), Cut::Drop)),
    )
    .await;
    let workspace = Workspace::new(&config(&[server.url()], "http://127.0.0.1:9"));
    let daemon = workspace.start();
    wait_for_async("the first part committed", WAIT, || async {
        committed_cursor(&workspace).await == Some(first_part)
    })
    .await;
    assert_eq!(
        hit_post_ids(&workspace).len(),
        4,
        "the four mentions before the cut"
    );
    drop_now.notify_one();
    wait_for_async("the whole stream committed", WAIT, || async {
        committed_cursor(&workspace).await == Some(last)
    })
    .await;
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let resumed: u64 = query(&requests[1], "cursor").unwrap().parse().unwrap();
    assert_eq!(
        resumed,
        first_part - 2_000_000,
        "committed cursor minus the rewind"
    );
    // Posts before the cut were sent twice (the rewind); each is stored and alerted once.
    assert_eq!(hit_post_ids(&workspace), MATCHING);
    wait_for_async("every hit alerted", WAIT, || async {
        alerted_post_ids(&workspace).len() >= 6
    })
    .await;
    assert_eq!(alerted_post_ids(&workspace), MATCHING);
    let log = daemon.log_text();
    assert!(
        log.contains("poll failed"),
        "the drop is a failed poll: {log}"
    );
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_stores_its_first_page_without_alerts_and_alerts_what_follows_live() {
    let events = events("jetstream_stream.jsonl");
    // Both back-dated far past `poll.backfill`: only the first run's state decides.
    let back_dated = |rkey: &str| {
        let line = events.iter().find(|event| event.contains(rkey)).unwrap();
        let mut event: Value = serde_json::from_str(line).unwrap();
        event["commit"]["record"]["createdAt"] = "2020-01-02T03:04:05.000Z".into();
        event.to_string()
    };
    let complaint = "at://did:plc:a7kq3mzr2xw4c5ynhtp6vbde/app.bsky.feed.post/3mzqa1complaint";
    let quote = "at://did:plc:a7kq3mzr2xw4c5ynhtp6vbde/app.bsky.feed.post/3mzqa2quote";
    let replayed = back_dated("3mzqa1complaint");
    let live = back_dated("3mzqa2quote");
    let first_page = time_us(&replayed);
    let go_on = Arc::new(Notify::new());
    let server = JetstreamServer::start(
        vec![replayed, live],
        Then::Pings(Duration::from_millis(300)),
        Some((1, go_on.clone(), Cut::Pause)),
    )
    .await;
    let config = config(&[server.url()], "http://127.0.0.1:9")
        .replace(r#"backfill = "3650days""#, r#"backfill = "1day""#);
    let workspace = Workspace::new(&config);
    let daemon = workspace.start();
    wait_for_async("the first page committed", WAIT, || async {
        committed_cursor(&workspace).await == Some(first_page)
    })
    .await;
    assert!(hit_post_ids(&workspace).iter().all(|id| id == complaint));
    assert!(!hit_post_ids(&workspace).is_empty(), "stored with its hit");
    go_on.notify_one();
    wait_for_async("the live post alerted", WAIT, || async {
        alerted_post_ids(&workspace).iter().any(|id| id == quote)
    })
    .await;
    let alerted = alerted_post_ids(&workspace);
    assert!(
        !alerted.iter().any(|id| id == complaint),
        "the first page's old post is stored without an alert: {alerted:?}"
    );
    assert!(hit_post_ids(&workspace).iter().any(|id| id == complaint));
    assert_eq!(server.requests().len(), 1, "one connection, read on");
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_from_the_brands_own_account_on_the_stream_acknowledges_the_hit() {
    let resolver = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "turkcellhizmet.bsky.social"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"did": "did:plc:g8tc2kzv5mhq7xrw3nby6pfa"})),
        )
        .expect(1)
        .mount(&resolver)
        .await;
    let server = JetstreamServer::start(
        events("jetstream_own_reply.jsonl"),
        Then::Pings(Duration::from_millis(300)),
        None,
    )
    .await;
    let workspace = Workspace::new(&config(&[server.url()], &resolver.uri()));
    let keywords = KEYWORDS.replace(
        r#"own_handles = ["@TurkcellHizmet"]"#,
        r#"own_handles = ["@TurkcellHizmet", "@turkcellhizmet.bsky.social"]"#,
    );
    std::fs::write(workspace.path("keywords.toml"), keywords).unwrap();
    let daemon = workspace.start();
    let asked = "at://did:plc:f3hx7kqm2wzt5rnb8yvcpd4e/app.bsky.feed.post/3mzqf1askhelp";
    wait_for_async("the answered hit acknowledged", WAIT, || async {
        workspace
            .hits()
            .iter()
            .any(|hit| hit["post"]["id"] == asked && !hit["acked_at"].is_null())
    })
    .await;
    let hits = workspace.hits();
    let answered = hits.iter().find(|hit| hit["post"]["id"] == asked).unwrap();
    assert_eq!(answered["acked_by"], "@turkcellhizmet.bsky.social");
    let others: Vec<&Value> = hits
        .iter()
        .filter(|hit| hit["post"]["id"] != asked)
        .collect();
    assert_eq!(
        others.len(),
        2,
        "Turkcell and THY on the other post: {hits:?}"
    );
    assert!(others.iter().all(|hit| hit["acked_at"].is_null()));
    daemon.stop();
}

/// The library source on `url` with a short stall timeout.
fn stream_source(url: &str, stall: &str) -> JetstreamSource {
    let options = json!({
        "hosts": [url], "stall_timeout": stall, "rewind": "1s",
        "resolve_url": "http://127.0.0.1:9",
    });
    let settings = JetstreamSettings::parse(options.as_object().unwrap().clone()).unwrap();
    JetstreamSource::new("bluesky".into(), settings, &context())
}

/// Fetches like the poll loop does (committing each page's cursor at once) for
/// `duration`; returns every page or error text.
async fn run_for(source: &mut JetstreamSource, duration: Duration) -> Vec<Result<Page, String>> {
    let deadline = tokio::time::Instant::now() + duration;
    let mut cursor: Option<String> = None;
    let mut outcomes = Vec::new();
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, source.fetch(cursor.as_deref())).await {
            Err(_) => break,
            Ok(Ok(page)) => {
                cursor = page.cursor.clone().or(cursor);
                outcomes.push(Ok(page));
            }
            Ok(Err(err)) => {
                outcomes.push(Err(err.to_string()));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    outcomes
}

#[tokio::test]
async fn pings_keep_a_quiet_stream_open_and_silence_reconnects() {
    let two = events("jetstream_own_reply.jsonl")[..2].to_vec();
    // Pings every 200 ms, stall timeout 1.5 s: no reconnect within two stall timeouts.
    let pinging =
        JetstreamServer::start(two.clone(), Then::Pings(Duration::from_millis(200)), None).await;
    let mut source = stream_source(&pinging.url(), "1500ms");
    let outcomes = run_for(&mut source, Duration::from_millis(3_000)).await;
    assert_eq!(pinging.requests().len(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let posts: usize = outcomes.iter().flatten().map(|page| page.posts.len()).sum();
    assert_eq!(posts, 2);

    // The same server gone silent after the two events: dropped after the stall
    // timeout, reconnected from the cursor (minus the 1 s rewind).
    let silent = JetstreamServer::start(two.clone(), Then::Silent, None).await;
    let mut source = stream_source(&silent.url(), "1s");
    let outcomes = run_for(&mut source, Duration::from_millis(2_500)).await;
    let stalls: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(!stalls.is_empty(), "{outcomes:?}");
    assert!(stalls[0].contains("stalled"), "{stalls:?}");
    let requests = silent.requests();
    assert!(requests.len() >= 2, "{requests:?}");
    let newest = two.iter().map(|event| time_us(event)).max().unwrap();
    assert_eq!(
        query(&requests[1], "cursor"),
        Some((newest - 1_000_000).to_string())
    );
}

#[tokio::test]
async fn malformed_frames_are_skipped_and_the_stream_goes_on() {
    let mut events = events("jetstream_stream.jsonl");
    events.insert(1, "not json {".into());
    events.insert(
        4,
        r#"{"did":"did:plc:x","time_us":"soon","kind":"commit"}"#.into(),
    );
    let server = JetstreamServer::start(
        events.clone(),
        Then::Pings(Duration::from_millis(300)),
        None,
    )
    .await;
    let mut source = stream_source(&server.url(), "2s");
    let outcomes = run_for(&mut source, Duration::from_millis(1_500)).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let posts: usize = outcomes.iter().flatten().map(|page| page.posts.len()).sum();
    assert_eq!(posts, 10, "every post create of the fixture");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn the_recorded_capture_streams_every_post_create() {
    let Some(capture) = crate::sources_support::shared_recording(
        "bluesky",
        "jetstream_v1_capture_2026-07-04.jsonl",
    ) else {
        return;
    };
    let creates = capture
        .lines()
        .filter(|line| line.contains(r#""operation":"create","collection":"app.bsky.feed.post""#))
        .count();
    let server = JetstreamServer::start(
        capture.lines().map(str::to_string).collect(),
        Then::Pings(Duration::from_millis(300)),
        None,
    )
    .await;
    let mut source = stream_source(&server.url(), "2s");
    let outcomes = run_for(&mut source, Duration::from_millis(1_500)).await;
    let posts: usize = outcomes.iter().flatten().map(|page| page.posts.len()).sum();
    assert_eq!(posts, creates);
}

#[test]
fn a_missing_zstd_dictionary_is_a_located_problem() {
    let workspace = Workspace::new(&config(
        &["ws://127.0.0.1:9/subscribe".into()],
        "http://127.0.0.1:9",
    ));
    let body = std::fs::read_to_string(workspace.config_path()).unwrap();
    let missing = workspace.path("zstd_dictionary");
    let with_dictionary = body.replace(
        "rewind = \"2s\"\n",
        &format!(
            "rewind = \"2s\"\nzstd_dictionary = \"{}\"\n",
            missing.display()
        ),
    );
    std::fs::write(workspace.config_path(), &with_dictionary).unwrap();
    let line = with_dictionary
        .lines()
        .position(|line| line.starts_with("zstd_dictionary"))
        .unwrap()
        + 1;
    let output = workspace.command(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "{}:{line}: sources[0].zstd_dictionary: cannot read `{}`",
        workspace.config_path().display(),
        missing.display()
    );
    assert!(text.contains(&expected), "missing `{expected}` in:\n{text}");
}
