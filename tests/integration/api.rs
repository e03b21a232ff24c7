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
