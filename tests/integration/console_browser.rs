//! The web console in a headless browser, driven through WebDriver (`fantoccini`),
//! against the real daemon with a `jsonl` source: login, live cards over SSE, resume
//! after a restart, keyboard actions seen by a second browser, hostile posts rendered
//! as text, CSRF, and the two languages. Screenshots go to
//! `target/test-artifacts/console-*.png` (`console-firefox-*.png` in Firefox).
//!
//! The browser is Chromium (Debian's `chromium` and `chromedriver`) unless
//! `MENTIOND_BROWSER=firefox` picks Firefox (Debian's `firefox-esr` and
//! `geckodriver` from `cargo install geckodriver`). Without the browser or its driver
//! the tests print a loud skip, unless `MENTIOND_BROWSER_TESTS` is set (as `.ci/run`
//! does), which makes that a failure.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::{Daemon, KEYWORDS, TICKETS_SOURCE, Workspace, wait_for_async};

/// Browser processes are heavy on a shared machine: one browser test at a time.
static BROWSERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const WAIT: Duration = Duration::from_secs(20);

/// The console user the tests sign in as, and the password `hash-password` hashed.
const USER: &str = "ayse";
const PASSWORD: &str = "correct horse battery staple";
const SECOND_USER: &str = "mehmet";

/// The browser family the tests drive, from `MENTIOND_BROWSER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Chromium,
    Firefox,
}

impl Kind {
    /// `MENTIOND_BROWSER=firefox` picks Firefox; unset or `chromium` keeps Chromium.
    fn from_env() -> Kind {
        match std::env::var("MENTIOND_BROWSER").as_deref() {
            Err(_) | Ok("" | "chromium" | "chrome") => Kind::Chromium,
            Ok("firefox") => Kind::Firefox,
            Ok(other) => panic!("MENTIOND_BROWSER={other:?}: expected chromium or firefox"),
        }
    }
}

/// A browser binary and its WebDriver server.
struct Browser {
    kind: Kind,
    binary: PathBuf,
    driver: PathBuf,
}

/// The browser `MENTIOND_BROWSER` names and its driver, when both are installed;
/// otherwise a loud skip (or a failure with `MENTIOND_BROWSER_TESTS` set).
fn browser_binaries(test: &str) -> Option<Browser> {
    // The drivers want the browser as a path, not a name to look up.
    let find = |names: &[&str]| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        names.iter().find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
    };
    let kind = Kind::from_env();
    let (binary, driver, install) = match kind {
        Kind::Chromium => (
            find(&["chromium", "chromium-browser"]),
            find(&["chromedriver"]),
            "the Debian packages chromium and chromium-driver",
        ),
        Kind::Firefox => (
            find(&["firefox-esr", "firefox"]),
            find(&["geckodriver"]),
            "the Debian package firefox-esr and `cargo install geckodriver` (on PATH)",
        ),
    };
    match (binary, driver) {
        (Some(binary), Some(driver)) => Some(Browser {
            kind,
            binary,
            driver,
        }),
        _ => {
            assert!(
                std::env::var_os("MENTIOND_BROWSER_TESTS").is_none(),
                "MENTIOND_BROWSER_TESTS is set but the {kind:?} browser or its driver is \
                 missing: install {install}"
            );
            eprintln!(
                "\n*** SKIPPED {test} in {kind:?}: install {install} \
                 (or set MENTIOND_BROWSER_TESTS=1 to make this a failure) ***\n"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// WebDriver servers on free loopback ports, killed by their pids on drop.
/// Chromium shares one `chromedriver` between sessions; `geckodriver` runs one
/// session at a time, so Firefox gets one driver per session.
struct Driver {
    browser: Browser,
    children: std::sync::Mutex<Vec<Child>>,
    url: Option<String>,
    profiles: tempfile::TempDir,
}

impl Driver {
    async fn start(browser: Browser) -> Driver {
        let mut driver = Driver {
            browser,
            children: std::sync::Mutex::new(Vec::new()),
            url: None,
            profiles: tempfile::tempdir().expect("temp dir"),
        };
        if driver.browser.kind == Kind::Chromium {
            driver.url = Some(driver.spawn().await);
        }
        driver
    }

    /// Starts one more driver process and waits for its `/status`; returns its URL.
    async fn spawn(&self) -> String {
        let port = free_port();
        let mut command = Command::new(&self.browser.driver);
        match self.browser.kind {
            Kind::Chromium => command
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1"),
            Kind::Firefox => command
                .arg(format!("--port={port}"))
                .arg("--host=127.0.0.1")
                // Marionette on a port of its own choosing, so drivers never collide.
                .arg("--marionette-port=0"),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the WebDriver server");
        self.children.lock().expect("driver list").push(child);
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        wait_for_async("the WebDriver server's /status", WAIT, || async {
            reqwest::get(&status)
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        url
    }

    /// A new browser session with its own profile directory.
    async fn session(&self, lang: &str) -> Client {
        let profile = tempfile::Builder::new()
            .tempdir_in(self.profiles.path())
            .expect("profile dir");
        let profile = profile.keep();
        let mut caps = serde_json::Map::new();
        let url = match self.browser.kind {
            Kind::Chromium => {
                caps.insert("browserName".into(), json!("chrome"));
                caps.insert(
                    "goog:chromeOptions".into(),
                    json!({
                        "binary": self.browser.binary,
                        "args": [
                            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--disable-dev-shm-usage", "--window-size=1500,900",
                            format!("--lang={lang}"),
                            format!("--user-data-dir={}", profile.display()),
                        ],
                        "prefs": { "intl.accept_languages": lang },
                    }),
                );
                caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
                self.url.clone().expect("chromedriver started")
            }
            Kind::Firefox => {
                caps.insert("browserName".into(), json!("firefox"));
                caps.insert(
                    "moz:firefoxOptions".into(),
                    json!({
                        "binary": self.browser.binary,
                        "args": [
                            "-headless", "--width=1500", "--height=900",
                            "-profile", profile,
                        ],
                        "prefs": {
                            "intl.accept_languages": lang,
                            "browser.shell.checkDefaultBrowser": false,
                            "app.update.enabled": false,
                            "datareporting.policy.dataSubmissionEnabled": false,
                            "toolkit.telemetry.enabled": false,
                        },
                    }),
                );
                self.spawn().await
            }
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let children = self
            .children
            .get_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Chromedriver's browser log (`goog:loggingPrefs`), entries since the last read.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(r#"{"type":"browser"}"#.into()),
        )
    }
}

/// What went wrong in the page: what `console.js` collected (`error`,
/// `unhandledrejection` and `securitypolicyviolation` events, `console.error` and
/// `console.warn` calls), plus, in Chromium, browser console messages at level SEVERE
/// or WARNING (`goog:loggingPrefs`; Firefox's driver has no browser log).
async fn console_problems(client: &Client) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    if Kind::from_env() == Kind::Chromium {
        match client.issue_cmd(BrowserLog).await {
            Ok(Value::Array(entries)) => problems.extend(
                entries
                    .iter()
                    .filter(|e| matches!(e["level"].as_str(), Some("SEVERE" | "WARNING")))
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string()),
            ),
            other => problems.push(format!("browser log unreadable: {other:?}")),
        }
    }
    // The page's own collector is the only check in Firefox: a page without it (the
    // script failed to load) is a problem, not a clean page.
    match client
        .execute("return window.__consoleErrors;", vec![])
        .await
    {
        Ok(Value::Array(errors)) => problems.extend(errors.iter().map(|e| e.to_string())),
        other => problems.push(format!("console.js collector unreadable: {other:?}")),
    }
    problems
}

async fn wait_for_js(client: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = client.execute(script, vec![]).await.expect("script runs");
        if !value.is_null() && value != json!(false) {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `target/test-artifacts/console-{name}.png`, or `console-firefox-{name}.png`.
fn save_screenshot(name: &str, png: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    let name = match Kind::from_env() {
        Kind::Chromium => format!("console-{name}.png"),
        Kind::Firefox => format!("console-firefox-{name}.png"),
    };
    std::fs::write(dir.join(name), png).expect("writing screenshot");
}

/// The banks the console tests watch beside the harness's Turkcell and THY.
const BANKS: &str = r##"
[[brand]]
name = "DenizBank"
team = "banka-care"
terms = ["DenizBank"]

[[brand]]
name = "Yapı Kredi"
team = "banka-care"
terms = ["Yapı Kredi"]
"##;

/// One line of the jsonl source.
fn post(id: &str, source: &str, handle: &str, name: &str, followers: u64, text: &str) -> String {
    json!({
        "source": source,
        "id": id,
        "url": format!("https://example.com/{source}/{id}"),
        "author": { "handle": handle, "name": name, "followers": followers },
        "text": text,
        "lang": "tr",
    })
    .to_string()
}

/// Real-looking Turkish complaints for the screenshots.
fn turkish_posts() -> Vec<String> {
    vec![
        post(
            "t1",
            "x",
            "ayseyilmaz",
            "Ayşe Yılmaz",
            1240,
            "Turkcell iki gündür Kadıköy'de çekmiyor, müşteri hizmetlerine de ulaşamıyorum. Faturayı tam kesiyorsunuz ama!",
        ),
        post(
            "t2",
            "mastodon",
            "mehmetdemir",
            "Mehmet Demir",
            310,
            "THY İstanbul–Ankara seferi 3 saat rötar yaptı, bagajım hâlâ gelmedi. Kimse bilgi vermiyor.",
        ),
        post(
            "t3",
            "x",
            "zeynepkaya",
            "Zeynep Kaya",
            8650,
            "DenizBank mobil uygulaması sabahtan beri açılmıyor, maaş günü EFT yapamıyorum.",
        ),
        post(
            "t4",
            "bluesky",
            "emre.celik",
            "Emre Çelik",
            95,
            "Yapı Kredi kartımdan iki kez aynı ödeme çekilmiş, itiraz ettim 10 gündür dönüş yok.",
        ),
        post(
            "t5",
            "reddit",
            "hakanoz",
            "Hakan Öz",
            42,
            "Türk Hava Yolları check-in ekranı hata veriyor, uçuşa 2 saat var.",
        ),
        post(
            "t6",
            "feed",
            "haber",
            "Ekonomi Haber",
            120000,
            "Turkcell yeni tarifelerini açıkladı: faturalı hatlarda yüzde 30 zam.",
        ),
    ]
}

/// A daemon with the console on a fixed loopback port (so a restart keeps the URL),
/// the jsonl source and the four brands.
struct Console {
    workspace: Workspace,
    daemon: Option<Daemon>,
    base: String,
}

impl Console {
    fn new(posts: &[String]) -> Console {
        let port = free_port();
        let workspace = Workspace::new(&console_config(port));
        std::fs::write(
            workspace.path("keywords.toml"),
            format!("{KEYWORDS}{BANKS}"),
        )
        .unwrap();
        let lines: Vec<&str> = posts.iter().map(String::as_str).collect();
        workspace.append_tickets(&lines);
        let daemon = workspace.start();
        Console {
            workspace,
            daemon: Some(daemon),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn append(&self, posts: &[String]) {
        let lines: Vec<&str> = posts.iter().map(String::as_str).collect();
        self.workspace.append_tickets(&lines);
    }

    /// The hit ids stored for a post id, read with `mentiond hits --format json`.
    fn hit_ids(&self, post_id: &str) -> Vec<i64> {
        self.workspace
            .hits()
            .iter()
            .filter(|h| h["post"]["id"] == post_id || h["post_id"] == post_id)
            .filter_map(|h| h["id"].as_i64())
            .collect()
    }

    /// Who acknowledged a hit, read straight from the database file.
    fn acked_by(&self, id: i64) -> Option<String> {
        self.read("SELECT acked_by FROM hits WHERE id = ?1", id)
    }

    /// Who holds a hit (`take`), read straight from the database file.
    fn taken_by(&self, id: i64) -> Option<String> {
        self.read("SELECT taken_by FROM hit_takes WHERE hit = ?1", id)
    }

    fn read(&self, sql: &str, id: i64) -> Option<String> {
        let db = rusqlite::Connection::open(self.workspace.path("mentiond.db")).unwrap();
        let mut statement = db.prepare(sql).unwrap();
        let mut rows = statement.query([id]).unwrap();
        rows.next().unwrap().and_then(|row| row.get(0).unwrap())
    }
}

/// Signs in through the login form.
async fn sign_in(client: &Client, console: &Console, user: &str) {
    client.goto(&console.url("/login")).await.unwrap();
    let form = client.form(Locator::Id("login-form")).await.unwrap();
    form.set_by_name("name", user).await.unwrap();
    form.set_by_name("password", PASSWORD).await.unwrap();
    form.submit().await.unwrap();
    wait_for_js(
        client,
        "the console after sign-in",
        "return location.pathname === '/' && document.querySelector('#deck') !== null;",
    )
    .await;
}

/// The number of cards for a hit id in the whole page (every column).
fn cards_of(id: i64) -> String {
    format!("return document.querySelectorAll('.card[data-id=\"{id}\"]').length > 0;")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_needs_a_login_then_live_cards_and_keys_reach_the_database_and_a_second_browser()
 {
    let Some(browser) = browser_binaries("console: login, live cards, keys") else {
        return;
    };
    let _one = BROWSERS.lock().await;
    let console = Console::new(&turkish_posts());
    let seeded = console.hit_ids("t1");
    assert_eq!(
        seeded.len(),
        1,
        "the seeded posts are stored before the daemon reports ready"
    );
    let driver = Driver::start(browser).await;
    let first = driver.session("tr-TR").await;

    // Login required: the console redirects to the login page.
    first.goto(&console.url("/")).await.unwrap();
    let at = first.current_url().await.unwrap();
    assert_eq!(at.path(), "/login", "{at}");
    sign_in(&first, &console, USER).await;
    wait_for_js(&first, "the columns with their cards", &cards_of(seeded[0])).await;
    let columns = first.find_all(Locator::Css(".column")).await.unwrap();
    assert!(columns.len() >= 4, "default columns: {}", columns.len());

    // A second browser, another user, on the same hits.
    let second = driver.session("tr-TR").await;
    sign_in(&second, &console, SECOND_USER).await;
    wait_for_js(&second, "the second browser's cards", &cards_of(seeded[0])).await;

    // A post appended to the file appears without a reload, within 2 s.
    console.append(&[post(
        "live1",
        "x",
        "selin",
        "Selin Aydın",
        530,
        "Turkcell faturama habersiz paket eklemiş, iptal ettirin lütfen",
    )]);
    let appended = Instant::now();
    let script = "return [...document.querySelectorAll('.card .card-text')].some(n => n.textContent.includes('habersiz paket'));";
    loop {
        if first.execute(script, vec![]).await.unwrap() == json!(true) {
            break;
        }
        assert!(
            appended.elapsed() < Duration::from_secs(2),
            "the live card did not appear within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let live = console.hit_ids("live1");
    assert_eq!(live.len(), 1);
    let live = live[0];
    let unread = first.execute("return [...document.querySelectorAll('.unread')].some(n => !n.hidden && /^1 /.test(n.textContent));", vec![]).await.unwrap();
    assert_eq!(
        unread,
        json!(true),
        "the column counts the new card as unread"
    );

    // Keyboard: select the live card, `t` takes it, `a` acknowledges it.
    first
        .execute(
            &format!("document.querySelector('.card[data-id=\"{live}\"]').click();"),
            vec![],
        )
        .await
        .unwrap();
    let body = first.find(Locator::Css("body")).await.unwrap();
    body.send_keys("t").await.unwrap();
    let db = &console;
    wait_for_async("taken in the database", WAIT, || async {
        db.taken_by(live).as_deref() == Some(USER)
    })
    .await;
    wait_for_js(&second, "the take shown live in the second browser", &format!(
        "return [...document.querySelectorAll('.card[data-id=\"{live}\"] .taken-by')].some(n => n.textContent === '{USER}');"
    )).await;
    body.send_keys("a").await.unwrap();
    wait_for_async("acknowledged in the database", WAIT, || async {
        db.acked_by(live).as_deref() == Some(USER)
    })
    .await;
    wait_for_js(
        &second,
        "the acknowledgement shown live in the second browser",
        &format!(
            "return document.querySelector('.card[data-id=\"{live}\"].acked .acked-by') !== null;"
        ),
    )
    .await;

    // `j` moves the selection to the next card of the same column.
    body.send_keys("j").await.unwrap();
    let moved = first.execute(&format!(
        "const s = document.querySelector('.card.selected'); return s !== null && s.dataset.id !== '{live}';"
    ), vec![]).await.unwrap();
    assert_eq!(moved, json!(true));

    // `x` marks cards for bulk, `A` acknowledges every marked one.
    body.send_keys("x").await.unwrap();
    body.send_keys("j").await.unwrap();
    body.send_keys("x").await.unwrap();
    let marked: Vec<String> = serde_json::from_value(
        first
            .execute(
                "return [...document.querySelectorAll('.card.marked')].map(n => n.dataset.id);",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(marked.len(), 2, "{marked:?}");
    body.send_keys("A").await.unwrap();
    for id in &marked {
        let id: i64 = id.parse().unwrap();
        wait_for_async("bulk acknowledgement in the database", WAIT, || async {
            db.acked_by(id).as_deref() == Some(USER)
        })
        .await;
    }

    // The matched term is marked, and its title explains the match.
    let explained = first
        .execute(
            &format!("return document.querySelector('.card[data-id=\"{live}\"] mark').title;"),
            vec![],
        )
        .await
        .unwrap();
    let explained = explained.as_str().unwrap_or_default();
    assert!(
        explained.contains("Turkcell") && explained.contains("exact"),
        "{explained}"
    );

    save_screenshot("tr", &first.screenshot().await.unwrap());
    assert_eq!(console_problems(&first).await, Vec::<String>::new());
    assert_eq!(console_problems(&second).await, Vec::<String>::new());
    first.close().await.unwrap();
    second.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn hits_stored_while_the_stream_was_cut_arrive_on_reconnect_without_duplicates() {
    let Some(browser) = browser_binaries("console: resume after a restart") else {
        return;
    };
    let _one = BROWSERS.lock().await;
    let mut console = Console::new(&turkish_posts()[..3]);
    let driver = Driver::start(browser).await;
    let client = driver.session("tr-TR").await;
    sign_in(&client, &console, USER).await;
    let seeded = console.hit_ids("t1")[0];
    wait_for_js(&client, "the first cards", &cards_of(seeded)).await;
    let before: i64 = serde_json::from_value(
        client
            .execute("return document.querySelectorAll('.card').length;", vec![])
            .await
            .unwrap(),
    )
    .unwrap();

    // The daemon stops (the stream is cut), posts arrive meanwhile, it starts again.
    console.daemon.take().expect("running").stop();
    console.append(&turkish_posts()[3..]);
    let restarted = console.workspace.start();
    console.daemon = Some(restarted);
    let missed = console.hit_ids("t4");
    assert_eq!(
        missed.len(),
        1,
        "the missed post is stored after the restart"
    );
    wait_for_js(
        &client,
        "the missed hit after the reconnect",
        &cards_of(missed[0]),
    )
    .await;
    // Every card id is shown once per column: nothing was replayed twice.
    let duplicates = client.execute(
        "return [...document.querySelectorAll('.column')].flatMap(c => { const ids = [...c.querySelectorAll('.card')].map(n => n.dataset.id); return ids.filter((id, i) => ids.indexOf(id) !== i); });",
        vec![],
    ).await.unwrap();
    assert_eq!(duplicates, json!([]));
    let after: i64 = serde_json::from_value(
        client
            .execute("return document.querySelectorAll('.card').length;", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(after > before, "{before} cards before, {after} after");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_post_renders_as_text_and_a_change_without_the_csrf_token_is_refused() {
    let Some(browser) = browser_binaries("console: hostile post, CSRF") else {
        return;
    };
    let _one = BROWSERS.lock().await;
    let emoji = "😡".repeat(10_000);
    let payload = format!(
        "Turkcell <img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script> \
         <a href=\"javascript:window.__pwned=3\">tıkla</a> \u{202E}ters yazı\u{202C} {emoji}"
    );
    let hostile = json!({
        "source": "x",
        "id": "evil1",
        "url": "javascript:window.__pwned=4",
        "author": { "handle": "kotu\u{202E}niyet", "name": "<img src=x onerror=window.__pwned=5>", "followers": 1 },
        "text": payload,
        "lang": "tr",
    })
    .to_string();
    let console = Console::new(&[hostile]);
    let id = console.hit_ids("evil1")[0];
    let driver = Driver::start(browser).await;
    let client = driver.session("tr-TR").await;
    sign_in(&client, &console, USER).await;
    wait_for_js(&client, "the hostile card", &cards_of(id)).await;

    let report = client.execute(&format!(r#"
        const card = document.querySelector('.card[data-id="{id}"]');
        return {{
            images: card.querySelectorAll('img:not(.icon)').length,
            scripts: document.querySelectorAll('.card script, .deck script').length,
            links: [...card.querySelectorAll('a')].map(a => a.getAttribute('href')),
            text: card.querySelector('.card-text').textContent,
            author: card.querySelector('.author-name').textContent,
            pwned: typeof window.__pwned,
            isolate: getComputedStyle(card.querySelector('.card-text')).unicodeBidi,
            dir: card.querySelector('.card-text').getAttribute('dir'),
            clipped: card.querySelector('.card-text').classList.contains('clipped') && card.querySelector('button.more') !== null,
            clipLines: card.querySelector('.card-text').clientHeight / parseFloat(getComputedStyle(card.querySelector('.card-text')).lineHeight),
        }};"#), vec![]).await.unwrap();
    assert_eq!(report["images"], 0, "{report}");
    assert_eq!(report["scripts"], 0, "{report}");
    assert_eq!(
        report["links"],
        json!([]),
        "a javascript: URL is never a link: {report}"
    );
    assert_eq!(report["pwned"], "undefined");
    assert_eq!(report["isolate"], "isolate");
    assert_eq!(report["dir"], "auto");
    assert_eq!(
        report["clipped"], true,
        "long text is clipped behind a toggle"
    );
    // Whole lines only: no half line of emoji peeks out under the clip (Firefox's
    // emoji font made `line-height: normal` lines taller than the clip assumed).
    let lines = report["clipLines"].as_f64().unwrap_or(f64::NAN);
    assert!(
        (lines - 5.0).abs() < 0.05,
        "clipped to {lines} lines: {report}"
    );
    let text = report["text"].as_str().unwrap();
    assert!(
        text.contains("<img src=x onerror=\"window.__pwned=1\">"),
        "{}",
        &text[..200]
    );
    assert!(text.contains("<script>window.__pwned=2</script>"));
    assert_eq!(
        text.matches('😡').count(),
        10_000,
        "the full text stays in the card"
    );
    assert_eq!(report["author"], "<img src=x onerror=window.__pwned=5>");
    assert_eq!(console_problems(&client).await, Vec::<String>::new());

    // A state change without the X-CSRF-Token header is refused and changes nothing.
    let status = client.execute_async(&format!(
        "const done = arguments[0]; fetch('/console/api/hits/{id}/ack', {{ method: 'POST', credentials: 'same-origin' }}).then(r => done(r.status), e => done(String(e)));"
    ), vec![]).await.unwrap();
    assert_eq!(status, 403);
    assert_eq!(console.acked_by(id), None);
    save_screenshot("hostile", &client.screenshot().await.unwrap());
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_labels_follow_the_browser_language_and_switch_between_turkish_and_english() {
    let Some(browser) = browser_binaries("console: languages") else {
        return;
    };
    let _one = BROWSERS.lock().await;
    let console = Console::new(&turkish_posts());
    let driver = Driver::start(browser).await;
    let client = driver.session("tr-TR").await;
    client.goto(&console.url("/login")).await.unwrap();
    let button = client
        .find(Locator::Css("#login-form button"))
        .await
        .unwrap();
    assert_eq!(button.text().await.unwrap(), "Giriş yap");
    sign_in(&client, &console, USER).await;
    let seeded = console.hit_ids("t3")[0];
    wait_for_js(&client, "cards", &cards_of(seeded)).await;
    let take = format!(
        "return document.querySelector('.card[data-id=\"{seeded}\"] [data-action=take]').textContent;"
    );
    assert_eq!(client.execute(&take, vec![]).await.unwrap(), "Üstlen");
    assert_eq!(
        client
            .execute("return document.documentElement.lang;", vec![])
            .await
            .unwrap(),
        "tr"
    );
    save_screenshot("tr-columns", &client.screenshot().await.unwrap());

    client
        .find(Locator::Id("lang-switch"))
        .await
        .unwrap()
        .select_by_value("en")
        .await
        .unwrap();
    wait_for_js(&client, "the English page", "return document.documentElement.lang === 'en' && document.querySelector('.card') !== null;").await;
    assert_eq!(client.execute(&take, vec![]).await.unwrap(), "Take");
    // The choice is saved for the user: a fresh load stays English.
    client.refresh().await.unwrap();
    wait_for_js(
        &client,
        "English after a reload",
        "return document.documentElement.lang === 'en';",
    )
    .await;
    save_screenshot("en", &client.screenshot().await.unwrap());
    assert_eq!(console_problems(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

/// The `[api]` listener with the console and two users, the jsonl source and a file
/// receiver. `PASSWORD` is hashed once per test binary (argon2 is slow unoptimised).
fn console_config(port: u16) -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH.get_or_init(|| mentiond::console::hash_password(PASSWORD).expect("hashing"));
    format!(
        "{TICKETS_SOURCE}\n[api]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"api-t0ken-secret\"\n\n\
         [console]\nenabled = true\n\n\
         [[users]]\nname = \"{USER}\"\npassword_hash = \"{hash}\"\ndisplay_name = \"Ayşe Yılmaz\"\nteam = \"turkcell-care\"\n\n\
         [[users]]\nname = \"{SECOND_USER}\"\npassword_hash = \"{hash}\"\ndisplay_name = \"Mehmet Kaya\"\n\n\
         [[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\nsla = \"1h\"\nescalate_to = [\"f\"]\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn columns_are_added_filtered_moved_and_removed_and_the_author_history_and_search_show_cards()
{
    let Some(browser) = browser_binaries("console: columns, author, search") else {
        return;
    };
    let _one = BROWSERS.lock().await;
    let mut posts = turkish_posts();
    posts.push(post(
        "t7",
        "x",
        "ayseyilmaz",
        "Ayşe Yılmaz",
        1240,
        "Turkcell hâlâ çekmiyor, ikinci gün",
    ));
    let console = Console::new(&posts);
    let driver = Driver::start(browser).await;
    let client = driver.session("en-GB").await;
    sign_in(&client, &console, USER).await;
    let neutral = console.hit_ids("t6")[0];
    wait_for_js(&client, "cards", &cards_of(neutral)).await;
    let count = "return document.querySelectorAll('.column').length;";
    let before = client
        .execute(count, vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();

    // Add a Turkcell column showing only negative posts.
    client
        .find(Locator::Id("add-column"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let form = client
        .form(Locator::Css("#column-dialog form"))
        .await
        .unwrap();
    client
        .find(Locator::Css("#column-dialog select[name=kind]"))
        .await
        .unwrap()
        .select_by_value("brand")
        .await
        .unwrap();
    form.set_by_name("key", "Turkcell").await.unwrap();
    form.set_by_name("title", "Turkcell şikayet").await.unwrap();
    client
        .find(Locator::Css("#column-dialog select[name=sentiment]"))
        .await
        .unwrap()
        .select_by_value("negative")
        .await
        .unwrap();
    client
        .find(Locator::Css("#column-dialog button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let added = "[...document.querySelectorAll('.column')].find(c => c.querySelector('h2').textContent === 'Turkcell şikayet')";
    wait_for_js(
        &client,
        "the new column",
        &format!("const c = {added}; return c ? c.querySelectorAll('.card').length > 0 : false;"),
    )
    .await;
    let shown: Vec<i64> = serde_json::from_value(client.execute(&format!(
        "const c = {added}; return [...c.querySelectorAll('.card')].map(n => Number(n.dataset.id));"
    ), vec![]).await.unwrap()).unwrap();
    assert!(
        !shown.is_empty() && !shown.contains(&neutral),
        "the neutral post is filtered out: {shown:?}"
    );
    assert_eq!(
        client
            .execute(count, vec![])
            .await
            .unwrap()
            .as_i64()
            .unwrap(),
        before + 1
    );

    // Kept for the user: after a reload it is still there, last; moved left, it is
    // second to last; removed, it is gone for good.
    client.refresh().await.unwrap();
    let titles = "[...document.querySelectorAll('.column h2')].map(h => h.textContent)";
    wait_for_js(
        &client,
        "the saved column after a reload",
        &format!("const t = {titles}; return t[t.length - 1] === 'Turkcell şikayet';"),
    )
    .await;
    client
        .execute("[...document.querySelectorAll('.column')].pop().querySelector('[data-move=\"-1\"]').click();", vec![])
        .await
        .unwrap();
    wait_for_js(
        &client,
        "the column moved left",
        &format!("const t = {titles}; return t[t.length - 2] === 'Turkcell şikayet';"),
    )
    .await;
    client
        .execute(
            &format!("{added}.querySelector('[data-remove]').click();"),
            vec![],
        )
        .await
        .unwrap();
    wait_for_js(
        &client,
        "the column removed",
        &format!("return document.querySelectorAll('.column').length === {before};"),
    )
    .await;
    client.refresh().await.unwrap();
    wait_for_js(
        &client,
        "still removed after a reload",
        &format!("return document.querySelectorAll('.column').length === {before};"),
    )
    .await;

    // The earlier-hits button opens the author's history in the side panel.
    let repeat = console.hit_ids("t7")[0];
    wait_for_js(&client, "the repeat author's card", &cards_of(repeat)).await;
    client
        .execute(
            &format!("document.querySelector('.card[data-id=\"{repeat}\"] .earlier').click();"),
            vec![],
        )
        .await
        .unwrap();
    wait_for_js(&client, "the author's two hits in the side panel", "const side = document.getElementById('side'); return !side.hidden && side.querySelectorAll('.card').length === 2;").await;

    // The search page lists hits over everything stored.
    client
        .goto(&console.url("/search?q=bagaj%C4%B1m"))
        .await
        .unwrap();
    let thy = console.hit_ids("t2")[0];
    wait_for_js(&client, "the search result", &format!("return document.querySelectorAll('#list .card').length === 1 && document.querySelector('#list .card').dataset.id === '{thy}';")).await;
    assert_eq!(console_problems(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_error_check_sees_a_script_error_a_console_error_and_a_csp_violation() {
    let Some(browser) = browser_binaries("console: the console-error check") else {
        return;
    };
    let _one = BROWSERS.lock().await;
    let console = Console::new(&turkish_posts()[..1]);
    let driver = Driver::start(browser).await;
    let client = driver.session("en-GB").await;
    sign_in(&client, &console, USER).await;
    assert_eq!(console_problems(&client).await, Vec::<String>::new());

    // An uncaught error, a console.error call and an inline script the CSP blocks:
    // each must show up, in either browser, or the clean results above prove nothing.
    // The throwing callback is the page's own `JSON.parse`: Firefox runs WebDriver
    // scripts in a sandbox, and errors of functions made there never reach the page.
    client
        .execute(
            "setTimeout(window.JSON.parse, 0, '{boom'); \
             console.error('boom-logged'); \
             const s = document.createElement('script'); \
             s.textContent = 'window.__inline = 1;'; \
             document.body.append(s);",
            vec![],
        )
        .await
        .unwrap();
    wait_for_js(
        &client,
        "the three problems collected",
        "return (window.__consoleErrors || []).length >= 3;",
    )
    .await;
    let problems = console_problems(&client).await.join("\n");
    for needle in ["JSON", "error boom-logged", "csp script-src"] {
        assert!(
            problems.contains(needle),
            "{needle} missing in:\n{problems}"
        );
    }
    assert_eq!(
        client
            .execute("return typeof window.__inline;", vec![])
            .await
            .unwrap(),
        "undefined",
        "the CSP blocked the inline script"
    );
    client.close().await.unwrap();
}
