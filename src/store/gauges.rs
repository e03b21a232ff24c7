//! What `/metrics` and `/readyz` read at request time: each receiver's outbox depth,
//! the open and SLA-breached hit counts (each walking a partial index), and a
//! write probe that takes the database's write lock and lets it go.

use rusqlite::TransactionBehavior;

use super::{Store, StoreError};
use crate::model::ReceiverName;

/// A receiver's pending deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxDepth {
    /// The receiver.
    pub receiver: ReceiverName,
    /// Deliveries pending (waiting for their first send, a retry or a group's wait).
    pub pending: u64,
    /// When the oldest of them was queued (Unix milliseconds, the later of
    /// `created_at` and a manual retry's `requeued_at`).
    pub oldest_queued_at: i64,
}

/// Hits still waiting for an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HitCounts {
    /// Hits not acknowledged.
    pub open: u64,
    /// Of those, the ones escalated because their SLA passed.
    pub sla_breached: u64,
}

impl Store {
    /// Pending deliveries per receiver that has any, by receiver name.
    pub fn outbox_depth(&self) -> Result<Vec<OutboxDepth>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT receiver, COUNT(*), MIN(COALESCE(requeued_at, created_at))
             FROM deliveries WHERE status = 'pending'
             GROUP BY receiver ORDER BY receiver",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(OutboxDepth {
                receiver: row.get(0)?,
                pending: row.get::<_, i64>(1)?.max(0) as u64,
                oldest_queued_at: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Open and SLA-breached (escalated, still open) hits.
    pub fn hit_counts(&self) -> Result<HitCounts, StoreError> {
        // Two counts, each matching a partial index's condition exactly, so each walks
        // only its own rows, not every hit ever stored.
        let count = |sql: &str| -> Result<u64, StoreError> {
            let n: i64 = self.conn.query_row(sql, [], |row| row.get(0))?;
            Ok(n.max(0) as u64)
        };
        let waiting =
            count("SELECT COUNT(*) FROM hits WHERE acked_at IS NULL AND escalated_at IS NULL")?;
        let sla_breached =
            count("SELECT COUNT(*) FROM hits WHERE acked_at IS NULL AND escalated_at IS NOT NULL")?;
        Ok(HitCounts {
            open: waiting + sla_breached,
            sla_breached,
        })
    }

    /// Proves the database is writable now: takes the write lock (`BEGIN IMMEDIATE`,
    /// waiting at most the busy timeout) and rolls back, writing nothing.
    pub fn probe_write(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.rollback()?;
        Ok(())
    }
}
