//! Grouping end to end with the real daemon: a burst within `group_wait` is one
//! message listing `max_hits` hits and counting the rest.

use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::support::{ScriptedReceiver, TICKETS_SOURCE, Workspace};

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_within_group_wait_is_one_message_with_and_n_more() {
    let hook = ScriptedReceiver::start("/hook", Vec::new(), ResponseTemplate::new(200)).await;
    let workspace = Workspace::new(&format!(
        r#"{TICKETS_SOURCE}
[route_defaults]
group_wait = "2s"

[[receivers]]
kind = "webhook"
name = "hook"
url = "{}"

[[routes]]
receivers = ["hook"]
max_hits = 3
"#,
        hook.url()
    ));
    let daemon = workspace.start();
    let lines: Vec<String> = (1..=5)
        .map(|n| format!(r#"{{"source":"mail","id":"m{n}","text":"Turkcell şikayet {n}"}}"#))
        .collect();
    workspace.append_tickets(&lines[..2].iter().map(String::as_str).collect::<Vec<_>>());
    std::thread::sleep(std::time::Duration::from_millis(500));
    workspace.append_tickets(&lines[2..].iter().map(String::as_str).collect::<Vec<_>>());
    let requests = hook.wait_for_requests(1).await;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    daemon.stop();

    assert_eq!(hook.requests().len(), 1, "one message for the burst");
    let body: Value = serde_json::from_slice(&requests[0].1.body).unwrap();
    assert_eq!(body["brand"], "Turkcell");
    assert_eq!(body["hits"].as_array().unwrap().len(), 3);
    assert_eq!(body["more_hits"], 2);
    assert_eq!(body["hits"][0]["post"]["id"], "m1");
}
