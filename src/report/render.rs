//! The renderings of a [`DailyReport`] (pure): Markdown, CSV (one row per hit), JSON
//! and one self-contained HTML page with inline SVG charts (no script, no external
//! reference). Post text, author names and errors go through the one escaping
//! function of each format in `escape`.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{Counts, DailyReport, Format, Language};
use crate::escape;
use crate::store::ReportHit;

/// `report` in `format`.
pub fn render(report: &DailyReport, format: Format) -> String {
    match format {
        Format::Markdown => markdown(report),
        Format::Csv => csv(report),
        Format::Json => json(report),
        Format::Html => html(report),
    }
}

/// One breakdown of [`Counts`].
type Pick = fn(&Counts) -> &std::collections::BTreeMap<String, u64>;

fn brands(counts: &Counts) -> &std::collections::BTreeMap<String, u64> {
    &counts.brands
}

fn sources(counts: &Counts) -> &std::collections::BTreeMap<String, u64> {
    &counts.sources
}

fn sentiments(counts: &Counts) -> &std::collections::BTreeMap<String, u64> {
    &counts.sentiment
}

/// The labels of one language.
struct Labels {
    daily: &'static str,
    weekly: &'static str,
    totals: &'static str,
    hits: &'static str,
    authors: &'static str,
    previous_day: &'static str,
    previous_week: &'static str,
    week_ago: &'static str,
    by_brand: &'static str,
    by_source: &'static str,
    by_sentiment: &'static str,
    negative: &'static str,
    neutral: &'static str,
    positive: &'static str,
    hourly: &'static str,
    share_of_voice: &'static str,
    competitor: &'static str,
    own: &'static str,
    top_posts: &'static str,
    reach: &'static str,
    active_authors: &'static str,
    open_hits: &'static str,
    open_total: &'static str,
    sla: &'static str,
    acked_by: &'static str,
    minutes: &'static str,
    nobody: &'static str,
    responses: &'static str,
    answered: &'static str,
    median: &'static str,
    complaint_words: &'static str,
    own_reply: &'static str,
    p90: &'static str,
    surges: &'static str,
    no_surges: &'static str,
    usual: &'static str,
    failures: &'static str,
    receiver: &'static str,
    error: &'static str,
    health: &'static str,
    source: &'static str,
    failing: &'static str,
    ok: &'static str,
    none: &'static str,
    brand: &'static str,
    text: &'static str,
    escalations: &'static str,
    months: [&'static str; 12],
}

const TR: Labels = Labels {
    daily: "Günlük rapor",
    weekly: "Haftalık rapor",
    totals: "Toplamlar",
    hits: "Bahsetme",
    authors: "Yazar",
    previous_day: "önceki güne göre",
    previous_week: "önceki haftaya göre",
    week_ago: "geçen haftanın aynı gününe göre",
    by_brand: "Markaya göre",
    by_source: "Kaynağa göre",
    by_sentiment: "Duyguya göre",
    negative: "olumsuz",
    neutral: "nötr",
    positive: "olumlu",
    hourly: "Saatlik hacim",
    share_of_voice: "Ses payı",
    competitor: "rakip",
    own: "kendi",
    top_posts: "En geniş erişimli gönderiler",
    reach: "Takipçi",
    active_authors: "En etkin yazarlar",
    open_hits: "Hâlâ açık olanlar",
    open_total: "açık bahsetme",
    sla: "SLA ihlalleri",
    acked_by: "Yanıtlayan",
    minutes: "dk",
    nobody: "yanıtlanmadı",
    responses: "İlk yanıt süreleri",
    answered: "Yanıtlanan",
    median: "Ortanca",
    complaint_words: "Şikâyet kelimeleri",
    own_reply: "Kendi yanıtı (ortanca)",
    p90: "%90'ı",
    surges: "Ani artışlar",
    no_surges: "Ani artış yok",
    usual: "olağan",
    failures: "Teslim edilemeyenler",
    receiver: "Alıcı",
    error: "Hata",
    health: "Kaynak sağlığı",
    source: "Kaynak",
    failing: "hatalı",
    ok: "sağlıklı",
    none: "Yok",
    brand: "Marka",
    text: "Metin",
    escalations: "Yükseltmeler",
    months: [
        "Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim",
        "Kasım", "Aralık",
    ],
};

const EN: Labels = Labels {
    daily: "Daily report",
    weekly: "Weekly report",
    totals: "Totals",
    hits: "Mentions",
    authors: "Authors",
    previous_day: "vs. the previous day",
    previous_week: "vs. the previous week",
    week_ago: "vs. the same day last week",
    by_brand: "By brand",
    by_source: "By source",
    by_sentiment: "By sentiment",
    negative: "negative",
    neutral: "neutral",
    positive: "positive",
    hourly: "Hourly volume",
    share_of_voice: "Share of voice",
    competitor: "competitor",
    own: "own",
    top_posts: "Top posts by reach",
    reach: "Followers",
    active_authors: "Most active authors",
    open_hits: "Still open",
    open_total: "open mentions",
    sla: "SLA breaches",
    acked_by: "Answered by",
    minutes: "min",
    nobody: "not answered",
    responses: "First-response times",
    answered: "Answered",
    median: "Median",
    complaint_words: "Complaint words",
    own_reply: "Own reply (median)",
    p90: "90th percentile",
    surges: "Surges",
    no_surges: "No surges",
    usual: "usual",
    failures: "Delivery failures",
    receiver: "Receiver",
    error: "Error",
    health: "Source health",
    source: "Source",
    failing: "failing",
    ok: "ok",
    none: "None",
    brand: "Brand",
    text: "Text",
    escalations: "Escalations",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

fn labels(language: Language) -> &'static Labels {
    match language {
        Language::Tr => &TR,
        Language::En => &EN,
    }
}

/// `1234567` as `1.234.567` (Turkish) or `1,234,567` (English).
pub(super) fn number(n: u64, language: Language) -> String {
    let separator = match language {
        Language::Tr => '.',
        Language::En => ',',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// One decimal: `12,5` (Turkish) or `12.5` (English).
fn decimal(x: f64, language: Language) -> String {
    let text = format!("{x:.1}");
    match language {
        Language::Tr => text.replace('.', ","),
        Language::En => text,
    }
}

/// `%12,5` (Turkish) or `12.5%` (English).
fn percent(x: f64, language: Language) -> String {
    match language {
        Language::Tr => format!("%{}", decimal(x, language)),
        Language::En => format!("{}%", decimal(x, language)),
    }
}

/// `26 Kasım 2026` or `26 November 2026`.
pub(super) fn date(day: NaiveDate, language: Language) -> String {
    let month = labels(language).months[day.month0() as usize];
    format!("{} {month} {}", day.day(), day.year())
}

/// A UTC time as local `HH:MM` in the report's zone.
/// Local `HH:MM` for a time within a daily report's day, else the local date too
/// (open hits of earlier days, weekly reports).
fn when(report: &DailyReport, at: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    if report.kind == "daily" && local.date_naive() == report.last_day {
        clock(at, zone)
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

fn clock(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%H:%M").to_string()
}

fn zone(report: &DailyReport) -> Tz {
    report.time_zone.parse().unwrap_or(Tz::UTC)
}

/// The change from `before` to `now`: `+12` / `-3` and the percentage when defined.
fn change(now: u64, before: u64, language: Language) -> String {
    let diff = now as i64 - before as i64;
    let sign = if diff >= 0 { "+" } else { "-" };
    let amount = number(diff.unsigned_abs(), language);
    if before == 0 {
        format!("{sign}{amount}")
    } else {
        let pct = diff as f64 * 100.0 / before as f64;
        format!(
            "{sign}{amount} ({}{})",
            if pct >= 0.0 { "+" } else { "-" },
            percent(pct.abs(), language)
        )
    }
}

fn title(report: &DailyReport) -> String {
    let l = labels(report.language);
    if report.kind == "weekly" {
        format!(
            "{}: {} – {}",
            l.weekly,
            date(report.first_day, report.language),
            date(report.last_day, report.language)
        )
    } else {
        format!("{}: {}", l.daily, date(report.last_day, report.language))
    }
}

fn sentiment_label(name: &str, language: Language) -> &str {
    let l = labels(language);
    match name {
        "negative" => l.negative,
        "positive" => l.positive,
        "neutral" => l.neutral,
        other => other,
    }
}

fn previous_label(report: &DailyReport) -> &'static str {
    let l = labels(report.language);
    if report.kind == "weekly" {
        l.previous_week
    } else {
        l.previous_day
    }
}

/// Total mentions with their change against the previous period and a week earlier.
fn headline(report: &DailyReport) -> String {
    let lang = report.language;
    let l = labels(lang);
    let t = &report.totals;
    format!(
        "{}: {} · {} {} · {} {}",
        l.hits,
        number(t.hits, lang),
        change(t.hits, report.previous.hits, lang),
        previous_label(report),
        change(t.hits, report.week_ago.hits, lang),
        l.week_ago
    )
}

/// The report's title and a plain-text summary of its totals (chat messages, the
/// text part of an e-mail).
pub fn summary(report: &DailyReport) -> (String, String) {
    let lang = report.language;
    let l = labels(lang);
    let n = |x: u64| number(x, lang);
    let t = &report.totals;
    let negative = t.sentiment.get("negative").copied().unwrap_or(0);
    let text = format!(
        "{}\n{}: {}\n{}: {}\n{}: {}\n{}: {}",
        headline(report),
        l.authors,
        n(t.authors),
        l.negative,
        n(negative),
        l.open_hits,
        n(report.open_hits.total),
        l.sla,
        n(report.sla_breaches.len() as u64),
    );
    (title(report), text)
}

/// One part of a report, the same in Markdown and HTML; every text in it is raw
/// (attacker-controlled where it comes from posts) and escaped by the writer.
enum Block {
    /// A heading of level 1 to 3.
    Heading(usize, String),
    /// A paragraph.
    Para(String),
    /// A table.
    Table(Table),
    /// A chart under its heading (HTML only).
    Chart(String, Chart),
}

/// A table: its header, which columns are numbers (right-aligned), its rows.
struct Table {
    header: Vec<String>,
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&str, bool)]) -> Table {
        Table {
            header: columns.iter().map(|(name, _)| name.to_string()).collect(),
            numeric: columns.iter().map(|(_, numeric)| *numeric).collect(),
            rows: Vec::new(),
        }
    }
}

/// The charts of the HTML page.
#[derive(Clone, Copy)]
enum Chart {
    Hourly,
    Sentiment,
    Share,
    Responses,
    Escalations,
}

/// The report as blocks, in reading order.
fn blocks(report: &DailyReport) -> Vec<Block> {
    let lang = report.language;
    let l = labels(lang);
    let zone = zone(report);
    let n = |x: u64| number(x, lang);
    let minutes = |m: Option<f64>| {
        m.map(|m| format!("{} {}", decimal(m, lang), l.minutes))
            .unwrap_or_else(|| "–".into())
    };
    let t = &report.totals;
    let mut out = vec![
        Block::Heading(1, title(report)),
        Block::Heading(2, l.totals.into()),
        Block::Para(headline(report)),
        Block::Para(format!("{}: {}", l.authors, n(t.authors))),
    ];
    for (heading, pick) in [
        (l.by_brand, brands as Pick),
        (l.by_source, sources),
        (l.by_sentiment, sentiments),
    ] {
        let mut table = Table::new(&[("", false), (l.hits, true), ("Δ", true), ("Δ7", true)]);
        for (name, count) in pick(t) {
            let before = pick(&report.previous).get(name).copied().unwrap_or(0);
            let week = pick(&report.week_ago).get(name).copied().unwrap_or(0);
            table.rows.push(vec![
                sentiment_label(name, lang).to_string(),
                n(*count),
                change(*count, before, lang),
                change(*count, week, lang),
            ]);
        }
        out.push(Block::Heading(3, heading.into()));
        out.push(Block::Table(table));
    }
    out.push(Block::Chart(l.hourly.into(), Chart::Hourly));
    out.push(Block::Chart(l.by_sentiment.into(), Chart::Sentiment));
    out.push(Block::Heading(2, l.share_of_voice.into()));
    out.push(Block::Chart(String::new(), Chart::Share));
    let mut shares = Table::new(&[
        (l.brand, false),
        ("", false),
        (l.hits, true),
        ("%", true),
        (l.complaint_words, false),
        (l.own_reply, true),
    ]);
    for share in &report.share_of_voice {
        shares.rows.push(vec![
            share.brand.clone(),
            if share.competitor {
                l.competitor
            } else {
                l.own
            }
            .into(),
            n(share.hits),
            percent(share.percent, lang),
            share.complaint_words.join(", "),
            minutes(share.median_response_minutes),
        ]);
    }
    out.push(Block::Table(shares));
    let posts = |hits: &[ReportHit]| {
        let mut table = Table::new(&[
            ("#", true),
            (clock_label(lang), false),
            (l.brand, false),
            (l.source, false),
            (l.reach, true),
            (l.text, false),
        ]);
        for hit in hits {
            table.rows.push(vec![
                hit.id.0.to_string(),
                when(report, hit.detected_at, zone),
                hit.brand.clone(),
                format!("{} {}", hit.source, hit.author.as_deref().unwrap_or("")),
                hit.followers.map(n).unwrap_or_default(),
                shorten(&hit.text),
            ]);
        }
        Block::Table(table)
    };
    out.push(Block::Heading(2, l.top_posts.into()));
    out.push(posts(&report.top_posts));
    let mut authors = Table::new(&[(l.authors, false), (l.source, false), (l.hits, true)]);
    for author in &report.active_authors {
        authors.rows.push(vec![
            author.author.clone(),
            author.source.clone(),
            n(author.hits),
        ]);
    }
    out.push(Block::Heading(2, l.active_authors.into()));
    out.push(Block::Table(authors));
    out.push(Block::Heading(2, l.open_hits.into()));
    out.push(Block::Para(format!(
        "{} {}",
        n(report.open_hits.total),
        l.open_total
    )));
    out.push(posts(&report.open_hits.oldest));
    let mut breaches = Table::new(&[
        ("#", true),
        (l.brand, false),
        (clock_label(lang), false),
        (l.acked_by, false),
        (l.minutes, true),
    ]);
    for breach in &report.sla_breaches {
        breaches.rows.push(vec![
            breach.hit.to_string(),
            breach.brand.clone(),
            clock(breach.detected_at, zone),
            breach.acked_by.as_deref().unwrap_or(l.nobody).to_string(),
            breach
                .response_minutes
                .map(|m| decimal(m, lang))
                .unwrap_or_default(),
        ]);
    }
    out.push(Block::Heading(2, l.sla.into()));
    out.push(Block::Table(breaches));
    out.push(Block::Chart(l.escalations.into(), Chart::Escalations));
    let r = &report.responses;
    out.push(Block::Heading(2, l.responses.into()));
    out.push(Block::Para(format!(
        "{}: {} · {}: {} · {}: {}",
        l.answered,
        n(r.answered),
        l.median,
        minutes(r.median_minutes),
        l.p90,
        minutes(r.p90_minutes)
    )));
    out.push(Block::Chart(String::new(), Chart::Responses));
    let mut people = Table::new(&[(l.acked_by, false), (l.answered, true), (l.median, true)]);
    for person in &r.by_person {
        people.rows.push(vec![
            person.who.clone(),
            n(person.answered),
            minutes(Some(person.median_minutes)),
        ]);
    }
    out.push(Block::Table(people));
    out.push(Block::Heading(2, l.surges.into()));
    if report.surges.is_empty() {
        out.push(Block::Para(l.no_surges.into()));
    }
    for surge in &report.surges {
        let negative = match surge.kind.as_str() {
            "negative" => format!(" ({})", l.negative),
            _ => String::new(),
        };
        out.push(Block::Para(format!(
            "{} {}{negative}: {} / {} {}",
            clock(surge.window_end, zone),
            surge.brand,
            n(surge.count),
            l.usual,
            n(surge.usual)
        )));
    }
    let mut failures = Table::new(&[(l.receiver, false), ("", false), (l.error, false)]);
    for dead in &report.delivery_failures {
        failures.rows.push(vec![
            dead.receiver.clone(),
            dead.kind.clone(),
            dead.last_error.clone().unwrap_or_default(),
        ]);
    }
    out.push(Block::Heading(2, l.failures.into()));
    out.push(Block::Table(failures));
    let mut health = Table::new(&[(l.source, false), ("", false), (l.error, false)]);
    for source in &report.source_health {
        health.rows.push(vec![
            source.source.0.clone(),
            if source.failures > 0 { l.failing } else { l.ok }.into(),
            source.last_error.clone().unwrap_or_default(),
        ]);
    }
    out.push(Block::Heading(2, l.health.into()));
    out.push(Block::Table(health));
    out
}

/// Markdown text on one line (a table cell or a paragraph line), escaped.
fn md_line(text: &str) -> String {
    escape::markdown(text).replace(['\n', '\r', '\t'], " ")
}

fn markdown(report: &DailyReport) -> String {
    let none = labels(report.language).none;
    let mut out = String::new();
    for block in blocks(report) {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(level), md_line(&text));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{}\n", md_line(&text));
            }
            Block::Table(table) if table.rows.is_empty() => {
                let _ = writeln!(out, "{none}\n");
            }
            Block::Table(table) => {
                let cells = |cells: &[String]| {
                    let cells: Vec<String> = cells.iter().map(|cell| md_line(cell)).collect();
                    format!("| {} |", cells.join(" | "))
                };
                let rule: Vec<&str> = table
                    .numeric
                    .iter()
                    .map(|numeric| if *numeric { "---:" } else { "---" })
                    .collect();
                let _ = writeln!(out, "{}\n|{}|", cells(&table.header), rule.join("|"));
                for row in &table.rows {
                    let _ = writeln!(out, "{}", cells(row));
                }
                out.push('\n');
            }
            Block::Chart(..) => {}
        }
    }
    out
}

fn clock_label(language: Language) -> &'static str {
    match language {
        Language::Tr => "Saat",
        Language::En => "Time",
    }
}

/// At most 140 characters of a post, on a char boundary.
fn shorten(text: &str) -> String {
    const MAX: usize = 140;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// One CSV record, every cell through [`escape::csv`].
fn csv_record(out: &mut String, cells: &[&str]) {
    let cells: Vec<_> = cells.iter().map(|cell| escape::csv(cell)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

fn csv(report: &DailyReport) -> String {
    let zone = zone(report);
    let mut out = String::new();
    csv_record(
        &mut out,
        &[
            "hit_id",
            "detected_at",
            "brand",
            "competitor",
            "topic",
            "source",
            "post_id",
            "url",
            "author",
            "followers",
            "sentiment",
            "severity",
            "acked_at",
            "acked_by",
            "response_minutes",
            "escalated_at",
            "text",
        ],
    );
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).to_rfc3339();
    for hit in &report.hits {
        csv_record(
            &mut out,
            &[
                &hit.id.0.to_string(),
                &local(hit.detected_at),
                &hit.brand,
                if hit.competitor { "1" } else { "0" },
                if hit.is_topic { "1" } else { "0" },
                &hit.source,
                &hit.post_id,
                hit.url.as_deref().unwrap_or(""),
                hit.author.as_deref().unwrap_or(""),
                &hit.followers.map(|f| f.to_string()).unwrap_or_default(),
                &hit.sentiment,
                &hit.severity,
                &hit.acked_at.map(local).unwrap_or_default(),
                hit.acked_by.as_deref().unwrap_or(""),
                &hit.acked_at
                    .map(|at| format!("{:.1}", super::minutes(hit.detected_at, at)))
                    .unwrap_or_default(),
                &hit.escalated_at.map(local).unwrap_or_default(),
                &hit.text,
            ],
        );
    }
    out
}

fn json(report: &DailyReport) -> String {
    // Bidi and control characters in every string (post text, author names, errors)
    // are dropped here as in every other sink: a consumer may paste them into a page.
    fn plain(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if let std::borrow::Cow::Owned(kept) = escape::plain(text) {
                    *text = kept;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(plain),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(plain),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(report).unwrap_or_default();
    plain(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// The chart colours, one per brand in turn.
const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

fn h(text: &str) -> std::borrow::Cow<'_, str> {
    escape::html(text)
}

fn html(report: &DailyReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>\n\
         body{{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}}\n\
         table{{border-collapse:collapse;margin:.5em 0 1.5em}}\n\
         td,th{{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}}\n\
         td.n{{text-align:right}}\n\
         svg{{background:#fafafa;border:1px solid #ddd;margin:.5em 0}}\n\
         </style>\n</head>\n<body>\n",
        match report.language {
            Language::Tr => "tr",
            Language::En => "en",
        },
        h(&title(report)),
    );
    for block in blocks(report) {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", h(&text));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "<p>{}</p>", h(&text));
            }
            Block::Table(table) => {
                out.push_str("<table><tr>");
                for name in &table.header {
                    let _ = write!(out, "<th>{}</th>", h(name));
                }
                out.push_str("</tr>\n");
                for row in &table.rows {
                    out.push_str("<tr>");
                    for (cell, numeric) in row.iter().zip(&table.numeric) {
                        let class = if *numeric { " class=\"n\"" } else { "" };
                        let _ = write!(out, "<td{class}>{}</td>", h(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Chart(heading, chart) => {
                if !heading.is_empty() {
                    let _ = writeln!(out, "<h2>{}</h2>", h(&heading));
                }
                match chart {
                    Chart::Hourly => hourly_chart(&mut out, report),
                    Chart::Sentiment => sentiment_chart(&mut out, report),
                    Chart::Share => share_chart(&mut out, report),
                    Chart::Responses => response_chart(&mut out, report),
                    Chart::Escalations => escalation_chart(&mut out, report),
                }
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

const WIDTH: f64 = 900.0;
const CHART_HEIGHT: f64 = 200.0;
const LEFT: f64 = 40.0;

/// Lines of hits per hour, one per brand, with a legend.
fn hourly_chart(out: &mut String, report: &DailyReport) {
    let hours = report.hour_labels.len().max(1);
    let max = report
        .hourly
        .iter()
        .flat_map(|brand| brand.hours.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let legend = 20.0 * report.hourly.len() as f64;
    let height = CHART_HEIGHT + 40.0 + legend;
    let step = (WIDTH - LEFT - 10.0) / hours as f64;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\">"
    );
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{CHART_HEIGHT}\" x2=\"{}\" y2=\"{CHART_HEIGHT}\" stroke=\"#999\"/>\
         <text x=\"2\" y=\"14\" font-size=\"11\">{max}</text><text x=\"2\" y=\"{CHART_HEIGHT}\" font-size=\"11\">0</text>",
        WIDTH - 10.0
    );
    for (i, label) in report.hour_labels.iter().enumerate() {
        if i.is_multiple_of(2) {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{}</text>",
                LEFT + step * i as f64,
                CHART_HEIGHT + 14.0,
                h(label)
            );
        }
    }
    out.push('\n');
    for (index, brand) in report.hourly.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        let points: Vec<String> = brand
            .hours
            .iter()
            .enumerate()
            .map(|(i, count)| {
                format!(
                    "{:.1},{:.1}",
                    LEFT + step * (i as f64 + 0.5),
                    CHART_HEIGHT - (CHART_HEIGHT - 20.0) * *count as f64 / max as f64
                )
            })
            .collect();
        let y = CHART_HEIGHT + 34.0 + 20.0 * index as f64;
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\
             <rect x=\"{LEFT}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            points.join(" "),
            y - 10.0,
            LEFT + 18.0,
            y,
            h(&brand.brand)
        );
    }
    out.push_str("</svg>\n");
}

/// Horizontal bars: `(label, value, colour)`, scaled to the largest value.
fn bar_chart(out: &mut String, bars: &[(String, f64, &str, String)]) {
    let max = bars.iter().map(|bar| bar.1).fold(0.0, f64::max);
    let height = 24.0 * bars.len().max(1) as f64 + 10.0;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\">"
    );
    for (i, (label, value, colour, shown)) in bars.iter().enumerate() {
        let y = 5.0 + 24.0 * i as f64;
        let width = if max > 0.0 {
            (WIDTH - 400.0) * value / max
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text>\
             <rect x=\"200\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"18\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            y + 14.0,
            h(&shorten_label(label)),
            205.0 + width,
            y + 14.0,
            h(shown)
        );
    }
    out.push_str("</svg>\n");
}

fn shorten_label(label: &str) -> String {
    match label.char_indices().nth(28) {
        Some((at, _)) => format!("{}…", &label[..at]),
        None => label.to_string(),
    }
}

fn sentiment_chart(out: &mut String, report: &DailyReport) {
    let lang = report.language;
    let bars: Vec<_> = [
        ("negative", "#d62728"),
        ("neutral", "#7f7f7f"),
        ("positive", "#2ca02c"),
    ]
    .into_iter()
    .map(|(name, colour)| {
        let count = report.totals.sentiment.get(name).copied().unwrap_or(0);
        (
            sentiment_label(name, lang).to_string(),
            count as f64,
            colour,
            number(count, lang),
        )
    })
    .collect();
    bar_chart(out, &bars);
}

fn share_chart(out: &mut String, report: &DailyReport) {
    let lang = report.language;
    let l = labels(lang);
    let bars: Vec<_> = report
        .share_of_voice
        .iter()
        .map(|share| {
            (
                format!(
                    "{} ({})",
                    share.brand,
                    if share.competitor {
                        l.competitor
                    } else {
                        l.own
                    }
                ),
                share.percent,
                if share.competitor {
                    "#ff7f0e"
                } else {
                    "#1f77b4"
                },
                percent(share.percent, lang),
            )
        })
        .collect();
    bar_chart(out, &bars);
}

fn response_chart(out: &mut String, report: &DailyReport) {
    let lang = report.language;
    let l = labels(lang);
    let mut each = report.responses.each.clone();
    each.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bars: Vec<_> = each
        .iter()
        .enumerate()
        .map(|(i, (minutes, breached))| {
            (
                format!("{}", i + 1),
                *minutes,
                if *breached { "#d62728" } else { "#2ca02c" },
                format!(
                    "{} {}{}",
                    decimal(*minutes, lang),
                    l.minutes,
                    if *breached {
                        format!(" ({})", l.sla)
                    } else {
                        String::new()
                    }
                ),
            )
        })
        .collect();
    bar_chart(out, &bars);
}

fn escalation_chart(out: &mut String, report: &DailyReport) {
    let lang = report.language;
    let mut by_brand: std::collections::BTreeMap<&str, u64> = Default::default();
    for breach in &report.sla_breaches {
        *by_brand.entry(&breach.brand).or_default() += 1;
    }
    let bars: Vec<_> = by_brand
        .into_iter()
        .map(|(brand, count)| {
            (
                brand.to_string(),
                count as f64,
                "#d62728",
                number(count, lang),
            )
        })
        .collect();
    bar_chart(out, &bars);
}
