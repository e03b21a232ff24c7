//! The hostile-input suite: one table of hostile posts pushed through every kind of
//! source the daemon reads locally (a jsonl file, the HTTP intake, an RSS feed and a
//! Mastodon hashtag timeline on loopback) into every sink (webhook, file, Slack,
//! Discord, Teams, Telegram, e-mail over SMTP, the report files, the API's JSON,
//! `mentiond hits` and the log). Everywhere the output is inert: no header, element,
//! link, image, formula, mention, terminal escape or bidi override comes from a post,
//! and the JSON sinks carry the text unchanged. Hostile payloads (invalid UTF-8, a
//! 20 MB line, JSON nested 50,000 deep) are skipped or refused, and the posts after
//! them still arrive.
//!
//! Each network source kind also meets oversized bodies, gzip bombs, deep nesting and
//! redirects to another host in `sources_support::check_http_failures`, and feeds an
//! XML entity bomb in `feed::an_xml_entity_bomb_is_never_expanded`; a new sink (the
//! console's pages are checked in Chromium by `console_browser`) joins the table here.

use std::io::Write as _;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::api::api_address;
use crate::smtp_server::{Behaviour, SmtpServer};
use crate::support::{ScriptedReceiver, Workspace};

/// The hostile posts: a name and a text that mentions Turkcell.
const HOSTILE: &[(&str, &str)] = &[
    (
        "header injection",
        "Turkcell iade\r\nBcc: victim@example.org\r\nSubject: forged",
    ),
    (
        "html",
        "Turkcell <script>alert(1)</script><img src=x onerror=alert(2)>",
    ),
    (
        "markdown",
        "Turkcell [tıkla](http://evil.example) ![](http://evil.example/p.png) **kalın** `kod`",
    ),
    (
        "csv formula",
        "=HYPERLINK(\"http://evil.example\",\"Turkcell\") +1 @SUM(A1)",
    ),
    (
        "mentions",
        "Turkcell <!channel> <!here> @everyone @here <@U012345> <#C999>",
    ),
    (
        "terminal escapes",
        "Turkcell \u{1b}[2J\u{1b}]0;pwned\u{7} \u{1b}[31mkırmızı",
    ),
    (
        "bidi override",
        "Turkcell \u{202E}gnp.exe\u{202C} \u{2066}izole\u{2069}",
    ),
    (
        "log forging",
        "Turkcell\n2026-11-26T00:00:00Z  INFO mentiond: forged line",
    ),
];

const API_TOKEN: &str = "api-t0ken-hostile";
const INTAKE_TOKEN: &str = "intake-t0ken-hostile";
const WAIT: Duration = Duration::from_secs(30);

/// Fails when `output` of `sink` contains one of `needles` (what, needle).
fn refuse(sink: &str, output: &str, needles: &[(&str, &str)]) {
    for (what, needle) in needles {
        assert!(!output.contains(needle), "{sink} shows {what}:\n{output}");
    }
}

/// What no text for people may show: terminal escapes and bidi controls.
const CONTROLS: &[(&str, &str)] = &[
    ("a terminal escape", "\u{1b}"),
    ("a bell", "\u{7}"),
    ("a bidi override", "\u{202E}"),
    ("a bidi isolate", "\u{2066}"),
];

/// What no HTML may hold from a post: an element.
const ELEMENTS: &[(&str, &str)] = &[("a script element", "<script"), ("an img element", "<img")];

/// What no Markdown may hold from a post: a link or an image.
const MARKDOWN: &[(&str, &str)] = &[
    ("a Markdown link", "](http://evil.example)"),
    ("a Markdown image", "![]("),
];

/// What no Slack text may hold from a post: a mention that pings or a link.
const SLACK: &[(&str, &str)] = &[
    ("a channel mention", "<!channel>"),
    ("a here mention", "<!here>"),
    ("a user mention", "<@U012345>"),
    ("a channel link", "<#C999>"),
];

/// JSON carries a post's text as data: every control character escaped.
fn assert_json_escaped(sink: &str, raw: &str) {
    assert!(
        !raw.chars().any(|c| c.is_control() && c != '\n'),
        "{sink} has a raw control character:\n{raw}"
    );
}

/// A post line for the jsonl file and the intake.
fn post(source: &str, n: usize, text: &str) -> Value {
    let recent = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    json!({
        "source": source,
        "id": format!("{source}-{n}"),
        "url": format!("https://{source}.example/{n}"),
        "author": {"id": format!("{n}"), "handle": format!("saldirgan{n}"), "name": text},
        "text": text,
        "created_at": recent,
    })
}

/// An RSS feed of the table's texts that XML 1.0 can carry (no C0 control but tab,
/// line feed and carriage return).
fn rss() -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let now = chrono::Utc::now().to_rfc2822();
    let items: String = HOSTILE
        .iter()
        .enumerate()
        .filter(|(_, (_, text))| {
            !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        })
        .map(|(n, (_, text))| {
            format!(
                "<item><title>{}</title><link>https://news.example/{n}</link><guid>news-{n}</guid><pubDate>{now}</pubDate><description>{}</description></item>",
                escape(text),
                escape(text)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Haberler</title><link>https://news.example/</link><description>d</description>{items}</channel></rss>"
    )
}

/// A Mastodon hashtag page of the table's texts, each as the HTML a server sends.
fn statuses() -> String {
    let now = chrono::Utc::now().to_rfc3339();
    let statuses: Vec<Value> = HOSTILE
        .iter()
        .enumerate()
        .map(|(n, (_, text))| {
            let html = text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            json!({
                "id": format!("1156{n:014}"),
                "created_at": now,
                "in_reply_to_id": null,
                "sensitive": false,
                "spoiler_text": "",
                "visibility": "public",
                "language": "tr",
                "uri": format!("https://sosyal.example/users/u{n}/statuses/{n}"),
                "url": format!("https://sosyal.example/@u{n}/{n}"),
                "content": format!("<p>{html}</p>"),
                "reblog": null,
                "account": {
                    "id": format!("{n}"),
                    "username": format!("u{n}"),
                    "acct": format!("u{n}@sosyal.example"),
                    "display_name": text,
                    "url": format!("https://sosyal.example/@u{n}"),
                    "followers_count": 10,
                },
                "media_attachments": [],
                "mentions": [],
                "tags": [{"name": "turkcell", "url": "https://sosyal.example/tags/turkcell"}],
            })
        })
        .collect();
    Value::Array(statuses).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_posts_from_every_source_are_inert_in_every_sink() {
    let ok = || ResponseTemplate::new(200);
    let hook = ScriptedReceiver::start("/hook", Vec::new(), ok()).await;
    let slack = ScriptedReceiver::start("/services/T0/B0/x", Vec::new(), ok()).await;
    let discord =
        ScriptedReceiver::start("/api/webhooks/1/x", Vec::new(), ResponseTemplate::new(204)).await;
    let teams =
        ScriptedReceiver::start("/workflows/run", Vec::new(), ResponseTemplate::new(202)).await;
    let telegram = ScriptedReceiver::start("/tg/bot42:x/sendMessage", Vec::new(), ok()).await;
    let smtp = SmtpServer::start(Behaviour::default()).await;
    let feed = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(rss(), "application/rss+xml"))
        .mount(&feed)
        .await;
    let mastodon = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(statuses(), "application/json"))
        .mount(&mastodon)
        .await;

    let workspace = Workspace::new(&format!(
        r#"
[poll]
backoff_initial = "100ms"
backoff_max = "500ms"

[api]
listen = "127.0.0.1:0"
token = "{API_TOKEN}"

[[intake]]
name = "mail"
token = "{INTAKE_TOKEN}"

[report]
time_zone = "UTC"

[[sources]]
kind = "jsonl"
name = "tickets"
path = "{{dir}}/tickets.jsonl"
interval = "200ms"

[[sources]]
kind = "feed"
name = "news"
urls = ["{feed}/feed.xml"]
interval = "200ms"

[[sources]]
kind = "mastodon"
name = "fediverse"
base_url = "{mastodon}"
hashtags = ["turkcell"]
interval = "200ms"

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
name = "slack"
url = "{slack}"
language = "en"

[[receivers]]
kind = "discord"
name = "discord"
url = "{discord}"

[[receivers]]
kind = "teams"
name = "teams"
url = "{teams}"

[[receivers]]
kind = "telegram"
name = "telegram"
token = "42:x"
chat_id = "-1001"
api_url = "{telegram}/tg"

[[receivers]]
kind = "email"
name = "mail"
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = "mentiond <alerts@example.com>"
to = ["care@example.com"]

[route_defaults]
group_wait = "0s"
group_interval = "0s"
group_by = ["source"]
max_hits = 50

[[routes]]
receivers = ["hook", "file", "slack", "discord", "teams", "telegram", "mail"]
"#,
        feed = feed.uri(),
        mastodon = mastodon.uri(),
        hook = hook.url(),
        slack = slack.url(),
        discord = discord.url(),
        teams = teams.url(),
        telegram = telegram.server.uri(),
        smtp = smtp.port,
    ));
    // The jsonl file: hostile payloads first, then the table.
    {
        let mut file = std::fs::File::create(workspace.path("tickets.jsonl")).unwrap();
        file.write_all(
            b"{\"source\":\"mail\",\"id\":\"bad-utf8\",\"text\":\"Turkcell \xff\xfe bozuk\"}\n",
        )
        .unwrap();
        writeln!(file, "{}{}", "[".repeat(50_000), "]".repeat(50_000)).unwrap();
        let huge = format!(
            "{{\"source\":\"mail\",\"id\":\"huge\",\"text\":\"Turkcell {}\"}}",
            "a".repeat(20 << 20)
        );
        writeln!(file, "{huge}").unwrap();
        for (n, (_, text)) in HOSTILE.iter().enumerate() {
            writeln!(file, "{}", post("tickets", n, text)).unwrap();
        }
    }
    let daemon = workspace.start();
    let address = api_address(&daemon.log_text());
    let client = reqwest::Client::new();
    let intake = format!("http://{address}/api/v1/posts");
    for (n, (_, text)) in HOSTILE.iter().enumerate() {
        let response = client
            .post(&intake)
            .bearer_auth(INTAKE_TOKEN)
            .json(&{
                // The channel names the source.
                let mut post = post("intake", n, text);
                post.as_object_mut().unwrap().remove("source");
                post
            })
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    for (payload, body) in [
        ("invalid UTF-8", b"{\"text\":\"Turkcell \xff\"}".to_vec()),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes(),
        ),
        ("20 MB", vec![b' '; 20 << 20]),
    ] {
        let sent = client
            .post(&intake)
            .bearer_auth(INTAKE_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                assert!(status.is_client_error(), "{payload}: {status}");
            }
            // The server may answer 413 and close before 20 MB are written.
            Err(err) => assert!(payload == "20 MB" && err.is_request(), "{payload}: {err}"),
        }
    }

    // Every hostile post of every source is stored: the table twice (file and
    // intake), the feed's XML-safe part, Mastodon's, and the invalid UTF-8 line
    // with its bytes replaced.
    let xml_safe = rss().matches("<item>").count();
    let expected = 2 * HOSTILE.len() + xml_safe + HOSTILE.len() + 1;
    let hits_url = format!("http://{address}/api/v1/hits?limit=500");
    let fetch_hits = || {
        let (client, url) = (client.clone(), hits_url.clone());
        async move {
            let body: Value = client
                .get(url)
                .bearer_auth(API_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body
        }
    };
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let body = fetch_hits().await;
        let ids: Vec<&str> = body["hits"]
            .as_array()
            .map(|hits| {
                hits.iter()
                    .filter_map(|hit| hit["post"]["id"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        if ids.len() >= expected {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {expected} hostile posts stored: {ids:?}\n{}",
            ids.len(),
            daemon.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let api = fetch_hits().await;
    let hits = api["hits"].as_array().unwrap().clone();
    assert_eq!(hits.len(), expected, "{api:#}");
    let text_of = |id: &str| {
        hits.iter()
            .find(|hit| hit["post"]["id"] == id)
            .map(|hit| hit["post"]["text"].as_str().unwrap().to_string())
    };
    // JSON sinks carry the text unchanged (it is data there, not markup).
    for (n, (name, text)) in HOSTILE.iter().enumerate() {
        for source in ["tickets", "intake"] {
            assert_eq!(
                text_of(&format!("{source}-{n}")).as_deref(),
                Some(*text),
                "{name} from {source}"
            );
        }
    }
    assert_eq!(
        text_of("bad-utf8").as_deref(),
        Some("Turkcell \u{FFFD}\u{FFFD} bozuk")
    );
    assert_eq!(text_of("huge"), None, "the 20 MB line is skipped");

    // Chat receivers: every message inert in the platform's own markup; the webhook
    // carries the text as JSON data, unchanged.
    let messages = 4; // one group per source
    // Each with the table's text shown, in its escaped form (so the checks below
    // look at what the posts became, not at an empty message).
    for (sink, receiver, markup, escaped) in [
        ("slack", &slack, SLACK, "&lt;!channel&gt;"),
        ("discord", &discord, MARKDOWN, "\\[tıkla\\]"),
        ("teams", &teams, MARKDOWN, "\\[tıkla\\]"),
        ("telegram", &telegram, ELEMENTS, "&lt;script&gt;"),
        ("webhook", &hook, &[][..], "<!channel>"),
    ] {
        let requests = receiver.wait_for_requests(messages).await;
        let all: String = requests
            .iter()
            .map(|(_, request)| {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                strings(&body).join("\n")
            })
            .collect();
        assert!(all.contains(escaped), "{sink} lacks {escaped}: {all}");
        for (_, request) in &requests {
            let body = String::from_utf8(request.body.clone()).unwrap();
            assert_json_escaped(sink, &body);
            let parsed: Value = serde_json::from_str(&body).unwrap();
            if sink != "webhook" {
                let shown = rendered(sink, &parsed);
                refuse(sink, &shown, CONTROLS);
                refuse(sink, &shown, markup);
            }
        }
    }
    for (_, request) in discord.requests() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["allowed_mentions"], json!({"parse": []}), "no ping");
    }
    for (_, request) in hook.requests() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        for hit in body["hits"].as_array().unwrap() {
            let id = hit["post"]["id"].as_str().unwrap();
            assert_eq!(hit["post"]["text"].as_str(), text_of(id).as_deref(), "{id}");
        }
    }

    // E-mail: one Subject, no injected header, the HTML part inert.
    let mails = smtp.wait_for_messages(messages).await;
    for mail in &mails {
        let head = mail.data.split("\r\n\r\n").next().unwrap();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let names: Vec<String> = unfolded
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        assert_eq!(
            names.iter().filter(|n| *n == "subject").count(),
            1,
            "{head}"
        );
        assert!(!names.iter().any(|n| n == "bcc"), "{head}");
        let decoded = mail.data.replace("=\r\n", "");
        refuse("e-mail", &decoded, CONTROLS);
        let html = decoded.split("Content-Type: text/html").nth(1).unwrap();
        refuse("the e-mail's HTML part", html, ELEMENTS);
        assert!(
            html.contains("&lt;script&gt;") || !decoded.contains("script"),
            "{html}"
        );
    }

    // The file receiver, the report files, `mentiond hits` and the log.
    let alerts = std::fs::read_to_string(workspace.path("alerts.jsonl")).unwrap();
    assert_json_escaped("file receiver", &alerts);
    for line in alerts.lines() {
        let alert: Value = serde_json::from_str(line).unwrap();
        for hit in alert["hits"].as_array().unwrap() {
            let id = hit["post"]["id"].as_str().unwrap();
            assert_eq!(hit["post"]["text"].as_str(), text_of(id).as_deref(), "{id}");
        }
    }
    let out = workspace.path("reports");
    let today = chrono::Utc::now().date_naive().to_string();
    let report = workspace.command(&[
        "report",
        "--date",
        &today,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "md,csv,json,html",
    ]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    for extension in ["md", "csv", "json", "html"] {
        let file = std::fs::read_to_string(out.join(format!("{today}.{extension}"))).unwrap();
        let sink = format!("the {extension} report");
        assert!(file.contains("HYPERLINK"), "{sink} shows the posts: {file}");
        match extension {
            "json" => assert_json_escaped(&sink, &file),
            "html" => refuse(&sink, &file, ELEMENTS),
            "md" => refuse(&sink, &file, MARKDOWN),
            _ => {}
        }
        if extension != "json" {
            refuse(&sink, &file, CONTROLS);
        }
        if extension == "csv" {
            for cell in file.split([',', '\n']) {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '@']),
                    "a CSV cell starts a formula: {cell}"
                );
            }
        }
    }
    let listed = workspace.command(&["hits", "--limit", "1000"]);
    assert!(listed.status.success());
    refuse(
        "mentiond hits",
        &String::from_utf8_lossy(&listed.stdout),
        CONTROLS,
    );
    let log = daemon.log_text();
    daemon.stop();
    refuse("the log", &log, CONTROLS);
    refuse(
        "the log",
        &log,
        &[("a forged line", "\n2026-11-26T00:00:00Z  INFO")],
    );
    assert!(
        log.contains("skipping line longer than max_batch_bytes"),
        "{log}"
    );
    assert!(log.contains("skipping malformed line"), "{log}");
}

/// The strings of a chat body the platform renders with its markup: all of them,
/// except Discord's embed footers, which Discord shows as plain text.
fn rendered(sink: &str, body: &Value) -> String {
    if sink != "discord" {
        return strings(body).join("\n");
    }
    let mut shown = strings(&body["content"]);
    for embed in body["embeds"].as_array().unwrap() {
        shown.extend(strings(&embed["title"]));
        shown.extend(strings(&embed["description"]));
        let footer = strings(&embed["footer"]);
        refuse("discord's footer", &footer.join("\n"), CONTROLS);
    }
    shown.join("\n")
}

/// Every string in a JSON value, keys aside.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(fields) => fields.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}
