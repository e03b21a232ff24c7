//! Retention: removes what is older than `[storage] retention` in short steps, each
//! its own transaction on the writer thread, so a batch commit waits at most one step.
//!
//! What is old, in this order (so nothing still referenced is ever removed):
//! 1. a *finished* delivery (`delivered` or `dead`) whose every time (created,
//!    requeued, last scheduled attempt, delivered) is before the cutoff, with its
//!    `delivery_hits` rows; a pending delivery is never removed, however old;
//! 2. a hit detected before the cutoff that no remaining delivery carries, whether
//!    or not it was acknowledged (after the retention nobody answers it any more);
//! 3. a post whose last hit was removed in 2.
//!
//! Cursors, source health, receiver state and the schema are never touched;
//! `source_polls` keeps its own hour (`health`). Rows are walked in insertion order
//! (their time grows with it), and each table's walk ends at its first row younger
//! than the cutoff.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Row, ToSql, Transaction, TransactionBehavior, params};

use super::time::{timestamp, unix_millis};
use super::{Store, StoreError};

/// Rows one step looks at or deletes, at most: a step takes about 8 ms on a database
/// of a million posts (`BENCHMARKS.md`), so a batch commit queued behind it is held up
/// far less than 50 ms.
pub const PURGE_BATCH: usize = 100;

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Finished deliveries (with the rows naming their hits).
    pub deliveries: u64,
    /// Hits.
    pub hits: u64,
    /// Posts.
    pub posts: u64,
}

/// Which table a purge walks, and the last row id it looked at there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Deliveries { after: i64 },
    Hits { after: i64 },
    Done,
}

/// One purge in progress: the cutoff, how far it got and what it removed. Each
/// [`Store::purge_step`] moves it on by at most its batch of rows.
#[derive(Debug, Clone)]
pub struct Purge {
    cutoff_ms: i64,
    cutoff_text: String,
    batch: usize,
    phase: Phase,
    steps: u32,
    removed: PurgeCounts,
}

impl Purge {
    /// A purge of what is older than `retention` before `now`, looking at `batch` rows
    /// per step. A retention reaching before the calendar's start purges nothing.
    pub fn new(now: DateTime<Utc>, retention: std::time::Duration, batch: usize) -> Purge {
        let cutoff = TimeDelta::from_std(retention)
            .ok()
            .and_then(|retention| now.checked_sub_signed(retention));
        Purge {
            cutoff_ms: cutoff.map_or(i64::MIN, unix_millis),
            cutoff_text: cutoff.map_or_else(String::new, timestamp),
            // Two at least: a delivery and one of the rows naming its hits.
            batch: batch.max(2),
            phase: match cutoff {
                Some(_) => Phase::Deliveries { after: 0 },
                None => Phase::Done,
            },
            steps: 0,
            removed: PurgeCounts::default(),
        }
    }

    /// Whether every table has been walked to its first young row.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Steps committed so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// What the committed steps removed.
    pub fn removed(&self) -> PurgeCounts {
        self.removed
    }
}

impl Store {
    /// Runs one step of `purge` in one transaction: looks at no more than its batch of
    /// rows, removes the old ones among them, and moves `purge` on only when the step
    /// committed.
    pub fn purge_step(&mut self, purge: &mut Purge) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut phase = purge.phase;
        let mut removed = purge.removed;
        let mut budget = purge.batch;
        while budget > 0 {
            let walked = match phase {
                Phase::Deliveries { after } => {
                    purge_deliveries(&tx, purge.cutoff_ms, after, budget, &mut removed)?
                }
                Phase::Hits { after } => {
                    purge_hits(&tx, &purge.cutoff_text, after, budget, &mut removed)?
                }
                Phase::Done => break,
            };
            budget -= walked.spent;
            phase = match (phase, walked.resume) {
                (Phase::Deliveries { .. }, Some(after)) => Phase::Deliveries { after },
                (Phase::Hits { .. }, Some(after)) => Phase::Hits { after },
                (Phase::Deliveries { .. }, None) => Phase::Hits { after: 0 },
                _ => Phase::Done,
            };
        }
        tx.commit()?;
        purge.phase = phase;
        purge.removed = removed;
        purge.steps += 1;
        Ok(())
    }

    /// Runs `purge` to its end, step after step (tools and tests; the daemon runs the
    /// steps as separate jobs so other work interleaves).
    pub fn purge(&mut self, purge: &mut Purge) -> Result<(), StoreError> {
        while !purge.is_done() {
            self.purge_step(purge)?;
        }
        Ok(())
    }
}

/// What one walk over a table did in a step.
struct Walked {
    /// Rows looked at or deleted (at most the budget).
    spent: usize,
    /// The row id the next step goes on after; `None` when the walk reached the end of
    /// the table or its first young row.
    resume: Option<i64>,
}

/// Looks at the rows `select` returns (`?1` the cutoff, `?2` the row id to go on
/// after, `?3` the budget; columns: row id, whether the row is older than the cutoff,
/// then what `read` takes) and hands each old one, in order, to `purge` with the budget
/// left beside the row itself, up to the first young row. `purge` answers how many
/// more rows it deleted, or `None` when it ran out of budget before it was done with
/// the row, which the next step then looks at again.
fn walk<R>(
    tx: &Transaction<'_>,
    select: &str,
    (cutoff, after, budget): (&dyn ToSql, i64, usize),
    read: impl Fn(&Row<'_>) -> rusqlite::Result<R>,
    mut purge: impl FnMut(R, usize) -> Result<Option<usize>, StoreError>,
) -> Result<Walked, StoreError> {
    let rows = tx
        .prepare_cached(select)?
        .query_map(params![cutoff, after, budget as i64], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, bool>(1)?, read(row)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut spent = 0;
    let mut resume = after;
    for (rowid, old, row) in rows {
        spent += 1;
        if !old {
            return Ok(Walked {
                spent,
                resume: None,
            });
        }
        match purge(row, budget - spent)? {
            Some(more) => spent += more,
            None => {
                return Ok(Walked {
                    spent: budget,
                    resume: Some(resume),
                });
            }
        }
        resume = rowid;
        if spent >= budget {
            return Ok(Walked {
                spent: budget,
                resume: Some(resume),
            });
        }
    }
    // Fewer rows than the budget: the end of the table.
    Ok(Walked {
        spent,
        resume: None,
    })
}

/// Removes the finished deliveries among the next `budget` deliveries after `after`
/// created before the cutoff.
fn purge_deliveries(
    tx: &Transaction<'_>,
    cutoff_ms: i64,
    after: i64,
    budget: usize,
    removed: &mut PurgeCounts,
) -> Result<Walked, StoreError> {
    // A delivery to people carries every hit of its group: its rows are deleted within
    // the step's budget, over several steps when there are more.
    let mut forget_hits = tx.prepare_cached(
        "DELETE FROM delivery_hits WHERE rowid IN
             (SELECT rowid FROM delivery_hits WHERE delivery = ?1 LIMIT ?2)",
    )?;
    let mut carries_more =
        tx.prepare_cached("SELECT 1 FROM delivery_hits WHERE delivery = ?1 LIMIT 1")?;
    let mut delete = tx.prepare_cached("DELETE FROM deliveries WHERE rowid = ?1")?;
    walk(
        tx,
        "SELECT rowid, created_at < ?1, id,
                status <> 'pending'
                AND MAX(created_at, next_attempt_at, COALESCE(requeued_at, 0),
                        COALESCE(delivered_at, 0)) < ?1
         FROM deliveries WHERE rowid > ?2 ORDER BY rowid LIMIT ?3",
        (&cutoff_ms, after, budget),
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(2)?, row.get(3)?)),
        |(rowid, id, finished): (i64, String, bool), left| {
            if !finished {
                return Ok(Some(0));
            }
            let forgotten = forget_hits.execute(params![id, left as i64])?;
            if carries_more.exists([&id])? {
                return Ok(None);
            }
            delete.execute([rowid])?;
            removed.deliveries += 1;
            Ok(Some(forgotten))
        },
    )
}

/// Removes the hits among the next `budget` hits after `after` detected before the
/// cutoff that no delivery carries, then the posts left without hits.
fn purge_hits(
    tx: &Transaction<'_>,
    cutoff: &str,
    after: i64,
    budget: usize,
    removed: &mut PurgeCounts,
) -> Result<Walked, StoreError> {
    let mut delete = tx.prepare_cached(
        "DELETE FROM hits WHERE id = ?1
             AND NOT EXISTS (SELECT 1 FROM delivery_hits WHERE hit = ?1)",
    )?;
    let mut posts = Vec::new();
    let walked = walk(
        tx,
        "SELECT id, detected_at < ?1, post FROM hits WHERE id > ?2 ORDER BY id LIMIT ?3",
        (&cutoff, after, budget),
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(2)?)),
        |(id, post), _| {
            if delete.execute([id])? > 0 {
                removed.hits += 1;
                posts.push(post);
            }
            Ok(Some(0))
        },
    )?;
    posts.sort_unstable();
    posts.dedup();
    for post in posts {
        removed.posts += delete_post_without_hits(tx, post)?;
    }
    Ok(walked)
}

/// Deletes post `post` if no hit refers to it any more; the one place posts are
/// deleted, so anything kept beside a post (an index over its text) is removed here.
fn delete_post_without_hits(tx: &Transaction<'_>, post: i64) -> Result<u64, StoreError> {
    let deleted = tx
        .prepare_cached(
            "DELETE FROM posts WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM hits WHERE post = ?1)",
        )?
        .execute([post])?;
    Ok(deleted as u64)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::matcher::BrandHit;
    use crate::model::{DeliveryId, Post};
    use crate::routing::{HitKey, NewDelivery};
    use crate::sentiment::Sentiment;
    use crate::store::{FailedAttempt, MatchedPost, NewBatch};

    const RETENTION: Duration = Duration::from_secs(180 * 24 * 3600);

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn long_ago() -> DateTime<Utc> {
        now() - TimeDelta::days(200)
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("mentiond.db")).unwrap();
        (dir, store)
    }

    /// Records, at `at`, post `id` of source `source` with one Turkcell hit and one
    /// delivery per receiver in `receivers` (`msg_<id>_<receiver>`).
    fn record(store: &mut Store, source: &str, id: &str, receivers: &[&str], at: DateTime<Utc>) {
        record_group(store, source, &[id], receivers, at);
    }

    /// [`record`] for several posts, whose hits each delivery carries together
    /// (`msg_<first id>_<receiver>`).
    fn record_group(
        store: &mut Store,
        source: &str,
        ids: &[&str],
        receivers: &[&str],
        at: DateTime<Utc>,
    ) {
        let keys: Vec<HitKey> = ids
            .iter()
            .map(|id| HitKey {
                source: source.into(),
                post_id: (*id).into(),
                brand: "Turkcell".into(),
            })
            .collect();
        let deliveries = receivers
            .iter()
            .map(|receiver| NewDelivery {
                id: DeliveryId(format!("msg_{}_{receiver}", ids[0])),
                receiver: (*receiver).into(),
                group_key: format!("post={}", ids[0]),
                hits: keys.clone(),
                max_hits: 10,
                urgent: false,
                due_at: at,
                hold_until: None,
                split: false,
            })
            .collect();
        store
            .record_batch(NewBatch {
                source: source.into(),
                cursor: Some(format!("after-{}", ids[ids.len() - 1])),
                posts: ids
                    .iter()
                    .map(|id| MatchedPost {
                        post: Post::from_json(&format!(
                            r#"{{"source":"{source}","id":"{id}","text":"Turkcell {id}"}}"#
                        ))
                        .unwrap(),
                        sentiment: Sentiment::Neutral,
                        sentiment_score: 0.0,
                        hits: vec![BrandHit::exact_for_tests("Turkcell", None, "Turkcell")],
                    })
                    .collect(),
                deliveries,
                now: at,
                replies: Vec::new(),
            })
            .unwrap();
    }

    fn delivered(store: &Store, id: &str, at: DateTime<Utc>) {
        store
            .mark_delivered(&DeliveryId(id.into()), unix_millis(at))
            .unwrap();
    }

    fn post_ids(store: &Store) -> Vec<String> {
        let mut ids: Vec<String> = store
            .hits(&crate::store::HitQuery::default())
            .unwrap()
            .hits
            .into_iter()
            .map(|hit| hit.post.id)
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn retention_removes_only_old_rows_and_keeps_pending_deliveries_what_they_carry_and_cursors() {
        let (_dir, mut store) = open();
        // Old and delivered: the delivery, its hit and its post go.
        record(&mut store, "old", "delivered", &["file"], long_ago());
        delivered(&store, "msg_delivered_file", long_ago());
        // Old and dead: the same.
        record(&mut store, "old", "dead", &["file"], long_ago());
        store
            .mark_failed(&FailedAttempt {
                id: &DeliveryId("msg_dead_file".into()),
                error: "gone",
                status: Some(400),
                retry_at_ms: None,
            })
            .unwrap();
        // Old but still pending: nothing of it goes.
        record(&mut store, "old", "pending", &["file"], long_ago());
        // Old, delivered to one receiver, pending for another: the hit stays.
        record(&mut store, "old", "half", &["file", "hook"], long_ago());
        delivered(&store, "msg_half_file", long_ago());
        // Old, delivered long ago but retried and delivered again lately: it stays.
        record(&mut store, "old", "retried", &["file"], long_ago());
        delivered(&store, "msg_retried_file", now() - TimeDelta::days(1));
        // Old and open (stored without alert, never acknowledged): past retention, it goes.
        record(&mut store, "old", "backfill", &[], long_ago());
        // Young and delivered: it stays.
        record(
            &mut store,
            "news",
            "young",
            &["file"],
            now() - TimeDelta::days(1),
        );
        delivered(&store, "msg_young_file", now());

        let mut purge = Purge::new(now(), RETENTION, PURGE_BATCH);
        store.purge(&mut purge).unwrap();

        assert_eq!(
            purge.removed(),
            PurgeCounts {
                deliveries: 3,
                hits: 3,
                posts: 3
            }
        );
        assert_eq!(post_ids(&store), ["half", "pending", "retried", "young"]);
        let deliveries: Vec<String> = store
            .deliveries(None, 100)
            .unwrap()
            .into_iter()
            .map(|row| row.id.0)
            .collect();
        assert_eq!(deliveries.len(), 4, "{deliveries:?}");
        for kept in [
            "msg_pending_file",
            "msg_half_hook",
            "msg_retried_file",
            "msg_young_file",
        ] {
            assert!(deliveries.contains(&kept.to_string()), "{deliveries:?}");
        }
        // The pending delivery still renders from its hit.
        assert_eq!(
            store
                .delivery_hits(&DeliveryId("msg_pending_file".into()), 10)
                .unwrap()
                .0
                .len(),
            1
        );
        // Cursors are never purged, however old.
        assert_eq!(
            store.cursor(&"old".into()).unwrap().as_deref(),
            Some("after-backfill")
        );

        // Idempotent: a second run finds nothing more.
        let mut again = Purge::new(now(), RETENTION, PURGE_BATCH);
        store.purge(&mut again).unwrap();
        assert_eq!(again.removed(), PurgeCounts::default());
        assert_eq!(store.counts().unwrap(), (4, 4));
    }

    #[test]
    fn each_step_looks_at_its_batch_at_most_and_commits_on_its_own() {
        let (_dir, mut store) = open();
        for id in 1..=5 {
            record(&mut store, "old", &id.to_string(), &[], long_ago());
        }
        record(&mut store, "news", "young", &[], now());
        let mut purge = Purge::new(now(), RETENTION, 4);

        store.purge_step(&mut purge).unwrap();
        assert!(!purge.is_done());
        assert_eq!(purge.removed().hits, 4);
        assert_eq!(store.counts().unwrap(), (2, 2), "the first step committed");

        store.purge_step(&mut purge).unwrap();
        assert!(purge.is_done());
        assert_eq!(purge.steps(), 2, "N + 1 old rows take two steps");
        assert_eq!(purge.removed().posts, 5);
        assert_eq!(post_ids(&store), ["young"]);
    }

    #[test]
    fn a_delivery_carrying_more_hits_than_a_step_is_taken_apart_over_steps() {
        let (_dir, mut store) = open();
        record_group(
            &mut store,
            "old",
            &["1", "2", "3", "4", "5"],
            &["chat"],
            long_ago(),
        );
        delivered(&store, "msg_1_chat", long_ago());
        let carried = |store: &Store| {
            store
                .delivery_hits(&DeliveryId("msg_1_chat".into()), 10)
                .unwrap()
                .1
        };
        let mut purge = Purge::new(now(), RETENTION, 3);

        // The delivery and two of the rows naming its hits: the step's three.
        store.purge_step(&mut purge).unwrap();
        assert_eq!(carried(&store), 3);
        assert_eq!(store.counts().unwrap(), (5, 5), "no hit goes while carried");
        store.purge_step(&mut purge).unwrap();
        assert_eq!(carried(&store), 1);

        store.purge(&mut purge).unwrap();
        assert_eq!(
            purge.removed(),
            PurgeCounts {
                deliveries: 1,
                hits: 5,
                posts: 5
            }
        );
        assert!(store.deliveries(None, 10).unwrap().is_empty());
        assert_eq!(store.counts().unwrap(), (0, 0));
    }

    #[test]
    fn a_retention_reaching_before_the_calendar_purges_nothing() {
        let (_dir, mut store) = open();
        record(&mut store, "old", "1", &[], long_ago());
        let mut purge = Purge::new(now(), Duration::MAX, PURGE_BATCH);
        assert!(purge.is_done());
        store.purge(&mut purge).unwrap();
        assert_eq!(store.counts().unwrap(), (1, 1));
    }
}
