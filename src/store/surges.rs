//! What surge detection and the reports read: the mentions of a window, the counts of
//! past windows per brand, the surges detected (each stored with its deliveries in one
//! transaction, so a restart never alerts one twice), and the competitors' summary.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::responses::{stored_sentiment, stored_severity};
use super::time::{parse_timestamp, timestamp, unix_millis};
use super::{Store, StoreError};
use crate::model::{DeliveryId, ReceiverName};
use crate::routing::HitLabels;
use crate::routing::surge::{Surge, SurgeKind, WindowCount, WindowMention, top_words};

/// One brand's share of the mentions and how it answers them, over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrandSummary {
    /// Brand name.
    pub brand: String,
    /// A competitor entry (`competitor_of`).
    pub competitor: bool,
    /// Mentions in the period.
    pub mentions: u64,
    /// Its mentions over all brands' mentions in the period (0 to 1).
    pub share_of_voice: f64,
    /// The most frequent words of its negative mentions, with their counts.
    pub complaint_words: Vec<(String, u64)>,
    /// Median time from a mention being posted (else found) to the reply by one of
    /// the brand's own handles that acknowledged it, in seconds; `None` when none
    /// was answered that way.
    pub median_response_secs: Option<i64>,
}

/// A stored surge, as reports list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSurge {
    /// Brand name.
    pub brand: String,
    /// `volume` or `negative`.
    pub kind: String,
    /// End of its window.
    pub window_end: DateTime<Utc>,
    /// Mentions (of the kind) in the window.
    pub count: u64,
    /// The usual count.
    pub usual: u64,
}

/// Complaint words a [`BrandSummary`] lists.
const COMPLAINT_WORDS: usize = 10;

impl Store {
    /// The brand mentions (topics left out) found in `[from, to)`, oldest first.
    pub fn window_mentions(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<WindowMention>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT hits.id, hits.brand, hits.team, hits.competitor, hits.severity,
                    hits.sentiment, hits.priority, posts.source,
                    COALESCE(posts.author_handle, posts.author_name), posts.text
             FROM hits JOIN posts ON posts.id = hits.post
             WHERE hits.detected_at >= ?1 AND hits.detected_at < ?2 AND hits.is_topic = 0
             ORDER BY hits.id",
        )?;
        let rows = statement.query_map(params![timestamp(from), timestamp(to)], |row| {
            let severity: Option<String> = row.get(4)?;
            let sentiment: Option<String> = row.get(5)?;
            Ok(WindowMention {
                hit_id: row.get(0)?,
                labels: HitLabels {
                    brand: row.get(1)?,
                    team: row.get(2)?,
                    competitor: row.get(3)?,
                    severity: stored_severity(severity),
                    sentiment: stored_sentiment(sentiment),
                    priority: row.get::<_, Option<i64>>(6)?.unwrap_or(0).max(0) as u64,
                    source: row.get(7)?,
                    is_topic: false,
                },
                author: row.get(8)?,
                text: row.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Mentions per brand per window of `window_secs` found in `[from, to)`: each
    /// brand's [`WindowCount`]s (windows without mentions left out).
    pub fn window_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        window_secs: i64,
    ) -> Result<Vec<(String, WindowCount)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT brand, CAST(strftime('%s', detected_at) AS INTEGER) / ?3 AS window,
                    COUNT(*), SUM(sentiment = 'negative')
             FROM hits
             WHERE detected_at >= ?1 AND detected_at < ?2 AND is_topic = 0
             GROUP BY brand, window",
        )?;
        let rows = statement.query_map(
            params![timestamp(from), timestamp(to), window_secs.max(1)],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    WindowCount {
                        index: row.get(1)?,
                        total: row.get::<_, i64>(2)?.max(0) as u64,
                        negative: row.get::<_, Option<i64>>(3)?.unwrap_or(0).max(0) as u64,
                    },
                ))
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the oldest stored hit was found: history starts there.
    pub fn first_hit_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let first: Option<String> =
            self.conn
                .query_row("SELECT MIN(detected_at) FROM hits", [], |row| row.get(0))?;
        Ok(first.as_deref().and_then(parse_timestamp))
    }

    /// The end of the window of `brand`'s latest surge of `kind`, if any.
    pub fn last_surge(
        &self,
        brand: &str,
        kind: SurgeKind,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let last: Option<String> = self
            .conn
            .query_row(
                "SELECT MAX(window_end) FROM surges WHERE brand = ?1 AND kind = ?2",
                params![brand, kind.as_str()],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        Ok(last.as_deref().and_then(parse_timestamp))
    }

    /// Stores `surge` and, in the same transaction, one delivery of kind `surge` to
    /// each of `receivers` (due now, its note the surge's summary, its hits the
    /// samples). A surge stored already (same brand, kind and window) changes nothing.
    /// Returns the deliveries enqueued.
    pub fn record_surge(
        &mut self,
        surge: &Surge,
        receivers: &[ReceiverName],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let note = serde_json::to_string(&surge.note)?;
        let samples: Vec<i64> = surge.samples.iter().map(|hit| hit.0).collect();
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO surges (brand, kind, window_start, window_end, count,
                 baseline, top_terms, top_authors, sample_hits, deliveries)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                surge.note.brand,
                surge.note.kind.as_str(),
                timestamp(surge.window.0),
                timestamp(surge.window.1),
                surge.note.count as i64,
                surge.note.usual as i64,
                serde_json::to_string(&surge.note.terms)?,
                serde_json::to_string(&surge.note.authors)?,
                serde_json::to_string(&samples)?,
                receivers.len() as i64,
            ],
        )?;
        let mut enqueued = 0;
        if inserted > 0 && !surge.samples.is_empty() {
            let now_ms = unix_millis(now);
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO deliveries (id, receiver, payload, created_at,
                     next_attempt_at, max_hits, kind, note)
                 VALUES (?1, ?2, '', ?3, ?3, ?4, 'surge', ?5)",
            )?;
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO delivery_hits (delivery, hit) VALUES (?1, ?2)",
            )?;
            for receiver in receivers {
                let id: DeliveryId = surge.delivery_id(receiver);
                enqueued += insert.execute(params![
                    id,
                    receiver,
                    now_ms,
                    surge.samples.len() as i64,
                    note
                ])?;
                for hit in &surge.samples {
                    link.execute(params![id, hit])?;
                }
            }
        }
        tx.commit()?;
        Ok(enqueued)
    }

    /// The surges whose window ended in `[from, to)`, oldest first.
    pub fn surges(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StoredSurge>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT brand, kind, window_end, count, baseline FROM surges
             WHERE window_end >= ?1 AND window_end < ?2 ORDER BY window_end, id",
        )?;
        let rows = statement.query_map(params![timestamp(from), timestamp(to)], |row| {
            Ok(StoredSurge {
                brand: row.get(0)?,
                kind: row.get(1)?,
                window_end: parse_timestamp(&row.get::<_, String>(2)?).unwrap_or(to),
                count: row.get::<_, i64>(3)?.max(0) as u64,
                usual: row.get::<_, i64>(4)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every brand's (competitors' included, topics left out) share of voice, most
    /// frequent complaint words and median response time by its own handles, over
    /// the hits found in `[from, to)`, most mentioned first. For the reports.
    pub fn competitor_summary(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BrandSummary>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT hits.brand, MAX(hits.competitor), COUNT(*) FROM hits
             WHERE hits.detected_at >= ?1 AND hits.detected_at < ?2 AND hits.is_topic = 0
             GROUP BY hits.brand ORDER BY COUNT(*) DESC, hits.brand",
        )?;
        let counts = statement
            .query_map(params![timestamp(from), timestamp(to)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, bool>(1)?,
                    row.get::<_, i64>(2)?.max(0) as u64,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let all: u64 = counts.iter().map(|(_, _, n)| n).sum();
        let mut negatives = self.conn.prepare_cached(
            "SELECT posts.text FROM hits JOIN posts ON posts.id = hits.post
             WHERE hits.brand = ?1 AND hits.sentiment = 'negative'
               AND hits.detected_at >= ?2 AND hits.detected_at < ?3",
        )?;
        let mut answered = self.conn.prepare_cached(
            "SELECT COALESCE(posts.created_at, hits.detected_at), hits.acked_at
             FROM hits JOIN posts ON posts.id = hits.post
             WHERE hits.brand = ?1 AND hits.ack_source = 'reply'
               AND hits.detected_at >= ?2 AND hits.detected_at < ?3",
        )?;
        let mut summaries = Vec::with_capacity(counts.len());
        for (brand, competitor, mentions) in counts {
            let range = params![brand, timestamp(from), timestamp(to)];
            let texts = negatives
                .query_map(range, |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            let exclude: Vec<String> = crate::text::fold(&brand)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let complaint_words =
                top_words(texts.iter().map(String::as_str), &exclude, COMPLAINT_WORDS);
            let mut waits: Vec<i64> = answered
                .query_map(range, |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter_map(|(found, acked)| {
                    Some((parse_timestamp(&acked)? - parse_timestamp(&found)?).num_seconds())
                })
                .map(|secs| secs.max(0))
                .collect();
            waits.sort_unstable();
            summaries.push(BrandSummary {
                brand,
                competitor,
                mentions,
                share_of_voice: mentions as f64 / all.max(1) as f64,
                complaint_words,
                median_response_secs: (!waits.is_empty()).then(|| waits[waits.len() / 2]),
            });
        }
        Ok(summaries)
    }
}
