//! The live-stream sources (`mastodon_stream`, `x_stream`) against a loopback HTTP
//! server that writes its answers in chunks with pauses, as a streaming API does:
//! Mastodon SSE and X NDJSON in the recorded shapes, heartbeats and keep-alives,
//! silence, connections dropped mid-event, and the REST backfill after a gap.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mentiond::sources::live::Window;
use mentiond::sources::mastodon_stream::{MastodonStream, MastodonStreamSettings};
use mentiond::sources::x_stream::{XStream, XStreamSettings};
use mentiond::sources::{Source, SourceContext};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::sources_support::{Harness, context, fixture, keywords, shared_recording};
use crate::support::{Workspace, wait_for};

/// One piece of a scripted answer's body.
#[derive(Clone)]
enum Chunk {
    /// Bytes written at once.
    Bytes(Vec<u8>),
    /// A pause before the next piece.
    Pause(Duration),
    /// Keep the connection open, silent, until the test ends (at most 5 minutes).
    Hold,
}

fn text(body: impl Into<String>) -> Chunk {
    Chunk::Bytes(body.into().into_bytes())
}

/// A scripted answer: status and body pieces (`connection: close`, no length).
#[derive(Clone)]
struct Answer {
    status: u16,
    body: Vec<Chunk>,
}

fn answer(status: u16, body: Vec<Chunk>) -> Answer {
    Answer { status, body }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    body: String,
}

impl Seen {
    fn query(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&format!("http://h{}", self.target)).unwrap();
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }
}

type Routes = Arc<Mutex<Vec<(String, String, VecDeque<Answer>)>>>;

/// A loopback HTTP/1.1 server answering `METHOD path` from a queue per route (the
/// last answer repeats) and recording every request.
struct LiveServer {
    base: String,
    routes: Routes,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl LiveServer {
    async fn start() -> LiveServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Routes = Arc::default();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (routes_, seen_) = (Arc::clone(&routes), Arc::clone(&seen));
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(socket, Arc::clone(&routes_), Arc::clone(&seen_)));
            }
        });
        LiveServer { base, routes, seen }
    }

    fn route(&self, method: &str, path: &str, answers: Vec<Answer>) {
        self.routes
            .lock()
            .unwrap()
            .push((method.into(), path.into(), answers.into()));
    }

    fn requests(&self, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.path() == path).cloned().collect()
    }
}

async fn serve(mut socket: tokio::net::TcpStream, routes: Routes, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let Ok(n) = socket.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let mut words = head.split_whitespace();
    let (method, target) = (
        words.next().unwrap().to_string(),
        words.next().unwrap().to_string(),
    );
    let request = Seen {
        method,
        target,
        body: String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned(),
    };
    seen.lock().unwrap().push(request.clone());
    let reply = {
        let mut routes = routes.lock().unwrap();
        routes
            .iter_mut()
            .find(|(method, path, _)| *method == request.method && path == request.path())
            .map(|(_, _, answers)| {
                if answers.len() > 1 {
                    answers.pop_front().unwrap()
                } else {
                    answers[0].clone()
                }
            })
            .unwrap_or_else(|| answer(404, vec![text("{}")]))
    };
    let head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n",
        reply.status
    );
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for chunk in reply.body {
        match chunk {
            Chunk::Bytes(bytes) => {
                if socket.write_all(&bytes).await.is_err() || socket.flush().await.is_err() {
                    return;
                }
            }
            Chunk::Pause(pause) => tokio::time::sleep(pause).await,
            Chunk::Hold => tokio::time::sleep(Duration::from_secs(300)).await,
        }
    }
}

/// Reads in short windows so the tests run in milliseconds.
const WINDOW: Window = Window {
    batch: 500,
    linger: Duration::from_millis(200),
    quiet: Duration::from_millis(300),
};

fn mastodon(base: &str, stall: &str) -> MastodonStream {
    let options = json!({
        "base_url": base, "hashtags": ["turkcell"], "token": "s3cr3t-token", "stall_timeout": stall,
    });
    let settings = MastodonStreamSettings::parse(options.as_object().unwrap().clone()).unwrap();
    MastodonStream::new("fedi-live".into(), settings, &context()).with_window(WINDOW)
}

fn x_stream(base: &str) -> XStream {
    x_stream_in(base, &context())
}

fn x_stream_in(base: &str, context: &SourceContext) -> XStream {
    let options = json!({"base_url": base, "token": "AAAA-bearer", "stall_timeout": "2s"});
    let settings = XStreamSettings::parse(options.as_object().unwrap().clone()).unwrap();
    XStream::new("x-live".into(), settings, context).with_window(WINDOW)
}

const STREAM: &str = "/api/v1/streaming/hashtag";
const TIMELINE: &str = "/api/v1/timelines/tag/turkcell";

#[tokio::test]
async fn mastodon_events_match_and_a_drop_mid_event_backfills_from_the_last_id_exactly_once() {
    let server = LiveServer::start().await;
    let events = fixture("mastodon", "streaming_hashtag_turkcell.sse");
    server.route(
        "GET",
        STREAM,
        vec![
            // The recorded events, then half an event and the connection drops.
            answer(
                200,
                vec![text(events), text("event: update\ndata: {\"id\":\"11")],
            ),
            answer(
                200,
                vec![
                    text(fixture("mastodon", "streaming_hashtag_after_reconnect.sse")),
                    Chunk::Hold,
                ],
            ),
        ],
    );
    server.route(
        "GET",
        TIMELINE,
        vec![
            answer(
                200,
                vec![text(fixture("mastodon", "tag_turkcell_newest.json"))],
            ),
            answer(
                200,
                vec![text(fixture("mastodon", "tag_turkcell_gap.json"))],
            ),
        ],
    );
    let harness = Harness::new(Duration::from_secs(3600));
    let mut source = mastodon(&server.base, "5s");

    // First run: the newest timeline page, stored without alerts.
    let (posts, outcome) = harness.poll(&mut source).await.unwrap();
    assert_eq!((posts.len(), outcome.deliveries), (1, 0));
    assert!(
        harness
            .cursor("fedi-live")
            .await
            .unwrap()
            .contains("116000000000000100")
    );

    // The stream: update, delete (ignored), the edit (same post), another update.
    let (posts, outcome) = harness.poll(&mut source).await.unwrap();
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(posts.len(), 2, "{texts:?}");
    assert!(
        texts[0].starts_with("Turkcell'de iki gündür internet yok"),
        "{texts:?}"
    );
    assert_eq!(posts[1].lang.as_deref(), Some("en"));
    assert_eq!(outcome.new_hits, 3, "Turkcell twice, THY once");
    assert!(outcome.deliveries > 0, "live posts are alerted");
    assert!(
        harness
            .cursor("fedi-live")
            .await
            .unwrap()
            .contains("116000000000000202")
    );

    // The drop is reported once (transient, so the loop backs off and retries).
    let err = harness.poll(&mut source).await.unwrap_err();
    assert!(
        err.is_transient() && err.to_string().contains("closed by the server"),
        "{err}"
    );

    // Reconnect: the gap is backfilled from the last id seen, then the stream resumes.
    let (posts, _) = harness.poll(&mut source).await.unwrap();
    assert_eq!(posts.len(), 2);
    let backfill = server.requests(TIMELINE);
    assert_eq!(backfill.len(), 2);
    assert_eq!(backfill[0].query("min_id"), None, "first run: newest page");
    assert_eq!(
        backfill[1].query("min_id").as_deref(),
        Some("116000000000000202")
    );
    let (posts, outcome) = harness.poll(&mut source).await.unwrap();
    assert_eq!(
        posts.len(),
        1,
        "the post both the backfill and the stream saw"
    );
    assert_eq!((outcome.new_posts, outcome.new_hits), (0, 0), "stored once");

    let hits = harness.hits().await;
    let mut keys: Vec<(String, String)> = hits
        .iter()
        .map(|h| (h.post.id.clone(), h.brand.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), hits.len(), "no hit twice");
    assert_eq!(hits.len(), 6, "old + 2 Turkcell + THY + gap + reconnect");
    let streams = server.requests(STREAM);
    assert_eq!(streams.len(), 2);
    assert_eq!(streams[0].query("tag").as_deref(), Some("turkcell"));
}

#[tokio::test]
async fn mastodon_heartbeats_keep_the_connection_and_silence_reconnects_after_the_stall_timeout() {
    let server = LiveServer::start().await;
    let mut beats = vec![];
    for _ in 0..8 {
        beats.push(text(":thump\n\n"));
        beats.push(Chunk::Pause(Duration::from_millis(300)));
    }
    beats.push(Chunk::Hold);
    server.route("GET", STREAM, vec![answer(200, beats)]);
    server.route("GET", TIMELINE, vec![answer(200, vec![text("[]")])]);
    let harness = Harness::new(Duration::from_secs(3600));
    let mut source = mastodon(&server.base, "1s");
    let started = std::time::Instant::now();
    let mut quiet_polls = 0;
    let err = loop {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the stall was never noticed"
        );
        match harness.poll(&mut source).await {
            Ok((posts, _)) => {
                assert!(posts.is_empty());
                quiet_polls += 1;
            }
            Err(err) => break err,
        }
    };
    let stalled_after = started.elapsed();
    // 2.4 s of heartbeats (more than twice the 1 s stall timeout) on one connection,
    // then 1 s of silence.
    assert!(
        stalled_after >= Duration::from_millis(2800),
        "{stalled_after:?}"
    );
    assert!(
        quiet_polls >= 5,
        "quiet reads hand back empty pages: {quiet_polls}"
    );
    assert!(
        err.is_transient() && err.to_string().contains("stalled"),
        "{err}"
    );
    assert_eq!(
        server.requests(STREAM).len(),
        1,
        "heartbeats never reconnect"
    );
    harness.poll(&mut source).await.unwrap();
    assert_eq!(server.requests(STREAM).len(), 2, "a stall reconnects");
}

const X_STREAM: &str = "/2/tweets/search/stream";
const X_RULES: &str = "/2/tweets/search/stream/rules";
const X_SEARCH: &str = "/2/tweets/search/recent";

/// An empty rule list or search page, as X answers them.
const X_EMPTY: &str = r#"{"meta":{"result_count":0}}"#;

/// An X app holding no rules yet, accepting every rule change.
fn x_app_without_rules(server: &LiveServer) {
    server.route("GET", X_RULES, vec![answer(200, vec![text(X_EMPTY)])]);
    server.route("POST", X_RULES, vec![answer(200, vec![text("{}")])]);
}

#[tokio::test]
async fn x_rules_sync_as_a_diff_ndjson_posts_arrive_and_a_disconnect_backfills_by_since_id() {
    let server = LiveServer::start().await;
    server.route(
        "GET",
        X_RULES,
        vec![answer(200, vec![text(fixture("x", "stream_rules.json"))])],
    );
    server.route(
        "POST",
        X_RULES,
        vec![answer(
            200,
            vec![text(fixture("x", "stream_rules_post_response.json"))],
        )],
    );
    let disconnect = fixture("x", "stream_error_operational_disconnect.json");
    server.route(
        "GET",
        X_STREAM,
        vec![
            answer(
                200,
                vec![
                    text("\r\n"),
                    text(fixture("x", "filtered_stream.ndjson")),
                    Chunk::Pause(Duration::from_millis(50)),
                    text(format!("{disconnect}\r\n")),
                ],
            ),
            answer(
                200,
                vec![
                    text(fixture("x", "filtered_stream_after_reconnect.ndjson")),
                    Chunk::Hold,
                ],
            ),
        ],
    );
    server.route(
        "GET",
        X_SEARCH,
        vec![
            answer(200, vec![text(X_EMPTY)]),
            answer(
                200,
                vec![text(fixture("x", "search_recent_stream_gap.json"))],
            ),
        ],
    );
    let harness = Harness::new(Duration::from_secs(3600));
    let context = context();
    let mut source = x_stream_in(&server.base, &context);

    let (posts, _) = harness.poll(&mut source).await.unwrap();
    assert!(
        posts.is_empty(),
        "first run: the newest (empty) search page"
    );
    let posted: Vec<Value> = server
        .requests(X_RULES)
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(
        posted,
        [
            json!({"delete": {"ids": ["2"]}}),
            json!({"add": [
                {"value": "(\"Türk Hava Yolları\" OR \"Turkish Airlines\" OR @TK_HelpDesk OR #türkhavayolları)", "tag": "mentiond:THY"},
                {"value": "(DenizBank OR #denizbank)", "tag": "mentiond:DenizBank"},
                {"value": "(\"Yapı Kredi\" OR @YapiKredi)", "tag": "mentiond:Yapı Kredi"},
            ]}),
        ],
        "only our stale rule goes, the Turkcell rule stays, the foreign one is untouched"
    );
    let get = &server.requests(X_RULES)[0];
    assert_eq!(get.method, "GET");

    // NDJSON with keep-alives, then X's operational-disconnect message.
    let (posts, outcome) = harness.poll(&mut source).await.unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].id, "1861000000000002001");
    assert_eq!(
        posts[0].author.as_ref().unwrap().handle.as_deref(),
        Some("ayse_yolcu")
    );
    assert!(
        posts[1].text.contains("nothing & no refund"),
        "entities decoded"
    );
    assert_eq!(outcome.new_hits, 2);
    let err = harness.poll(&mut source).await.unwrap_err();
    assert!(err.to_string().contains("operational-disconnect"), "{err}");
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_millis(250)),
        "X's network schedule"
    );

    // Reconnect: recent search from the last id seen, the rules not sent again.
    let (posts, _) = harness.poll(&mut source).await.unwrap();
    assert_eq!(posts.len(), 2);
    let searches = server.requests(X_SEARCH);
    assert_eq!(
        searches[1].query("since_id").as_deref(),
        Some("1861000000000002002")
    );
    assert_eq!(server.requests(X_RULES).len(), 3, "rules synced once");
    let (posts, outcome) = harness.poll(&mut source).await.unwrap();
    assert_eq!(posts.len(), 1, "streamed after the backfill saw it");
    assert_eq!(outcome.new_posts, 0, "stored once");
    let hits = harness.hits().await;
    assert_eq!(
        hits.len(),
        4,
        "Turkcell, THY, Yapı Kredi, DenizBank: each once"
    );
    assert!(server.requests(X_STREAM)[0].query("tweet.fields").is_some());

    // A reload drops DenizBank: the next read syncs the rules again, on the open stream.
    let mut rules = keywords();
    rules.brands.retain(|brand| brand.name != "DenizBank");
    context.keywords.store(Arc::new(rules));
    harness.poll(&mut source).await.unwrap();
    let posted: Vec<Value> = server
        .requests(X_RULES)
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(posted.len(), 4, "{posted:?}");
    let tags: Vec<&str> = posted[3]["add"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["mentiond:THY", "mentiond:Yapı Kredi"]);
    assert_eq!(server.requests(X_STREAM).len(), 2, "the stream stays open");
}

#[tokio::test]
async fn x_429_on_connect_waits_from_60_s_doubling() {
    let server = LiveServer::start().await;
    x_app_without_rules(&server);
    server.route(
        "GET",
        X_STREAM,
        vec![answer(
            429,
            vec![text(fixture("x", "stream_error_too_many_connections.json"))],
        )],
    );
    let mut source = x_stream(&server.base);
    let mut waits = Vec::new();
    for _ in 0..3 {
        let err = source.fetch(None).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        waits.push(err.retry_after().unwrap().as_secs());
    }
    assert_eq!(waits, [60, 120, 240]);
}

#[tokio::test]
async fn shared_stream_recordings_parse_when_available() {
    let (Some(sse), Some(ndjson)) = (
        shared_recording("mastodon", "streaming_public.sse"),
        shared_recording("twitter", "filtered_stream_ASSEMBLED.ndjson"),
    ) else {
        return;
    };
    let server = LiveServer::start().await;
    server.route(
        "GET",
        STREAM,
        vec![answer(200, vec![text(sse), Chunk::Hold])],
    );
    server.route("GET", TIMELINE, vec![answer(200, vec![text("[]")])]);
    x_app_without_rules(&server);
    server.route(
        "GET",
        X_STREAM,
        vec![answer(200, vec![text(ndjson), Chunk::Hold])],
    );
    server.route("GET", X_SEARCH, vec![answer(200, vec![text(X_EMPTY)])]);
    let mut source = mastodon(&server.base, "5s");
    source.fetch(None).await.unwrap();
    let page = source.fetch(None).await.unwrap();
    assert_eq!(page.posts.len(), 2, "the update and the status.update");
    let mut source = x_stream(&server.base);
    source.fetch(None).await.unwrap();
    let page = source.fetch(None).await.unwrap();
    assert_eq!(page.posts.len(), 5);
}

/// The real daemon with both stream kinds: `mentiond status` shows them healthy, and
/// the brand's own reply seen on the stream acknowledges the hit it answers.
#[tokio::test(flavor = "multi_thread")]
async fn streams_show_in_status_and_an_own_handle_reply_on_the_stream_acknowledges_the_hit() {
    let server = LiveServer::start().await;
    let own_reply = fixture("mastodon", "streaming_hashtag_own_reply.sse");
    let (complaint, reply) = own_reply.split_at(own_reply.rfind(":thump").unwrap());
    server.route(
        "GET",
        STREAM,
        vec![answer(
            200,
            vec![
                text(complaint),
                Chunk::Pause(Duration::from_millis(1500)),
                text(reply),
                Chunk::Hold,
            ],
        )],
    );
    server.route("GET", TIMELINE, vec![answer(200, vec![text("[]")])]);
    x_app_without_rules(&server);
    server.route(
        "GET",
        X_STREAM,
        vec![answer(
            200,
            vec![text(fixture("x", "filtered_stream.ndjson")), Chunk::Hold],
        )],
    );
    server.route("GET", X_SEARCH, vec![answer(200, vec![text(X_EMPTY)])]);
    let workspace = Workspace::new(&format!(
        r#"
[[sources]]
kind = "mastodon_stream"
name = "fedi-live"
base_url = "{base}"
hashtags = ["turkcell"]
token = "s3cr3t-token"

[[sources]]
kind = "x_stream"
name = "x-live"
base_url = "{base}"
token = "AAAA-bearer"

[[receivers]]
kind = "file"
name = "f"
path = "{{dir}}/alerts.jsonl"

[[routes]]
receivers = ["f"]
"#,
        base = server.base
    ));
    let daemon = workspace.start();
    wait_for(
        "the reply to acknowledge the complaint",
        Duration::from_secs(30),
        || {
            workspace.hits().iter().any(|h| {
                h["post"]["id"]
                    .as_str()
                    .is_some_and(|id| id.ends_with("/116000000000000301"))
                    && h["acked_by"] == "@TurkcellHizmet"
            })
        },
    );
    wait_for("the X post", Duration::from_secs(30), || {
        workspace
            .hits()
            .iter()
            .any(|h| h["post"]["id"] == "1861000000000002001")
    });
    let status = workspace.command(&["status"]);
    let text = String::from_utf8(status.stdout).unwrap();
    assert!(text.contains("fedi-live (mastodon_stream): ok"), "{text}");
    assert!(text.contains("x-live (x_stream): ok"), "{text}");
    let log = daemon.log_text();
    daemon.stop();
    assert_eq!(server.requests(STREAM).len(), 1, "one connection all along");
    assert!(!log.contains("s3cr3t-token") && !log.contains("AAAA-bearer"));
}
