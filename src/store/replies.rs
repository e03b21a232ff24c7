//! Replies from brands' own handles: each acknowledges the hit on the post it answers,
//! inside the transaction that commits the batch the reply came in.

use rusqlite::{Transaction, params};

use super::StoreError;
use super::time::timestamp;
use crate::routing::OwnReply;

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
