//! Reading hits back: one query ([`HitQuery`]) behind both the HTTP API and
//! `mentiond hits`, in keyset pages newest first, with full-text search over the
//! stored post text.
//!
//! The full-text index `posts_fts` (FTS5, contentless, rowid = `posts.id`) holds each
//! post's text folded by [`text::fold`], the matcher's Turkish-correct fold, plus each
//! word written with an apostrophe once more joined (`thy'nin` also as `thynin`). The
//! query is folded the same way and every word quoted as an FTS5 string, so
//! `ulasamiyorum` finds `ulaşamıyorum`, `THYnin`, `THY'nin` and `THY` find `THY'nin`,
//! and no input (`AND`, `NEAR(`, `"`, `-`) is FTS5 syntax.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::Serialize;

use super::outbox::{ALERT_HIT_COLUMNS, alert_hit_row};
use super::time::{parse_timestamp, timestamp};
use super::{Store, StoreError};
use crate::keywords::Severity;
use crate::model::{DeliveryId, HitId, Post};
use crate::sentiment::Sentiment;
use crate::settings::{InvalidValue, parse_duration};
use crate::text;

/// Earlier hits of the same author a hit's detail lists at most.
pub const AUTHOR_HISTORY: usize = 20;

/// Where a hit stands: open until acknowledged; escalated when its SLA passed while
/// it was open; acknowledged wins over escalated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HitStatus {
    /// Nobody acknowledged it and its SLA has not passed.
    Open,
    /// Someone acknowledged it (by hand, the API or a reply from an own handle).
    Acked,
    /// Its SLA passed while open; nobody acknowledged it since.
    Escalated,
}

impl HitStatus {
    /// `open`, `acked` or `escalated`.
    pub fn as_str(self) -> &'static str {
        match self {
            HitStatus::Open => "open",
            HitStatus::Acked => "acked",
            HitStatus::Escalated => "escalated",
        }
    }

    /// The status of a hit with these times.
    fn of(acked: bool, escalated: bool) -> HitStatus {
        match (acked, escalated) {
            (true, _) => HitStatus::Acked,
            (false, true) => HitStatus::Escalated,
            (false, false) => HitStatus::Open,
        }
    }

    /// The SQL condition [`HitStatus::of`] decides by.
    fn condition(self) -> &'static str {
        match self {
            HitStatus::Open => "hits.acked_at IS NULL AND hits.escalated_at IS NULL",
            HitStatus::Acked => "hits.acked_at IS NOT NULL",
            HitStatus::Escalated => "hits.acked_at IS NULL AND hits.escalated_at IS NOT NULL",
        }
    }
}

impl FromStr for HitStatus {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<HitStatus, InvalidValue> {
        match text {
            "open" => Ok(HitStatus::Open),
            "acked" => Ok(HitStatus::Acked),
            "escalated" => Ok(HitStatus::Escalated),
            other => Err(InvalidValue(format!(
                "unknown status `{other}`, expected `open`, `acked` or `escalated`"
            ))),
        }
    }
}

/// A position in the newest-first list of hits, opaque to clients: `before` it are
/// older hits, `after` it newer ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HitCursor(HitId);

impl HitCursor {
    /// The cursor just at `hit`.
    pub fn at(hit: HitId) -> HitCursor {
        HitCursor(hit)
    }
}

impl fmt::Display for HitCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h{:x}", self.0.0)
    }
}

impl FromStr for HitCursor {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<HitCursor, InvalidValue> {
        text.strip_prefix('h')
            .filter(|hex| !hex.starts_with('+'))
            .and_then(|hex| i64::from_str_radix(hex, 16).ok())
            .filter(|id| *id >= 0)
            .map(|id| HitCursor(HitId(id)))
            .ok_or_else(|| {
                InvalidValue(format!(
                    "`{}` is not a cursor (pass back `next` or `latest` as given)",
                    text.escape_default()
                ))
            })
    }
}

impl Serialize for HitCursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Which hits to list. Every filter set must hold; `None` leaves it out.
#[derive(Debug, Clone, Default)]
pub struct HitQuery {
    /// Hits of this brand (not topic).
    pub brand: Option<String>,
    /// Hits of this topic.
    pub topic: Option<String>,
    /// Hits of this team.
    pub team: Option<String>,
    /// Hits on posts from this channel (the post's `source`).
    pub source: Option<String>,
    /// Only hits on posts of this author (the `author` a [`HitDetail`] names: the
    /// platform's account id, else handle, else name); with `source`, of that source.
    pub author: Option<String>,
    /// Hits in this state.
    pub status: Option<HitStatus>,
    /// Hits detected at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Hits detected before this time.
    pub until: Option<DateTime<Utc>>,
    /// Full-text search: every word must occur in the post (folded; a trailing `*`
    /// matches a prefix). A blank search is no filter; words without a letter or digit
    /// are ignored, and a search made only of such words finds nothing.
    pub text: Option<String>,
    /// Only hits older than this cursor (the next page).
    pub before: Option<HitCursor>,
    /// Only hits newer than this cursor. The page then holds the oldest `limit` of
    /// them (still listed newest first), so polling again with [`HitPage::latest`]
    /// misses none.
    pub after: Option<HitCursor>,
    /// Every hit of this delivery.
    pub delivery: Option<DeliveryId>,
    /// Hits of this tone (`negative`, `neutral`, `positive`).
    pub sentiment: Option<String>,
    /// Hits on posts in this language (the platform's code, `tr`).
    pub lang: Option<String>,
    /// Hits on posts whose author has at least this many followers.
    pub min_followers: Option<u64>,
    /// Only competitors' hits (`Some(true)`) or only own brands' (`Some(false)`).
    pub competitor: Option<bool>,
    /// Only these hits (`None`: any).
    pub ids: Option<Vec<HitId>>,
    /// Hits on one page at most (`None`: all).
    pub limit: Option<usize>,
}

/// A stored hit with its post and state, as the API and `mentiond hits` show it.
#[derive(Debug, Clone, Serialize)]
pub struct HitRow {
    /// Hit id (what `mentiond ack` takes).
    pub id: HitId,
    /// Brand or topic name.
    pub brand: String,
    /// Whether `brand` names a topic.
    pub topic: bool,
    /// Team of the brand or topic.
    pub team: Option<String>,
    /// `normal` or `urgent`.
    pub severity: &'static str,
    /// Whether the brand is a competitor's.
    pub competitor: bool,
    /// The post's tone: `negative`, `neutral` or `positive`.
    pub sentiment: &'static str,
    /// The tone's score (negative below zero), when it was stored.
    pub sentiment_score: Option<f64>,
    /// Open, acknowledged or escalated.
    pub status: HitStatus,
    /// When it was acknowledged.
    pub acked_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acked_by: Option<String>,
    /// When it was escalated.
    pub escalated_at: Option<DateTime<Utc>>,
    /// When mentiond found it.
    pub detected_at: DateTime<Utc>,
    /// Hits from the same author (same source) stored before this one, counted up
    /// to `EARLIER_HITS_CAP` (the `author` filter lists them all).
    pub author_earlier_hits: u64,
    /// 0 to 100, from reach, engagement and tone (`routing::priority`); 0 for hits
    /// stored before priorities were.
    pub priority: u64,
    /// The matched terms, as the matcher reported them (`start`/`end` byte offsets).
    pub terms: serde_json::Value,
    /// The post, in mentiond's JSON interchange form.
    pub post: Post,
}

/// One page of hits, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct HitPage {
    /// The hits.
    pub hits: Vec<HitRow>,
    /// Older hits exist: ask with `before` set to this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<HitCursor>,
    /// The newest hit of the page (or the query's `after` when the page is empty): ask
    /// with `after` set to this for the hits that arrive later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<HitCursor>,
}

/// One hit with the earlier hits of its author.
#[derive(Debug, Clone, Serialize)]
pub struct HitDetail {
    /// The hit.
    pub hit: HitRow,
    /// Up to [`AUTHOR_HISTORY`] earlier hits of the same author on the same source,
    /// newest first.
    pub author_hits: Vec<HitRow>,
    /// The author's key: `GET /api/v1/hits?source=…&author=…` (or `mentiond hits
    /// --source … --author …`) pages through every hit of the author, beyond the
    /// [`AUTHOR_HISTORY`] listed here and the capped `author_earlier_hits` count.
    pub author: Option<String>,
}

/// Reads a time bound of a [`HitQuery`]: RFC 3339 (`2026-11-20T09:00:00+03:00`), a
/// date (`2026-11-20`: its midnight UTC) or a duration back from `now` (`24h`, `7d`).
pub fn parse_time_bound(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, InvalidValue> {
    let text = text.trim();
    if let Some(at) = parse_timestamp(text) {
        return Ok(at);
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    parse_duration(text)
        .ok()
        .and_then(|back| chrono::Duration::from_std(back).ok())
        .and_then(|back| now.checked_sub_signed(back))
        .ok_or_else(|| {
            InvalidValue(format!(
                "`{}` is not a time: write RFC 3339 (2026-11-20T09:00:00Z), a date (2026-11-20) or a duration back from now (24h)",
                text.escape_default()
            ))
        })
}

/// What the index holds for a post's text: the text folded, then each word written
/// with an apostrophe again without it.
pub(super) fn index_text(original: &str) -> String {
    let folded = text::fold(original);
    let mut body = folded.clone();
    for word in folded.split(|c: char| !c.is_alphanumeric() && c != '\'') {
        let word = word.trim_matches('\'');
        if word.contains('\'') {
            body.push(' ');
            body.extend(word.chars().filter(|&c| c != '\''));
        }
    }
    body
}

/// The FTS5 expression for a user's search: every whitespace-separated word folded
/// and quoted as an FTS5 string (`"` doubled), all of them required; a word written
/// with an apostrophe matches it split or joined; a trailing `*` makes a prefix.
/// `None` when no word has a letter or digit.
pub(super) fn match_expression(search: &str) -> Option<String> {
    let words: Vec<String> = search
        .split_whitespace()
        .filter_map(|word| {
            let bare = word.trim_end_matches('*');
            let star = if bare.len() < word.len() { "*" } else { "" };
            let folded = text::fold(bare);
            if !folded.chars().any(char::is_alphanumeric) {
                return None;
            }
            let quoted = |text: &str| format!("\"{}\"{star}", text.replace('"', "\"\""));
            let joined: String = folded.chars().filter(|&c| c != '\'').collect();
            Some(if joined.len() < folded.len() {
                format!("({} OR {})", quoted(&folded), quoted(&joined))
            } else {
                quoted(&folded)
            })
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

/// Indexes posts (their `posts.id` and text) in one statement. FTS5 writes its
/// pending terms to disk at every savepoint, and each later statement of the
/// transaction that may abort opens one, so indexing post by post between the other
/// inserts flushed a tiny segment per post; the batch indexes last, at once.
pub(super) fn index_posts<'a>(
    conn: &Connection,
    posts: impl IntoIterator<Item = (i64, &'a str)>,
) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = posts
        .into_iter()
        .map(|(id, original)| (id, index_text(original)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO posts_fts (rowid, body)
         SELECT value ->> 0, value ->> 1 FROM json_each(?1)",
    )?
    .execute([serde_json::to_string(&rows)?])?;
    Ok(())
}

/// Indexes the posts stored before the index existed (or by a build without it): every
/// post above the highest indexed id, since posts are indexed in the transaction that
/// stores them and ids only grow. One transaction; returns how many were indexed.
pub(super) fn index_missing_posts(conn: &mut Connection) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let indexed: i64 = tx
        .query_row(
            "SELECT rowid FROM posts_fts ORDER BY rowid DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut count = 0;
    {
        let mut posts = tx.prepare("SELECT id, text FROM posts WHERE id > ?1 ORDER BY id")?;
        let mut rows = posts.query([indexed])?;
        let mut chunk: Vec<(i64, String)> = Vec::new();
        loop {
            let row = rows.next()?;
            if let Some(row) = row {
                chunk.push((row.get(0)?, row.get(1)?));
                count += 1;
            }
            if chunk.len() == 1_000 || (row.is_none() && !chunk.is_empty()) {
                index_posts(&tx, chunk.iter().map(|(id, text)| (*id, text.as_str())))?;
                chunk.clear();
            }
            if row.is_none() {
                break;
            }
        }
    }
    tx.commit()?;
    Ok(count)
}

/// The columns [`read_hit`] reads: the alert columns, then the labels and state.
fn hit_columns() -> String {
    format!(
        "{ALERT_HIT_COLUMNS}, hits.is_topic, hits.severity, hits.competitor, hits.sentiment,
         hits.acked_at, hits.acked_by, hits.escalated_at, hits.sentiment_score"
    )
}

/// Reads one row selected with [`hit_columns`]; the matched terms stay JSON text.
fn read_hit(row: &rusqlite::Row<'_>) -> rusqlite::Result<(HitRow, String)> {
    let (id, brand, team, matched, earlier, detected_at, priority, post) = alert_hit_row(row)?;
    // The columns after `ALERT_HIT_COLUMNS` (24 of them).
    let severity: Option<String> = row.get(25)?;
    let sentiment: Option<String> = row.get(27)?;
    let acked_at: Option<String> = row.get(28)?;
    let escalated_at: Option<String> = row.get(30)?;
    Ok((
        HitRow {
            id: HitId(id),
            brand,
            topic: row.get(24)?,
            team,
            // Hits stored before the labels were (schema 7) count as normal, neutral.
            severity: severity
                .and_then(|text| Severity::parse(&text).ok())
                .unwrap_or_default()
                .as_str(),
            competitor: row.get(26)?,
            sentiment: sentiment
                .as_deref()
                .and_then(Sentiment::parse)
                .unwrap_or(Sentiment::Neutral)
                .as_str(),
            sentiment_score: row.get(31)?,
            status: HitStatus::of(acked_at.is_some(), escalated_at.is_some()),
            acked_at: acked_at.as_deref().and_then(parse_timestamp),
            acked_by: row.get(29)?,
            escalated_at: escalated_at.as_deref().and_then(parse_timestamp),
            detected_at: detected_at.unwrap_or_default(),
            author_earlier_hits: earlier.max(0) as u64,
            priority,
            terms: serde_json::Value::Null,
            post,
        },
        matched,
    ))
}

/// A `WHERE` clause and its values, in placeholder order.
#[derive(Default)]
struct Filter {
    clauses: Vec<&'static str>,
    values: Vec<Value>,
}

impl Filter {
    fn add(&mut self, clause: &'static str, values: impl IntoIterator<Item = Value>) {
        self.clauses.push(clause);
        self.values.extend(values);
    }

    fn add_text(&mut self, clause: &'static str, value: &Option<String>) {
        if let Some(value) = value {
            self.add(clause, [Value::Text(value.clone())]);
        }
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "1".to_string()
        } else {
            self.clauses.join(" AND ")
        }
    }
}

impl Store {
    /// The hits `query` selects, newest first, one page of at most `query.limit`.
    pub fn hits(&self, query: &HitQuery) -> Result<HitPage, StoreError> {
        let mut filter = Filter::default();
        filter.add_text("hits.brand = ? AND hits.is_topic = 0", &query.brand);
        filter.add_text("hits.brand = ? AND hits.is_topic = 1", &query.topic);
        filter.add_text("hits.team = ?", &query.team);
        filter.add_text("posts.source = ?", &query.source);
        filter.add_text("posts.author_key = ?", &query.author);
        if let Some(status) = query.status {
            filter.add(status.condition(), []);
        }
        filter.add_text("hits.sentiment = ?", &query.sentiment);
        filter.add_text("posts.lang = ?", &query.lang);
        if let Some(followers) = query.min_followers {
            let followers = i64::try_from(followers).unwrap_or(i64::MAX);
            filter.add("posts.author_followers >= ?", [Value::Integer(followers)]);
        }
        if let Some(competitor) = query.competitor {
            filter.add("hits.competitor = ?", [Value::Integer(competitor.into())]);
        }
        if let Some(ids) = &query.ids {
            let ids = serde_json::to_string(&ids.iter().map(|id| id.0).collect::<Vec<_>>())?;
            filter.add(
                "hits.id IN (SELECT value FROM json_each(?))",
                [Value::Text(ids)],
            );
        }
        if let Some(since) = query.since {
            filter.add("hits.detected_at >= ?", [Value::Text(timestamp(since))]);
        }
        if let Some(until) = query.until {
            filter.add("hits.detected_at < ?", [Value::Text(timestamp(until))]);
        }
        if let Some(search) = query.text.as_deref().filter(|s| !s.trim().is_empty()) {
            let Some(expression) = match_expression(search) else {
                return Ok(HitPage {
                    hits: Vec::new(),
                    next: None,
                    latest: query.after,
                });
            };
            filter.add(
                "hits.post IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)",
                [Value::Text(expression)],
            );
        }
        if let Some(HitCursor(before)) = query.before {
            filter.add("hits.id < ?", [Value::Integer(before.0)]);
        }
        if let Some(HitCursor(after)) = query.after {
            filter.add("hits.id > ?", [Value::Integer(after.0)]);
        }
        if let Some(delivery) = &query.delivery {
            filter.add(
                "hits.id IN (SELECT hit FROM delivery_hits WHERE delivery = ?)",
                [Value::Text(delivery.0.clone())],
            );
        }
        // Newer than a cursor: the oldest of them first, so the next poll continues
        // where this page ends. Otherwise one more than asked tells whether older
        // hits are left.
        let catching_up = query.after.is_some();
        let fetch = match query.limit {
            Some(limit) if catching_up => limit,
            Some(limit) => limit.saturating_add(1),
            None => usize::MAX,
        };
        let mut hits = self.select_hits(&filter, !catching_up, fetch)?;
        let mut next = None;
        if catching_up {
            hits.reverse();
        } else if query.limit.is_some_and(|limit| hits.len() > limit) {
            hits.truncate(query.limit.unwrap_or_default());
            next = hits.last().map(|hit| HitCursor(hit.id));
        }
        let latest = hits.first().map(|hit| HitCursor(hit.id)).or(query.after);
        Ok(HitPage { hits, next, latest })
    }

    /// Hit `id` with up to [`AUTHOR_HISTORY`] earlier hits of its author (same source
    /// and author key, as counted in `author_earlier_hits`); `None` if there is no such hit.
    pub fn hit_detail(&self, id: HitId) -> Result<Option<HitDetail>, StoreError> {
        let mut filter = Filter::default();
        filter.add("hits.id = ?", [Value::Integer(id.0)]);
        let Some(hit) = self.select_hits(&filter, true, 1)?.pop() else {
            return Ok(None);
        };
        let author: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT posts.source, posts.author_key FROM hits JOIN posts ON posts.id = hits.post
                 WHERE hits.id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let key = author.as_ref().and_then(|(_, key)| key.clone());
        let author_hits = match author {
            Some((source, Some(key))) => {
                let mut filter = Filter::default();
                filter.add(
                    "posts.source = ? AND posts.author_key = ? AND hits.id < ?",
                    [Value::Text(source), Value::Text(key), Value::Integer(id.0)],
                );
                self.select_hits(&filter, true, AUTHOR_HISTORY)?
            }
            _ => Vec::new(),
        };
        Ok(Some(HitDetail {
            hit,
            author_hits,
            author: key,
        }))
    }

    /// Runs one hit query: `filter`, by id (newest first when `newest_first`), at most
    /// `limit` rows.
    fn select_hits(
        &self,
        filter: &Filter,
        newest_first: bool,
        limit: usize,
    ) -> Result<Vec<HitRow>, StoreError> {
        let order = if newest_first { "DESC" } else { "ASC" };
        let mut statement = self.conn.prepare(&format!(
            "SELECT {} FROM hits JOIN posts ON posts.id = hits.post WHERE {}
             ORDER BY hits.id {order} LIMIT ?",
            hit_columns(),
            filter.sql()
        ))?;
        let limit = Value::Integer(i64::try_from(limit).unwrap_or(-1));
        let rows = statement.query_map(
            params_from_iter(filter.values.iter().chain([&limit])),
            read_hit,
        )?;
        let mut hits = Vec::new();
        for row in rows {
            let (mut hit, matched) = row?;
            hit.terms = serde_json::from_str(&matched)?;
            hits.push(hit);
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_index_holds_folded_text_and_apostrophe_words_joined() {
        assert_eq!(
            index_text("THY'nin uçağı İstanbul’da"),
            "thy'nin ucagi istanbul'da thynin istanbulda"
        );
        assert_eq!(index_text("'quoted' words"), "'quoted' words");
    }

    #[test]
    fn every_search_word_is_one_quoted_string_so_no_input_is_syntax() {
        assert_eq!(
            match_expression("ulaşamıyorum THY'nin").as_deref(),
            Some(r#""ulasamiyorum" AND ("thy'nin" OR "thynin")"#)
        );
        assert_eq!(
            match_expression(r#"AND NEAR( "x" turk*"#).as_deref(),
            Some(r#""and" AND "near(" AND """x""" AND "turk"*"#)
        );
        assert_eq!(match_expression("* - \" ( )"), None);
        assert_eq!(match_expression("   "), None);
    }

    #[test]
    fn cursors_read_back_what_they_write_and_refuse_anything_else() {
        let cursor = HitCursor::at(HitId(4242));
        assert_eq!(cursor.to_string().parse::<HitCursor>(), Ok(cursor));
        for bad in [
            "",
            "h",
            "4242",
            "h-1",
            "h+1",
            "hzz",
            "h1000000000000000000000",
        ] {
            assert!(bad.parse::<HitCursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn time_bounds_are_rfc3339_dates_or_durations_back_from_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        assert_eq!(
            parse_time_bound("2026-11-20T10:00:00+03:00", now),
            Ok(Utc.with_ymd_and_hms(2026, 11, 20, 7, 0, 0).unwrap())
        );
        assert_eq!(
            parse_time_bound("2026-11-20", now),
            Ok(Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap())
        );
        assert_eq!(
            parse_time_bound("24h", now),
            Ok(Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap())
        );
        assert!(parse_time_bound("yesterday", now).is_err());
        assert!(parse_time_bound("2026-13-01", now).is_err());
    }
}
