//! Reading hits back: `GET /api/v1/hits` and `GET /api/v1/hits/{id}` on the real
//! daemon (token, filters, pages, live polling, search with and without Turkish
//! letters, 400s naming the parameter), and `mentiond hits` (search, filters, CSV and
//! JSON export parsed back, CSV formula injection neutralised).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::api::api_address;
use crate::support::{TICKETS_SOURCE, Workspace, wait_for};

const TOKEN: &str = "hits-t0ken-secret";

/// The posts both tests store: two authors posting twice on `x`, one on `mail`.
const TICKETS: &[&str] = &[
    r#"{"source":"x","id":"t1","author":{"handle":"ayse"},"text":"Turkcell'e bir türlü ulaşamıyorum"}"#,
    r#"{"source":"x","id":"t2","author":{"handle":"ali"},"text":"THY'nin uçağı yine rötar yaptı"}"#,
    r#"{"source":"mail","id":"t3","author":{"handle":"ayse"},"text":"=HYPERLINK(\"http://evil.example\",\"Turkcell\") faturam"}"#,
    r#"{"source":"x","id":"t4","author":{"handle":"ayse"},"text":"- Turkcell\nhâlâ çekmiyor, \"yine\""}"#,
    r#"{"source":"x","id":"t5","author":{"handle":"veli"},"text":"İstanbul'da THY bagajımı kaybetti"}"#,
];

fn workspace(api: bool) -> Workspace {
    let api = if api {
        format!("[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n")
    } else {
        String::new()
    };
    Workspace::new(&format!(
        "{TICKETS_SOURCE}\n{api}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ))
}

fn wait_for_hits(workspace: &Workspace, n: usize) {
    wait_for(&format!("{n} hits"), Duration::from_secs(20), || {
        workspace.hits().len() == n
    });
}

/// `GET path` with `query`, with `token` as bearer when given: status and JSON body.
async fn get(
    address: &str,
    path: &str,
    query: &[(&str, &str)],
    token: Option<&str>,
) -> (StatusCode, Value) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut request = client.get(format!("http://{address}{path}")).query(query);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The post ids of a page's hits, in order.
fn post_ids(page: &Value) -> Vec<String> {
    page["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {page}"))
        .iter()
        .map(|hit| hit["post"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hits_api_needs_the_token_and_filters_pages_and_searches() {
    let workspace = workspace(true);
    workspace.append_tickets(TICKETS);
    let daemon = workspace.start();
    wait_for_hits(&workspace, 5);
    let address = api_address(&daemon.log_text());
    let hits = |query: &'static [(&'static str, &'static str)]| {
        let address = address.clone();
        async move {
            let (status, body) = get(&address, "/api/v1/hits", query, Some(TOKEN)).await;
            assert_eq!(status, StatusCode::OK, "{query:?}: {body}");
            body
        }
    };

    for path in ["/api/v1/hits", "/api/v1/hits/1"] {
        for token in [None, Some("hits-t0ken-secreT"), Some("")] {
            let (status, body) = get(&address, path, &[], token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {token:?}");
            assert!(body.get("hits").is_none() && body.get("hit").is_none());
        }
    }

    let all = hits(&[]).await;
    assert_eq!(
        post_ids(&all),
        ["t5", "t4", "t3", "t2", "t1"],
        "newest first"
    );
    assert!(all.get("next").is_none(), "one page holds them all");
    let t2 = &all["hits"][3];
    assert_eq!(t2["brand"], "THY");
    assert_eq!(t2["topic"], false);
    assert_eq!(t2["team"], "thy-care");
    assert_eq!(t2["severity"], "normal");
    assert_eq!(t2["competitor"], false);
    assert!(t2["sentiment"].is_string());
    assert_eq!(t2["status"], "open");
    assert!(t2["acked_at"].is_null() && t2["escalated_at"].is_null());
    assert!(t2["detected_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(t2["terms"][0]["term"], "THY");
    assert_eq!(t2["post"]["source"], "x");
    assert_eq!(t2["post"]["text"], "THY'nin uçağı yine rötar yaptı");
    assert_eq!(t2["post"]["author"]["handle"], "ali");

    // Filters.
    assert_eq!(post_ids(&hits(&[("brand", "THY")]).await), ["t5", "t2"]);
    assert_eq!(
        post_ids(&hits(&[("team", "turkcell-care")]).await),
        ["t4", "t3", "t1"]
    );
    assert_eq!(post_ids(&hits(&[("source", "mail")]).await), ["t3"]);
    assert_eq!(
        post_ids(&hits(&[("topic", "THY")]).await),
        Vec::<String>::new()
    );
    assert_eq!(
        post_ids(&hits(&[("since", "2000-01-01"), ("until", "")]).await).len(),
        5
    );
    assert_eq!(post_ids(&hits(&[("since", "1h")]).await).len(), 5);
    assert!(post_ids(&hits(&[("until", "2000-01-01T00:00:00Z")]).await).is_empty());
    let t1_id = all["hits"][4]["id"].as_i64().unwrap();
    let acked = reqwest::Client::new()
        .post(format!("http://{address}/api/v1/hits/{t1_id}/ack"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(acked.status(), StatusCode::OK);
    let acked = hits(&[("status", "acked")]).await;
    assert_eq!(post_ids(&acked), ["t1"]);
    assert_eq!(acked["hits"][0]["status"], "acked");
    assert_eq!(acked["hits"][0]["acked_by"], "api");
    assert_eq!(post_ids(&hits(&[("status", "open")]).await).len(), 4);
    assert!(post_ids(&hits(&[("status", "escalated")]).await).is_empty());

    // Pages of two: every hit once, `next` absent on the last page.
    let mut walked = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..5 {
        let mut query = vec![("limit", "2")];
        if let Some(cursor) = &before {
            query.push(("before", cursor.as_str()));
        }
        let (status, page) = get(&address, "/api/v1/hits", &query, Some(TOKEN)).await;
        assert_eq!(status, StatusCode::OK);
        walked.extend(post_ids(&page));
        match page.get("next") {
            Some(next) => before = Some(next.as_str().unwrap().to_string()),
            None => {
                before = None;
                break;
            }
        }
    }
    assert!(before.is_none(), "the walk ended");
    assert_eq!(walked, ["t5", "t4", "t3", "t2", "t1"]);

    // A live column: nothing newer than `latest` until a new post arrives.
    let latest = all["latest"].as_str().unwrap().to_string();
    let (_, quiet) = get(&address, "/api/v1/hits", &[("after", &latest)], Some(TOKEN)).await;
    assert!(post_ids(&quiet).is_empty());
    assert_eq!(quiet["latest"], latest.as_str());
    workspace.append_tickets(&[r#"{"source":"x","id":"t6","text":"Turkcell yeni şikâyet"}"#]);
    wait_for_hits(&workspace, 6);
    let (_, fresh) = get(&address, "/api/v1/hits", &[("after", &latest)], Some(TOKEN)).await;
    assert_eq!(post_ids(&fresh), ["t6"]);
    assert_ne!(fresh["latest"], latest.as_str());

    // Search, with and without Turkish letters; hostile input is only text.
    assert_eq!(post_ids(&hits(&[("q", "ulasamiyorum")]).await), ["t1"]);
    assert_eq!(post_ids(&hits(&[("q", "ULAŞAMIYORUM")]).await), ["t1"]);
    assert_eq!(post_ids(&hits(&[("q", "THYnin")]).await), ["t2"]);
    assert_eq!(post_ids(&hits(&[("q", "thy'nin")]).await), ["t2"]);
    assert_eq!(post_ids(&hits(&[("q", "istanbul")]).await), ["t5"]);
    assert_eq!(
        post_ids(&hits(&[("q", "sikayet"), ("brand", "Turkcell")]).await),
        ["t6"]
    );
    for hostile in [
        r#"NEAR(""#,
        "AND OR *",
        "\"",
        "body:thy",
        "-",
        "thy\" OR \"x",
    ] {
        let (status, body) = get(&address, "/api/v1/hits", &[("q", hostile)], Some(TOKEN)).await;
        assert_eq!(status, StatusCode::OK, "{hostile:?}: {body}");
    }

    // A bad parameter is a 400 that names it.
    for (name, value) in [
        ("since", "yesterday"),
        ("until", "2026-13-01"),
        ("status", "closed"),
        ("limit", "0"),
        ("limit", "501"),
        ("limit", "ten"),
        ("before", "zzz"),
        ("after", "42"),
        ("stauts", "open"),
    ] {
        let (status, body) = get(&address, "/api/v1/hits", &[(name, value)], Some(TOKEN)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}={value}: {body}");
        assert_eq!(body["parameter"], name, "{body}");
        assert!(body["error"].is_string());
    }
    let (status, page) = get(&address, "/api/v1/hits", &[("limit", "500")], Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(post_ids(&page).len(), 6);

    // One hit with its author's earlier hits: same author on the same source only.
    let t4_id = all["hits"][1]["id"].as_i64().unwrap();
    let (status, detail) = get(&address, &format!("/api/v1/hits/{t4_id}"), &[], Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["hit"]["post"]["id"], "t4");
    assert_eq!(detail["hit"]["author_earlier_hits"], 1);
    let earlier: Vec<&str> = detail["author_hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["post"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(earlier, ["t1"], "not t3, which came by mail");
    let (status, _) = get(&address, "/api/v1/hits/999999", &[], Some(TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&address, "/api/v1/hits/abc", &[], Some(TOKEN)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["parameter"], "id");

    let log = daemon.log_text();
    daemon.stop();
    assert!(!log.contains(TOKEN));
}

/// Cells of an RFC 4180 document (CRLF or LF line ends).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "unterminated: {text}"
    );
    rows
}

#[test]
fn the_hits_command_searches_filters_and_exports_csv_and_json() {
    let workspace = workspace(false);
    workspace.append_tickets(TICKETS);
    let daemon = workspace.start();
    wait_for_hits(&workspace, 5);
    daemon.stop();
    let json = |args: &[&str]| -> Vec<String> {
        workspace
            .json_lines(&[&["hits"], args].concat())
            .iter()
            .map(|hit| hit["post"]["id"].as_str().unwrap().to_string())
            .collect()
    };

    assert_eq!(
        json(&["--search", "ulasamiyorum", "--format", "json"]),
        ["t1"]
    );
    assert_eq!(
        json(&["--search", "THYnin", "--json"]),
        ["t2"],
        "--json still works"
    );
    assert_eq!(
        json(&["--json", "--search", "istanbul", "--brand", "THY"]),
        ["t5"]
    );
    assert_eq!(json(&["--json", "--team", "thy-care"]), ["t5", "t2"]);
    assert_eq!(json(&["--json", "--source", "mail"]), ["t3"]);
    assert_eq!(json(&["--json", "--since", "24h"]).len(), 5);
    assert_eq!(json(&["--json", "--since", "2000-01-01"]).len(), 5);
    assert!(json(&["--json", "--until", "2000-01-01"]).is_empty());
    assert_eq!(json(&["--json", "--limit", "2"]), ["t5", "t4"]);
    let t2 = &workspace.json_lines(&["hits", "--json", "--search", "thy'nin"])[0];
    let acked = workspace.command(&["ack", &t2["id"].to_string(), "--by", "ayse"]);
    assert!(acked.status.success());
    assert_eq!(json(&["--json", "--acked"]), ["t2"]);
    assert_eq!(json(&["--json", "--open"]).len(), 4);
    assert!(json(&["--json", "--escalated"]).is_empty());

    let output = workspace.command(&["hits", "--format", "csv"]);
    assert!(output.status.success());
    let csv = String::from_utf8(output.stdout).unwrap();
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 6, "a header and every hit: {csv}");
    let header = &rows[0];
    assert!(rows.iter().all(|row| row.len() == header.len()), "{rows:?}");
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row_of = |post: &str| {
        rows.iter()
            .find(|row| row[column("post_id")] == post)
            .unwrap()
    };
    // Formula-like cells stay text; quotes, commas and line breaks survive the trip.
    assert_eq!(
        row_of("t3")[column("text")],
        "'=HYPERLINK(\"http://evil.example\",\"Turkcell\") faturam"
    );
    assert_eq!(
        row_of("t4")[column("text")],
        "'- Turkcell\nhâlâ çekmiyor, \"yine\""
    );
    assert_eq!(row_of("t2")[column("status")], "acked");
    assert_eq!(row_of("t2")[column("acked_by")], "ayse");
    assert_eq!(
        row_of("t1")[column("text")],
        "Turkcell'e bir türlü ulaşamıyorum"
    );
    assert_eq!(row_of("t1")[column("author_handle")], "ayse");
    assert_eq!(row_of("t1")[column("brand")], "Turkcell");
    assert!(
        !csv.lines()
            .any(|line| line.starts_with(['=', '+', '-', '@'])),
        "no line starts a formula: {csv}"
    );
    let one = workspace.command(&["hits", "--format", "csv", "--limit", "1"]);
    assert_eq!(parse_csv(&String::from_utf8(one.stdout).unwrap()).len(), 2);

    let text = String::from_utf8(workspace.command(&["hits", "--search", "rotar"]).stdout).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with('#')).count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("THY'nin uçağı") && text.contains("acknowledged by ayse"),
        "{text}"
    );

    // Usage errors exit 2 and say what is wrong.
    for (args, says) in [
        (&["--open", "--acked"][..], "--acked"),
        (&["--json", "--format", "csv"][..], "--format"),
        (&["--since", "yesterday"][..], "--since"),
    ] {
        let output = workspace.command(&[&["hits"], args].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
