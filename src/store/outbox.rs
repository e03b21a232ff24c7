//! The outbox: alert deliveries waiting to be sent, with attempts, the next attempt
//! time, and their end state. Rows are inserted with their hits (never alone) and
//! their ids are deterministic, so a retried batch cannot enqueue an alert twice.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use std::collections::HashMap;

use super::time::{from_unix_millis, parse_timestamp, unix_millis};
use super::{Store, StoreError};
use crate::model::{Author, DeliveryId, Engagement, HitId, Post, ReceiverName};
use crate::routing::{GroupHistory, GroupRef, HitKey, NewDelivery};

/// A hit as an alert shows it, read back from the store when a delivery is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertHit {
    /// Hit id (what `mentiond ack` takes).
    pub hit_id: HitId,
    /// Brand name.
    pub brand: String,
    /// The brand's team.
    pub team: Option<String>,
    /// The matched terms, as the matcher reported them (`start`/`end` byte offsets).
    pub matched: serde_json::Value,
    /// Hits from the same author (same source) stored before this one.
    pub author_earlier_hits: u64,
    /// When mentiond found it.
    pub detected_at: DateTime<Utc>,
    /// Its priority, 0 to 100 (0 for hits stored before priorities were).
    pub priority: u64,
    /// The post.
    pub post: Post,
}

impl AlertHit {
    /// Byte ranges of the matched terms in the post text, in order, on char
    /// boundaries, without overlaps.
    pub fn spans(&self) -> Vec<std::ops::Range<usize>> {
        let text = &self.post.text;
        let mut spans: Vec<std::ops::Range<usize>> = self
            .matched
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|term| {
                let start = term.get("start")?.as_u64()? as usize;
                let end = term.get("end")?.as_u64()? as usize;
                (start < end
                    && end <= text.len()
                    && text.is_char_boundary(start)
                    && text.is_char_boundary(end))
                .then_some(start..end)
            })
            .collect();
        spans.sort_by_key(|span| span.start);
        let mut kept: Vec<std::ops::Range<usize>> = Vec::with_capacity(spans.len());
        for span in spans {
            if kept.last().is_none_or(|last| span.start >= last.end) {
                kept.push(span);
            }
        }
        kept
    }
}

/// The columns [`alert_hit_row`] reads, from `hits` joined with `posts`.
pub(super) const ALERT_HIT_COLUMNS: &str =
    "hits.id, hits.brand, hits.team, hits.matched, hits.author_earlier_hits,
     hits.detected_at, posts.source, posts.post_id, posts.url, posts.author_id,
     posts.author_handle, posts.author_name, posts.author_followers, posts.text,
     posts.lang, posts.created_at, posts.kind, posts.in_reply_to, posts.likes,
     posts.reposts, posts.replies, posts.quotes, posts.score, hits.priority";

type AlertHitRow = (
    i64,
    String,
    Option<String>,
    String,
    i64,
    Option<DateTime<Utc>>,
    u64,
    Post,
);

/// Reads the five engagement columns from `first` on (likes, reposts, replies,
/// quotes, score); `None` when none is known.
pub(super) fn read_engagement(
    row: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<Option<Engagement>> {
    let count = |index: usize| -> rusqlite::Result<Option<u64>> {
        Ok(row
            .get::<_, Option<i64>>(first + index)?
            .map(|n| n.max(0) as u64))
    };
    Ok(Engagement {
        likes: count(0)?,
        reposts: count(1)?,
        replies: count(2)?,
        quotes: count(3)?,
        score: count(4)?,
    }
    .known())
}

/// Reads one row selected with [`ALERT_HIT_COLUMNS`].
pub(super) fn alert_hit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AlertHitRow> {
    let author = Author {
        id: row.get(9)?,
        handle: row.get(10)?,
        name: row.get(11)?,
        followers: row.get::<_, Option<i64>>(12)?.map(|f| f.max(0) as u64),
    };
    let post = Post {
        source: row.get(6)?,
        id: row.get(7)?,
        url: row.get(8)?,
        author: (author != Author::default()).then_some(author),
        text: row.get(13)?,
        lang: row.get(14)?,
        created_at: row
            .get::<_, Option<String>>(15)?
            .as_deref()
            .and_then(parse_timestamp),
        kind: row.get(16)?,
        in_reply_to: row.get(17)?,
        engagement: read_engagement(row, 18)?,
    };
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        parse_timestamp(&row.get::<_, String>(5)?),
        row.get::<_, Option<i64>>(23)?.unwrap_or(0).max(0) as u64,
        post,
    ))
}

/// Turns rows read by [`alert_hit_row`] into hits.
pub(super) fn collect_alert_hits(
    rows: impl Iterator<Item = rusqlite::Result<AlertHitRow>>,
) -> Result<Vec<AlertHit>, StoreError> {
    let mut hits = Vec::new();
    for row in rows {
        let (hit_id, brand, team, matched, earlier, detected_at, priority, post) = row?;
        hits.push(AlertHit {
            hit_id: HitId(hit_id),
            brand,
            team,
            matched: serde_json::from_str(&matched)?,
            author_earlier_hits: earlier.max(0) as u64,
            detected_at: detected_at.unwrap_or_default(),
            priority,
            post,
        });
    }
    Ok(hits)
}

/// A pending delivery claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Delivery id.
    pub id: DeliveryId,
    /// Receiver name.
    pub receiver: ReceiverName,
    /// Body to send; empty until rendered.
    pub payload: String,
    /// Whether the body was rendered (frozen) already.
    pub rendered: bool,
    /// Most hits shown in the message.
    pub max_hits: usize,
    /// What the message is about.
    pub kind: DeliveryKind,
    /// For operator alerts: what failed.
    pub note: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was enqueued (Unix ms).
    pub created_at: i64,
    /// Where `delivery.max_age` counts from (Unix ms): enqueue time, or the last manual
    /// retry.
    pub age_from: i64,
}

/// What a delivery is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryKind {
    /// New hits.
    Mention,
    /// Hits still unanswered after their SLA.
    Escalation,
    /// A receiver that keeps failing, with the hits it could not deliver.
    Operator,
    /// A surge of mentions of a brand, with sample hits; its note is the summary.
    Surge,
    /// A daily report (`[report] send_to`), rendered when queued.
    Report,
}

impl DeliveryKind {
    fn parse(text: &str) -> DeliveryKind {
        match text {
            "escalation" => DeliveryKind::Escalation,
            "operator" => DeliveryKind::Operator,
            "surge" => DeliveryKind::Surge,
            "report" => DeliveryKind::Report,
            _ => DeliveryKind::Mention,
        }
    }
}

/// An alert to the operators about a failing receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperatorAlert {
    /// Deterministic delivery id.
    pub id: DeliveryId,
    /// Receiver it goes to (never the failing one).
    pub receiver: ReceiverName,
    /// What failed, shown in the message.
    pub note: String,
}

/// State of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A receiver accepted it.
    Delivered,
    /// Given up: permanent failure or too old.
    Dead,
}

impl DeliveryStatus {
    /// The stored form (`pending`, `delivered`, `dead`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    fn parse(text: &str) -> DeliveryStatus {
        match text {
            "delivered" => DeliveryStatus::Delivered,
            "dead" => DeliveryStatus::Dead,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// A delivery as listed by `mentiond deliveries`.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRow {
    /// Delivery id.
    pub id: DeliveryId,
    /// Receiver name.
    pub receiver: ReceiverName,
    /// State.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Enqueued at (Unix ms).
    pub created_at: i64,
    /// Delivered at (Unix ms).
    pub delivered_at: Option<i64>,
    /// Last failure.
    pub last_error: Option<String>,
    /// HTTP status of the last failed attempt, if it got an answer.
    pub last_status: Option<u16>,
}

/// A receiver switched off because its endpoint answered 410 Gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisabledReceiver {
    /// Receiver name.
    pub receiver: ReceiverName,
    /// When it was disabled (Unix ms).
    pub disabled_at: i64,
    /// Why.
    pub reason: String,
}

/// A failed attempt, as recorded in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt<'a> {
    /// Delivery id.
    pub id: &'a DeliveryId,
    /// What went wrong.
    pub error: &'a str,
    /// HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// Next attempt (Unix ms), or `None` to mark the delivery dead.
    pub retry_at_ms: Option<i64>,
}

/// Persists planned deliveries inside the batch transaction. Each delivery's hits are
/// attached to the open (not yet rendered) message of its group and receiver, which an
/// urgent hit brings forward and quiet hours hold back; without one, the planned
/// message is opened. Only hits stored by this transaction (`new_hits`, natural key →
/// row id) are attached, so a hit joins exactly one message per receiver; a planned
/// message left without any is not opened. Returns how many rows were opened or
/// brought forward.
pub(super) fn insert_deliveries(
    tx: &Transaction<'_>,
    deliveries: &[NewDelivery],
    new_hits: &HashMap<HitKey, HitId>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = unix_millis(now);
    let mut find_open = tx.prepare_cached(
        "SELECT id FROM deliveries
         WHERE receiver = ?1 AND group_key = ?2 AND status = 'pending' AND rendered_at IS NULL
         ORDER BY created_at DESC, rowid DESC LIMIT 1",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (id, receiver, payload, created_at, next_attempt_at,
             group_key, max_hits)
         VALUES (?1, ?2, '', ?3, ?4, ?5, ?6)",
    )?;
    let mut bring_forward = tx.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = MIN(next_attempt_at, ?2) WHERE id = ?1",
    )?;
    let mut hold = tx.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = MAX(next_attempt_at, ?2) WHERE id = ?1",
    )?;
    let mut link =
        tx.prepare_cached("INSERT OR IGNORE INTO delivery_hits (delivery, hit) VALUES (?1, ?2)")?;
    let mut count_hits =
        tx.prepare_cached("SELECT COUNT(*) FROM delivery_hits WHERE delivery = ?1")?;
    let mut touched = 0;
    for delivery in deliveries {
        let hits: Vec<HitId> = delivery
            .hits
            .iter()
            .filter_map(|key| new_hits.get(key).copied())
            .collect();
        if hits.is_empty() {
            continue;
        }
        let open: Option<DeliveryId> = find_open
            .query_row(params![delivery.receiver, delivery.group_key], |row| {
                row.get(0)
            })
            .optional()?;
        let mut pending: &[HitId] = &hits;
        if let Some(id) = open {
            let room = if delivery.split {
                let held: i64 = count_hits.query_row([&id], |row| row.get(0))?;
                delivery.max_hits.saturating_sub(held.max(0) as usize)
            } else {
                usize::MAX
            };
            if room > 0 {
                if delivery.urgent {
                    touched += bring_forward.execute(params![id, now])?;
                } else if let Some(until) = delivery.hold_until {
                    hold.execute(params![id, unix_millis(until)])?;
                }
                let (joining, rest) = pending.split_at(room.min(pending.len()));
                for hit in joining {
                    link.execute(params![id, hit])?;
                }
                pending = rest;
            }
        }
        // What does not fit the open message opens new ones: the first keeps the
        // planned id, the overflow of a split group takes the next free `<id>-N`, so a
        // replayed batch opens the same ids.
        let mut part = 1;
        while !pending.is_empty() {
            let size = if delivery.split {
                delivery.max_hits.max(1)
            } else {
                pending.len()
            };
            let (chunk, rest) = pending.split_at(size.min(pending.len()));
            let id = loop {
                let candidate = match part {
                    1 => delivery.id.clone(),
                    n => DeliveryId(format!("{}-{n}", delivery.id)),
                };
                part += 1;
                let opened = insert.execute(params![
                    candidate,
                    delivery.receiver,
                    now,
                    unix_millis(delivery.due_at),
                    delivery.group_key,
                    delivery.max_hits as i64
                ])?;
                if opened == 1 {
                    break candidate;
                }
            };
            touched += 1;
            for hit in chunk {
                link.execute(params![id, hit])?;
            }
            pending = rest;
        }
    }
    Ok(touched)
}

/// When a group's last message was rendered.
pub(super) const GROUP_LAST_SENT: &str =
    "SELECT MAX(rendered_at) FROM deliveries WHERE receiver = ?1 AND group_key = ?2";

/// When a group's open message (not rendered yet) is due.
pub(super) const GROUP_OPEN_DUE: &str = "SELECT next_attempt_at FROM deliveries
     WHERE receiver = ?1 AND group_key = ?2 AND status = 'pending' AND rendered_at IS NULL
     ORDER BY created_at DESC LIMIT 1";

impl Store {
    /// What the store knows of each group's messages, for planning new hits: when the
    /// last one was rendered and when the open one (not rendered yet) is due. Both are
    /// index searches (`deliveries_by_group`, `deliveries_open`), so a batch costs the
    /// same however many deliveries the outbox keeps.
    pub fn group_history(
        &self,
        groups: &[GroupRef],
    ) -> Result<HashMap<GroupRef, GroupHistory>, StoreError> {
        let mut last_sent = self.conn.prepare_cached(GROUP_LAST_SENT)?;
        let mut open_due = self.conn.prepare_cached(GROUP_OPEN_DUE)?;
        let mut history = HashMap::new();
        for group in groups {
            let at = |millis: Option<i64>| millis.and_then(from_unix_millis);
            let sent: Option<i64> =
                last_sent.query_row(params![group.receiver, group.group_key], |row| row.get(0))?;
            let due: Option<i64> = open_due
                .query_row(params![group.receiver, group.group_key], |row| row.get(0))
                .optional()?;
            history.insert(
                group.clone(),
                GroupHistory {
                    last_sent: at(sent),
                    open_due: at(due),
                },
            );
        }
        Ok(history)
    }

    /// Pending deliveries of `receiver` due at `now_ms`, oldest first.
    pub fn due_deliveries(
        &self,
        receiver: &ReceiverName,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, receiver, payload, attempts, created_at,
                    COALESCE(requeued_at, created_at), rendered_at IS NOT NULL, max_hits,
                    kind, note
             FROM deliveries
             WHERE receiver = ?1 AND status = 'pending' AND next_attempt_at <= ?2
             ORDER BY next_attempt_at, created_at LIMIT ?3",
        )?;
        let rows = statement.query_map(params![receiver, now_ms, limit as i64], |row| {
            Ok(Delivery {
                id: row.get(0)?,
                receiver: row.get(1)?,
                payload: row.get(2)?,
                attempts: row.get(3)?,
                created_at: row.get(4)?,
                age_from: row.get(5)?,
                rendered: row.get(6)?,
                max_hits: row.get::<_, i64>(7)?.max(1) as usize,
                kind: DeliveryKind::parse(&row.get::<_, String>(8)?),
                note: row.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next pending delivery of `receiver` is due (Unix ms).
    pub fn next_attempt_at(&self, receiver: &ReceiverName) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE receiver = ?1 AND status = 'pending'",
                [receiver],
                |row| row.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// The hits linked to delivery `id`, oldest first, at most `limit` of them, and
    /// how many there are in all. A mention or escalation leaves out hits acknowledged
    /// meanwhile (someone answered them before the message went out); an operator
    /// alert lists every hit it could not deliver.
    pub fn delivery_hits(
        &self,
        id: &DeliveryId,
        limit: usize,
    ) -> Result<(Vec<AlertHit>, usize), StoreError> {
        const STILL_OPEN: &str = "(deliveries.kind = 'operator' OR hits.acked_at IS NULL)";
        let total: i64 = self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM delivery_hits
                 JOIN deliveries ON deliveries.id = delivery_hits.delivery
                 JOIN hits ON hits.id = delivery_hits.hit
                 WHERE delivery_hits.delivery = ?1 AND {STILL_OPEN}"
            ),
            [id],
            |row| row.get(0),
        )?;
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {ALERT_HIT_COLUMNS}
             FROM delivery_hits
             JOIN deliveries ON deliveries.id = delivery_hits.delivery
             JOIN hits ON hits.id = delivery_hits.hit
             JOIN posts ON posts.id = hits.post
             WHERE delivery_hits.delivery = ?1 AND {STILL_OPEN}
             ORDER BY hits.id LIMIT ?2"
        ))?;
        let hits =
            collect_alert_hits(statement.query_map(params![id, limit as i64], alert_hit_row)?)?;
        Ok((hits, total.max(0) as usize))
    }

    /// Stores the rendered body of delivery `id`, closing it: no hit joins it any more,
    /// and every attempt sends these bytes. Returns the payload in force, which is
    /// the earlier one if the delivery was already rendered.
    pub fn freeze_payload(
        &self,
        id: &DeliveryId,
        payload: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        self.conn.execute(
            "UPDATE deliveries SET payload = ?2, rendered_at = ?3
             WHERE id = ?1 AND rendered_at IS NULL",
            params![id, payload, now_ms],
        )?;
        Ok(self.conn.query_row(
            "SELECT payload FROM deliveries WHERE id = ?1",
            [id],
            |row| row.get(0),
        )?)
    }

    /// Records a successful attempt.
    pub fn mark_delivered(&self, id: &DeliveryId, now_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1,
                 delivered_at = ?2, last_error = NULL, last_status = NULL WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Closes a delivery with nothing left to send (every hit was acknowledged before
    /// its first send) without sending it; `mentiond deliveries` shows it as delivered
    /// with the reason.
    pub fn close_unsent(&self, id: &DeliveryId, now_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE deliveries SET status = 'delivered', delivered_at = ?2,
                 last_error = 'not sent: every hit was acknowledged before the first send'
             WHERE id = ?1 AND status = 'pending'",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Records a failed attempt: retry at `retry_at_ms`, or give up when `None`.
    pub fn mark_failed(&self, attempt: &FailedAttempt<'_>) -> Result<(), StoreError> {
        let status = match attempt.retry_at_ms {
            Some(_) => "pending",
            None => "dead",
        };
        self.conn.execute(
            "UPDATE deliveries SET status = ?2, attempts = attempts + 1,
                 next_attempt_at = COALESCE(?3, next_attempt_at), last_error = ?4,
                 last_status = ?5
             WHERE id = ?1",
            params![
                attempt.id,
                status,
                attempt.retry_at_ms,
                attempt.error,
                attempt.status
            ],
        )?;
        Ok(())
    }

    /// Puts a dead delivery back in the queue with the same id and payload, due at
    /// `now_ms`; its age limit restarts from now. Re-enables its receiver if a 410 had
    /// disabled it. Returns the receiver, or `None` when no dead delivery has this id.
    pub fn retry_delivery(
        &self,
        id: &DeliveryId,
        now_ms: i64,
    ) -> Result<Option<ReceiverName>, StoreError> {
        let receiver: Option<ReceiverName> = self
            .conn
            .query_row(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2, requeued_at = ?2
                 WHERE id = ?1 AND status = 'dead' RETURNING receiver",
                params![id, now_ms],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(receiver) = &receiver {
            self.enable_receiver(receiver)?;
        }
        Ok(receiver)
    }

    /// Enqueues operator alerts about the failure of delivery `failed`, each carrying
    /// its hits, due at `now_ms`.
    pub fn enqueue_operator_alerts(
        &self,
        failed: &DeliveryId,
        alerts: &[NewOperatorAlert],
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut inserted = 0;
        for alert in alerts {
            inserted += self.conn.execute(
                "INSERT OR IGNORE INTO deliveries (id, receiver, payload, created_at,
                     next_attempt_at, max_hits, kind, note)
                 VALUES (?1, ?2, '', ?3, ?3, (SELECT max_hits FROM deliveries WHERE id = ?4),
                     'operator', ?5)",
                params![alert.id, alert.receiver, now_ms, failed, alert.note],
            )?;
            self.conn.execute(
                "INSERT OR IGNORE INTO delivery_hits (delivery, hit)
                 SELECT ?1, hit FROM delivery_hits WHERE delivery = ?2",
                params![alert.id, failed],
            )?;
        }
        Ok(inserted)
    }

    /// Switches a receiver off (after 410 Gone) until [`Store::enable_receiver`].
    pub fn disable_receiver(
        &self,
        receiver: &ReceiverName,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO receiver_state (receiver, disabled_at, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (receiver) DO UPDATE SET disabled_at = excluded.disabled_at,
                 reason = excluded.reason",
            params![receiver, now_ms, reason],
        )?;
        Ok(())
    }

    /// Switches a disabled receiver back on; a no-op for an enabled one.
    pub fn enable_receiver(&self, receiver: &ReceiverName) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM receiver_state WHERE receiver = ?1", [receiver])?;
        Ok(())
    }

    /// Receivers disabled by a 410, oldest first.
    pub fn disabled_receivers(&self) -> Result<Vec<DisabledReceiver>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT receiver, disabled_at, reason FROM receiver_state ORDER BY disabled_at, receiver",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(DisabledReceiver {
                receiver: row.get(0)?,
                disabled_at: row.get(1)?,
                reason: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether `receiver` is disabled.
    pub fn is_receiver_disabled(&self, receiver: &ReceiverName) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM receiver_state WHERE receiver = ?1",
                [receiver],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Deliveries, newest first, optionally of one status.
    pub fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT id, receiver, status, attempts, created_at, delivered_at, last_error,
                    last_status
             FROM deliveries WHERE ?1 IS NULL OR status = ?1
             ORDER BY created_at DESC, id LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![status.map(DeliveryStatus::as_str), limit as i64],
            |row| {
                Ok(DeliveryRow {
                    id: row.get(0)?,
                    receiver: row.get(1)?,
                    status: DeliveryStatus::parse(&row.get::<_, String>(2)?),
                    attempts: row.get(3)?,
                    created_at: row.get(4)?,
                    delivered_at: row.get(5)?,
                    last_error: row.get(6)?,
                    last_status: row.get(7)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
