//! The daemon end to end: a feed or JSON-lines source → matcher → SQLite → signed
//! webhook / file receiver, across restarts and receiver failures.

use std::time::Duration;

use chrono::Utc;
use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{
    TICKETS_SOURCE, WEBHOOK_SECRET, Workspace, fixture, header, signature_is_valid, wait_for_async,
};

const WAIT: Duration = Duration::from_secs(20);

/// The recorded-shape news feed with its publication dates moved to now, so no
/// first-run backfill rule treats the items as old, and without its one-hour `ttl`,
/// which the source would honour by not polling again.
fn fresh_news_feed() -> String {
    let now = Utc::now().to_rfc2822().replace("+0000", "GMT");
    let mut feed = String::from_utf8(fixture("feeds/news_search.rss.xml")).unwrap();
    for old in [
        "Sat, 21 Nov 2026 08:41:00 GMT",
        "Sat, 21 Nov 2026 07:05:00 GMT",
        "Sat, 21 Nov 2026 06:30:00 GMT",
    ] {
        feed = feed.replace(old, &now);
    }
    feed.replace("<ttl>60</ttl>", "")
}

async fn feed_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rss"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(fresh_news_feed(), "application/rss+xml"),
        )
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer, at: &str) -> Vec<Request> {
    let all = server.received_requests().await.unwrap_or_default();
    all.into_iter().filter(|r| r.url.path() == at).collect()
}

fn webhook_config(feed: &MockServer, hook: &MockServer) -> String {
    format!(
        r#"
[[sources]]
kind = "feed"
name = "news"
url = "{feed}/rss"
interval = "300ms"

[[receivers]]
kind = "webhook"
name = "care-hook"
url = "{hook}/hook"
secret = "{WEBHOOK_SECRET}"

[[routes]]
receivers = ["care-hook"]
"#,
        feed = feed.uri(),
        hook = hook.uri(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn feed_hits_are_stored_and_delivered_once_signed_even_across_a_restart() {
    let feed = feed_server().await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&hook)
        .await;
    let workspace = Workspace::new(&webhook_config(&feed, &hook));

    let daemon = workspace.start();
    wait_for_async("two webhook deliveries", WAIT, || async {
        requests(&hook, "/hook").await.len() >= 2
    })
    .await;
    // Let the feed be polled twice more: the same items must not be alerted again.
    let polled = requests(&feed, "/rss").await.len();
    wait_for_async("two more polls", WAIT, || async {
        requests(&feed, "/rss").await.len() >= polled + 2
    })
    .await;
    daemon.stop();

    let delivered = requests(&hook, "/hook").await;
    assert_eq!(delivered.len(), 2, "one alert per brand, each sent once");
    let mut brands = Vec::new();
    for request in &delivered {
        let id = header(request, "webhook-id");
        let timestamp = header(request, "webhook-timestamp");
        assert!(id.starts_with("msg_"), "{id}");
        assert!(
            signature_is_valid(
                WEBHOOK_SECRET,
                id,
                timestamp,
                &request.body,
                header(request, "webhook-signature")
            ),
            "bad signature on {id}"
        );
        assert_eq!(header(request, "content-type"), "application/json");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["type"], "mention");
        assert_eq!(body["delivery_id"], id);
        let post = &body["hits"][0]["post"];
        assert_eq!(post["source"], "news");
        assert!(
            post["url"]
                .as_str()
                .unwrap()
                .starts_with("https://news.google.com/rss/articles/")
        );
        assert!(body["hits"][0]["matched"][0]["start"].is_u64());
        brands.push((
            body["brand"].as_str().unwrap().to_string(),
            body["team"].as_str().unwrap().to_string(),
        ));
    }
    brands.sort();
    assert_eq!(
        brands,
        [
            ("THY".into(), "thy-care".into()),
            ("Turkcell".into(), "turkcell-care".into())
        ]
    );
    assert_ne!(
        header(&delivered[0], "webhook-id"),
        header(&delivered[1], "webhook-id")
    );

    let hits = workspace.hits();
    assert_eq!(hits.len(), 2);
    let turkcell = hits.iter().find(|h| h["brand"] == "Turkcell").unwrap();
    for field in ["id", "brand", "status", "detected_at", "terms", "post"] {
        assert!(
            turkcell.get(field).is_some(),
            "`hits --json` lacks {field}: {turkcell}"
        );
    }
    for field in ["source", "id", "url", "text", "created_at"] {
        assert!(
            turkcell["post"].get(field).is_some(),
            "`hits --json` lacks post.{field}: {turkcell}"
        );
    }
    assert!(
        turkcell["post"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Turkcell'de yaygın kesinti: İstanbul")
    );
    assert_eq!(turkcell["terms"][0]["matched"], "Turkcell");

    // A restart polls the same feed again: nothing new is stored or sent.
    let daemon = workspace.start();
    let polled = requests(&feed, "/rss").await.len();
    wait_for_async("two polls after restart", WAIT, || async {
        requests(&feed, "/rss").await.len() >= polled + 2
    })
    .await;
    daemon.stop();
    assert_eq!(
        requests(&hook, "/hook").await.len(),
        2,
        "nothing delivered twice after a restart"
    );
    assert_eq!(workspace.hits().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_receiver_appends_alerts_and_sigint_also_stops_cleanly() {
    let workspace = Workspace::new(
        r#"
[[sources]]
kind = "jsonl"
name = "tickets"
path = "{dir}/tickets.jsonl"
interval = "200ms"

[[receivers]]
kind = "file"
name = "alerts-file"
path = "{dir}/alerts.jsonl"

[[routes]]
receivers = ["alerts-file"]
"#,
    );
    let tickets = workspace.path("tickets.jsonl");
    std::fs::write(&tickets, "").unwrap();
    let daemon = workspace.start();
    // Appended while running, with a malformed line in between that must be skipped.
    let lines = [
        r#"{"source":"mail","id":"m1","author":{"handle":"ayse","followers":120},"text":"THY'nin uçuşu 3 saat rötar yaptı","lang":"tr"}"#,
        "this is not JSON",
        r#"{"source":"mail","id":"m2","text":"Turkcel çekmiyor, İstanbul Kadıköy"}"#,
        r#"{"source":"mail","id":"m3","text":"thy kingdom come"}"#,
    ];
    std::fs::write(&tickets, lines.join("\n") + "\n").unwrap();
    let alerts = workspace.path("alerts.jsonl");
    wait_for_async("two alert lines", WAIT, || async {
        std::fs::read_to_string(&alerts)
            .unwrap_or_default()
            .lines()
            .count()
            >= 2
    })
    .await;
    let status = daemon.signal(Signal::SIGINT);
    assert_eq!(status.code(), Some(0));

    let text = std::fs::read_to_string(&alerts).unwrap();
    let alerts: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 2);
    let mut texts: Vec<_> = alerts
        .iter()
        .map(|a| a["hits"][0]["post"]["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            "THY'nin uçuşu 3 saat rötar yaptı",
            "Turkcel çekmiyor, İstanbul Kadıköy"
        ]
    );
    let thy = alerts.iter().find(|a| a["brand"] == "THY").unwrap();
    assert_eq!(thy["hits"][0]["post"]["author"]["followers"], 120);
    assert_eq!(workspace.hits().len(), 2);
}

#[test]
fn a_database_that_cannot_be_opened_exits_1() {
    let workspace = Workspace::new("");
    std::fs::write(workspace.path("blocker"), "a file, not a directory").unwrap();
    let config = std::fs::read_to_string(workspace.config_path())
        .unwrap()
        .replace("mentiond.db", "blocker/sub/mentiond.db");
    std::fs::write(workspace.config_path(), config).unwrap();
    let output = workspace.command(&["run"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("opening database"));
}

#[test]
fn another_programs_database_file_exits_1_and_is_left_untouched() {
    let workspace = Workspace::new(TICKETS_SOURCE);
    let path = workspace.path("mentiond.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE invoices (id INTEGER, total REAL); INSERT INTO invoices VALUES (1, 9.5);",
        )
        .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    for args in [&["run"][..], &["ack", "1"], &["hits"], &["status"]] {
        let output = workspace.command(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{} is not a mentiond database", path.display()))
                && stderr.contains("tables invoices")
                && stderr.contains("left untouched"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!workspace.path("mentiond.db-wal").exists());
    // Garbage where the database should be: the same.
    std::fs::write(&path, "not a database at all").unwrap();
    let output = workspace.command(&["run"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a SQLite database"));
    assert_eq!(std::fs::read(&path).unwrap(), b"not a database at all");
}

/// A jsonl source following `{dir}/tickets.jsonl`, polled only every 10 minutes:
/// anything read sooner was woken by the file watch.
const WATCHED_TICKETS: &str = r#"
[[sources]]
kind = "jsonl"
name = "tickets"
path = "{dir}/tickets.jsonl"
interval = "10m"
max_batch_bytes = 4096
"#;

/// Rows in the `posts` table, read beside the running daemon.
fn stored_posts(workspace: &Workspace) -> u64 {
    let db = rusqlite::Connection::open_with_flags(
        workspace.path("mentiond.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row("SELECT count(*) FROM posts", [], |row| row.get(0))
        .unwrap()
}

fn ticket(id: u32) -> String {
    format!(r#"{{"source":"mail","id":"t{id}","text":"Turkcell ticket {id}"}}"#)
}

#[test]
fn a_jsonl_line_is_stored_within_milliseconds_though_the_interval_is_ten_minutes() {
    let workspace = Workspace::new(WATCHED_TICKETS);
    workspace.append_tickets(&[&ticket(0)]);
    let daemon = workspace.start();
    crate::support::wait_for("the first post", WAIT, || stored_posts(&workspace) == 1);
    let mut latencies = Vec::new();
    for n in 1..=5 {
        std::thread::sleep(Duration::from_millis(100));
        let appended = std::time::Instant::now();
        workspace.append_tickets(&[&ticket(n)]);
        crate::support::wait_for("the appended post", Duration::from_secs(2), || {
            stored_posts(&workspace) == u64::from(n) + 1
        });
        latencies.push(appended.elapsed());
    }
    eprintln!("append to stored: {latencies:?}");
    daemon.stop();
}

#[test]
fn jsonl_copytruncate_and_rotation_while_down_lose_nothing() {
    let workspace = Workspace::new(WATCHED_TICKETS);
    let tickets = workspace.path("tickets.jsonl");
    let lines = |ids: std::ops::RangeInclusive<u32>| -> String {
        ids.map(|id| ticket(id) + "\n").collect()
    };
    std::fs::write(&tickets, lines(1..=1000)).unwrap();
    let daemon = workspace.start();
    crate::support::wait_for("1,000 posts", WAIT, || stored_posts(&workspace) == 1000);

    // logrotate's copytruncate, refilled past the old offset in one write.
    std::fs::copy(&tickets, workspace.path("tickets.jsonl.1")).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&tickets)
        .unwrap();
    std::io::Write::write_all(&mut file, lines(2001..=5000).as_bytes()).unwrap();
    drop(file);
    crate::support::wait_for("all 3,000 refilled posts", WAIT, || {
        stored_posts(&workspace) == 4000
    });
    daemon.stop();

    // Rotated while the daemon is down: the old file's tail comes first.
    workspace.append_tickets(&[&ticket(5001), &ticket(5002)]);
    std::fs::rename(&tickets, workspace.path("tickets.jsonl.2")).unwrap();
    workspace.append_tickets(&[&ticket(5003), &ticket(5004)]);
    let daemon = workspace.start();
    crate::support::wait_for("the rotated tail and the new file", WAIT, || {
        stored_posts(&workspace) == 4004
    });
    assert!(
        daemon
            .log_text()
            .contains("finishing the rotated file first"),
        "{}",
        daemon.log_text()
    );
    daemon.stop();
}

#[test]
fn a_jsonl_line_longer_than_max_batch_bytes_is_skipped_with_a_warning() {
    let workspace = Workspace::new(WATCHED_TICKETS);
    let long = format!(
        r#"{{"source":"mail","id":"big","text":"Turkcell {}"}}"#,
        "x".repeat(10_000)
    );
    workspace.append_tickets(&[&ticket(1), &long, &ticket(2)]);
    let daemon = workspace.start();
    crate::support::wait_for("the lines around the long one", WAIT, || {
        stored_posts(&workspace) == 2
    });
    workspace.append_tickets(&[&ticket(3)]);
    crate::support::wait_for("a later line", WAIT, || stored_posts(&workspace) == 3);
    let log = daemon.log_text();
    let offset = ticket(1).len() + 1;
    assert!(
        log.contains("skipping line longer than max_batch_bytes")
            && log.contains(&format!("offset={offset}"))
            && log.contains(&format!("length={}", long.len() + 1)),
        "{log}"
    );
    assert!(!log.contains("poll failed"), "{log}");
    daemon.stop();
}

#[test]
fn a_second_run_on_the_same_database_is_refused_while_the_first_keeps_running() {
    let workspace = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ));
    let first = workspace.start();
    let mut second = std::process::Command::new(crate::support::BIN)
        .arg("--config")
        .arg(workspace.config_path())
        .arg("run")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a second daemon that starts anyway is killed and the test fails.
    let deadline = std::time::Instant::now() + WAIT;
    while second.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if second.try_wait().unwrap().is_none() {
        second.kill().unwrap();
    }
    let second = second.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    let database = workspace.path("mentiond.db").display().to_string();
    assert!(stderr.contains(&database), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "in use by another mentiond run (pid {})",
            first.pid()
        )),
        "{stderr}"
    );
    // The first daemon still works, and read commands work beside it.
    workspace.append_tickets(&[
        r#"{"source":"x","id":"l1","created_at":"2026-11-21T08:00:00Z","text":"Turkcell çekmiyor"}"#,
    ]);
    crate::support::wait_for("a hit from the first daemon", WAIT, || {
        workspace.hits().len() == 1
    });
    assert!(workspace.command(&["status"]).status.success());
    first.stop();
    // Once the first has stopped, the lock is free again.
    workspace.start().stop();
}

#[test]
fn a_post_with_invalid_optional_fields_is_stored_and_each_field_warned_about_once() {
    let workspace = Workspace::new(WATCHED_TICKETS);
    let bad = |id: &str| {
        format!(
            r#"{{"source":"mail","id":"{id}","text":"Turkcell faturam","created_at":"yesterday","author":{{"handle":"ayse","followers":"many"}}}}"#
        )
    };
    workspace.append_tickets(&[&bad("bad-1")]);
    let daemon = workspace.start();
    crate::support::wait_for("the first post", WAIT, || stored_posts(&workspace) == 1);
    // A second poll with the same faults: stored, and not warned about again.
    workspace.append_tickets(&[&bad("bad-2")]);
    crate::support::wait_for("the second post", WAIT, || stored_posts(&workspace) == 2);
    let log = daemon.log_text();
    daemon.stop();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("invalid optional field dropped"))
        .collect();
    assert_eq!(warnings.len(), 2, "one per field:\n{log}");
    assert!(
        warnings[0].contains("WARN")
            && warnings[0].contains("source=tickets")
            && warnings
                .iter()
                .any(|w| w.contains("field=created_at") && w.contains(r#"example="yesterday""#))
            && warnings
                .iter()
                .any(|w| w.contains("field=author.followers")),
        "{log}"
    );
    assert!(!log.contains("skipping malformed line"), "{log}");
    let hits = workspace.hits();
    assert_eq!(hits.len(), 2);
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_feed_urls_log_one_warning_per_poll_with_their_count() {
    let port = closed_port();
    let offline: Vec<String> = (1..=5)
        .map(|n| format!("\"http://127.0.0.1:{port}/feed{n}.xml\""))
        .collect();
    let feed = feed_server().await;
    let workspace = Workspace::new(&format!(
        r#"
[poll]
backoff_initial = "100ms"
backoff_max = "200ms"

[[sources]]
kind = "feed"
name = "offline"
urls = [{offline}]
interval = "200ms"

[[sources]]
kind = "feed"
name = "half"
urls = ["{feed}/rss", "http://127.0.0.1:{port}/a.xml", "http://127.0.0.1:{port}/b.xml"]
interval = "200ms"
"#,
        offline = offline.join(", "),
        feed = feed.uri(),
    ));
    let daemon = workspace.start();
    let started = std::time::Instant::now();
    wait_for_async("three failed polls of each source", WAIT, || async {
        let log = daemon.log_text();
        log.matches("failing=5").count() >= 3 && log.matches("failing=2").count() >= 3
    })
    .await;
    let log = daemon.log_text();
    daemon.stop();
    let lines = |source: &str, text: &str| -> Vec<String> {
        log.lines()
            .filter(|line| line.contains(&format!("source={source}")) && line.contains(text))
            .map(str::to_string)
            .collect()
    };
    let warnings = lines("offline", " WARN ");
    let polls = warnings.len();
    assert!(polls >= 3, "{log}");
    for warning in &warnings {
        assert!(
            warning.contains("poll failed")
                && warning.contains("failing=5")
                && warning.contains("streams=5")
                && warning.contains("connection refused"),
            "{warning}"
        );
    }
    // Each stream's failure is at debug level only: five per poll (the poll in
    // progress when the log was read may have logged up to five and no warning yet).
    let per_stream = lines("offline", "stream fetch failed");
    assert!(
        per_stream.iter().all(|line| line.contains("DEBUG")),
        "{log}"
    );
    assert!(
        (5 * polls..=5 * polls + 5).contains(&per_stream.len()),
        "{polls} polls, {} stream lines:\n{log}",
        per_stream.len()
    );
    // A poll where some streams failed still succeeds, with the same one line.
    let half = lines("half", " WARN ");
    assert!(!half.is_empty(), "{log}");
    for warning in &half {
        assert!(
            warning.contains("some streams failed")
                && warning.contains("failing=2")
                && warning.contains("streams=3"),
            "{warning}"
        );
    }
    eprintln!(
        "{polls} failing polls of 5 URLs in {:?}: {polls} warning lines",
        started.elapsed()
    );
}

#[test]
fn hits_held_back_by_the_first_run_backfill_rule_are_logged_once_with_the_reason() {
    let workspace = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ));
    // Written before the first poll, two days old: stored, not alerted.
    let old = (Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let lines: Vec<String> = (1..=3)
        .map(|n| {
            format!(r#"{{"source":"mail","id":"old{n}","text":"Turkcell eski {n}","created_at":"{old}"}}"#)
        })
        .collect();
    workspace.append_tickets(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let daemon = workspace.start();
    crate::support::wait_for("the old posts", WAIT, || stored_posts(&workspace) == 3);
    crate::support::wait_for("the log line", WAIT, || {
        daemon.log_text().contains("hits stored without alert")
    });
    let log = daemon.log_text();
    let held: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("hits stored without alert"))
        .collect();
    assert_eq!(held.len(), 1, "one line for the batch: {log}");
    assert!(
        held[0].contains("held=3") && held[0].contains("backfill"),
        "{}",
        held[0]
    );
    daemon.stop();
    assert!(
        !workspace.path("alerts.jsonl").exists()
            || std::fs::read_to_string(workspace.path("alerts.jsonl"))
                .unwrap()
                .is_empty(),
        "nothing alerted"
    );
}
