//! Chat receivers end to end: one post with hostile text reaches a local Slack, Teams,
//! Discord and Telegram receiver, each body in its platform's shape with the text
//! inert; Discord's `retry_after` is honoured; no URL or token reaches the log.

use std::time::Duration;

use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::support::{ScriptedReceiver, TICKETS_SOURCE, Workspace};

const HOSTILE_POST: &str = r#"{"source":"x","id":"1","url":"https://x.example/ayse/status/1","author":{"id":"9","handle":"ayse","name":"Ayşe </b><script>","followers":1200},"text":"Turkcell <!channel> @everyone <script>alert(1)</script> </b> [x](http://evil) & <@123>","created_at":"2026-11-21T08:00:00Z"}"#;

fn body(receiver: &ScriptedReceiver) -> Value {
    serde_json::from_slice(&receiver.requests()[0].1.body).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_chat_receiver_gets_its_shape_with_hostile_text_inert() {
    let ok = || ResponseTemplate::new(200);
    let slack = ScriptedReceiver::start("/services/T0/B0/slack-secret", Vec::new(), ok()).await;
    let teams =
        ScriptedReceiver::start("/workflows/run", Vec::new(), ResponseTemplate::new(202)).await;
    let discord = ScriptedReceiver::start(
        "/api/webhooks/1/discord-secret",
        vec![ResponseTemplate::new(429).set_body_raw(
            r#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#,
            "application/json",
        )],
        ResponseTemplate::new(204),
    )
    .await;
    let telegram =
        ScriptedReceiver::start("/tg/bot42:tg-secret/sendMessage", Vec::new(), ok()).await;
    let config = format!(
        r#"{TICKETS_SOURCE}
[[receivers]]
kind = "slack"
name = "slack"
url = "{slack}"
language = "en"

[[receivers]]
kind = "teams"
name = "teams"
url = "{teams}?sig=teams-secret"

[[receivers]]
kind = "discord"
name = "discord"
url = "{discord}"
language = "en"

[[receivers]]
kind = "telegram"
name = "telegram"
token = "42:tg-secret"
chat_id = "-1001"
api_url = "{telegram_api}/tg"

[[routes]]
receivers = ["slack", "teams", "discord", "telegram"]
"#,
        slack = slack.url(),
        teams = teams.url(),
        discord = discord.url(),
        telegram_api = telegram.server.uri(),
    );
    let workspace = Workspace::new(&config);
    // Posted minutes ago: a first run does not alert posts older than `poll.backfill`.
    let recent = (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    workspace.append_tickets(&[&HOSTILE_POST.replace("2026-11-21T08:00:00Z", &recent)]);
    let daemon = workspace.start();
    slack.wait_for_requests(1).await;
    teams.wait_for_requests(1).await;
    telegram.wait_for_requests(1).await;
    let discord_requests = discord.wait_for_requests(2).await;
    let log = daemon.log_text();
    daemon.stop();

    let slack_body = body(&slack);
    let section = slack_body["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(
        section.starts_with("*Turkcell* &lt;!channel&gt; @everyone &lt;script&gt;"),
        "{section}"
    );
    assert!(!slack_body.to_string().contains("<!channel>"));
    assert!(slack_body.get("link_names").is_none());
    let context = slack_body["blocks"][2]["elements"][0]["text"]
        .as_str()
        .unwrap();
    for part in [
        "Turkcell · x · @ayse (Ayşe &lt;/b&gt;&lt;script&gt;)",
        "1200 followers",
        "0 earlier hits",
        "https://x.example/ayse/status/1",
    ] {
        assert!(context.contains(part), "{part} missing in {context}");
    }

    let teams_body = body(&teams);
    let card = &teams_body["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(
        card["body"][0]["text"], "Turkcell: 1 yeni bahsetme",
        "Turkish by default"
    );
    assert!(
        card["body"][2]["text"]
            .as_str()
            .unwrap()
            .contains("\\[x\\]\\(http://evil\\)")
    );

    let discord_body: Value = serde_json::from_slice(&discord_requests[1].1.body).unwrap();
    assert_eq!(
        discord_body["allowed_mentions"],
        serde_json::json!({"parse": []})
    );
    assert!(
        discord_body["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("**Turkcell** \\<!channel\\> @everyone")
    );
    let waited = discord_requests[1].0 - discord_requests[0].0;
    assert!(
        waited >= Duration::from_millis(1500),
        "retried after {waited:?}"
    );
    assert_eq!(discord_requests[0].1.body, discord_requests[1].1.body);

    let telegram_body = body(&telegram);
    assert_eq!(telegram_body["chat_id"], "-1001");
    assert_eq!(telegram_body["parse_mode"], "HTML");
    let text = telegram_body["text"].as_str().unwrap();
    assert!(
        text.contains("<b>Turkcell</b> &lt;!channel&gt; @everyone &lt;script&gt;alert(1)&lt;/script&gt; &lt;/b&gt;"),
        "{text}"
    );
    assert!(!text.contains("<script>") && !text.contains("</b><script>"));

    for secret in [
        "slack-secret",
        "teams-secret",
        "discord-secret",
        "tg-secret",
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
}
