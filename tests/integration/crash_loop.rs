//! The core promise under SIGKILL. The real daemon reads three sources that keep
//! growing: a JSON-lines file a writer appends to, an RSS feed over HTTP and a
//! Jetstream WebSocket stream (both on loopback, a post every 40 ms), and delivers to
//! a webhook that fails one request in ten, a file and a chat receiver, escalating
//! open hits after a one-second SLA. It is killed at random moments (also while
//! starting, while a reload, an acknowledgement or the escalation check at start is in
//! flight) and started again, `MENTIOND_CRASH_KILLS` times (50 by default;
//! `MENTIOND_CRASH_SEED` replays a run).
//!
//! After each kill the database passes `PRAGMA integrity_check` and no committed
//! cursor (the file's offset, the stream's `time_us`) is past a matching post it did
//! not store. At the end every post is stored once, every hit reached every receiver
//! under one delivery id, no hit was escalated twice, and a delivery id arrived again
//! after a success only across a kill.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::SinkExt;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{ScriptedReceiver, Workspace, header, wait_for};

/// Kills in a default run; CI keeps this, a longer soak sets `MENTIOND_CRASH_KILLS`.
const DEFAULT_KILLS: usize = 50;

/// Receivers the one route names, as the store knows them.
const RECEIVERS: [&str; 3] = ["hook", "file", "chat"];

/// Time between two posts of the feed and of the stream.
const EVERY: Duration = Duration::from_millis(40);

/// The local servers the daemon reads.
struct Servers {
    feed: String,
    stream: String,
}

fn config(servers: &Servers, hook: &str, chat: &str, max_hits: usize) -> String {
    let Servers { feed, stream } = servers;
    format!(
        r#"
[poll]
backoff_initial = "50ms"
backoff_max = "500ms"

[[sources]]
kind = "jsonl"
name = "tickets"
path = "{{dir}}/tickets.jsonl"
interval = "50ms"

[[sources]]
kind = "feed"
name = "news"
urls = ["{feed}"]
interval = "100ms"

[[sources]]
kind = "bluesky_jetstream"
name = "bluesky"
hosts = ["{stream}"]
rewind = "1s"
stall_timeout = "5s"
resolve_url = "http://127.0.0.1:9"

[[receivers]]
kind = "webhook"
name = "hook"
url = "{hook}"

[[receivers]]
kind = "file"
name = "file"
path = "{{dir}}/alerts.jsonl"

[[receivers]]
kind = "slack"
name = "chat"
url = "{chat}"
language = "en"

[route_defaults]
group_wait = "0s"
group_interval = "0s"
sla = "1s"

[[routes]]
receivers = ["hook", "file", "chat"]
escalate_to = ["chat"]
max_hits = {max_hits}
"#
    )
}

/// The id of the n-th post, and whether it mentions a brand (four in five do).
fn post(n: u64) -> (String, bool) {
    (format!("p{n}"), !n.is_multiple_of(5))
}

/// The text of the n-th post of a source, tagged with its id.
fn text(mentions: bool, id: &str) -> String {
    if mentions {
        format!("Turkcell faturam yanlış kesildi, üç gündür cevap yok #{id}")
    } else {
        format!("bugün hava çok güzel, sahile iniyoruz #{id}")
    }
}

/// The posts the feed and the stream have published: one every [`EVERY`] from
/// `started`, until [`Published::stop`] freezes the count.
#[derive(Clone)]
struct Published {
    started: Instant,
    started_us: u64,
    frozen: Arc<AtomicU64>,
}

impl Published {
    fn new() -> Published {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        Published {
            started: Instant::now(),
            started_us: now.as_micros() as u64,
            frozen: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }

    /// How many posts are out now.
    fn count(&self) -> u64 {
        let due = (self.started.elapsed().as_millis() / EVERY.as_millis()) as u64;
        due.min(self.frozen.load(Ordering::SeqCst))
    }

    fn stop(&self) -> u64 {
        let count = self.count();
        self.frozen.store(count, Ordering::SeqCst);
        count
    }

    /// The stream's `time_us` of post `k`.
    fn time_us(&self, k: u64) -> u64 {
        self.started_us + k * EVERY.as_micros() as u64
    }
}

/// The feed: every item published so far, newest first.
struct Feed(Published);

impl Respond for Feed {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = chrono::Utc::now().to_rfc2822();
        let items: String = (0..self.0.count())
            .rev()
            .map(|k| {
                let id = format!("f{k}");
                format!(
                    "<item><title>{}</title><link>https://news.example/{id}</link><guid>{id}</guid><pubDate>{now}</pubDate></item>",
                    text(post(k).1, &id)
                )
            })
            .collect();
        ResponseTemplate::new(200).set_body_raw(
            format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title><link>https://news.example/</link><description>d</description>{items}</channel></rss>"),
            "application/rss+xml",
        )
    }
}

/// The stream's post `k` as a Jetstream commit event.
fn stream_event(published: &Published, k: u64) -> String {
    serde_json::json!({
        "did": "did:plc:crashloop",
        "time_us": published.time_us(k),
        "kind": "commit",
        "commit": {
            "rev": format!("r{k}"),
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": format!("j{k}"),
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": chrono::Utc::now().to_rfc3339(),
                "langs": ["tr"],
                "text": text(post(k).1, &format!("j{k}")),
            },
            "cid": format!("bafycrash{k}"),
        }
    })
    .to_string()
}

/// The post id the daemon stores for the stream's post `k`.
fn stream_post_id(k: u64) -> String {
    format!("at://did:plc:crashloop/app.bsky.feed.post/j{k}")
}

/// A Jetstream stand-in: a connection with `cursor` gets every post at or after it,
/// one without starts live (as Jetstream does), then each new post as it comes out.
async fn jetstream(published: Published) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let uri = Arc::new(std::sync::Mutex::new(String::new()));
            let record = Arc::clone(&uri);
            #[allow(clippy::result_large_err)]
            let callback =
                move |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                      response| {
                    *record.lock().unwrap() = request.uri().to_string();
                    Ok(response)
                };
            let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                continue;
            };
            let uri = uri.lock().unwrap().clone();
            let cursor = reqwest::Url::parse(&format!("ws://host{uri}"))
                .unwrap()
                .query_pairs()
                .find(|(key, _)| key == "cursor")
                .map(|(_, value)| value.parse::<u64>().unwrap());
            let published = published.clone();
            tokio::spawn(async move {
                let mut next = match cursor {
                    Some(cursor) => (0..published.count())
                        .find(|&k| published.time_us(k) >= cursor)
                        .unwrap_or_else(|| published.count()),
                    None => published.count(),
                };
                loop {
                    while next < published.count() {
                        let event = stream_event(&published, next);
                        if socket.send(Message::text(event)).await.is_err() {
                            return;
                        }
                        next += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
        }
    });
    format!("ws://{address}/subscribe")
}

/// Appends a post every few milliseconds until `stop`, one `write` per line so the
/// daemon never sees a line half written by two calls.
fn writer(path: std::path::PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            let (id, mentions) = post(n);
            let text = text(mentions, &id);
            let line = serde_json::json!({
                "source": "x",
                "id": id,
                "created_at": chrono::Utc::now().to_rfc3339(),
                "author": {"handle": format!("user{}", n % 17)},
                "text": text,
            });
            file.write_all(format!("{line}\n").as_bytes()).unwrap();
            n += 1;
            std::thread::sleep(Duration::from_millis(4));
        }
        n
    })
}

fn open(workspace: &Workspace) -> Connection {
    Connection::open(workspace.path("mentiond.db")).unwrap()
}

/// The committed byte offset of the jsonl source, 0 before its first commit.
fn committed_offset(db: &Connection) -> usize {
    let cursor: Option<String> = db
        .query_row(
            "SELECT cursor FROM cursors WHERE source = 'tickets'",
            [],
            |row| row.get(0),
        )
        .ok();
    cursor.map_or(0, |cursor| {
        let cursor: Value = serde_json::from_str(&cursor).unwrap();
        cursor["offset"].as_u64().unwrap() as usize
    })
}

/// The committed `time_us` of the stream, if it committed one.
fn committed_stream_cursor(db: &Connection) -> Option<u64> {
    db.query_row(
        "SELECT cursor FROM cursors WHERE source = 'bluesky'",
        [],
        |row| row.get::<_, String>(0),
    )
    .ok()
    .map(|cursor| cursor.parse().unwrap())
}

/// The stream's mentioning posts from `from_us` to `to_us`, both included.
fn stream_mentions(published: &Published, from_us: u64, to_us: u64) -> Vec<String> {
    (0..published.count())
        .filter(|&k| (from_us..=to_us).contains(&published.time_us(k)) && post(k).1)
        .map(stream_post_id)
        .collect()
}

/// Ids of the mentioning posts written in the first `len` bytes of the file.
fn mentions_before(workspace: &Workspace, len: usize) -> Vec<String> {
    let bytes = std::fs::read(workspace.path("tickets.jsonl")).unwrap_or_default();
    let text = std::str::from_utf8(&bytes[..len.min(bytes.len())]).unwrap();
    text.lines()
        .filter(|line| line.contains("Turkcell"))
        .map(|line| {
            let post: Value = serde_json::from_str(line).unwrap();
            post["id"].as_str().unwrap().to_string()
        })
        .collect()
}

fn stored_post_ids(db: &Connection) -> Vec<String> {
    let mut statement = db.prepare("SELECT post_id FROM posts").unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The checks that hold at every kill: an intact file, and no cursor ahead of the
/// posts it covers. `first_stream_cursor` is the stream's first committed cursor:
/// the stream starts live, so what it sent before is not owed.
fn check_after_kill(
    workspace: &Workspace,
    round: usize,
    published: &Published,
    first_stream_cursor: &mut Option<u64>,
) {
    let db = open(workspace);
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "after kill {round}");
    let migrated: bool = db
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'cursors')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    if !migrated {
        // Killed before the first migration committed: nothing to hold yet.
        return;
    }
    let offset = committed_offset(&db);
    let stored: HashSet<String> = stored_post_ids(&db).into_iter().collect();
    let missing: Vec<String> = mentions_before(workspace, offset)
        .into_iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "after kill {round} the cursor (offset {offset}) is past unstored posts {missing:?}"
    );
    if let Some(cursor) = committed_stream_cursor(&db) {
        let first = *first_stream_cursor.get_or_insert(cursor);
        let missing: Vec<String> = stream_mentions(published, first, cursor)
            .into_iter()
            .filter(|id| !stored.contains(id))
            .collect();
        assert!(
            missing.is_empty(),
            "after kill {round} the stream cursor ({cursor}) is past unstored posts {missing:?}"
        );
    }
}

/// The ids a query selects.
fn ids(db: &Connection, sql: &str) -> Vec<i64> {
    db.prepare(sql)
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// An open hit's id, if any.
fn some_open_hit(workspace: &Workspace, rng: &mut StdRng) -> Option<i64> {
    let open = ids(
        &open(workspace),
        "SELECT id FROM hits WHERE acked_at IS NULL",
    );
    (!open.is_empty()).then(|| open[rng.gen_range(0..open.len())])
}

/// Per receiver and delivery kind: hit id → the delivery ids carrying it.
fn deliveries_by_hit(db: &Connection, kind: &str) -> HashMap<String, HashMap<i64, Vec<String>>> {
    let mut by_receiver: HashMap<String, HashMap<i64, Vec<String>>> = HashMap::new();
    let mut statement = db
        .prepare(
            "SELECT d.receiver, dh.hit, d.id, d.status FROM delivery_hits dh \
             JOIN deliveries d ON d.id = dh.delivery WHERE d.kind = ?1",
        )
        .unwrap();
    let rows = statement
        .query_map([kind], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (receiver, hit, id, status) = row.unwrap();
        assert_eq!(status, "delivered", "{receiver} {id} of hit {hit}");
        by_receiver
            .entry(receiver)
            .or_default()
            .entry(hit)
            .or_default()
            .push(id);
    }
    by_receiver
}

/// Whether a daemon was started strictly between two instants: a request the killed
/// daemon had sent may reach the receiver a moment after the kill, never after the
/// next start.
fn started_between(starts: &[Instant], from: Instant, to: Instant) -> bool {
    starts.iter().any(|&s| from < s && s < to)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_random_moments_loses_and_doubles_nothing() {
    let rounds: usize = std::env::var("MENTIOND_CRASH_KILLS")
        .ok()
        .map_or(DEFAULT_KILLS, |n| n.parse().expect("MENTIOND_CRASH_KILLS"));
    let seed: u64 = std::env::var("MENTIOND_CRASH_SEED").ok().map_or_else(
        || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        },
        |seed| seed.parse().expect("MENTIOND_CRASH_SEED"),
    );
    eprintln!("crash loop: {rounds} kills, MENTIOND_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    // The n-th request gets 500 when n % 10 == 9: one in ten fails, and is retried.
    let hook = ScriptedReceiver::start_with("/hook", |n, _| {
        ResponseTemplate::new(if n % 10 == 9 { 500 } else { 204 })
    })
    .await;
    let chat =
        ScriptedReceiver::start("/services/T0/B0/x", Vec::new(), ResponseTemplate::new(200)).await;
    let published = Published::new();
    let feed = MockServer::start().await;
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(Feed(published.clone()))
        .mount(&feed)
        .await;
    let servers = Servers {
        feed: format!("{}/feed.xml", feed.uri()),
        stream: jetstream(published.clone()).await,
    };
    let workspace = Workspace::new(&config(&servers, &hook.url(), &chat.url(), 10));
    let mut first_stream_cursor = None;

    let stop = Arc::new(AtomicBool::new(false));
    let written = writer(workspace.path("tickets.jsonl"), Arc::clone(&stop));
    let mut kills = Vec::with_capacity(rounds);
    let mut starts = Vec::with_capacity(rounds + 1);
    let mut acked = Vec::new();
    let (mut reloads, mut before_ready) = (0, 0);
    for round in 0..rounds {
        starts.push(Instant::now());
        let daemon = workspace.spawn(&[]);
        let pid = Pid::from_raw(daemon.pid() as i32);
        let mut ack = None;
        match rng.gen_range(0..10) {
            // While starting: migrations, the lock, the first page, the escalation
            // check at start.
            0 | 1 => {
                before_ready += 1;
                std::thread::sleep(Duration::from_millis(rng.gen_range(0..120)));
            }
            plan => {
                wait_for("readiness", Duration::from_secs(20), || {
                    daemon.log_text().contains("mentiond ready")
                });
                if plan == 2 {
                    reloads += 1;
                    let max_hits = 10 + round % 2;
                    workspace.write_config(&config(&servers, &hook.url(), &chat.url(), max_hits));
                    kill(pid, Signal::SIGHUP).unwrap();
                    std::thread::sleep(Duration::from_millis(rng.gen_range(0..60)));
                } else if plan == 3
                    && let Some(hit) = some_open_hit(&workspace, &mut rng)
                {
                    let config = workspace.config_path();
                    ack = Some((
                        hit,
                        std::thread::spawn(move || {
                            std::process::Command::new(crate::support::BIN)
                                .arg("--config")
                                .arg(config)
                                .args(["ack", &hit.to_string(), "--by", "crash-loop"])
                                .output()
                                .unwrap()
                        }),
                    ));
                    std::thread::sleep(Duration::from_millis(rng.gen_range(0..30)));
                } else {
                    // Up to past the stream's 500 ms page, so its commits are killed too.
                    std::thread::sleep(Duration::from_millis(rng.gen_range(0..1000)));
                }
            }
        }
        kills.push(Instant::now());
        daemon.signal(Signal::SIGKILL);
        if let Some((hit, command)) = ack {
            let output = command.join().unwrap();
            assert!(
                output.status.success(),
                "ack {hit}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            acked.push(hit);
        }
        check_after_kill(&workspace, round, &published, &mut first_stream_cursor);
    }
    stop.store(true, Ordering::Relaxed);
    let posts_written = written.join().unwrap();

    // One last run catches up with the file and the outbox, and stops cleanly.
    starts.push(Instant::now());
    let daemon = workspace.start();
    let file_len = std::fs::metadata(workspace.path("tickets.jsonl"))
        .unwrap()
        .len() as usize;
    // The stream starts live until its first commit: publish until the last run made
    // one (the loop's runs may all have been killed too soon), then stop.
    wait_for("a committed stream cursor", Duration::from_secs(30), || {
        committed_stream_cursor(&open(&workspace)).is_some()
    });
    let published_count = published.stop();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let db = open(&workspace);
        let pending: i64 = db
            .query_row(
                "SELECT count(*) FROM deliveries WHERE status != 'delivered'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        let stream_cursor = committed_stream_cursor(&db);
        let streamed =
            stream_cursor.is_some_and(|cursor| cursor >= published.time_us(published_count - 1));
        let fed: u64 = db
            .query_row(
                "SELECT count(*) FROM posts WHERE source = 'news'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        let feed_items = (0..published_count).filter(|&k| post(k).1).count() as u64;
        let offset = committed_offset(&db);
        if offset == file_len && streamed && fed == feed_items && pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every post read and delivery made: file {offset} of {file_len}, stream at \
             {stream_cursor:?} of {}, feed {fed} of {feed_items}, {pending} pending\n{}",
            published.time_us(published_count - 1),
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    daemon.stop();

    let db = open(&workspace);
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    // Every mentioning post stored once, with one hit.
    let mentions = mentions_before(&workspace, file_len);
    assert_eq!(
        mentions.len() as u64,
        (0..posts_written).filter(|&n| post(n).1).count() as u64
    );
    let file_mentions = mentions.len();
    // The feed's every item and the stream's every post from its first commit on.
    let first_stream = first_stream_cursor
        .or_else(|| committed_stream_cursor(&db))
        .unwrap();
    let mentions: Vec<String> = mentions
        .into_iter()
        .chain(
            (0..published_count)
                .filter(|&k| post(k).1)
                .map(|k| format!("f{k}")),
        )
        .chain(stream_mentions(&published, first_stream, u64::MAX))
        .collect();
    let stored = stored_post_ids(&db);
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "no post stored twice");
    // Besides: stream posts sent before the stream's first commit (it starts live, so
    // they are not owed), each stored once like any other.
    let owed: HashSet<&String> = mentions.iter().collect();
    let before_first = stored
        .iter()
        .filter(|id| !owed.contains(id))
        .inspect(|id| {
            let early = (0..published_count)
                .any(|k| stream_post_id(k) == **id && published.time_us(k) < first_stream);
            assert!(early, "{id} stored but never owed");
        })
        .count();
    let mut expected = mentions.clone();
    expected.sort();
    let mut stored_owed: Vec<String> = stored
        .iter()
        .filter(|id| owed.contains(id))
        .cloned()
        .collect();
    stored_owed.sort();
    assert_eq!(stored_owed, expected, "every mentioning post stored, once");
    let hit_of_post: HashMap<String, i64> = db
        .prepare("SELECT p.post_id, h.id FROM hits h JOIN posts p ON p.id = h.post")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        hit_of_post.len(),
        mentions.len() + before_first,
        "one hit a post"
    );

    // Every hit in exactly one delivered mention delivery per receiver.
    let mentions_by = deliveries_by_hit(&db, "mention");
    for receiver in RECEIVERS {
        let by_hit = &mentions_by[receiver];
        for (post, hit) in &hit_of_post {
            let ids = by_hit.get(hit).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(
                ids.len(),
                1,
                "{receiver}: post {post} (hit {hit}) in {ids:?}"
            );
        }
    }
    // Escalated at most once, and each escalated hit carried by one chat delivery.
    let escalations = deliveries_by_hit(&db, "escalation");
    let escalated_hits = ids(&db, "SELECT id FROM hits WHERE escalated_at IS NOT NULL");
    assert!(!escalated_hits.is_empty(), "the loop exercised escalation");
    let chat_escalations = escalations.get("chat").cloned().unwrap_or_default();
    for hit in &escalated_hits {
        let ids = chat_escalations
            .get(hit)
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_eq!(ids.len(), 1, "hit {hit} escalated in {ids:?}");
    }
    assert_eq!(chat_escalations.len(), escalated_hits.len());
    for hit in &acked {
        let by: Option<String> = db
            .query_row("SELECT acked_by FROM hits WHERE id = ?1", [hit], |row| {
                row.get(0)
            })
            .unwrap();
        assert!(by.is_some(), "hit {hit} acknowledged during the loop");
    }

    // The webhook: every post under one id, the store's; an id that had been answered
    // with success arrived again only across a kill.
    let store_ids: HashSet<String> = mentions_by["hook"].values().flatten().cloned().collect();
    let mut receipts: BTreeMap<String, Vec<(Instant, bool)>> = BTreeMap::new();
    let mut hook_ids_of_post: HashMap<String, HashSet<String>> = HashMap::new();
    for (n, (at, request)) in hook.requests().into_iter().enumerate() {
        let id = header(&request, "webhook-id").to_string();
        assert!(
            store_ids.contains(&id),
            "{id} is not a delivery of the store"
        );
        receipts
            .entry(id.clone())
            .or_default()
            .push((at, n % 10 != 9));
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        for hit in body["hits"].as_array().unwrap() {
            let post = hit["post"]["id"].as_str().unwrap().to_string();
            hook_ids_of_post.entry(post).or_default().insert(id.clone());
        }
    }
    let mut resent_after_success = 0;
    for (id, times) in &receipts {
        for pair in times.windows(2) {
            let ((first, succeeded), (again, _)) = (pair[0], pair[1]);
            if succeeded {
                resent_after_success += 1;
                assert!(
                    started_between(&starts, first, again),
                    "{id} was answered with success and sent again by the same daemon: \
                     {times:?}, kills {kills:?}, starts {starts:?}"
                );
            }
        }
    }
    for post in &mentions {
        let ids = hook_ids_of_post.get(post).cloned().unwrap_or_default();
        assert_eq!(ids.len(), 1, "webhook: post {post} under {ids:?}");
    }

    // The file: whole lines, every post under one delivery id, a line written again
    // only for a kill between its write and its commit.
    let lines = std::fs::read_to_string(workspace.path("alerts.jsonl")).unwrap();
    let mut file_ids_of_post: HashMap<String, HashSet<String>> = HashMap::new();
    let mut lines_per_id: HashMap<String, usize> = HashMap::new();
    for line in lines.lines() {
        let alert: Value = serde_json::from_str(line).unwrap_or_else(|err| {
            panic!("a torn alert line ({err}): {line}");
        });
        let id = alert["delivery_id"].as_str().unwrap().to_string();
        *lines_per_id.entry(id.clone()).or_default() += 1;
        for hit in alert["hits"].as_array().unwrap() {
            let post = hit["post"]["id"].as_str().unwrap().to_string();
            file_ids_of_post.entry(post).or_default().insert(id.clone());
        }
    }
    for post in &mentions {
        let ids = file_ids_of_post.get(post).cloned().unwrap_or_default();
        assert_eq!(ids.len(), 1, "file: post {post} under {ids:?}");
    }
    let rewritten: usize = lines_per_id.values().map(|n| n - 1).sum();
    assert!(rewritten <= kills.len(), "{rewritten} lines written twice");

    // The chat receiver: one request per delivery, more only across kills.
    let chat_deliveries: HashSet<&String> = mentions_by["chat"]
        .values()
        .chain(chat_escalations.values())
        .flatten()
        .collect();
    let chat_requests = chat.requests().len();
    assert!(
        (chat_deliveries.len()..=chat_deliveries.len() + kills.len()).contains(&chat_requests),
        "{chat_requests} chat requests for {} deliveries",
        chat_deliveries.len()
    );

    eprintln!(
        "crash loop: {} kills ({before_ready} before ready, {reloads} during a reload, {} \
         during an acknowledgement); {posts_written} posts written, {published_count} fed \
         and streamed, {} stored ({file_mentions} from the file, {before_first} streamed \
         before the stream's first commit); {} webhook requests for {} deliveries, \
         {resent_after_success} resent after success across a kill; {rewritten} file \
         lines rewritten; {} hits escalated",
        kills.len(),
        acked.len(),
        mentions.len() + before_first,
        hook.requests().len(),
        store_ids.len(),
        escalated_hits.len(),
    );
}
