//! Baselines and detection over hand-made windows.

use chrono::TimeZone;

use super::*;
use crate::keywords::Severity;

/// Ten-minute windows, at least 20 mentions and three times the usual count, an hour
/// of cooldown, four weeks of history, half negative for a negative surge.
pub(crate) fn settings() -> SurgeSettings {
    SurgeSettings {
        window: Duration::from_secs(600),
        min_volume: 20,
        factor: 3.0,
        cooldown: Duration::from_secs(3600),
        history: Duration::from_secs(4 * 7 * 24 * 3600),
        negative_share: 0.5,
    }
}

/// Monday 2026-11-23 10:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn index(at: DateTime<Utc>) -> i64 {
    at.timestamp() / 600
}

fn mention(id: i64, author: &str, text: &str, sentiment: Sentiment) -> WindowMention {
    WindowMention {
        hit_id: HitId(id),
        labels: HitLabels {
            brand: "Turkcell".into(),
            team: Some("care".into()),
            source: "x".into(),
            competitor: false,
            severity: Severity::Normal,
            priority: id as u64,
            is_topic: false,
            sentiment,
        },
        author: Some(author.into()),
        text: text.into(),
    }
}

#[test]
fn the_baseline_is_the_same_hour_of_earlier_weeks_smoothed_newest_heaviest() {
    let settings = settings();
    // 9:00-10:00 on each of the last four Mondays: 6, 6, 6 and 12 per window (six
    // windows each); other hours are busy but must not count.
    let mut counts = Vec::new();
    for (week, per_window) in [(4, 6), (3, 6), (2, 6), (1, 12)] {
        let hour = now() - chrono::Duration::weeks(week) - chrono::Duration::hours(1);
        for window in 0..6 {
            counts.push(WindowCount {
                index: index(hour) + window,
                total: per_window,
                negative: 1,
            });
        }
        counts.push(WindowCount {
            index: index(hour) + 20,
            total: 500,
            negative: 500,
        });
    }
    let since = now() - chrono::Duration::weeks(5);
    // The window ending at 10:00 lies in the 9:00 hour.
    let usual = baseline(&settings, &counts, since, now());
    assert_eq!(usual.total, 0.5 * 12.0 + 0.5 * 6.0);
    assert_eq!(usual.negative, 1.0);
    // Weeks before the first stored hit are unknown, not quiet.
    let since = now() - chrono::Duration::weeks(1) - chrono::Duration::hours(2);
    assert_eq!(baseline(&settings, &counts, since, now()).total, 12.0);
}

#[test]
fn less_than_a_week_of_history_falls_back_to_the_mean_window() {
    let settings = settings();
    let since = now() - chrono::Duration::hours(10);
    // 60 windows, 120 mentions in all: 2 per window.
    let counts: Vec<WindowCount> = (0..60)
        .filter(|n| n % 2 == 0)
        .map(|n| WindowCount {
            index: index(since) + n,
            total: 4,
            negative: 0,
        })
        .collect();
    let usual = baseline(&settings, &counts, since, now());
    assert!((usual.total - 120.0 / 59.0).abs() < 1e-9, "{}", usual.total);
}

#[test]
fn a_surge_needs_the_minimum_volume_and_the_factor_and_waits_out_its_cooldown() {
    let settings = settings();
    let texts = ["Turkcell şebeke yok", "Turkcell internet gitti şebeke"];
    let burst = |n: i64, sentiment: Sentiment| -> Vec<WindowMention> {
        (0..n)
            .map(|i| {
                let author = ["ayse", "mehmet", "ayse"][i as usize % 3];
                mention(i + 1, author, texts[i as usize % 2], sentiment)
            })
            .collect()
    };
    let quiet = Baseline {
        total: 2.0,
        negative: 0.5,
    };
    let never = |_| false;
    assert_eq!(
        detect(
            &settings,
            &burst(19, Sentiment::Neutral),
            quiet,
            now(),
            never
        ),
        None,
        "under min_volume"
    );
    let busy = Baseline {
        total: 10.0,
        negative: 1.0,
    };
    assert_eq!(
        detect(
            &settings,
            &burst(29, Sentiment::Neutral),
            busy,
            now(),
            never
        ),
        None,
        "under three times the usual 10"
    );
    let surge = detect(
        &settings,
        &burst(30, Sentiment::Neutral),
        busy,
        now(),
        never,
    )
    .unwrap();
    assert_eq!(surge.note.kind, SurgeKind::Volume);
    assert_eq!((surge.note.count, surge.note.usual), (30, 10));
    assert_eq!(surge.note.terms, ["sebeke", "gitti", "internet", "yok"]);
    assert_eq!(surge.note.authors, ["ayse", "mehmet"]);
    assert_eq!(surge.samples, [HitId(30), HitId(29), HitId(28)]);
    assert_eq!(surge.window, (now() - chrono::Duration::minutes(10), now()));
    assert_eq!(
        detect(
            &settings,
            &burst(30, Sentiment::Neutral),
            busy,
            now(),
            |kind| { kind == SurgeKind::Volume }
        ),
        None,
        "cooling down"
    );
    assert_ne!(
        surge.delivery_id(&"a".into()),
        surge.delivery_id(&"b".into())
    );
}

#[test]
fn negative_mentions_alone_can_surge_when_they_are_the_share() {
    let settings = settings();
    let usual = Baseline {
        total: 30.0,
        negative: 2.0,
    };
    let mut mentions: Vec<WindowMention> = (0..25)
        .map(|i| mention(i, "ayse", "Turkcell rezalet", Sentiment::Negative))
        .collect();
    mentions.extend((25..45).map(|i| mention(i, "ali", "Turkcell tarife", Sentiment::Neutral)));
    let surge = detect(&settings, &mentions, usual, now(), |_| false).unwrap();
    assert_eq!(surge.note.kind, SurgeKind::Negative);
    assert_eq!((surge.note.count, surge.note.usual), (25, 2));
    assert_eq!(surge.note.terms, ["rezalet"]);
    assert_eq!(surge.labels.sentiment, Sentiment::Negative);
    // As many neutral mentions again: the negative ones are no longer half.
    mentions.extend((45..75).map(|i| mention(i, "ali", "Turkcell tarife", Sentiment::Neutral)));
    let usual = Baseline {
        total: 40.0,
        negative: 2.0,
    };
    assert_eq!(detect(&settings, &mentions, usual, now(), |_| false), None);
}

#[test]
fn top_words_skip_stop_words_numbers_short_words_and_the_brand() {
    let words = top_words(
        [
            "Turkcell'de fatura yine yüksek geldi, 2026 faturası",
            "bu fatura ne ya FATURA",
        ],
        &["turkcell".to_string()],
        3,
    );
    assert_eq!(
        words,
        [
            ("fatura".to_string(), 3),
            ("faturasi".to_string(), 1),
            ("geldi".to_string(), 1)
        ]
    );
}

#[test]
fn settings_are_validated_with_their_keys() {
    let raw = RawSurge {
        window: DurationSetting::Text("7m".into()),
        min_volume: 0,
        factor: 0.5,
        cooldown: DurationSetting::Text("1h".into()),
        history: DurationSetting::Text("4w".into()),
        negative_share: 1.5,
    };
    let (_, problems) = SurgeSettings::parse(&raw);
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["window", "min_volume", "factor", "negative_share"]);
}

#[test]
fn only_the_hours_the_baseline_reads_are_asked_for() {
    let settings = settings();
    let hour = |weeks: i64| {
        let start = now() - chrono::Duration::weeks(weeks) - chrono::Duration::hours(1);
        (start, start + chrono::Duration::hours(1))
    };
    let long_ago = now() - chrono::Duration::weeks(10);
    assert_eq!(
        history_ranges(&settings, long_ago, now()),
        [hour(4), hour(3), hour(2), hour(1)]
    );
    let days_ago = now() - chrono::Duration::days(3);
    assert_eq!(
        history_ranges(&settings, days_ago, now()),
        [(days_ago, now() - chrono::Duration::minutes(10))]
    );
}
