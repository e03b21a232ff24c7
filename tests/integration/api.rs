//! The HTTP ack API end to end: the real daemon on a loopback port, a bearer token,
//! and the answers a client sees.

use std::time::Duration;

use serde_json::Value;

use crate::support::{TICKETS_SOURCE, Workspace, wait_for};

#[tokio::test(flavor = "multi_thread")]
async fn a_hit_is_acknowledged_through_the_api_with_the_token_only() {
    let workspace = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"api-t0ken-secret\"\n\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ));
    workspace.append_tickets(&[
        r#"{"source":"x","id":"c1","created_at":"2026-11-21T08:00:00Z","text":"Turkcell faturam yanlış"}"#,
    ]);
    let daemon = workspace.start();
    wait_for("a hit", Duration::from_secs(20), || {
        workspace.hits().len() == 1
    });
    let log = daemon.log_text();
    let address = log
        .lines()
        .find(|line| line.contains("api listening"))
        .and_then(|line| line.split("127.0.0.1:").nth(1))
        .map(|rest| {
            let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
            format!("127.0.0.1:{port}")
        })
        .unwrap_or_else(|| panic!("no api address in:\n{log}"));
    let id = workspace.hits()[0]["id"].as_i64().unwrap();
    let client = reqwest::Client::new();
    let url = |id: i64| format!("http://{address}/api/v1/hits/{id}/ack");

    let anonymous = client.post(url(id)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = client
        .post(url(id))
        .bearer_auth("api-t0ken-secreT")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(
        workspace.hits()[0]["acked_at"].is_null(),
        "nothing acknowledged yet"
    );

    let acked = client
        .post(url(id))
        .bearer_auth("api-t0ken-secret")
        .json(&serde_json::json!({"by": "crm-bot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(acked.status(), 200);
    let body: Value = acked.json().await.unwrap();
    assert_eq!(body["acked_by"], "crm-bot");
    assert_eq!(body["brand"], "Turkcell");
    assert!(body["first_response_secs"].as_i64().unwrap() > 0);

    let again = client
        .post(url(id))
        .bearer_auth("api-t0ken-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let missing = client
        .post(url(id + 1000))
        .bearer_auth("api-t0ken-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let log = daemon.log_text();
    daemon.stop();
    assert!(!log.contains("api-t0ken-secret"));
    assert_eq!(workspace.hits()[0]["acked_by"], "crm-bot");
}

/// A workspace whose daemon serves the API on `listen` with a 1 s header timeout and
/// at most `max_connections` connections.
fn hardened_api(listen: &str, max_connections: usize) -> Workspace {
    Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[api]\nlisten = \"{listen}\"\ntoken = \"api-t0ken-secret\"\nheader_timeout = \"1s\"\nmax_connections = {max_connections}\n\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ))
}

/// The loopback address the daemon logged for its API.
pub(crate) fn api_address(log: &str) -> String {
    let port: String = log
        .lines()
        .find(|line| line.contains("api listening"))
        .and_then(|line| line.split(":").last())
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default();
    assert!(!port.is_empty(), "no api address in:\n{log}");
    format!("127.0.0.1:{port}")
}

/// Reads until the server closes `stream`; `None` if it is still open after `limit`.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<Duration> {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 256];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let workspace = hardened_api("127.0.0.1:0", 256);
    let daemon = workspace.start();
    let address = api_address(&daemon.log_text());
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    let closed = closed_within(&mut idle, Duration::from_secs(10)).await;
    let closed = closed.expect("an idle connection is closed by the server");
    assert!(
        closed >= Duration::from_millis(800) && closed < Duration::from_secs(5),
        "closed after {closed:?}"
    );
    // A keep-alive connection that goes quiet after its answer is closed too.
    let mut kept = tokio::net::TcpStream::connect(&address).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut kept,
        b"POST /api/v1/hits/1/ack HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
    )
    .await
    .unwrap();
    let closed = closed_within(&mut kept, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "an idle keep-alive connection is closed");
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_limit_wait_and_are_served_once_idle_ones_time_out() {
    let workspace = hardened_api("127.0.0.1:0", 4);
    let daemon = workspace.start();
    let address = api_address(&daemon.log_text());
    let mut idle = Vec::new();
    for _ in 0..6 {
        idle.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let answer = client
        .post(format!("http://{address}/api/v1/hits/1/ack"))
        .bearer_auth("api-t0ken-secret")
        .send()
        .await
        .expect("a well-behaved request is not starved");
    let waited = started.elapsed();
    assert_eq!(answer.status(), 404, "no hit 1 yet");
    // Four idle connections held every slot until their header timeout ran out.
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(10),
        "answered after {waited:?}"
    );
    drop(idle);
    daemon.stop();
}

#[test]
fn an_api_beyond_loopback_is_warned_about() {
    let loopback = hardened_api("127.0.0.1:0", 256);
    let daemon = loopback.start();
    let log = daemon.log_text();
    daemon.stop();
    assert!(!log.contains("beyond loopback"), "{log}");

    let everywhere = hardened_api("0.0.0.0:0", 256);
    let daemon = everywhere.start();
    let log = daemon.log_text();
    daemon.stop();
    assert!(
        log.contains("api listens beyond loopback; put a TLS reverse proxy in front"),
        "{log}"
    );
}
