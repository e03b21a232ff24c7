//! Surges ("digital fire"): a brand mentioned far more often than usual. Pure: the
//! store hands in the mentions of the current window and the counts of the past
//! windows, the time is passed in.
//!
//! The usual count of a window is learnt per hour of the week: for each of the last
//! weeks in `history`, the mean count per window in the same hour of that week,
//! smoothed oldest to newest with an EWMA (`EWMA_ALPHA`), so Monday 9:00 is compared
//! with earlier Mondays at 9:00. Before a full week of history exists the mean count
//! per window over all of it stands in. A volume surge is `count ≥ max(min_volume,
//! usual × factor)`; a negative surge is the same rule on negative mentions alone,
//! with at least `negative_share` of the window's mentions negative.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::{HitKey, HitLabels, delivery_id};
use crate::model::{DeliveryId, HitId, ReceiverName};
use crate::sentiment::Sentiment;
use crate::settings::{DurationSetting, FieldError};
use crate::text::fold;

/// Weight of the most recent week in the hour-of-week baseline.
pub const EWMA_ALPHA: f64 = 0.5;

/// Top terms, top authors and sample posts an alert shows.
pub const TOP: usize = 5;

/// Sample posts a surge alert carries.
pub const SAMPLES: usize = 3;

/// Words too common to say what a surge is about (folded: Turkish and English).
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had",
    "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
    "me", "my", "no", "not", "now", "of", "on", "or", "our", "out", "she", "so", "that", "the",
    "their", "them", "then", "there", "they", "this", "to", "too", "up", "us", "was", "we", "were",
    "what", "when", "which", "who", "why", "will", "with", "would", "you", "your", "acaba", "ama",
    "ancak", "artik", "bana", "ben", "beni", "benim", "bir", "biz", "bu", "buna", "bunu", "cok",
    "da", "daha", "de", "degil", "diye", "en", "gibi", "hala", "hem", "hep", "hic", "icin", "ile",
    "ise", "kadar", "ki", "mi", "mu", "ne", "neden", "o", "olan", "olarak", "on", "onu", "sen",
    "siz", "su", "ve", "veya", "ya", "yani", "yine", "https", "http", "www", "com", "rt",
];

/// Validated `[surge]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SurgeSettings {
    /// Length of the window mentions are counted in.
    pub window: Duration,
    /// Fewest mentions in a window that can be a surge.
    pub min_volume: u64,
    /// How many times the usual count a surge is.
    pub factor: f64,
    /// Least time between two surge alerts of one kind for one brand.
    pub cooldown: Duration,
    /// How far back the baseline is learnt.
    pub history: Duration,
    /// Least share of negative mentions in a negative surge's window.
    pub negative_share: f64,
}

/// `[surge]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSurge {
    /// See [`SurgeSettings::window`].
    pub window: DurationSetting,
    /// See [`SurgeSettings::min_volume`].
    pub min_volume: u64,
    /// See [`SurgeSettings::factor`].
    pub factor: f64,
    /// See [`SurgeSettings::cooldown`].
    pub cooldown: DurationSetting,
    /// See [`SurgeSettings::history`].
    pub history: DurationSetting,
    /// See [`SurgeSettings::negative_share`].
    pub negative_share: f64,
}

impl SurgeSettings {
    /// Validates `[surge]`; problems are keyed relative to it.
    pub fn parse(raw: &RawSurge) -> (SurgeSettings, Vec<FieldError>) {
        let mut problems = Vec::new();
        let window = raw.window.read("window", true, &mut problems);
        let cooldown = raw.cooldown.read("cooldown", false, &mut problems);
        let history = raw.history.read("history", true, &mut problems);
        let secs = window.as_secs();
        if !window.is_zero() && (secs < 60 || 3600 % secs != 0 || window.subsec_nanos() != 0) {
            problems.push(FieldError::new(
                "window",
                "must be whole minutes that divide an hour (\"5m\", \"10m\", \"15m\", \"1h\")",
            ));
        }
        if raw.min_volume == 0 {
            problems.push(FieldError::new("min_volume", "must be at least 1"));
        }
        if !(raw.factor >= 1.0 && raw.factor.is_finite()) {
            problems.push(FieldError::new("factor", "must be at least 1"));
        }
        if !(0.0..=1.0).contains(&raw.negative_share) {
            problems.push(FieldError::new("negative_share", "must be from 0 to 1"));
        }
        let settings = SurgeSettings {
            window,
            min_volume: raw.min_volume.max(1),
            factor: raw.factor,
            cooldown,
            history,
            negative_share: raw.negative_share,
        };
        (settings, problems)
    }

    fn window_secs(&self) -> i64 {
        self.window.as_secs().max(1) as i64
    }

    /// The start of the window that ends at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::seconds(self.window_secs())
    }

    /// The start of the history the baseline is learnt from.
    pub fn history_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.window_start(now) - chrono::Duration::seconds(self.history.as_secs() as i64)
    }
}

/// What a surge is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurgeKind {
    /// All mentions.
    Volume,
    /// Negative mentions alone.
    Negative,
}

impl SurgeKind {
    /// `volume` or `negative`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SurgeKind::Volume => "volume",
            SurgeKind::Negative => "negative",
        }
    }
}

/// One mention of the current window, as the store read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowMention {
    /// The hit.
    pub hit_id: HitId,
    /// The hit's labels (brand, team, competitor, severity, sentiment, priority).
    pub labels: HitLabels,
    /// The author's handle, else name.
    pub author: Option<String>,
    /// The post's text.
    pub text: String,
}

/// Mentions of one brand in one past window (its index: Unix seconds / window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Window index: the window's start in Unix seconds, divided by the window length.
    pub index: i64,
    /// Mentions.
    pub total: u64,
    /// Negative mentions.
    pub negative: u64,
}

/// The usual count of a window (all mentions, negative ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// Mentions.
    pub total: f64,
    /// Negative mentions.
    pub negative: f64,
}

/// What a surge alert says, stored as the delivery's note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurgeNote {
    /// Brand name.
    pub brand: String,
    /// Volume or negative.
    pub kind: SurgeKind,
    /// Mentions (of the kind) in the window.
    pub count: u64,
    /// The usual count, rounded.
    pub usual: u64,
    /// Window length in minutes.
    pub window_minutes: u64,
    /// Most frequent words of the window's posts.
    pub terms: Vec<String>,
    /// Most frequent authors of the window's posts.
    pub authors: Vec<String>,
}

/// A detected surge, to be stored and routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surge {
    /// What it says.
    pub note: SurgeNote,
    /// Start and end of the window.
    pub window: (DateTime<Utc>, DateTime<Utc>),
    /// Sample hits shown, highest priority first.
    pub samples: Vec<HitId>,
    /// The labels of the surge, for routing: the brand's, with `negative` tone for a
    /// negative surge.
    pub labels: HitLabels,
}

impl Surge {
    /// The deterministic id of the surge's delivery to `receiver`.
    pub fn delivery_id(&self, receiver: &ReceiverName) -> DeliveryId {
        let key = HitKey {
            source: String::new(),
            post_id: self.window.1.timestamp().to_string(),
            brand: self.note.brand.clone(),
        };
        delivery_id(
            &format!("surge;{}", self.note.kind.as_str()),
            receiver,
            &[key],
        )
    }
}

/// The hours of earlier weeks within `history` that the window ending at `now` is
/// compared with (the hour holding its start, one week back, two, …), oldest first,
/// leaving out those before `since`.
fn week_slots(
    settings: &SurgeSettings,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let window_start = settings.window_start(now);
    let weeks = (settings.history.as_secs() / (7 * 24 * 3600)) as i64;
    (1..=weeks)
        .rev()
        .filter_map(|week| {
            let slot = window_start - chrono::Duration::weeks(week);
            slot.with_minute(0)?.with_second(0)?.with_nanosecond(0)
        })
        .filter(|hour| *hour >= since)
        .collect()
}

/// The periods whose window counts [`baseline`] reads for the window ending at
/// `now`: the hour of each earlier week since `since`, or, before a week of history
/// exists, all of it. The store counts only these, not the whole `history`.
pub fn history_ranges(
    settings: &SurgeSettings,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let slots = week_slots(settings, since, now);
    if slots.is_empty() {
        return vec![(
            since.max(settings.history_start(now)),
            settings.window_start(now),
        )];
    }
    slots
        .into_iter()
        .map(|hour| (hour, hour + chrono::Duration::hours(1)))
        .collect()
}

/// The usual counts of a window ending at `now`, from `counts` (one brand's past
/// windows, at least those in [`history_ranges`]) learnt since `since` (the oldest
/// stored mention of any brand: windows before it are unknown, not quiet).
pub fn baseline(
    settings: &SurgeSettings,
    counts: &[WindowCount],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Baseline {
    let secs = settings.window_secs();
    let window_start = settings.window_start(now);
    let per_hour = (3600 / secs).max(1) as f64;
    let hour_mean = |start: DateTime<Utc>| {
        let (from, to) = (start.timestamp() / secs, (start.timestamp() + 3600) / secs);
        let sum = counts
            .iter()
            .filter(|c| c.index >= from && c.index < to)
            .fold((0, 0), |(t, n), c| (t + c.total, n + c.negative));
        (sum.0 as f64 / per_hour, sum.1 as f64 / per_hour)
    };
    let mut smoothed: Option<(f64, f64)> = None;
    for hour in week_slots(settings, since, now) {
        let (total, negative) = hour_mean(hour);
        smoothed = Some(match smoothed {
            None => (total, negative),
            Some((t, n)) => (
                EWMA_ALPHA * total + (1.0 - EWMA_ALPHA) * t,
                EWMA_ALPHA * negative + (1.0 - EWMA_ALPHA) * n,
            ),
        });
    }
    if let Some((total, negative)) = smoothed {
        return Baseline { total, negative };
    }
    // Less than a week of history: the mean over every window of it.
    let first = since.max(settings.history_start(now)).timestamp() / secs;
    let last = window_start.timestamp() / secs;
    let windows = (last - first).max(1) as f64;
    let (total, negative) = counts
        .iter()
        .filter(|c| c.index >= first && c.index < last)
        .fold((0, 0), |(t, n), c| (t + c.total, n + c.negative));
    Baseline {
        total: total as f64 / windows,
        negative: negative as f64 / windows,
    }
}

/// The surge of `mentions` (one brand's mentions in the window ending at `now`), if
/// they are one: a volume surge, else a negative one. `cooling(kind)` says whether
/// the brand had a surge of that kind within the cooldown.
pub fn detect(
    settings: &SurgeSettings,
    mentions: &[WindowMention],
    usual: Baseline,
    now: DateTime<Utc>,
    cooling: impl Fn(SurgeKind) -> bool,
) -> Option<Surge> {
    let first = mentions.first()?;
    let total = mentions.len() as u64;
    let negatives: Vec<&WindowMention> = mentions
        .iter()
        .filter(|m| m.labels.sentiment == Sentiment::Negative)
        .collect();
    let negative = negatives.len() as u64;
    let threshold = |usual: f64| {
        settings
            .min_volume
            .max((usual * settings.factor).ceil() as u64)
    };
    let (kind, count, usual, shown) = if total >= threshold(usual.total) {
        (
            SurgeKind::Volume,
            total,
            usual.total,
            mentions.iter().collect(),
        )
    } else if negative >= threshold(usual.negative)
        && negative as f64 >= settings.negative_share * total as f64
    {
        (SurgeKind::Negative, negative, usual.negative, negatives)
    } else {
        return None;
    };
    if cooling(kind) {
        return None;
    }
    let brand = first.labels.brand.clone();
    let exclude: Vec<String> = fold(&brand)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let terms = top_words(shown.iter().map(|m| m.text.as_str()), &exclude, TOP)
        .into_iter()
        .map(|(word, _)| word)
        .collect();
    let authors = top_counts(shown.iter().filter_map(|m| m.author.clone()), TOP)
        .into_iter()
        .map(|(author, _)| author)
        .collect();
    let mut samples: Vec<&&WindowMention> = shown.iter().collect();
    samples.sort_by_key(|m| std::cmp::Reverse((m.labels.priority, m.hit_id)));
    let labels = HitLabels {
        source: String::new(),
        priority: 0,
        is_topic: false,
        sentiment: match kind {
            SurgeKind::Volume => Sentiment::Neutral,
            SurgeKind::Negative => Sentiment::Negative,
        },
        ..first.labels.clone()
    };
    Some(Surge {
        note: SurgeNote {
            brand,
            kind,
            count,
            usual: usual.round() as u64,
            window_minutes: settings.window.as_secs() / 60,
            terms,
            authors,
        },
        window: (settings.window_start(now), now),
        samples: samples.iter().take(SAMPLES).map(|m| m.hit_id).collect(),
        labels,
    })
}

/// The `n` most frequent words of `texts` (folded, at least 3 characters, no stop
/// words, none of `exclude`, no numbers), most frequent first, ties alphabetical.
pub fn top_words<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    exclude: &[String],
    n: usize,
) -> Vec<(String, u64)> {
    let words = texts.into_iter().flat_map(|text| {
        fold(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| {
                w.chars().count() >= 3
                    && !w.chars().all(|c| c.is_ascii_digit())
                    && !STOP_WORDS.contains(w)
                    && !exclude.iter().any(|e| e == w)
            })
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    top_counts(words, n)
}

/// The `n` most frequent of `items` with their counts, most frequent first, ties
/// alphabetical.
fn top_counts(items: impl IntoIterator<Item = String>, n: usize) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for item in items {
        *counts.entry(item).or_default() += 1;
    }
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(n);
    counts
}

#[cfg(test)]
pub(crate) mod tests;
