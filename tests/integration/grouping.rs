//! Grouping end to end with the real daemon: a burst within `group_wait` is one
//! message; a program (`webhook`, `file`) gets every hit of it, split over messages
//! of `hits_per_message`, never "and N more".

use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::support::{ScriptedReceiver, TICKETS_SOURCE, Workspace};

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_within_group_wait_is_one_message_carrying_every_hit_to_a_program() {
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
    // `max_hits = 3` shapes what people read; a webhook is a program and gets all 5.
    assert_eq!(body["hits"].as_array().unwrap().len(), 5);
    assert_eq!(body["more_hits"], 0);
    assert_eq!(body["hits"][0]["post"]["id"], "m1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_larger_than_a_message_reaches_a_program_whole_in_several_messages() {
    let hook = ScriptedReceiver::start("/hook", Vec::new(), ResponseTemplate::new(200)).await;
    let workspace = Workspace::new(&format!(
        r#"{TICKETS_SOURCE}
[route_defaults]
group_wait = "1s"

[[receivers]]
kind = "webhook"
name = "hook"
url = "{}"
hits_per_message = 4

[[routes]]
receivers = ["hook"]
max_hits = 3
"#,
        hook.url()
    ));
    let daemon = workspace.start();
    let lines: Vec<String> = (1..=30)
        .map(|n| format!(r#"{{"source":"mail","id":"m{n}","text":"Turkcell şikayet {n}"}}"#))
        .collect();
    workspace.append_tickets(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let requests = hook.wait_for_requests(8).await;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    daemon.stop();

    assert_eq!(hook.requests().len(), 8, "30 hits in messages of at most 4");
    let mut ids = Vec::new();
    let mut posts = Vec::new();
    for (_, request) in &requests {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["more_hits"], 0);
        let hits = body["hits"].as_array().unwrap();
        assert!(!hits.is_empty() && hits.len() <= 4, "{}", hits.len());
        posts.extend(
            hits.iter()
                .map(|hit| hit["post"]["id"].as_str().unwrap().to_string()),
        );
        ids.push(
            request
                .headers
                .get("webhook-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    posts.sort();
    posts.dedup();
    assert_eq!(posts.len(), 30, "every hit arrived, once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "each message is its own delivery");
}
