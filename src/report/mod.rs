//! Daily (and weekly) report files: the [`DailyReport`] model built from what the
//! store reads for a window of local days, its renderings (Markdown, CSV, JSON, one
//! HTML page with inline SVG charts; in `render`, pure) and the atomic, never
//! overwriting file writes (`files`). The schedule that writes them runs in `app`.

mod files;
mod render;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::settings::FieldError;
use crate::store::{DeadDelivery, ReportHit, SourceHealth, Store, StoreError};

pub use files::{
    CATCH_UP_DAYS, ReportFileError, ReportName, days_due, newest_report_day, next_run, report_done,
    report_path, write_report,
};
pub use render::{render, summary};

/// The version of the JSON form; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Most entries in each "top" list (posts, authors, open hits).
pub const TOP: usize = 10;

/// The language of a report's labels, numbers and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// `tr`: `1.234`, `26 Kasım 2026`.
    Tr,
    /// `en`: `1,234`, `26 November 2026`.
    En,
}

impl Language {
    /// Reads `tr`/`turkish` or `en`/`english`.
    pub fn parse(text: &str) -> Option<Language> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tr" | "turkish" => Some(Language::Tr),
            "en" | "english" => Some(Language::En),
            _ => None,
        }
    }
}

/// One file format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `.md`
    Markdown,
    /// `.csv`, one row per hit.
    Csv,
    /// `.json`, [`DailyReport`] as documented in the README.
    Json,
    /// `.html`, self-contained with inline SVG charts.
    Html,
}

impl Format {
    /// Every format, in file-name order of their extensions' use.
    pub const ALL: [Format; 4] = [Format::Markdown, Format::Csv, Format::Json, Format::Html];

    /// Reads `md`/`markdown`, `csv`, `json` or `html`.
    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

/// `[report]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSettings {
    /// Whether the daemon writes the previous day's report each day.
    pub enabled: bool,
    /// Local time of day the previous day's report is written.
    pub at: NaiveTime,
    /// The zone days are counted in.
    pub time_zone: Tz,
    /// Where report files go.
    pub dir: PathBuf,
    /// Labels, numbers and dates.
    pub language: Language,
    /// Formats written, each once.
    pub formats: Vec<Format>,
    /// Receivers the report also goes to.
    pub send_to: Vec<String>,
}

impl ReportSettings {
    /// What stands in for settings that did not validate (never used to run: the
    /// configuration is refused).
    pub fn fallback() -> ReportSettings {
        ReportSettings {
            enabled: false,
            at: NaiveTime::MIN,
            time_zone: Tz::UTC,
            dir: PathBuf::new(),
            language: Language::Tr,
            formats: Vec::new(),
            send_to: Vec::new(),
        }
    }

    /// Validates `[report]`; problems are keyed relative to the table.
    pub fn parse(
        enabled: bool,
        at: &str,
        time_zone: &str,
        dir: PathBuf,
        language: &str,
        formats: &[String],
        send_to: Vec<String>,
    ) -> Result<ReportSettings, Vec<FieldError>> {
        let mut problems = Vec::new();
        let at = NaiveTime::parse_from_str(at.trim(), "%H:%M").unwrap_or_else(|_| {
            problems.push(FieldError::new(
                "at",
                format!("`{at}` is not a time of day such as 00:05"),
            ));
            NaiveTime::MIN
        });
        let time_zone = time_zone.trim().parse::<Tz>().unwrap_or_else(|_| {
            problems.push(FieldError::new(
                "time_zone",
                format!("`{time_zone}` is not an IANA time zone such as Europe/Istanbul"),
            ));
            Tz::UTC
        });
        let language = Language::parse(language).unwrap_or_else(|| {
            problems.push(FieldError::new(
                "language",
                format!("`{language}` is not a language: use `tr` or `en`"),
            ));
            Language::Tr
        });
        let mut parsed = Vec::new();
        for (index, text) in formats.iter().enumerate() {
            match Format::parse(text) {
                Some(format) if !parsed.contains(&format) => parsed.push(format),
                Some(_) => {}
                None => problems.push(FieldError::new(
                    format!("formats[{index}]"),
                    format!("`{text}` is not a format: use md, csv, json or html"),
                )),
            }
        }
        if formats.is_empty() {
            problems.push(FieldError::new("formats", "name at least one format"));
        }
        if dir.as_os_str().is_empty() {
            problems.push(FieldError::new("dir", "must not be empty"));
        }
        if problems.is_empty() {
            Ok(ReportSettings {
                enabled,
                at,
                time_zone,
                dir,
                language,
                formats: parsed,
                send_to,
            })
        } else {
            Err(problems)
        }
    }
}

/// The local days a report covers: one day, or seven ending with `last` (`--week`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first local day.
    pub first: NaiveDate,
    /// The last local day (the same as `first` for a daily report).
    pub last: NaiveDate,
}

impl Period {
    /// One local day.
    pub fn day(date: NaiveDate) -> Period {
        Period {
            first: date,
            last: date,
        }
    }

    /// The seven local days ending with `last`.
    pub fn week(last: NaiveDate) -> Period {
        Period {
            first: last - Days::new(6),
            last,
        }
    }

    /// Whether it is a weekly period.
    pub fn is_week(&self) -> bool {
        self.first != self.last
    }

    /// The file name stem: `2026-11-25`, or `week-2026-11-25` for the week ending then.
    pub fn stem(&self) -> String {
        if self.is_week() {
            format!("week-{}", self.last.format("%Y-%m-%d"))
        } else {
            self.last.format("%Y-%m-%d").to_string()
        }
    }

    /// The same period `days` earlier.
    fn earlier(&self, days: u64) -> Period {
        Period {
            first: self.first - Days::new(days),
            last: self.last - Days::new(days),
        }
    }

    /// `[start, end)` in UTC: local midnight before `first` to local midnight after
    /// `last` in `zone`, so a day with a DST change is 23 or 25 hours long.
    pub fn window(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            start_of_day(self.first, zone),
            start_of_day(self.last + Days::new(1), zone),
        )
    }
}

/// The first instant of local day `date` in `zone`: midnight, or the first valid time
/// after it when a DST change skips midnight.
pub fn start_of_day(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let mut local = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(at) = zone.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(30);
    }
    Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// Counts of one window by brand, source and sentiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Hits.
    pub hits: u64,
    /// Distinct authors.
    pub authors: u64,
    /// Hits per brand (topics included).
    pub brands: BTreeMap<String, u64>,
    /// Hits per source.
    pub sources: BTreeMap<String, u64>,
    /// Hits per sentiment (`negative`, `neutral`, `positive`).
    pub sentiment: BTreeMap<String, u64>,
}

impl Counts {
    fn of(hits: &[ReportHit]) -> Counts {
        let mut counts = Counts {
            hits: hits.len() as u64,
            ..Counts::default()
        };
        let mut authors = BTreeSet::new();
        for hit in hits {
            *counts.brands.entry(hit.brand.clone()).or_default() += 1;
            *counts.sources.entry(hit.source.clone()).or_default() += 1;
            *counts.sentiment.entry(hit.sentiment.clone()).or_default() += 1;
            if let Some(author) = &hit.author {
                authors.insert((hit.source.as_str(), author.as_str()));
            }
        }
        counts.authors = authors.len() as u64;
        counts
    }
}

/// One brand's hits per local hour of the window (23, 24 or 25 buckets a day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourlyVolume {
    /// Brand or topic.
    pub brand: String,
    /// Hits per hour, the first hour first.
    pub hours: Vec<u64>,
}

/// Complaint words a [`Share`] lists.
const COMPLAINT_WORDS: usize = 5;

/// A brand's share of the brand hits of the window (topics left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// Brand.
    pub brand: String,
    /// A competitor entry.
    pub competitor: bool,
    /// Its hits.
    pub hits: u64,
    /// Its share in percent.
    pub percent: f64,
    /// The most frequent words of its negative mentions, most first.
    pub complaint_words: Vec<String>,
    /// Median minutes from a mention to the reply by one of the brand's own handles
    /// that acknowledged it (how fast a competitor answers, too); `None` when none did.
    pub median_response_minutes: Option<f64>,
}

/// An author and how many hits their posts made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAuthor {
    /// Source.
    pub source: String,
    /// Handle, name or id.
    pub author: String,
    /// Hits.
    pub hits: u64,
}

/// A hit that breached its SLA (escalated), and who answered it how fast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    /// Hit id.
    pub hit: i64,
    /// Brand.
    pub brand: String,
    /// When it was found.
    pub detected_at: DateTime<Utc>,
    /// When it was escalated.
    pub escalated_at: DateTime<Utc>,
    /// Who acknowledged it, if anyone did.
    pub acked_by: Option<String>,
    /// Minutes from detection to acknowledgement, if it was acknowledged.
    pub response_minutes: Option<f64>,
}

/// How fast hits of the window were answered (acknowledged).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Responses {
    /// Hits acknowledged.
    pub answered: u64,
    /// Median minutes from detection to acknowledgement.
    pub median_minutes: Option<f64>,
    /// 90th percentile of the same.
    pub p90_minutes: Option<f64>,
    /// Per person: who, how many, their median minutes; most answers first.
    pub by_person: Vec<PersonResponses>,
    /// Each answer: minutes, and whether the hit breached its SLA first (the chart).
    pub each: Vec<(f64, bool)>,
}

/// One person's answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonResponses {
    /// `acked_by`.
    pub who: String,
    /// Hits acknowledged.
    pub answered: u64,
    /// Median minutes.
    pub median_minutes: f64,
}

/// A surge ("digital fire"): a brand's volume far above its usual rate. Empty until
/// surge detection stores them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surge {
    /// Brand.
    pub brand: String,
    /// `volume` (all mentions) or `negative` (negative ones alone).
    pub kind: String,
    /// End of the window in which it was detected.
    pub window_end: DateTime<Utc>,
    /// Mentions (of the kind) in that window.
    pub count: u64,
    /// The usual count for that hour of the week.
    pub usual: u64,
}

/// Hits still open at the end of the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpenHits {
    /// How many.
    pub total: u64,
    /// The oldest [`TOP`].
    pub oldest: Vec<ReportHit>,
}

/// Everything a report shows, for one [`Period`]; the JSON form is this value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `daily` or `weekly`.
    pub kind: &'static str,
    /// The language of the renderings.
    pub language: Language,
    /// The zone the days are counted in.
    pub time_zone: String,
    /// The first local day.
    pub first_day: NaiveDate,
    /// The last local day.
    pub last_day: NaiveDate,
    /// Start of the window (UTC).
    pub start: DateTime<Utc>,
    /// End of the window, exclusive (UTC).
    pub end: DateTime<Utc>,
    /// This window's counts.
    pub totals: Counts,
    /// The previous period's counts.
    pub previous: Counts,
    /// The counts of the same period a week earlier (the same weekday).
    pub week_ago: Counts,
    /// Local hour labels (`00`…`23`; a DST day has 23 or 25).
    pub hour_labels: Vec<String>,
    /// Hits per brand per local hour.
    pub hourly: Vec<HourlyVolume>,
    /// Own brands and competitors.
    pub share_of_voice: Vec<Share>,
    /// The posts with the widest reach (author followers), most first.
    pub top_posts: Vec<ReportHit>,
    /// The authors with most hits.
    pub active_authors: Vec<ActiveAuthor>,
    /// Hits open at the end of the window.
    pub open_hits: OpenHits,
    /// Hits of the window that breached their SLA.
    pub sla_breaches: Vec<Breach>,
    /// How fast hits of the window were answered.
    pub responses: Responses,
    /// Surges of the window.
    pub surges: Vec<Surge>,
    /// Deliveries of the window that died.
    pub delivery_failures: Vec<DeadDelivery>,
    /// Each source's health when the report was built.
    pub source_health: Vec<SourceHealth>,
    /// Every hit of the window, oldest first (the CSV's rows).
    pub hits: Vec<ReportHit>,
}

/// What the store holds for a report (read once; [`DailyReport::build`] is pure).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The window's hits.
    pub hits: Vec<ReportHit>,
    /// The previous period's hits.
    pub previous: Vec<ReportHit>,
    /// The same period a week earlier.
    pub week_ago: Vec<ReportHit>,
    /// The oldest hits open at the end, and how many there are.
    pub open: (Vec<ReportHit>, u64),
    /// Dead deliveries of the window.
    pub dead: Vec<DeadDelivery>,
    /// Source health.
    pub health: Vec<SourceHealth>,
    /// Surges detected in the window (`SurgeLoop`).
    pub surges: Vec<Surge>,
    /// Each brand's complaint words and own-handle response time in the window.
    pub brands: Vec<crate::store::BrandSummary>,
}

impl Facts {
    /// Reads what a report of `period` in `zone` needs; `now` dates source health.
    pub fn read(
        store: &Store,
        period: Period,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Facts, StoreError> {
        let days = (period.last - period.first).num_days() as u64 + 1;
        let (start, end) = period.window(zone);
        let (prev_start, prev_end) = period.earlier(days).window(zone);
        let (week_start, week_end) = period.earlier(7).window(zone);
        Ok(Facts {
            hits: store.report_hits(start, end)?,
            previous: store.report_hits(prev_start, prev_end)?,
            week_ago: store.report_hits(week_start, week_end)?,
            open: store.report_open_hits(end, TOP)?,
            dead: store.report_dead_deliveries(start, end)?,
            health: store.source_health(now)?,
            brands: store.competitor_summary(start, end)?,
            surges: store
                .surges(start, end)?
                .into_iter()
                .map(|surge| Surge {
                    window_end: surge.window_end,
                    brand: surge.brand,
                    kind: surge.kind,
                    count: surge.count,
                    usual: surge.usual,
                })
                .collect(),
        })
    }
}

/// Reads and builds the report of `period` (`now` dates source health).
pub fn generate(
    store: &Store,
    period: Period,
    zone: Tz,
    language: Language,
    now: DateTime<Utc>,
) -> Result<DailyReport, StoreError> {
    let facts = Facts::read(store, period, zone, now)?;
    Ok(DailyReport::build(period, zone, language, facts))
}

/// Renders `report` in each of `formats` and writes the files under `dir` (see
/// [`write_report`]); returns the files written (an existing one is kept unless
/// `force`).
pub fn write_files(
    report: &DailyReport,
    dir: &std::path::Path,
    formats: &[Format],
    force: bool,
) -> Result<Vec<PathBuf>, ReportFileError> {
    let period = Period {
        first: report.first_day,
        last: report.last_day,
    };
    let mut written = Vec::new();
    for format in formats {
        let text = render(report, *format);
        written.extend(write_report(dir, period, *format, text.as_bytes(), force)?);
    }
    Ok(written)
}

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_seconds().max(0) as f64 / 60.0 * 10.0).round() / 10.0
}

/// The value at `q` (0..=1) of sorted `values` (nearest rank); `None` when empty.
/// Also the pipeline benchmark's latency percentiles.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

impl DailyReport {
    /// Builds the report of `period` in `zone` from `facts` (pure).
    pub fn build(period: Period, zone: Tz, language: Language, facts: Facts) -> DailyReport {
        let (start, end) = period.window(zone);
        let hits = facts.hits;
        let n_hours = ((end - start).num_hours().max(1)) as usize;
        let hour_labels = (0..n_hours)
            .map(|i| {
                (start + chrono::Duration::hours(i as i64))
                    .with_timezone(&zone)
                    .format(if period.is_week() { "%m-%d %H" } else { "%H" })
                    .to_string()
            })
            .collect();
        let mut hourly: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for hit in &hits {
            let hour = ((hit.detected_at - start).num_hours().max(0) as usize).min(n_hours - 1);
            hourly.entry(&hit.brand).or_insert_with(|| vec![0; n_hours])[hour] += 1;
        }
        let hourly = hourly
            .into_iter()
            .map(|(brand, hours)| HourlyVolume {
                brand: brand.to_string(),
                hours,
            })
            .collect();

        let mut shares: BTreeMap<&str, (bool, u64)> = BTreeMap::new();
        for hit in hits.iter().filter(|hit| !hit.is_topic) {
            let entry = shares.entry(&hit.brand).or_insert((hit.competitor, 0));
            entry.1 += 1;
        }
        let brand_hits: u64 = shares.values().map(|(_, n)| n).sum();
        let mut share_of_voice: Vec<Share> = shares
            .into_iter()
            .map(|(brand, (competitor, n))| {
                let summary = facts.brands.iter().find(|summary| summary.brand == *brand);
                Share {
                    brand: brand.to_string(),
                    competitor,
                    hits: n,
                    percent: (n as f64 * 1000.0 / brand_hits.max(1) as f64).round() / 10.0,
                    complaint_words: summary.map_or_else(Vec::new, |summary| {
                        summary
                            .complaint_words
                            .iter()
                            .take(COMPLAINT_WORDS)
                            .map(|(word, _)| word.clone())
                            .collect()
                    }),
                    median_response_minutes: summary
                        .and_then(|summary| summary.median_response_secs)
                        .map(|secs| (secs.max(0) as f64 / 6.0).round() / 10.0),
                }
            })
            .collect();
        share_of_voice.sort_by(|a, b| b.hits.cmp(&a.hits).then(a.brand.cmp(&b.brand)));

        let mut top_posts: Vec<ReportHit> = Vec::new();
        let mut seen_posts = BTreeSet::new();
        let mut by_reach: Vec<&ReportHit> = hits.iter().collect();
        by_reach.sort_by(|a, b| {
            b.followers
                .unwrap_or(0)
                .cmp(&a.followers.unwrap_or(0))
                .then(a.id.0.cmp(&b.id.0))
        });
        for hit in by_reach {
            if top_posts.len() == TOP {
                break;
            }
            if seen_posts.insert((hit.source.as_str(), hit.post_id.as_str())) {
                top_posts.push(hit.clone());
            }
        }

        let mut authors: HashMap<(&str, &str), BTreeSet<&str>> = HashMap::new();
        for hit in &hits {
            if let Some(author) = &hit.author {
                authors
                    .entry((hit.source.as_str(), author.as_str()))
                    .or_default()
                    .insert(hit.post_id.as_str());
            }
        }
        let mut active_authors: Vec<ActiveAuthor> = authors
            .into_iter()
            .map(|((source, author), posts)| ActiveAuthor {
                source: source.to_string(),
                author: author.to_string(),
                hits: posts.len() as u64,
            })
            .collect();
        active_authors.sort_by(|a, b| {
            b.hits
                .cmp(&a.hits)
                .then_with(|| a.author.cmp(&b.author))
                .then_with(|| a.source.cmp(&b.source))
        });
        active_authors.truncate(TOP);

        let sla_breaches = hits
            .iter()
            .filter_map(|hit| {
                Some(Breach {
                    hit: hit.id.0,
                    brand: hit.brand.clone(),
                    detected_at: hit.detected_at,
                    escalated_at: hit.escalated_at?,
                    acked_by: hit.acked_by.clone(),
                    response_minutes: hit.acked_at.map(|at| minutes(hit.detected_at, at)),
                })
            })
            .collect();

        let mut each = Vec::new();
        let mut people: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for hit in &hits {
            if let Some(at) = hit.acked_at {
                let taken = minutes(hit.detected_at, at);
                each.push((taken, hit.escalated_at.is_some()));
                people
                    .entry(hit.acked_by.as_deref().unwrap_or("?"))
                    .or_default()
                    .push(taken);
            }
        }
        let mut sorted: Vec<f64> = each.iter().map(|(m, _)| *m).collect();
        sorted.sort_by(f64::total_cmp);
        let mut by_person: Vec<PersonResponses> = people
            .into_iter()
            .map(|(who, mut taken)| {
                taken.sort_by(f64::total_cmp);
                PersonResponses {
                    who: who.to_string(),
                    answered: taken.len() as u64,
                    median_minutes: quantile(&taken, 0.5).unwrap_or(0.0),
                }
            })
            .collect();
        by_person.sort_by(|a, b| b.answered.cmp(&a.answered).then(a.who.cmp(&b.who)));
        let responses = Responses {
            answered: sorted.len() as u64,
            median_minutes: quantile(&sorted, 0.5),
            p90_minutes: quantile(&sorted, 0.9),
            by_person,
            each,
        };

        DailyReport {
            schema_version: SCHEMA_VERSION,
            kind: if period.is_week() { "weekly" } else { "daily" },
            language,
            time_zone: zone.name().to_string(),
            first_day: period.first,
            last_day: period.last,
            start,
            end,
            totals: Counts::of(&hits),
            previous: Counts::of(&facts.previous),
            week_ago: Counts::of(&facts.week_ago),
            hour_labels,
            hourly,
            share_of_voice,
            top_posts,
            active_authors,
            open_hits: OpenHits {
                total: facts.open.1,
                oldest: facts.open.0,
            },
            sla_breaches,
            responses,
            surges: facts.surges,
            delivery_failures: facts.dead,
            source_health: facts.health,
            hits,
        }
    }
}

#[cfg(test)]
mod tests;
