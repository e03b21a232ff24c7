//! What the daily report reads: the hits of a window with their posts and responses,
//! the hits still open at its end and the deliveries that died in it. Aggregation and
//! rendering are the `report` module's; this file only reads.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::time::{from_unix_millis, parse_timestamp, timestamp, unix_millis};
use super::{Store, StoreError};
use crate::model::{DeliveryId, HitId, ReceiverName};

/// One hit of a report window, with its post and who answered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportHit {
    /// Hit id.
    pub id: HitId,
    /// Brand or topic name.
    pub brand: String,
    /// The brand is a competitor entry (`competitor_of`).
    pub competitor: bool,
    /// The hit is a topic's.
    pub is_topic: bool,
    /// Source of the post.
    pub source: String,
    /// Post id within the source.
    pub post_id: String,
    /// Permalink.
    pub url: Option<String>,
    /// Author handle, else name, else id.
    pub author: Option<String>,
    /// The author's followers when the platform tells (the post's reach).
    pub followers: Option<u64>,
    /// Post text (attacker-controlled).
    pub text: String,
    /// `negative`, `neutral` or `positive` (`neutral` for hits stored before tones were).
    pub sentiment: String,
    /// `low`, `normal`, `high` or `critical` (`normal` before severities were stored).
    pub severity: String,
    /// When mentiond found it.
    pub detected_at: DateTime<Utc>,
    /// When it was acknowledged, if it was.
    pub acked_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acked_by: Option<String>,
    /// When it breached its SLA and was escalated, if it did.
    pub escalated_at: Option<DateTime<Utc>>,
}

/// A delivery that was given up on (`dead`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadDelivery {
    /// Receiver name.
    pub receiver: String,
    /// `mention`, `escalation`, `operator`, …
    pub kind: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// The last error (free of secrets; may quote a receiver's answer).
    pub last_error: Option<String>,
}

const HIT_COLUMNS: &str = "hits.id, hits.brand, hits.competitor, hits.is_topic, posts.source,
    posts.post_id, posts.url, COALESCE(posts.author_handle, posts.author_name, posts.author_id),
    posts.author_followers, posts.text, hits.sentiment, hits.severity, hits.detected_at,
    hits.acked_at, hits.acked_by, hits.escalated_at";

fn report_hit(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReportHit> {
    let time = |text: Option<String>| text.as_deref().and_then(parse_timestamp);
    Ok(ReportHit {
        id: row.get(0)?,
        brand: row.get(1)?,
        competitor: row.get(2)?,
        is_topic: row.get(3)?,
        source: row.get(4)?,
        post_id: row.get(5)?,
        url: row.get(6)?,
        author: row.get(7)?,
        followers: row.get::<_, Option<i64>>(8)?.map(|f| f.max(0) as u64),
        text: row.get(9)?,
        sentiment: row
            .get::<_, Option<String>>(10)?
            .unwrap_or_else(|| "neutral".into()),
        severity: row
            .get::<_, Option<String>>(11)?
            .unwrap_or_else(|| "normal".into()),
        detected_at: time(row.get(12)?).unwrap_or_default(),
        acked_at: time(row.get(13)?),
        acked_by: row.get(14)?,
        escalated_at: time(row.get(15)?),
    })
}

impl Store {
    /// Queues a report's message to `receiver`, its body rendered already (kind
    /// `report`, no hits). A delivery with this id queued before is left alone, so a
    /// report is sent once; returns whether it was queued now.
    pub fn enqueue_report(
        &self,
        id: &DeliveryId,
        receiver: &ReceiverName,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = unix_millis(now);
        Ok(self.conn.execute(
            "INSERT OR IGNORE INTO deliveries (id, receiver, payload, created_at,
                 next_attempt_at, rendered_at, max_hits, kind)
             VALUES (?1, ?2, ?3, ?4, ?4, ?4, 0, 'report')",
            params![id, receiver, payload, now],
        )? == 1)
    }

    /// The hits detected in `[start, end)`, oldest first.
    pub fn report_hits(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<ReportHit>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {HIT_COLUMNS} FROM hits JOIN posts ON posts.id = hits.post
             WHERE hits.detected_at >= ?1 AND hits.detected_at < ?2
             ORDER BY hits.detected_at, hits.id"
        ))?;
        let rows = statement.query_map(params![timestamp(start), timestamp(end)], report_hit)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The hits detected before `end` and not acknowledged by then (topics and
    /// competitors, which nobody answers, left out),
    /// oldest first, at most `limit`, with how many there are in all.
    pub fn report_open_hits(
        &self,
        end: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<ReportHit>, u64), StoreError> {
        let end = timestamp(end);
        let open = "hits.detected_at < ?1 AND hits.is_topic = 0 AND hits.competitor = 0
                    AND (hits.acked_at IS NULL OR hits.acked_at >= ?1)";
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM hits WHERE {open}"),
            [&end],
            |row| row.get(0),
        )?;
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {HIT_COLUMNS} FROM hits JOIN posts ON posts.id = hits.post
             WHERE {open} ORDER BY hits.detected_at, hits.id LIMIT ?2"
        ))?;
        let rows = statement.query_map(
            params![end, i64::try_from(limit).unwrap_or(i64::MAX)],
            report_hit,
        )?;
        let hits = rows.collect::<Result<Vec<_>, _>>()?;
        Ok((hits, total.max(0) as u64))
    }

    /// The deliveries queued in `[start, end)` that are dead, oldest first.
    pub fn report_dead_deliveries(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<DeadDelivery>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT receiver, kind, attempts, created_at, last_error FROM deliveries
             WHERE status = 'dead' AND created_at >= ?1 AND created_at < ?2
             ORDER BY created_at, id",
        )?;
        let rows = statement.query_map(params![unix_millis(start), unix_millis(end)], |row| {
            Ok(DeadDelivery {
                receiver: row.get(0)?,
                kind: row.get(1)?,
                attempts: row.get::<_, i64>(2)?.clamp(0, i64::from(u32::MAX)) as u32,
                created_at: from_unix_millis(row.get(3)?).unwrap_or_default(),
                last_error: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
