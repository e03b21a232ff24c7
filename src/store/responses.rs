//! Responsibility: every hit is open until acknowledged (by `mentiond ack`, the HTTP
//! API, or a reply from one of the brand's own handles on the platform, which
//! `replies` applies with the batch), and an open hit past its route's SLA is escalated
//! once. Acks by hand and escalations are written here.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::time::{parse_timestamp, timestamp, unix_millis};
use super::{Store, StoreError};
use crate::keywords::Severity;
use crate::model::HitId;
use crate::routing::{HitKey, HitLabels, NewEscalation, OpenHit};
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

/// A stored hit's severity; hits stored before the labels were (schema 7) are normal.
pub(super) fn stored_severity(text: Option<String>) -> Severity {
    text.and_then(|text| Severity::parse(&text).ok())
        .unwrap_or_default()
}

/// A stored hit's tone; hits stored before the labels were (schema 7) are neutral.
pub(super) fn stored_sentiment(text: Option<String>) -> Sentiment {
    text.as_deref()
        .and_then(Sentiment::parse)
        .unwrap_or(Sentiment::Neutral)
}

impl Store {
    /// Acknowledges hit `hit_id` on behalf of `by`, recording how (`cli`, `api`).
    pub fn ack_hit(
        &self,
        hit_id: HitId,
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
        let since = posted
            .as_deref()
            .and_then(parse_timestamp)
            .or_else(|| parse_timestamp(&detected))
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
                    hits.competitor, hits.severity, hits.priority, hits.is_topic,
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
                        severity: stored_severity(severity),
                        priority: row.get::<_, Option<i64>>(7)?.unwrap_or(0).max(0) as u64,
                        is_topic: row.get(8)?,
                        sentiment: stored_sentiment(sentiment),
                    },
                    detected_at: parse_timestamp(&row.get::<_, String>(10)?).unwrap_or_default(),
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// In one transaction: marks as escalated every hit in `escalated` that is still
    /// open (not acknowledged, not escalated), and enqueues each escalation (due now)
    /// with those of its hits that were marked here. The hits were read before this
    /// transaction, so an acknowledgement may have landed since: such a hit is neither
    /// marked nor attached, and an escalation left without hits is not enqueued.
    /// Returns the new deliveries.
    pub fn record_escalations(
        &mut self,
        escalations: &[NewEscalation],
        escalated: &[HitId],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut inserted = 0;
        {
            let mut mark = tx.prepare_cached(
                "UPDATE hits SET escalated_at = ?2
                 WHERE id = ?1 AND acked_at IS NULL AND escalated_at IS NULL",
            )?;
            let escalated_at = timestamp(now);
            let mut marked = HashSet::new();
            for &hit in escalated {
                if mark.execute(params![hit, escalated_at])? > 0 {
                    marked.insert(hit);
                }
            }
            let now_ms = unix_millis(now);
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO deliveries (id, receiver, payload, created_at,
                     next_attempt_at, max_hits, kind)
                 VALUES (?1, ?2, '', ?3, ?3, ?4, 'escalation')",
            )?;
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO delivery_hits (delivery, hit) VALUES (?1, ?2)",
            )?;
            for escalation in escalations {
                let hits: Vec<HitId> = escalation
                    .hit_ids
                    .iter()
                    .copied()
                    .filter(|hit| marked.contains(hit))
                    .collect();
                if hits.is_empty() {
                    continue;
                }
                // The planned id is kept even when some planned hits were acknowledged
                // meanwhile: the id scheme is the router's, which the store does not
                // know, and the planned id is still deterministic (the same open hits
                // read again plan the same id) and unique (the hits attached here are
                // escalated now, so no later plan holds the same set of hits).
                inserted += insert.execute(params![
                    escalation.id,
                    escalation.receiver,
                    now_ms,
                    hits.len() as i64
                ])?;
                for hit in &hits {
                    link.execute(params![escalation.id, hit])?;
                }
            }
        }
        tx.commit()?;
        Ok(inserted)
    }
}
