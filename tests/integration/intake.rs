//! The HTTP intake end to end: the real daemon serving `POST /api/v1/posts` on a
//! loopback port, `[[intake]]` channels with their own tokens, and what a client, the
//! store and the receivers see.

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::api_address;
use crate::reload::reload;
use crate::support::{Daemon, TICKETS_SOURCE, Workspace, wait_for};

const API_TOKEN: &str = "api-t0ken-secret";
const EMAIL_TOKEN: &str = "intake-email-t0ken";
const CALLCENTER_TOKEN: &str = "intake-callcenter-t0ken";
const WAIT: Duration = Duration::from_secs(20);

/// A daemon with two intake channels (`email`, `callcenter`), a body limit of 2 KiB
/// and 3 posts per request; hits of `callcenter` go to the file receiver `cc`, every
/// other hit to `f`.
fn intake_daemon() -> (Workspace, Daemon, String) {
    let workspace = Workspace::new(&intake_config(EMAIL_TOKEN));
    std::fs::write(
        workspace.path("callcenter-token"),
        format!("{CALLCENTER_TOKEN}\n"),
    )
    .unwrap();
    let daemon = workspace.start();
    let address = api_address(&daemon.log_text());
    (workspace, daemon, format!("http://{address}/api/v1/posts"))
}

/// The configuration of [`intake_daemon`], the `email` channel taking `email_token`.
fn intake_config(email_token: &str) -> String {
    format!(
        r#"{TICKETS_SOURCE}
[api]
listen = "127.0.0.1:0"
token = "{API_TOKEN}"
intake_max_body_bytes = 2048
intake_max_posts = 3

[[intake]]
name = "email"
token = "{email_token}"

[[intake]]
name = "callcenter"
token_file = "{{dir}}/callcenter-token"

[[receivers]]
kind = "file"
name = "f"
path = "{{dir}}/alerts.jsonl"

[[receivers]]
kind = "file"
name = "cc"
path = "{{dir}}/cc.jsonl"

[[routes]]
source = "callcenter"
receivers = ["cc"]

[[routes]]
receivers = ["f"]
"#
    )
}

/// Sends `body` with `token` (none: no header) and returns the status and JSON body.
async fn post(url: &str, token: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The lines of the receiver file `file` that mention the post `id`.
fn alerts_about(workspace: &Workspace, file: &str, id: &str) -> usize {
    let quoted = format!("\"{id}\"");
    std::fs::read_to_string(workspace.path(file))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains(&quoted))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn intake_refuses_wrong_tokens_bad_bodies_and_oversized_ones_storing_nothing() {
    let (workspace, daemon, url) = intake_daemon();
    let good = r#"{"id":"g-1","text":"Turkcell faturam yanlış"}"#;

    assert_eq!(post(&url, None, good).await.0, 401);
    assert_eq!(post(&url, Some("intake-email-t0keN"), good).await.0, 401);
    // The API's own token is no intake token.
    assert_eq!(post(&url, Some(API_TOKEN), good).await.0, 401);
    // An intake token opens no other route.
    let ack = reqwest::Client::new()
        .post(url.replace("/posts", "/hits/1/ack"))
        .bearer_auth(EMAIL_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 401);

    // A bad item in an array: 400 naming its index and field; the good one before it
    // is not stored either.
    let array =
        format!(r#"[{good}, {{"id":"g-2","text":"THY rötar","author":"x"}}, {{"id":"g-3"}}]"#);
    let (status, body) = post(&url, Some(EMAIL_TOKEN), array).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["item"], 2);
    assert_eq!(body["field"], "text");
    assert!(body["error"].as_str().unwrap().contains("`text`"), "{body}");

    // In NDJSON the line is named too.
    let ndjson = format!("{good}\n\n{{\"id\":42,\"text\":\"Turkcell\"}}\n");
    let (status, body) = post(&url, Some(EMAIL_TOKEN), ndjson).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        (body["item"].clone(), body["line"].clone()),
        (json!(1), json!(3))
    );
    assert_eq!(body["field"], "id");

    // Over 2 KiB: 413, declared by Content-Length or streamed without one.
    let padding = "Turkcell ".repeat(300);
    let large = format!(r#"{{"id":"big","text":"{padding}"}}"#);
    assert_eq!(post(&url, Some(EMAIL_TOKEN), large.clone()).await.0, 413);
    assert_eq!(chunked_status(&url, EMAIL_TOKEN, &large).await, 413);
    // More than 3 posts: 413.
    let four: Vec<String> = (0..4)
        .map(|n| format!(r#"{{"id":"n-{n}","text":"Turkcell"}}"#))
        .collect();
    let (status, body) = post(&url, Some(EMAIL_TOKEN), four.join("\n")).await;
    assert_eq!(status, 413, "{body}");

    // Nothing of any refused request was stored (a later good one is, so the
    // pipeline did run).
    let (status, body) = post(&url, Some(EMAIL_TOKEN), r#"{"id":"ok","text":"THY"}"#).await;
    assert_eq!(status, 202, "{body}");
    let hits = workspace.hits();
    let ids: Vec<&str> = hits
        .iter()
        .filter_map(|hit| hit["post"]["id"].as_str())
        .collect();
    assert_eq!(ids, ["ok"]);
    let log = daemon.log_text();
    daemon.stop();
    for secret in [API_TOKEN, EMAIL_TOKEN, CALLCENTER_TOKEN] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

/// Sends `body` in two chunks (`Transfer-Encoding: chunked`, no `Content-Length`)
/// and returns the answer's status.
async fn chunked_status(url: &str, token: &str, body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (head, tail) = body.split_at(body.len() / 2);
    let request = format!(
        "POST /api/v1/posts HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{head}\r\n{:x}\r\n{tail}\r\n0\r\n\r\n",
        head.len(),
        tail.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

/// Deliveries (alerts) enqueued for `receiver`, whatever their state.
fn deliveries_to(workspace: &Workspace, receiver: &str) -> usize {
    workspace
        .deliveries()
        .iter()
        .filter(|row| row["receiver"] == receiver)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn intake_posts_go_through_the_pipeline_and_a_retry_stores_and_alerts_nothing_twice() {
    let (workspace, daemon, url) = intake_daemon();

    // One post: stored with its hit, alerted through the catch-all route.
    let one = r#"{"id":"mail-1","text":"Turkcell faturam iki kez kesildi","author":{"handle":"ayse"},"created_at":"yesterday"}"#;
    let (status, first) = post(&url, Some(EMAIL_TOKEN), one).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["channel"], "email");
    assert_eq!(first["accepted"], 1);
    assert_eq!(first["stored"][0]["id"], "mail-1");
    assert_eq!(first["stored"][0]["hits"][0]["brand"], "Turkcell");
    let hit_id = first["stored"][0]["hits"][0]["id"].as_i64().unwrap();
    assert_eq!(first["duplicates"], json!([]));
    assert_eq!(first["warnings"][0]["field"], "created_at");
    let hits = workspace.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["id"].as_i64(), Some(hit_id));
    assert_eq!(hits[0]["post"]["source"], "email");
    wait_for("the alert about mail-1", WAIT, || {
        alerts_about(&workspace, "alerts.jsonl", "mail-1") == 1
    });

    // The same request again: the same answer, marked as a duplicate; nothing new.
    let (status, again) = post(&url, Some(EMAIL_TOKEN), one).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["stored"], first["stored"]);
    assert_eq!(again["duplicates"], json!(["mail-1"]));
    assert_eq!(workspace.hits().len(), 1);
    // Deliveries are planned for new hits only: the retry enqueued no second alert.
    assert_eq!(deliveries_to(&workspace, "f"), 1);

    // An array and NDJSON of the call centre: routed by `source = "callcenter"`; a post
    // matching nothing is answered as unmatched and not stored.
    let array =
        r#"[{"id":"call-1","text":"THY bagajım kayıp"},{"id":"call-2","text":"nothing to see"}]"#;
    let (status, body) = post(&url, Some(CALLCENTER_TOKEN), array).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["channel"], "callcenter");
    assert_eq!(body["stored"][0]["id"], "call-1");
    assert_eq!(body["unmatched"], json!(["call-2"]));
    let ndjson = "{\"id\":\"call-3\",\"text\":\"Turkcell hat kapandı\"}\n{\"id\":\"call-4\",\"text\":\"Bagaj\"}\n";
    let (status, body) = post(&url, Some(CALLCENTER_TOKEN), ndjson).await;
    assert_eq!(status, 202, "{body}");
    let stored: Vec<&str> = body["stored"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|post| post["id"].as_str())
        .collect();
    assert_eq!(stored, ["call-3"]);
    assert_eq!(body["unmatched"], json!(["call-4"]));
    let deadline = std::time::Instant::now() + WAIT;
    while !["call-1", "call-3"]
        .iter()
        .all(|id| alerts_about(&workspace, "cc.jsonl", id) == 1)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "cc.jsonl: {}\nlog: {}",
            std::fs::read_to_string(workspace.path("cc.jsonl")).unwrap_or_default(),
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(alerts_about(&workspace, "alerts.jsonl", "call-1"), 0);
    assert_eq!(alerts_about(&workspace, "cc.jsonl", "call-2"), 0);
    assert_eq!(alerts_about(&workspace, "alerts.jsonl", "mail-1"), 1);
    assert_eq!(deliveries_to(&workspace, "f"), 1);
    assert_eq!(deliveries_to(&workspace, "cc"), 2);
    assert_eq!(workspace.hits().len(), 3);

    // Each channel shows in `mentiond status` like a source.
    let status = workspace.json_lines(&["status", "--json"]);
    for channel in ["email", "callcenter"] {
        let row = status
            .iter()
            .find(|row| row["source"] == channel)
            .unwrap_or_else(|| panic!("{channel} not in {status:?}"));
        assert!(row["last_success_at"].is_string(), "{row}");
        assert!(row["posts_per_minute"].as_f64().unwrap() > 0.0, "{row}");
    }
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_swaps_the_intake_tokens_without_a_restart() {
    let (workspace, daemon, url) = intake_daemon();
    let one = r#"{"id":"mail-1","text":"Turkcell"}"#;
    assert_eq!(post(&url, Some(EMAIL_TOKEN), one).await.0, 202);
    workspace.write_config(&intake_config("rotated-email-t0ken"));
    reload(&daemon, "configuration reloaded");
    assert_eq!(post(&url, Some(EMAIL_TOKEN), one).await.0, 401);
    let (status, body) = post(&url, Some("rotated-email-t0ken"), one).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["duplicates"], json!(["mail-1"]));
    let log = daemon.log_text();
    assert!(!log.contains("take effect at restart"), "{log}");
    daemon.stop();
}
