//! Responsibility: every hit is open until acknowledged (by `mentiond ack`, the HTTP
//! API, or a reply from one of the brand's own handles on the platform), and an open
//! hit past its route's SLA is escalated once. Acks and escalations are written here.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::outbox::parse_time;
use super::posts::timestamp;
use super::{Store, StoreError, unix_millis};
use crate::keywords::Severity;
use crate::routing::{HitKey, HitLabels, NewEscalation, OpenHit, OwnReply};
use crate::sentiment::Sentiment;

/// What `ack` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// The hit is now acknowledged; `first_response` is the time from posting (or
    /// detection, when the platform gave no time) to this acknowledgement.
    Acked {
        /// The hit's brand.
        brand: String,
        /// Time to the first response.
        first_response: chrono::Duration,
    },
    /// Someone acknowledged it before.
    AlreadyAcked {
        /// Who.
        by: Option<String>,
        /// When (RFC 3339).
        at: String,
    },
    /// No hit has this id.
    NotFound,
}

/// brand, acked_at, acked_by, post created_at, detected_at
type AckRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// Acknowledges the hits the replies answer, inside the batch transaction; returns how
/// many hits were acknowledged.
pub(super) fn apply_replies(
    tx: &Transaction<'_>,
    replies: &[OwnReply],
) -> Result<usize, StoreError> {
    let mut ack = tx.prepare_cached(
        "UPDATE hits SET acked_at = ?1, acked_by = ?2, ack_source = 'reply'
         WHERE acked_at IS NULL AND brand = ?3
           AND post = (SELECT id FROM posts WHERE source = ?4 AND post_id = ?5)",
    )?;
    let mut acked = 0;
    for reply in replies {
        acked += ack.execute(params![
            timestamp(reply.at),
            reply.by,
            reply.brand,
            reply.source,
            reply.in_reply_to
        ])?;
    }
    Ok(acked)
}

impl Store {
    /// Acknowledges hit `hit_id` on behalf of `by`, recording how (`cli`, `api`).
    pub fn ack_hit(
        &self,
        hit_id: i64,
        by: &str,
        how: &str,
        now: DateTime<Utc>,
    ) -> Result<AckOutcome, StoreError> {
        let found: Option<AckRow> = self
            .conn
            .query_row(
                "SELECT hits.brand, hits.acked_at, hits.acked_by, posts.created_at, hits.detected_at
                 FROM hits JOIN posts ON posts.id = hits.post WHERE hits.id = ?1",
                [hit_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
            )
            .optional()?;
        let Some((brand, acked_at, acked_by, posted, detected)) = found else {
            return Ok(AckOutcome::NotFound);
        };
        if let Some(at) = acked_at {
            return Ok(AckOutcome::AlreadyAcked { by: acked_by, at });
        }
        self.conn.execute(
            "UPDATE hits SET acked_at = ?2, acked_by = ?3, ack_source = ?4
             WHERE id = ?1 AND acked_at IS NULL",
            params![hit_id, timestamp(now), by, how],
        )?;
        let since = parse_time(posted)
            .or_else(|| parse_time(Some(detected)))
            .unwrap_or(now);
        Ok(AckOutcome::Acked {
            brand,
            first_response: (now - since).max(chrono::Duration::zero()),
        })
    }

    /// Open (unacknowledged, not yet escalated) hits detected in `from..=to` with an
    /// id above `after`, in id order, at most `limit`: pages for keyset pagination.
    pub fn open_hits(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<OpenHit>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT hits.id, posts.source, posts.post_id, hits.brand, hits.team,
                    hits.competitor, hits.severity, posts.author_followers, hits.is_topic,
                    hits.sentiment, hits.detected_at
             FROM hits JOIN posts ON posts.id = hits.post
             WHERE hits.acked_at IS NULL AND hits.escalated_at IS NULL
               AND hits.detected_at >= ?1 AND hits.detected_at <= ?2 AND hits.id > ?3
             ORDER BY hits.id LIMIT ?4",
        )?;
        let rows = statement.query_map(
            params![timestamp(from), timestamp(to), after, limit as i64],
            |row| {
                let source: String = row.get(1)?;
                let brand: String = row.get(3)?;
                let severity: Option<String> = row.get(6)?;
                let sentiment: Option<String> = row.get(9)?;
                Ok(OpenHit {
                    hit_id: row.get(0)?,
                    key: HitKey {
                        source: source.clone(),
                        post_id: row.get(2)?,
                        brand: brand.clone(),
                    },
                    labels: HitLabels {
                        brand,
                        team: row.get(4)?,
                        source,
                        competitor: row.get(5)?,
                        // Hits stored before the labels were (schema 7) count as normal,
                        // own-brand and neutral.
                        severity: severity
                            .and_then(|text| Severity::parse(&text).ok())
                            .unwrap_or_default(),
                        priority: row.get::<_, Option<i64>>(7)?.unwrap_or(0).max(0) as u64,
                        is_topic: row.get(8)?,
                        sentiment: sentiment
                            .as_deref()
                            .and_then(Sentiment::parse)
                            .unwrap_or(Sentiment::Neutral),
                    },
                    detected_at: parse_time(Some(row.get(10)?)).unwrap_or_default(),
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// In one transaction: enqueues the escalations (due now) and marks every hit in
    /// `escalated` as escalated, so none is escalated twice. Returns the new deliveries.
    pub fn record_escalations(
        &mut self,
        escalations: &[NewEscalation],
        escalated: &[i64],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut inserted = 0;
        {
            let now_ms = unix_millis(now);
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO deliveries (id, receiver, payload, created_at,
                     next_attempt_at, max_hits, kind)
                 VALUES (?1, ?2, '', ?3, ?3, ?4, 'escalation')",
            )?;
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO delivery_hits (delivery, hit) VALUES (?1, ?2)",
            )?;
            let mut mark = tx.prepare_cached(
                "UPDATE hits SET escalated_at = ?2 WHERE id = ?1 AND escalated_at IS NULL",
            )?;
            for escalation in escalations {
                inserted += insert.execute(params![
                    escalation.id,
                    escalation.receiver,
                    now_ms,
                    escalation.hit_ids.len().max(1) as i64
                ])?;
                for hit in &escalation.hit_ids {
                    link.execute(params![escalation.id, hit])?;
                }
            }
            for hit in escalated {
                mark.execute(params![hit, timestamp(now)])?;
            }
        }
        tx.commit()?;
        Ok(inserted)
    }
}
