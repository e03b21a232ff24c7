//! Replies from brands' own handles: each acknowledges the hit on the post it answers,
//! inside the transaction that commits the batch the reply came in.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::StoreError;
use super::time::timestamp;

/// A reply by one of a brand's own handles, seen in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnReply {
    /// Source of the reply (and of the post it answers).
    pub source: String,
    /// Id of the answered post within the source.
    pub in_reply_to: String,
    /// The brand whose handle answered.
    pub brand: String,
    /// The answering handle, with `@`.
    pub by: String,
    /// When the reply was posted (or seen).
    pub at: DateTime<Utc>,
}

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
