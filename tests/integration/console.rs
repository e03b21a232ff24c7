//! The web console's server side end to end: the real daemon with a jsonl source, a
//! `[[users]]` list hashed by `mentiond hash-password`, and reqwest as the browser
//! (cookies and CSRF tokens carried by hand, the live feed read as raw SSE).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};

use crate::api::api_address;
use crate::support::{BIN, Daemon, TICKETS_SOURCE, Workspace, wait_for};

/// `mentiond hash-password` with `password` on stdin (not a terminal: no prompt).
pub(crate) fn hash_password(password: &str) -> String {
    let mut child = Command::new(BIN)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let hash = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    hash
}

/// A workspace whose console has the users ayse and mehmet (passwords `ayse-pw`,
/// `mehmet-pw`), the shared token `console-t0ken`, three login attempts, and
/// `extra` appended.
fn console_workspace(extra: &str) -> Workspace {
    let ayse = hash_password("ayse-pw");
    let mehmet = hash_password("mehmet-pw");
    Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"api-t0ken-secret\"\n\n\
         [console]\ntoken = \"console-t0ken\"\nlogin_attempts = 3\nreports_dir = \"{{dir}}/reports\"\n\n\
         [[users]]\nname = \"ayse\"\npassword_hash = \"{ayse}\"\ndisplay_name = \"Ayşe Yılmaz\"\nteam = \"turkcell-care\"\n\n\
         [[users]]\nname = \"mehmet\"\npassword_hash = \"{mehmet}\"\n{extra}"
    ))
}

/// A logged-in browser: its session cookie and CSRF token.
pub(crate) struct Browser {
    base: String,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

/// The value of cookie `name` among the `Set-Cookie` headers, with its attributes.
fn set_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
}

/// The cookie's `name=value` part.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// Fetches the login form's CSRF token and cookie, then posts `form` to `/login`.
pub(crate) async fn post_login(
    base: &str,
    form: &[(&str, &str)],
    with_csrf: bool,
) -> reqwest::Response {
    let client = reqwest::Client::new();
    let token = client
        .get(format!("{base}/console/api/login-csrf"))
        .send()
        .await
        .unwrap();
    let login_cookie = cookie_pair(set_cookie(token.headers(), "mentiond_login_csrf").unwrap());
    let body: Value = token.json().await.unwrap();
    let csrf = body["csrf"].as_str().unwrap().to_string();
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    if with_csrf {
        fields.push(("csrf", &csrf));
    }
    client
        .post(format!("{base}/login"))
        .header("cookie", login_cookie)
        .header("accept", "application/json")
        .form(&fields)
        .send()
        .await
        .unwrap()
}

impl Browser {
    pub(crate) async fn login(base: &str, form: &[(&str, &str)]) -> Browser {
        let response = post_login(base, form, true).await;
        assert_eq!(response.status(), 200, "login {form:?}");
        let cookie = cookie_pair(set_cookie(response.headers(), "mentiond_session").unwrap());
        let body: Value = response.json().await.unwrap();
        Browser {
            base: base.to_string(),
            client: reqwest::Client::new(),
            cookie,
            csrf: body["csrf"].as_str().unwrap().to_string(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    /// A POST (or PUT) with a JSON body, with the CSRF token when `csrf`.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        csrf: bool,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("accept", "application/json")
            .json(&body);
        if csrf {
            request = request.header("x-csrf-token", &self.csrf);
        }
        request.send().await.unwrap()
    }

    /// `POST /console/api/hits/{hit}/{action}`, with the CSRF token when `csrf`.
    async fn act(&self, hit: i64, action: &str, csrf: bool) -> reqwest::StatusCode {
        let path = format!("/console/api/hits/{hit}/{action}");
        self.send(reqwest::Method::POST, &path, json!({}), csrf)
            .await
            .status()
    }

    /// Opens the live feed, resuming after `last_event_id` when given.
    pub(crate) async fn events(&self, last_event_id: Option<i64>) -> Feed {
        let mut request = self
            .client
            .get(format!("{}/console/events", self.base))
            .header("cookie", &self.cookie);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Feed {
            body: response,
            buffer: Vec::new(),
        }
    }
}

/// One server-sent event.
#[derive(Debug)]
pub(crate) struct SseEvent {
    id: i64,
    pub(crate) kind: String,
    data: Value,
}

/// A live feed being read.
pub(crate) struct Feed {
    body: reqwest::Response,
    buffer: Vec<u8>,
}

impl Feed {
    /// Whether the server ends the feed within `limit`: its events are read and
    /// dropped until the body ends (true) or the time is up (false).
    pub(crate) async fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            match tokio::time::timeout(left, self.body.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    /// The next event within `limit` (keep-alive comments skipped), or `None`.
    pub(crate) async fn next(&mut self, limit: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(block).expect("UTF-8 events");
                let (mut id, mut kind, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = value.trim().parse().ok();
                    } else if let Some(value) = line.strip_prefix("event:") {
                        kind = value.trim().to_string();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.strip_prefix(' ').unwrap_or(value));
                    }
                }
                if let Some(id) = id {
                    return Some(SseEvent {
                        id,
                        kind,
                        data: serde_json::from_str(&data).unwrap(),
                    });
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.body.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.extend_from_slice(&chunk),
                _ => return None,
            }
        }
    }
}

pub(crate) fn ticket(id: &str, text: &str) -> String {
    json!({
        "source": "x", "id": id, "created_at": "2026-11-21T08:00:00Z", "text": text,
        "author": {"id": format!("u-{id}"), "handle": "@musteri", "name": "Müşteri", "followers": 1200},
        "lang": "tr",
    })
    .to_string()
}

pub(crate) fn start(workspace: &Workspace) -> (Daemon, String) {
    let daemon = workspace.start();
    let mut address = None;
    wait_for("the api listening", Duration::from_secs(20), || {
        let log = daemon.log_text();
        address = log.contains("api listening").then(|| api_address(&log));
        address.is_some()
    });
    let address = address.unwrap();
    (daemon, format!("http://{address}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn login_is_required_limited_and_csrf_protected_with_strict_cookies_and_headers() {
    let workspace = console_workspace("");
    std::fs::create_dir_all(workspace.path("reports")).unwrap();
    std::fs::write(workspace.path("reports/2026-11-25.html"), "<p>rapor</p>").unwrap();
    std::fs::write(workspace.path("reports/notes.txt"), "not a report").unwrap();
    let (daemon, base) = start(&workspace);
    let client = reqwest::Client::new();

    // Without a session: 401 JSON for the API, the feed and the reports.
    for path in [
        "/console/api/me",
        "/console/events",
        "/console/api/columns",
        "/reports/2026-11-25.html",
    ] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "login required");
    }
    // A login without the form's double-submit token is refused.
    let forged = post_login(&base, &[("name", "ayse"), ("password", "ayse-pw")], false).await;
    assert_eq!(forged.status(), 403);

    let ayse = Browser::login(&base, &[("name", "ayse"), ("password", "ayse-pw")]).await;
    let response = post_login(
        &base,
        &[("name", "mehmet"), ("password", "mehmet-pw")],
        true,
    )
    .await;
    let cookie = set_cookie(response.headers(), "mentiond_session")
        .unwrap()
        .to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let me = ayse.get("/console/api/me").await;
    let headers = me.headers().clone();
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"], "ayse");
    assert_eq!(me["display_name"], "Ayşe Yılmaz");
    assert_eq!(me["csrf"], ayse.csrf.as_str());

    // A state change without the CSRF token is refused, with it accepted.
    let lang = json!({"lang": "tr"});
    let refused = ayse
        .send(
            reqwest::Method::PUT,
            "/console/api/me/lang",
            lang.clone(),
            false,
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(ayse.get_json("/console/api/me").await["lang"], "en");
    let accepted = ayse
        .send(reqwest::Method::PUT, "/console/api/me/lang", lang, true)
        .await;
    assert_eq!(accepted.status(), 200);
    assert_eq!(ayse.get_json("/console/api/me").await["lang"], "tr");

    // The shared token logs in too.
    let by_token = Browser::login(&base, &[("token", "console-t0ken")]).await;
    assert_eq!(by_token.get_json("/console/api/me").await["user"], "token");

    // Reports: listed, served with their own CSP, no traversal.
    let reports = ayse.get_json("/console/api/reports").await;
    assert_eq!(
        reports,
        json!([{"file": "2026-11-25.html", "date": "2026-11-25", "period": "day", "format": "html", "href": "/reports/2026-11-25.html"}])
    );
    let page = ayse.get("/reports/2026-11-25.html").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'; style-src 'unsafe-inline'")
    );
    assert_eq!(page.text().await.unwrap(), "<p>rapor</p>");
    for bad in [
        "/reports/..%2Fmentiond.toml",
        "/reports/..%2F..%2Fetc%2Fpasswd",
        "/reports/notes.txt",
        "/reports/%2e%2e%2fmentiond.toml",
    ] {
        assert_eq!(ayse.get(bad).await.status(), 404, "{bad}");
    }

    // Wrong passwords: 401 each, then 429 for the name and the address, even with
    // the right password.
    for _ in 0..3 {
        let wrong = post_login(&base, &[("name", "mehmet"), ("password", "guess")], true).await;
        assert_eq!(wrong.status(), 401);
    }
    let limited = post_login(
        &base,
        &[("name", "mehmet"), ("password", "mehmet-pw")],
        true,
    )
    .await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));

    // Logout ends the session at once.
    let logout = ayse
        .send(reqwest::Method::POST, "/logout", json!({}), true)
        .await;
    let status = logout.status();
    assert_eq!(status, 200, "{:?}", logout.text().await);
    assert_eq!(ayse.get("/console/api/me").await.status(), 401);

    let log = daemon.log_text();
    daemon.stop();
    for secret in [
        "ayse-pw",
        "mehmet-pw",
        "console-t0ken",
        &ayse.csrf,
        ayse.cookie.trim_start_matches("mentiond_session="),
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_feed_pushes_hits_resumes_exactly_and_carries_colleagues_actions() {
    let workspace = console_workspace("");
    let (daemon, base) = start(&workspace);
    let ayse = Browser::login(&base, &[("name", "ayse"), ("password", "ayse-pw")]).await;
    let mehmet = Browser::login(&base, &[("name", "mehmet"), ("password", "mehmet-pw")]).await;

    let mut feed = ayse.events(None).await;
    workspace.append_tickets(&[&ticket("t1", "Turkcell faturam yine yanlış")]);
    let first = feed
        .next(Duration::from_secs(20))
        .await
        .expect("a hit event");
    assert_eq!(first.kind, "hit");
    assert_eq!(first.data["brand"], "Turkcell");
    assert_eq!(first.data["text"], "Turkcell faturam yine yanlış");
    assert_eq!(first.data["author"]["followers"], 1200);
    assert_eq!(
        first.data["platform"], "x",
        "a source not configured by that name"
    );
    assert_eq!(first.data["matches"][0]["start"], 0);
    assert_eq!(first.data["matches"][0]["end"], 8);
    let hit_id = first.data["id"].as_i64().unwrap();

    // Disconnected, two hits arrive; the reconnect replays exactly those.
    drop(feed);
    workspace.append_tickets(&[
        &ticket("t2", "THY uçuşum iptal oldu"),
        &ticket("t3", "turkcel çekmiyor"),
    ]);
    wait_for("three hits", Duration::from_secs(20), || {
        workspace.hits().len() == 3
    });
    let mut feed = ayse.events(Some(first.id)).await;
    let mut replayed = Vec::new();
    while let Some(event) = feed.next(Duration::from_secs(2)).await {
        replayed.push(event);
    }
    let texts: Vec<&str> = replayed
        .iter()
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["THY uçuşum iptal oldu", "turkcel çekmiyor"],
        "{replayed:?}"
    );
    assert!(replayed.iter().all(|e| e.kind == "hit" && e.id > first.id));
    assert!(replayed[0].id < replayed[1].id);

    // A colleague's ack and take reach this stream as updates, and the database.
    let refused = mehmet.act(hit_id, "take", false).await;
    assert_eq!(refused, 403);
    let took = mehmet.act(hit_id, "take", true).await;
    assert_eq!(took, 200);
    let update = feed
        .next(Duration::from_secs(5))
        .await
        .expect("a take update");
    assert_eq!(
        (update.kind.as_str(), update.data["id"].as_i64()),
        ("update", Some(hit_id))
    );
    assert_eq!(update.data["taken_by"], "mehmet");
    let busy = ayse.act(hit_id, "take", true).await;
    assert_eq!(busy, 409);
    let acked = mehmet.act(hit_id, "ack", true).await;
    assert_eq!(acked, 200);
    let update = feed
        .next(Duration::from_secs(5))
        .await
        .expect("an ack update");
    assert_eq!(update.data["acked_by"], "mehmet");
    assert_eq!(update.data["status"], "acked");
    assert!(update.data["first_response_secs"].as_i64().unwrap() > 0);
    let stored = workspace
        .hits()
        .into_iter()
        .find(|hit| hit["id"] == hit_id)
        .unwrap();
    assert_eq!(stored["acked_by"], "mehmet");

    // Bulk acknowledgement.
    let ids: Vec<i64> = replayed
        .iter()
        .map(|e| e.data["id"].as_i64().unwrap())
        .collect();
    let bulk = mehmet
        .send(
            reqwest::Method::POST,
            "/console/api/hits/ack",
            json!({"ids": [ids[0], ids[1], hit_id, 999_999]}),
            true,
        )
        .await;
    let bulk: Value = bulk.json().await.unwrap();
    assert_eq!(
        bulk,
        json!({"acked": [ids[0], ids[1]], "already": [hit_id], "missing": [999_999]})
    );
    assert!(
        workspace
            .hits()
            .iter()
            .all(|hit| hit["acked_by"] == "mehmet")
    );

    // Columns: defaults from the rules, then kept per user.
    let defaults = ayse.get_json("/console/api/columns").await;
    let ids_of = |columns: &Value| -> Vec<String> {
        columns
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids_of(&defaults),
        [
            "brand:Turkcell",
            "brand:THY",
            "team:thy-care",
            "team:turkcell-care",
            "open",
            "escalated",
            "competitors"
        ]
    );
    let mine = json!([
        {"id": "angry", "kind": "brand", "key": "Turkcell", "title": "Kızgın", "filter": {"sentiment": "negative", "min_followers": 100}},
        {"id": "open", "kind": "open", "title": "Açık"},
    ]);
    let saved = ayse
        .send(
            reqwest::Method::PUT,
            "/console/api/columns",
            mine.clone(),
            true,
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(
        ids_of(&ayse.get_json("/console/api/columns").await),
        ["angry", "open"]
    );
    assert_eq!(
        ids_of(&mehmet.get_json("/console/api/columns").await),
        ids_of(&defaults)
    );
    let invalid = ayse
        .send(
            reqwest::Method::PUT,
            "/console/api/columns",
            json!([{"id": "x", "kind": "brand", "title": "x"}]),
            true,
        )
        .await;
    assert_eq!(invalid.status(), 400);
    let page = ayse.get_json("/console/api/hits?kind=brand&key=THY").await;
    assert_eq!(page["hits"].as_array().unwrap().len(), 1);
    let search = ayse.get_json("/console/api/search?q=iptal").await;
    assert_eq!(search["hits"][0]["brand"], "THY");
    let author = ayse.get_json("/console/api/authors/x/u-t1").await;
    assert_eq!(author["hits"][0]["id"], hit_id);
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_post_arrives_intact_in_json_and_hostile_names_are_escaped_in_logs() {
    let workspace = console_workspace("");
    let (daemon, base) = start(&workspace);
    let ayse = Browser::login(&base, &[("name", "ayse"), ("password", "ayse-pw")]).await;
    let mut feed = ayse.events(None).await;
    let hostile = format!(
        "Turkcell <script>alert(1)</script> <img src=x onerror=alert(2)> \u{202E}gnp.exe {}",
        "😡".repeat(10_000)
    );
    workspace.append_tickets(&[&ticket("h1", &hostile)]);
    let event = feed
        .next(Duration::from_secs(20))
        .await
        .expect("the hostile hit");
    assert_eq!(event.data["text"].as_str().unwrap(), hostile);
    let page = ayse.get("/console/api/hits?kind=open").await;
    assert_eq!(page.headers()["content-type"], "application/json");
    let page: Value = page.json().await.unwrap();
    assert_eq!(page["hits"][0]["text"].as_str().unwrap(), hostile);

    let refused = post_login(
        &base,
        &[("name", "<script>\u{202E}x"), ("password", "p")],
        true,
    )
    .await;
    assert_eq!(refused.status(), 401);
    let log = daemon.log_text();
    daemon.stop();
    assert!(log.contains("console login refused"), "{log}");
    assert!(
        !log.contains('\u{202E}'),
        "a bidi override reached the log raw"
    );
    assert!(
        log.contains("<script>\\u{202e}x") || log.contains("<script>\\u{202E}x"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_is_served_only_with_the_api_and_when_enabled() {
    let hash = hash_password("pw");
    let users = format!("[[users]]\nname = \"ayse\"\npassword_hash = \"{hash}\"\n");
    let disabled = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"api-t0ken-secret\"\n[console]\nenabled = false\n{users}"
    ));
    let (daemon, base) = start(&disabled);
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{base}/console/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    daemon.stop();

    let no_api = Workspace::new(&format!("{TICKETS_SOURCE}\n{users}"));
    no_api.append_tickets(&[&ticket("n1", "Turkcell")]);
    let daemon = no_api.start();
    wait_for("a hit", Duration::from_secs(20), || {
        no_api.hits().len() == 1
    });
    let log = daemon.log_text();
    daemon.stop();
    assert!(
        !log.contains("api listening") && !log.contains("console served"),
        "{log}"
    );
}
