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
    fn as_str(self) -> &'static str {
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
            "SELECT id, receiver, payload, attempts, created_at FROM deliveries
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
                 delivered_at = ?2, last_error = NULL WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Records a failed attempt: retry at `retry_at_ms`, or give up when `None`.
    pub fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        match retry_at_ms {
            Some(at) => self.conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                 WHERE id = ?1",
                params![id, at, error],
            )?,
            None => self.conn.execute(
                "UPDATE deliveries SET status = 'dead', attempts = attempts + 1, last_error = ?2
                 WHERE id = ?1",
                params![id, error],
            )?,
        };
        Ok(())
    }

    /// Deliveries, newest first, optionally of one status.
    pub fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT id, receiver, status, attempts, created_at, delivered_at, last_error
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
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
