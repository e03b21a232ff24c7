//! The outbox: alert deliveries waiting to be sent, with attempts, the next attempt
//! time, and their end state. Rows are inserted with their hits (never alone) and
//! their ids are deterministic, so a retried batch cannot enqueue an alert twice.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::{Store, StoreError, unix_millis};

/// A delivery to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Deterministic id, sent as `webhook-id`.
    pub id: String,
    /// Receiver name.
    pub receiver: String,
    /// The exact body to send.
    pub payload: String,
    /// Hits the alert covers.
    pub hit_ids: Vec<i64>,
}

/// A pending delivery claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Delivery id.
    pub id: String,
    /// Receiver name.
    pub receiver: String,
    /// Body to send.
    pub payload: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was enqueued (Unix ms).
    pub created_at: i64,
    /// Where `delivery.max_age` counts from (Unix ms): enqueue time, or the last manual
    /// retry.
    pub age_from: i64,
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
    pub id: String,
    /// Receiver name.
    pub receiver: String,
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
    pub receiver: String,
    /// When it was disabled (Unix ms).
    pub disabled_at: i64,
    /// Why.
    pub reason: String,
}

/// A failed attempt, as recorded in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt<'a> {
    /// Delivery id.
    pub id: &'a str,
    /// What went wrong.
    pub error: &'a str,
    /// HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// Next attempt (Unix ms), or `None` to mark the delivery dead.
    pub retry_at_ms: Option<i64>,
}

/// Inserts deliveries inside the batch transaction; returns how many were new.
pub(super) fn insert_deliveries(
    tx: &Transaction<'_>,
    deliveries: &[NewDelivery],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = unix_millis(now);
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (id, receiver, payload, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    let mut link =
        tx.prepare_cached("INSERT OR IGNORE INTO delivery_hits (delivery, hit) VALUES (?1, ?2)")?;
    let mut inserted = 0;
    for delivery in deliveries {
        inserted += insert.execute(params![
            delivery.id,
            delivery.receiver,
            delivery.payload,
            now
        ])?;
        for hit in &delivery.hit_ids {
            link.execute(params![delivery.id, hit])?;
        }
    }
    Ok(inserted)
}

impl Store {
    /// Pending deliveries of `receiver` due at `now_ms`, oldest first.
    pub fn due_deliveries(
        &self,
        receiver: &str,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, receiver, payload, attempts, created_at,
                    COALESCE(requeued_at, created_at) FROM deliveries
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
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next pending delivery of `receiver` is due (Unix ms).
    pub fn next_attempt_at(&self, receiver: &str) -> Result<Option<i64>, StoreError> {
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

    /// Records a successful attempt.
    pub fn mark_delivered(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1,
                 delivered_at = ?2, last_error = NULL, last_status = NULL WHERE id = ?1",
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
    pub fn retry_delivery(&self, id: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        let receiver: Option<String> = self
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

    /// Switches a receiver off (after 410 Gone) until [`Store::enable_receiver`].
    pub fn disable_receiver(
        &self,
        receiver: &str,
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
    pub fn enable_receiver(&self, receiver: &str) -> Result<(), StoreError> {
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
    pub fn is_receiver_disabled(&self, receiver: &str) -> Result<bool, StoreError> {
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
