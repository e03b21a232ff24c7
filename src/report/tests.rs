//! Reports of a fixed seeded day in a real SQLite file: snapshots of every format in
//! both languages, hostile text in each format, day boundaries in zones with and
//! without DST, and which days are due.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::{Berlin, Istanbul};

use super::*;
use crate::matcher::BrandHit;
use crate::model::{DeliveryId, HitId, Post};
use crate::routing::{HitKey, NewDelivery};
use crate::sentiment::Sentiment;
use crate::store::{FailedAttempt, MatchedPost, NewBatch, PollOutcome};

/// Attacker-controlled text: a spreadsheet formula, markup, Markdown links and
/// images, a table pipe and a right-to-left override.
const HOSTILE: &str = "=HYPERLINK(\"http://evil.example/x\",\"tıkla\") <img src=x onerror=alert(1)> [click](http://evil.example) ![img](http://evil.example/i.png) a|b \u{202E}txt.exe";

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// A UTC time on the seeded day, given in Istanbul local time (UTC+3).
fn local(day: u32, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    Istanbul
        .with_ymd_and_hms(2026, 11, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

struct Seed {
    source: &'static str,
    id: &'static str,
    author: &'static str,
    followers: u64,
    text: &'static str,
    brand: &'static str,
    competitor: bool,
    sentiment: Sentiment,
    at: chrono::DateTime<Utc>,
}

fn seed_one(store: &mut Store, seed: &Seed, delivery: bool) -> HitId {
    let post = Post::from_json(
        &serde_json::json!({
            "source": seed.source,
            "id": seed.id,
            "url": format!("https://example.com/{}", seed.id),
            "author": {"handle": seed.author, "followers": seed.followers},
            "text": seed.text,
        })
        .to_string(),
    )
    .unwrap();
    let mut hit = BrandHit::exact_for_tests(seed.brand, Some("care"), seed.brand);
    hit.competitor = seed.competitor;
    let key = HitKey {
        source: seed.source.into(),
        post_id: seed.id.into(),
        brand: seed.brand.into(),
    };
    let deliveries = if delivery {
        vec![NewDelivery {
            id: DeliveryId(format!("msg_{}", seed.id)),
            receiver: "care-chat".into(),
            group_key: format!("hit={}", seed.id),
            hits: vec![key],
            max_hits: 10,
            urgent: false,
            due_at: seed.at,
            hold_until: None,
            split: false,
        }]
    } else {
        Vec::new()
    };
    store
        .record_batch(NewBatch {
            source: seed.source.into(),
            cursor: None,
            posts: vec![MatchedPost {
                post,
                sentiment: seed.sentiment,
                sentiment_score: 0.0,
                hits: vec![hit],
            }],
            deliveries,
            now: seed.at,
            replies: Vec::new(),
        })
        .unwrap();
    store
        .hits(&crate::store::HitQuery {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap()
        .hits[0]
        .id
}

/// The fixed day: 2026-11-25 in Istanbul, with the day before, the same weekday a
/// week before, and a hit just after midnight that belongs to the next day.
pub(super) fn seeded_store(dir: &Path) -> Store {
    let mut store = Store::open(&dir.join("mentiond.db")).unwrap();
    let seeds = [
        (
            "news",
            "p1",
            "ayse",
            120_000,
            "Turkcell çekmiyor, rezalet",
            "Turkcell",
            false,
            Sentiment::Negative,
            local(25, 0, 0),
        ),
        (
            "reddit",
            "p2",
            "mehmet",
            850,
            "Turkcell müşteri hizmetleri çok iyi",
            "Turkcell",
            false,
            Sentiment::Positive,
            local(25, 9, 15),
        ),
        (
            "news",
            "p3",
            "ayse",
            120_000,
            "Vodafone da aynı",
            "Vodafone",
            true,
            Sentiment::Neutral,
            local(25, 9, 40),
        ),
        (
            "x",
            "p4",
            "evil\u{202E}gpj.exe",
            5,
            HOSTILE,
            "Turkcell",
            false,
            Sentiment::Negative,
            local(25, 14, 5),
        ),
        (
            "x",
            "p5",
            "zeynep",
            2_400,
            "Turkcell faturam yanlış geldi",
            "Turkcell",
            false,
            Sentiment::Negative,
            local(25, 23, 59),
        ),
        (
            "x",
            "p6",
            "ali",
            10,
            "Vodafone kampanyası güzel",
            "Vodafone",
            true,
            Sentiment::Positive,
            local(25, 18, 0),
        ),
        (
            "news",
            "prev1",
            "ayse",
            120_000,
            "Turkcell dün",
            "Turkcell",
            false,
            Sentiment::Neutral,
            local(24, 12, 0),
        ),
        (
            "news",
            "week1",
            "ayse",
            120_000,
            "Turkcell geçen hafta",
            "Turkcell",
            false,
            Sentiment::Neutral,
            local(18, 12, 0),
        ),
        (
            "news",
            "next1",
            "ayse",
            120_000,
            "Turkcell yarın",
            "Turkcell",
            false,
            Sentiment::Neutral,
            local(26, 0, 0),
        ),
    ];
    let mut ids = Vec::new();
    for (source, id, author, followers, text, brand, competitor, sentiment, at) in seeds {
        let seed = Seed {
            source,
            id,
            author,
            followers,
            text,
            brand,
            competitor,
            sentiment,
            at,
        };
        ids.push(seed_one(&mut store, &seed, id == "p4"));
    }
    // p1 answered in 12 minutes; p2 after 90 minutes, past its SLA (escalated first);
    // p4 escalated and never answered; p5 still open at the end of the day.
    store
        .ack_hit(ids[0], "Deniz", "cli", local(25, 0, 12))
        .unwrap();
    store
        .record_escalations(&[], &[ids[1]], local(25, 10, 15))
        .unwrap();
    store
        .record_escalations(&[], &[ids[3]], local(25, 14, 35))
        .unwrap();
    store
        .ack_hit(ids[1], "Ece", "api", local(25, 10, 45))
        .unwrap();
    store
        .mark_failed(&FailedAttempt {
            id: &DeliveryId("msg_p4".into()),
            error: "HTTP 500 <b>down</b> | =cmd",
            status: Some(500),
            retry_at_ms: None,
        })
        .unwrap();
    store
        .record_poll(
            &"reddit".into(),
            &PollOutcome::Failure {
                error: "HTTP 429 [slow](http://evil.example)".into(),
            },
            local(25, 20, 0),
        )
        .unwrap();
    store
        .record_poll(
            &"news".into(),
            &PollOutcome::Success {
                n_posts: 3,
                newest_post_at: Some(local(25, 19, 0)),
            },
            local(25, 20, 0),
        )
        .unwrap();
    store
}

pub(super) fn seeded_report(dir: &Path, language: Language) -> DailyReport {
    let store = seeded_store(dir);
    let period = Period::day(day());
    let facts = Facts::read(&store, period, Istanbul, local(26, 0, 5)).unwrap();
    DailyReport::build(period, Istanbul, language, facts)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report")
        .join(name)
}

/// Compares `actual` with the fixture `name`; `UPDATE_SNAPSHOTS=1` rewrites it.
fn snapshot(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{} differs from the rendering (UPDATE_SNAPSHOTS=1 rewrites it):\n{actual}",
        path.display()
    );
}

#[test]
fn every_format_of_a_seeded_day_matches_its_snapshot_in_both_languages() {
    for language in [Language::Tr, Language::En] {
        let dir = tempfile::tempdir().unwrap();
        let report = seeded_report(dir.path(), language);
        let code = match language {
            Language::Tr => "tr",
            Language::En => "en",
        };
        for format in Format::ALL {
            snapshot(
                &format!("2026-11-25.{code}.{}", format.extension()),
                &render(&report, format),
            );
        }
    }
}

#[test]
fn the_seeded_day_counts_what_happened_in_its_local_day() {
    let dir = tempfile::tempdir().unwrap();
    let report = seeded_report(dir.path(), Language::En);
    assert_eq!(
        report.totals.hits, 6,
        "midnight to midnight, the next midnight out"
    );
    assert_eq!(report.previous.hits, 1);
    assert_eq!(report.week_ago.hits, 1);
    assert_eq!(report.totals.authors, 5);
    assert_eq!(report.totals.brands["Turkcell"], 4);
    assert_eq!(report.totals.sentiment["negative"], 3);
    assert_eq!(report.hour_labels.len(), 24);
    let turkcell = report
        .hourly
        .iter()
        .find(|h| h.brand == "Turkcell")
        .unwrap();
    assert_eq!(
        (turkcell.hours[0], turkcell.hours[9], turkcell.hours[23]),
        (1, 1, 1)
    );
    assert_eq!(report.share_of_voice[0].brand, "Turkcell");
    assert_eq!(report.share_of_voice[1].percent, 33.3);
    assert!(report.share_of_voice[1].competitor);
    // The competitors are reported like the own brands: complaint words, own replies.
    assert!(
        report.share_of_voice[0]
            .complaint_words
            .contains(&"cekmiyor".to_string()),
        "{:?}",
        report.share_of_voice[0]
    );
    assert_eq!(report.share_of_voice[1].median_response_minutes, None);
    assert_eq!(report.top_posts[0].followers, Some(120_000));
    assert_eq!(report.active_authors[0].author, "ayse");
    assert_eq!(report.active_authors[0].hits, 2);
    // Open at the end of the 25th: p4, p5 and the unanswered own-brand hits of the
    // days before; not the competitors' (nobody answers them) nor the next day's.
    assert_eq!(report.open_hits.total, 4);
    let breaches: Vec<_> = report
        .sla_breaches
        .iter()
        .map(|b| (b.acked_by.clone(), b.response_minutes))
        .collect();
    assert_eq!(breaches, [(Some("Ece".into()), Some(90.0)), (None, None)]);
    assert_eq!(report.responses.answered, 2);
    assert_eq!(report.responses.median_minutes, Some(12.0));
    assert_eq!(report.delivery_failures.len(), 1);
    assert_eq!(report.source_health.len(), 2);
    assert!(report.surges.is_empty());
}

#[test]
fn hostile_text_is_inert_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for language in [Language::Tr, Language::En] {
        let report = seeded_report(dir.path().join(format!("{language:?}")).as_path(), language);
        for format in Format::ALL {
            let out = render(&report, format);
            assert!(!out.contains('\u{202E}'), "{format:?}: a bidi override");
            match format {
                Format::Markdown => {
                    assert!(out.contains(r"\[click\]\(http://evil.example\)"));
                    assert!(out.contains(r"!\[img\]\(http://evil.example/i.png\)"));
                    assert!(!out.contains("[click]("), "a live link");
                    assert!(!out.replace("\\<", "").contains('<'), "raw markup");
                    // Every row of the top-posts table keeps its seven cell borders.
                    let row = out.lines().find(|l| l.contains("HYPERLINK")).unwrap();
                    assert_eq!(
                        row.matches('|').count() - row.matches(r"\|").count(),
                        7,
                        "{row}"
                    );
                }
                Format::Csv => {
                    let row = out.lines().find(|l| l.contains("HYPERLINK")).unwrap();
                    assert!(row.ends_with(r#","'=HYPERLINK(""http://evil.example/x"",""tıkla"") <img src=x onerror=alert(1)> [click](http://evil.example) ![img](http://evil.example/i.png) a|b txt.exe""#), "{row}");
                    for line in out.lines() {
                        for cell in line.split(',') {
                            assert!(!cell.starts_with(['=', '+', '-', '@']), "{line}");
                        }
                    }
                }
                Format::Json => {
                    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
                    assert_eq!(value["schema_version"], 1);
                    let texts: Vec<_> = value["hits"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|hit| hit["text"].as_str().unwrap())
                        .collect();
                    assert!(texts.contains(&HOSTILE.replace('\u{202E}', "").as_str()));
                }
                Format::Html => {
                    for tag in [
                        "<img", "<script", "<a ", "<link", "<iframe", "<object", "url(",
                    ] {
                        assert!(!out.contains(tag), "{tag}");
                    }
                    assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"));
                    assert!(out.contains("HTTP 500 &lt;b&gt;down&lt;/b&gt;"));
                    // The one URL is the SVG namespace, which is never fetched.
                    let refs = out.matches("://").count();
                    let inert = out.matches("http://www.w3.org/2000/svg").count()
                        + out.matches("http://evil.example").count();
                    assert_eq!(refs, inert);
                }
            }
        }
    }
}

#[test]
fn numbers_and_dates_follow_the_language() {
    assert_eq!(render::number(1_234_567, Language::Tr), "1.234.567");
    assert_eq!(render::number(1_234_567, Language::En), "1,234,567");
    assert_eq!(render::number(999, Language::En), "999");
    assert_eq!(
        render::date(day() + chrono::Days::new(1), Language::Tr),
        "26 Kasım 2026"
    );
    assert_eq!(
        render::date(day() + chrono::Days::new(1), Language::En),
        "26 November 2026"
    );
}

#[test]
fn a_day_runs_from_local_midnight_to_local_midnight_across_dst_changes() {
    let hours = |zone, y, m, d| {
        let (start, end) = Period::day(NaiveDate::from_ymd_opt(y, m, d).unwrap()).window(zone);
        ((end - start).num_hours(), start)
    };
    let (istanbul, start) = hours(Istanbul, 2026, 11, 25);
    assert_eq!(istanbul, 24);
    assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, 24, 21, 0, 0).unwrap());
    // Istanbul keeps UTC+3 all year: the spring and autumn Sundays are 24 hours too.
    assert_eq!(hours(Istanbul, 2026, 3, 29).0, 24);
    assert_eq!(hours(Istanbul, 2026, 10, 25).0, 24);
    let (spring, start) = hours(Berlin, 2026, 3, 29);
    assert_eq!(spring, 23);
    assert_eq!(start, Utc.with_ymd_and_hms(2026, 3, 28, 23, 0, 0).unwrap());
    let (autumn, start) = hours(Berlin, 2026, 10, 25);
    assert_eq!(autumn, 25);
    assert_eq!(start, Utc.with_ymd_and_hms(2026, 10, 24, 22, 0, 0).unwrap());
    let week = Period::week(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()).window(Berlin);
    assert_eq!((week.1 - week.0).num_hours(), 7 * 24 - 1);

    // The autumn day's chart has 25 hours, the repeated 02 among them, and a hit in the
    // second 02:30 lands in the hour after the first.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db")).unwrap();
    let second_half_past_two = Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap();
    let late = Utc.with_ymd_and_hms(2026, 10, 25, 22, 59, 0).unwrap();
    let next_day = Utc.with_ymd_and_hms(2026, 10, 25, 23, 0, 0).unwrap();
    for (id, at) in [("a", second_half_past_two), ("b", late), ("c", next_day)] {
        let seed = Seed {
            source: "news",
            id,
            author: "ayse",
            followers: 1,
            text: "Turkcell",
            brand: "Turkcell",
            competitor: false,
            sentiment: Sentiment::Neutral,
            at,
        };
        seed_one(&mut store, &seed, false);
    }
    let period = Period::day(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
    let facts = Facts::read(&store, period, Berlin, next_day).unwrap();
    let report = DailyReport::build(period, Berlin, Language::En, facts);
    assert_eq!(report.totals.hits, 2);
    assert_eq!(report.hour_labels.len(), 25);
    assert_eq!(&report.hour_labels[1..5], ["01", "02", "02", "03"]);
    let hours = &report.hourly[0].hours;
    assert_eq!((hours[3], hours[24]), (1, 1), "{hours:?}");
}

fn settings(dir: &Path) -> ReportSettings {
    ReportSettings::parse(
        true,
        "00:05",
        "Europe/Istanbul",
        dir.to_path_buf(),
        "tr",
        &["md".into(), "json".into()],
        Vec::new(),
    )
    .unwrap()
}

#[test]
fn due_days_are_the_last_finished_day_and_every_missed_one_since_the_newest_report() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path());
    let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
    // An empty directory: only the last day, and only once its report time passed.
    assert_eq!(days_due(&settings, local(26, 0, 4)), [d(24)]);
    assert_eq!(days_due(&settings, local(26, 0, 5)), [d(25)]);
    // The 22nd was the last written: three days were missed.
    for format in [Format::Markdown, Format::Json] {
        write_report(dir.path(), Period::day(d(22)), format, b"x", false).unwrap();
    }
    assert_eq!(days_due(&settings, local(26, 0, 5)), [d(23), d(24), d(25)]);
    // A day with a format missing is due again, for that format.
    write_report(dir.path(), Period::day(d(23)), Format::Json, b"x", false).unwrap();
    assert_eq!(days_due(&settings, local(26, 0, 5)), [d(23), d(24), d(25)]);
    write_report(
        dir.path(),
        Period::day(d(23)),
        Format::Markdown,
        b"x",
        false,
    )
    .unwrap();
    assert_eq!(days_due(&settings, local(26, 0, 5)), [d(24), d(25)]);
    // The next run is the next 00:05 in Istanbul.
    assert_eq!(next_run(&settings, local(26, 0, 5)), local(27, 0, 5));
    assert_eq!(next_run(&settings, local(26, 0, 4)), local(26, 0, 5));
}

#[test]
fn a_report_file_is_written_atomically_and_never_overwritten_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let period = Period::day(day());
    let path = write_report(dir.path(), period, Format::Csv, b"first", false)
        .unwrap()
        .unwrap();
    assert_eq!(path, dir.path().join("2026-11-25.csv"));
    assert_eq!(
        write_report(dir.path(), period, Format::Csv, b"second", false).unwrap(),
        None
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"first");
    write_report(dir.path(), period, Format::Csv, b"forced", true).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"forced");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["2026-11-25.csv"], "no temporary file is left");
    assert_eq!(Period::week(day()).stem(), "week-2026-11-25");
}

#[test]
fn report_settings_name_each_bad_key() {
    let problems = ReportSettings::parse(
        true,
        "25:00",
        "Mars/Olympus",
        PathBuf::new(),
        "de",
        &["pdf".into()],
        Vec::new(),
    )
    .unwrap_err();
    let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["at", "time_zone", "language", "formats[0]", "dir"]);
}

#[test]
fn a_surge_detected_in_the_day_is_listed_in_the_report() {
    use crate::routing::HitLabels;
    use crate::routing::surge::{Surge, SurgeKind, SurgeNote};
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let end = local(25, 14, 10);
    let surge = Surge {
        note: SurgeNote {
            brand: "Turkcell".into(),
            kind: SurgeKind::Negative,
            count: 48,
            usual: 6,
            window_minutes: 10,
            terms: vec!["çekmiyor".into()],
            authors: vec!["ayse".into()],
        },
        window: (end - chrono::Duration::minutes(10), end),
        samples: Vec::new(),
        labels: HitLabels {
            brand: "Turkcell".into(),
            team: None,
            source: String::new(),
            competitor: false,
            severity: Default::default(),
            priority: 0,
            is_topic: false,
            sentiment: crate::sentiment::Sentiment::Negative,
        },
    };
    store.record_surge(&surge, &[], end).unwrap();
    let period = Period::day(day());
    let facts = Facts::read(&store, period, Istanbul, local(26, 0, 5)).unwrap();
    let report = DailyReport::build(period, Istanbul, Language::En, facts);
    assert_eq!(report.surges.len(), 1);
    assert_eq!((report.surges[0].count, report.surges[0].usual), (48, 6));
    let markdown = render(&report, Format::Markdown);
    assert!(
        markdown.contains("14:10 Turkcell \\(negative\\): 48 / usual 6"),
        "{markdown}"
    );
}
