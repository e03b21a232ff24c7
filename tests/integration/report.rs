//! `mentiond report` on a real database, the daemon's catch-up at start, and the HTML
//! page in headless Chromium (no console error, no network request, charts drawn).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use mentiond::keywords::Severity;
use mentiond::matcher::{BrandHit, HitKind, TermKind, TermKinds, TermMatch};
use mentiond::model::Post;
use mentiond::sentiment::Sentiment;
use mentiond::store::{MatchedPost, NewBatch, Store};

use crate::support::{TICKETS_SOURCE, Workspace, wait_for};

const HOSTILE: &str = "=HYPERLINK(\"http://evil.example\") <img src=http://evil.example/x.png onerror=alert(1)> ![i](http://evil.example/i.png) a|b \u{202E}txt";

/// Stores hits of `brand` on 2026-11-25 (Istanbul) at the given local hours.
fn seed(database: &Path, hits: &[(&str, &str, u32, &str)]) {
    let mut store = Store::open(database).unwrap();
    for (id, brand, hour, text) in hits {
        let at = chrono_tz::Europe::Istanbul
            .with_ymd_and_hms(2026, 11, 25, *hour, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let post = Post::from_json(
            &serde_json::json!({
                "source": "news", "id": id, "text": text,
                "author": {"handle": format!("user{id}"), "followers": 100 * hour},
            })
            .to_string(),
        )
        .unwrap();
        let hit = BrandHit {
            brand: (*brand).into(),
            team: None,
            kind: HitKind::Brand,
            severity: Severity::Normal,
            competitor: *brand == "THY",
            terms: vec![TermMatch {
                term: (*brand).into(),
                matched: brand.to_string(),
                kind: TermKind::Exact,
                variant: brand.to_lowercase().into(),
                generated: false,
                start: 0,
                end: brand.len(),
                kinds: TermKinds::new(TermKind::Exact, false),
                suffix: None,
                evidence: Vec::new(),
            }],
        };
        store
            .record_batch(NewBatch {
                source: "news".into(),
                cursor: None,
                posts: vec![MatchedPost {
                    post,
                    sentiment: if hour % 2 == 0 {
                        Sentiment::Negative
                    } else {
                        Sentiment::Positive
                    },
                    sentiment_score: 0.0,
                    hits: vec![hit],
                }],
                deliveries: Vec::new(),
                now: at,
                replies: Vec::new(),
            })
            .unwrap();
    }
}

fn seeded_workspace() -> Workspace {
    let ws =
        Workspace::new("[report]\nenabled = false\nlanguage = \"en\"\ndir = \"{dir}/reports\"\n");
    let hours: Vec<(String, &str, u32, &str)> = (0..24)
        .map(|h| {
            (
                format!("p{h}"),
                if h % 3 == 0 { "THY" } else { "Turkcell" },
                h,
                "Turkcell çekmiyor",
            )
        })
        .collect();
    let mut hits: Vec<(&str, &str, u32, &str)> = hours
        .iter()
        .map(|(id, b, h, t)| (id.as_str(), *b, *h, *t))
        .collect();
    hits.push(("hostile", "Turkcell", 12, HOSTILE));
    seed(&ws.path("mentiond.db"), &hits);
    ws
}

#[test]
fn mentiond_report_writes_the_asked_formats_once_and_keeps_them_unless_forced() {
    let ws = seeded_workspace();
    let out = ws.path("out");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "--date",
            "2026-11-25",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = ws.command(&args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = run(&["--format", "md,csv"]);
    assert_eq!(first.matches("written").count(), 2, "{first}");
    let csv = std::fs::read_to_string(out.join("2026-11-25.csv")).unwrap();
    assert_eq!(csv.lines().count(), 26, "a header and one row per hit");
    assert!(csv.contains(r#""'=HYPERLINK(""http://evil.example"")"#));
    assert!(!out.join("2026-11-25.json").exists());
    std::fs::write(out.join("2026-11-25.md"), "kept").unwrap();
    let second = run(&["--format", "md"]);
    assert!(second.contains("kept"), "{second}");
    assert_eq!(
        std::fs::read_to_string(out.join("2026-11-25.md")).unwrap(),
        "kept"
    );
    run(&["--format", "md", "--force"]);
    let md = std::fs::read_to_string(out.join("2026-11-25.md")).unwrap();
    assert!(md.starts_with("# Daily report: 25 November 2026"), "{md}");
    let week = run(&["--format", "json", "--week"]);
    assert!(week.contains("week-2026-11-25.json"), "{week}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("week-2026-11-25.json")).unwrap()).unwrap();
    assert_eq!(
        (json["kind"].as_str(), json["totals"]["hits"].as_u64()),
        (Some("weekly"), Some(25))
    );
    assert_eq!(json["first_day"], "2026-11-19");
    let bad = ws.command(&["report", "--format", "pdf"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_daemon_catches_up_missed_days_at_start_and_writes_none_twice() {
    let ws = Workspace::new(&format!(
        "[report]\nlanguage = \"en\"\ntime_zone = \"UTC\"\nat = \"00:00\"\ndir = \"{{dir}}/reports\"\nformats = [\"json\"]\nsend_to = [\"care-file\"]\n\
         [[receivers]]\nkind = \"file\"\nname = \"care-file\"\npath = \"{{dir}}/sent.jsonl\"\n[[routes]]\nreceivers = [\"care-file\"]\n{TICKETS_SOURCE}",
    ));
    ws.append_tickets(&[]);
    let reports = ws.path("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let today = Utc::now().date_naive();
    let day = |back: u64| today - chrono::Days::new(back);
    std::fs::write(reports.join(format!("{}.json", day(4))), "{}").unwrap();
    let daemon = ws.start();
    let due: Vec<_> = (1..=3)
        .map(|back| reports.join(format!("{}.json", day(back))))
        .collect();
    wait_for("three caught-up reports", Duration::from_secs(20), || {
        due.iter().all(|path| path.exists())
    });
    // Each caught-up day also went to the `send_to` receiver, once: its JSON.
    let sent = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(ws.path("sent.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    wait_for("three sent reports", Duration::from_secs(20), || {
        sent().len() == 3
    });
    daemon.stop();
    let days: Vec<_> = sent()
        .iter()
        .map(|r| r["last_day"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        days,
        (1..=3)
            .rev()
            .map(|back| day(back).to_string())
            .collect::<Vec<_>>()
    );
    let written = |path: &Path| std::fs::metadata(path).unwrap().modified().unwrap();
    let before: Vec<_> = due.iter().map(|path| written(path)).collect();
    let daemon = ws.start();
    wait_for("the daemon's second start", Duration::from_secs(20), || {
        daemon.log_text().contains("mentiond ready")
    });
    std::thread::sleep(Duration::from_millis(300));
    daemon.stop();
    let after: Vec<_> = due.iter().map(|path| written(path)).collect();
    assert_eq!(before, after, "no day written twice");
    assert_eq!(sent().len(), 3, "no report sent twice");
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 4);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&due[0]).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
}

/// PNG size and whether its pixels differ (decoded with flate2: the IDAT stream).
fn png_is_drawn(png: &[u8]) -> (u32, u32, bool) {
    use std::io::Read;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (mut at, mut size, mut data) = (8, (0, 0), Vec::new());
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let body = &png[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                size = (
                    u32::from_be_bytes(body[0..4].try_into().unwrap()),
                    u32::from_be_bytes(body[4..8].try_into().unwrap()),
                )
            }
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        at += 12 + len;
    }
    let mut pixels = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..])
        .read_to_end(&mut pixels)
        .unwrap();
    // A blank page filters to a handful of byte values; text and charts give many.
    let distinct: std::collections::BTreeSet<u8> = pixels.iter().copied().collect();
    (size.0, size.1, distinct.len() > 16)
}

#[test]
fn the_html_page_loads_in_headless_chromium_without_errors_or_requests() {
    let required = std::env::var_os("MENTIOND_BROWSER_TESTS").is_some();
    let chromium = ["chromium", "chromium-browser"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    let Some(chromium) = chromium else {
        assert!(
            !required,
            "MENTIOND_BROWSER_TESTS is set but chromium is missing (Debian package `chromium`)"
        );
        eprintln!(
            "SKIPPED: the_html_page_loads_in_headless_chromium: install the Debian package `chromium` \
             (or set MENTIOND_BROWSER_TESTS=1 to make this a failure)"
        );
        return;
    };
    let ws = seeded_workspace();
    let out = ws.path("out");
    let output = ws.command(&[
        "report",
        "--date",
        "2026-11-25",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let page = out.join("2026-11-25.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for external in [
        "<script", "<img", "<link", "<iframe", "src=\"", "href=", "url(",
    ] {
        assert!(!html.contains(external), "{external}");
    }
    let shot = ws.path("shot.png");
    let profile = ws.path("chromium-profile");
    let net_log = ws.path("net-log.json");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--window-size=1200,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "chromium did not finish in 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    let console: Vec<_> = log
        .lines()
        .filter(|line| line.contains("CONSOLE"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    for blocked in [
        "ERR_NAME_NOT_RESOLVED",
        "ERR_PROXY_CONNECTION_FAILED",
        "evil.example",
    ] {
        assert!(!log.contains(blocked), "a network request: {log}");
    }
    // Every request the page made is in the net log; Chromium's own background
    // services (google.com, googleapis.com, gvt1.com, gstatic.com) are not the page's.
    let net = std::fs::read_to_string(&net_log).unwrap();
    let requests: Vec<&str> = net
        .split("\"url\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|url| url.starts_with("http") || url.starts_with("ws"))
        .filter(|url| {
            let host = url.split('/').nth(2).unwrap_or("");
            !["google.com", "googleapis.com", "gvt1.com", "gstatic.com"]
                .iter()
                .any(|own| host == *own || host.ends_with(&format!(".{own}")))
        })
        .collect();
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
    let (width, height, drawn) = png_is_drawn(&std::fs::read(&shot).unwrap());
    assert_eq!((width, height), (1200, 2400));
    assert!(drawn, "the screenshot is blank");
}
