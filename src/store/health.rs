//! Source health: the outcome of every poll, kept so `mentiond status` (a separate
//! process reading the daemon's database) can show last success, last error, lag and
//! throughput per source. Poll rows older than [`POLL_HISTORY`] are pruned as new
//! ones arrive.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::time::{from_unix_millis, unix_millis};
use super::{Store, StoreError};
use crate::model::SourceName;

/// How long per-poll rows are kept (and the longest throughput window).
pub const POLL_HISTORY: chrono::Duration = chrono::Duration::hours(1);

/// What one poll of a source did.
#[derive(Debug, Clone)]
pub enum PollOutcome {
    /// The poll succeeded.
    Success {
        /// Posts fetched (matched or not).
        n_posts: usize,
        /// Creation time of the newest post fetched.
        newest_post_at: Option<DateTime<Utc>>,
    },
    /// The poll failed.
    Failure {
        /// The error, already free of secrets.
        error: String,
    },
}

/// A source's health as `mentiond status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceHealth {
    /// Source name.
    pub source: SourceName,
    /// Last successful poll.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last failed poll.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Its error.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub failures: u32,
    /// Newest post seen; `now − this` is the source's lag.
    pub newest_post_at: Option<DateTime<Utc>>,
    /// Posts fetched per minute over the last 15 minutes.
    pub posts_per_minute: f64,
}

/// Throughput window of [`SourceHealth::posts_per_minute`].
const RATE_WINDOW_MINUTES: i64 = 15;

impl Store {
    /// Records the outcome of one poll of `source` at `now`.
    pub fn record_poll(
        &mut self,
        source: &SourceName,
        outcome: &PollOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let at = unix_millis(now);
        match outcome {
            PollOutcome::Success {
                n_posts,
                newest_post_at,
            } => {
                tx.execute(
                    "INSERT INTO source_health (source, last_success_at, failures, newest_post_at)
                     VALUES (?1, ?2, 0, ?3)
                     ON CONFLICT (source) DO UPDATE SET
                         last_success_at = excluded.last_success_at,
                         failures = 0,
                         newest_post_at = MAX(COALESCE(newest_post_at, excluded.newest_post_at),
                                              COALESCE(excluded.newest_post_at, newest_post_at))",
                    params![source, at, newest_post_at.map(unix_millis)],
                )?;
                tx.execute(
                    "INSERT INTO source_polls (source, at, n_posts) VALUES (?1, ?2, ?3)",
                    params![source, at, *n_posts as i64],
                )?;
            }
            PollOutcome::Failure { error } => {
                tx.execute(
                    "INSERT INTO source_health (source, last_error_at, last_error, failures)
                     VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (source) DO UPDATE SET
                         last_error_at = excluded.last_error_at,
                         last_error = excluded.last_error,
                         failures = failures + 1",
                    params![source, at, error],
                )?;
            }
        }
        tx.execute(
            "DELETE FROM source_polls WHERE at < ?1",
            [unix_millis(now - POLL_HISTORY)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Health of every source that has polled at least once, by name.
    pub fn source_health(&self, now: DateTime<Utc>) -> Result<Vec<SourceHealth>, StoreError> {
        let since = unix_millis(now - chrono::Duration::minutes(RATE_WINDOW_MINUTES));
        let mut statement = self.conn.prepare(
            "SELECT h.source, h.last_success_at, h.last_error_at, h.last_error, h.failures,
                    h.newest_post_at,
                    (SELECT COALESCE(SUM(n_posts), 0) FROM source_polls p
                     WHERE p.source = h.source AND p.at >= ?1)
             FROM source_health h ORDER BY h.source",
        )?;
        let time = |millis: Option<i64>| millis.and_then(from_unix_millis);
        let rows = statement.query_map([since], |row| {
            Ok(SourceHealth {
                source: row.get(0)?,
                last_success_at: time(row.get(1)?),
                last_error_at: time(row.get(2)?),
                last_error: row.get(3)?,
                failures: row.get::<_, i64>(4)?.clamp(0, u32::MAX.into()) as u32,
                newest_post_at: time(row.get(5)?),
                posts_per_minute: row.get::<_, i64>(6)? as f64 / RATE_WINDOW_MINUTES as f64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successes_failures_and_throughput_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let minutes = |m| t0 + chrono::Duration::minutes(m);
        let success = |n_posts, newest| PollOutcome::Success {
            n_posts,
            newest_post_at: Some(newest),
        };
        store
            .record_poll(&"hn".into(), &success(600, minutes(-30)), t0)
            .unwrap();
        store
            .record_poll(&"hn".into(), &success(30, minutes(9)), minutes(10))
            .unwrap();
        store
            .record_poll(
                &"hn".into(),
                &PollOutcome::Failure {
                    error: "HTTP status 503".into(),
                },
                minutes(11),
            )
            .unwrap();
        store
            .record_poll(&"hn".into(), &success(0, minutes(-90)), minutes(20))
            .unwrap();
        store
            .record_poll(
                &"x".into(),
                &PollOutcome::Failure {
                    error: "timeout".into(),
                },
                minutes(20),
            )
            .unwrap();
        let health = store.source_health(minutes(20)).unwrap();
        assert_eq!(health.len(), 2);
        let hn = &health[0];
        assert_eq!(hn.last_success_at, Some(minutes(20)));
        assert_eq!(hn.last_error.as_deref(), Some("HTTP status 503"));
        assert_eq!(hn.failures, 0, "a success resets the count");
        assert_eq!(
            hn.newest_post_at,
            Some(minutes(9)),
            "an older post does not lower it"
        );
        assert_eq!(
            hn.posts_per_minute, 2.0,
            "the t0 poll is outside the 15-minute window"
        );
        let x = &health[1];
        assert_eq!((x.failures, x.last_success_at), (1, None));
    }
}
