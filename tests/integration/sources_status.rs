//! `mentiond status`: each source's health read from the database a daemon wrote.

use chrono::Utc;
use mentiond::store::{PollOutcome, Store};

use crate::support::Workspace;

/// Every test config ends with this: alerts go to a file.
pub const FILE_RECEIVER: &str = r#"
[[receivers]]
kind = "file"
name = "f"
path = "alerts.jsonl"

[[routes]]
receivers = ["f"]
"#;

const SOURCES: &str = r#"
[[sources]]
kind = "hackernews"
name = "hn"
base_url = "http://127.0.0.1:9"

[[sources]]
kind = "mastodon"
name = "fediverse"
base_url = "http://127.0.0.1:9"

[[sources]]
kind = "jsonl"
name = "tickets"
path = "t.jsonl"
"#;

#[test]
fn status_shows_health_per_configured_source() {
    let workspace = Workspace::new(&format!("{SOURCES}{FILE_RECEIVER}"));
    let missing = workspace.command(&["status"]);
    assert_eq!(missing.status.code(), Some(1), "no database yet");

    let now = Utc::now();
    let mut store = Store::open(&workspace.path("mentiond.db")).unwrap();
    let ok = PollOutcome::Success {
        n_posts: 45,
        newest_post_at: Some(now - chrono::Duration::seconds(90)),
    };
    store
        .record_poll(&"hn".into(), &ok, now - chrono::Duration::minutes(5))
        .unwrap();
    let failed = PollOutcome::Failure {
        error: "HTTP status 503 — Ağ geçidi".into(),
    };
    store
        .record_poll(&"fediverse".into(), &failed, now)
        .unwrap();
    drop(store);

    let output = workspace.command(&["status"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines[0], "daemon: not running (no heartbeat recorded)");
    let lines = &lines[1..];
    assert!(
        lines[0].starts_with("hn (hackernews): ok, last success 5m")
            // The lag runs on until the command reads the clock: a loaded machine adds seconds.
            && lines[0].contains("lag 1m 3")
            && lines[0].ends_with("3.0 posts/min"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("fediverse (mastodon): failing, last success never"),
        "{text}"
    );
    assert!(
        lines[2].contains(
            "in the last run (1 failure(s) since last success): HTTP status 503 — Ağ geçidi"
        ),
        "{text}"
    );
    assert_eq!(lines[3], "tickets (jsonl): not polled yet");

    let output = workspace.command(&["status", "--json"]);
    let rows: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["daemon"]["running"], false);
    let rows = &rows[1..];
    assert_eq!(rows[0]["current"], false);
    assert_eq!(rows[0]["posts_per_minute"], 3.0);
    assert_eq!(rows[1]["failures"], 1);
    assert_eq!(rows[2]["polled"], false);
}

/// The real daemon with two platform sources: Hacker News answers at once, the
/// Mastodon instance hangs. Hacker News keeps polling and its hits are stored, and
/// `status` shows its health, while the Mastodon request is still waiting.
#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_source_never_delays_another() {
    use std::time::Duration;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let hn = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .respond_with(crate::sources_support::json(
            crate::sources_support::fixture("hackernews", "search_by_date_page1.json"),
            &[],
        ))
        .mount(&hn)
        .await;
    let mastodon = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&mastodon)
        .await;
    let workspace = Workspace::new(&format!(
        r#"
[[sources]]
kind = "hackernews"
name = "hn"
base_url = "{hn}"
queries = ["Yapı Kredi"]
interval = "200ms"

[[sources]]
kind = "mastodon"
name = "fediverse"
base_url = "{mastodon}"
hashtags = ["turkcell"]
interval = "200ms"
{FILE_RECEIVER}"#,
        hn = hn.uri(),
        mastodon = mastodon.uri(),
    ));
    let daemon = workspace.start();
    crate::support::wait_for_async(
        "three Hacker News polls",
        Duration::from_secs(20),
        || async { hn.received_requests().await.unwrap_or_default().len() >= 3 },
    )
    .await;
    let hits = workspace.hits();
    assert!(
        hits.iter().any(|hit| hit["post"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Yapı Kredi mobil")),
        "{hits:?}"
    );
    let status = workspace.command(&["status"]);
    let text = String::from_utf8(status.stdout).unwrap();
    assert!(text.contains("hn (hackernews): ok"), "{text}");
    assert!(
        text.contains("fediverse (mastodon): not polled yet"),
        "{text}"
    );
    assert_eq!(mastodon.received_requests().await.unwrap().len(), 1);
    daemon.stop();
}
