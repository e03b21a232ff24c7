//! The store: the only module that speaks SQL. SQLite (bundled) in WAL mode with
//! versioned migrations. The daemon owns one [`Store`] on a dedicated writer thread,
//! reached through [`StoreHandle`], so blocking calls never run on the async runtime;
//! CLI commands open their own [`Store`] directly.

mod console;
mod feedback;
mod gauges;
mod health;
mod heartbeat;
mod lock;
mod maintenance;
mod noisy;
mod outbox;
mod posts;
mod replies;
mod report;
mod responses;
mod retention;
mod schema;
mod search;
mod surges;
mod time;

use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::model::{DeliveryId, HitId, ReceiverName, SourceName};
use tokio::sync::oneshot;

pub use console::{HitChange, HitTake, StoredSession, TakeOutcome};
pub use feedback::{FeedbackOutcome, FeedbackTally, FeedbackVerdict, VariantFeedback};
pub use gauges::{HitCounts, OutboxDepth};
pub use health::{PollOutcome, SourceHealth};
pub use heartbeat::{DaemonInfo, Heartbeat, MISSED_BEATS};
pub use lock::{DaemonLock, DaemonNote, daemon_note};
pub use maintenance::{BackupError, BackupReport, database_bytes};
pub use noisy::NoisyVariant;
pub use outbox::{
    AlertHit, Delivery, DeliveryKind, DeliveryRow, DeliveryStatus, DisabledReceiver, FailedAttempt,
    NewOperatorAlert,
};
pub use posts::{BatchOutcome, EARLIER_HITS_CAP, MatchedPost, NewBatch};
pub use report::{DeadDelivery, ReportHit};
pub use responses::AckOutcome;
pub use retention::{PURGE_BATCH, Purge, PurgeCounts};
pub use schema::SCHEMA_VERSION;
pub use search::{
    AUTHOR_HISTORY, HitCursor, HitDetail, HitPage, HitQuery, HitRow, HitStatus, parse_time_bound,
};
pub use surges::{BrandSummary, StoredSurge};
pub use time::unix_millis;

// Typed ids are stored as their plain SQL values.
impl rusqlite::ToSql for HitId {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for HitId {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        i64::column_result(value).map(HitId)
    }
}

impl rusqlite::ToSql for DeliveryId {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::ToSql for ReceiverName {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for ReceiverName {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        String::column_result(value).map(ReceiverName)
    }
}

impl rusqlite::ToSql for SourceName {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for SourceName {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        String::column_result(value).map(SourceName)
    }
}

impl rusqlite::types::FromSql for DeliveryId {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        String::column_result(value).map(DeliveryId)
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON column could not be read back.
    #[error("corrupt stored value: {0}")]
    Json(#[from] serde_json::Error),
    /// The database directory could not be created.
    #[error("cannot create database directory {path}: {source}")]
    Directory {
        /// The directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer mentiond.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    TooNew {
        /// Version in the file.
        found: usize,
        /// Newest version this build knows.
        supported: usize,
    },
    /// The writer thread is gone (shutdown or panic).
    #[error("store writer thread is not running")]
    Closed,
    /// A page handed over behind one of the same source that failed to commit, left
    /// uncommitted so its cursor cannot pass the failed page's posts.
    #[error("not stored: the source's page before it failed to commit")]
    EarlierPageFailed,
    /// The file at the database path is not a mentiond database: not SQLite at all,
    /// damaged, or another program's. It was only read.
    #[error(
        "{path} is not a mentiond database ({why}); it was left untouched, so set another [storage] path or move the file away"
    )]
    NotOurs {
        /// The database path.
        path: String,
        /// What was found there.
        why: String,
    },
    /// Another `mentiond run` holds the database's lock file.
    #[error(
        "in use by another mentiond run (pid {}); stop it first or set another [storage] path",
        pid.map_or_else(|| "unknown".to_string(), |pid| pid.to_string())
    )]
    Locked {
        /// The pid written in the lock file, if readable.
        pid: Option<u32>,
    },
    /// No hit has this id (feedback on a hit that does not exist or was purged).
    #[error("no hit with id {0}")]
    UnknownHit(i64),
    /// The lock file could not be created or locked.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the database could not be written for want of space (SQLite's
    /// `SQLITE_FULL`): it heals when space returns, without a restart.
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::DiskFull
        )
    }

    /// Whether retrying may help (a busy or locked database).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(err, _))
                if matches!(err.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

/// An open database.
pub struct Store {
    conn: Connection,
    /// `[matcher] feedback_off_after`: net not-relevant verdicts that switch a variant
    /// off; 0 (until set by [`Store::set_feedback_off_after`]) switches none off.
    feedback_off_after: u32,
}

/// Creates the directory of `path` if it has one.
fn create_parent(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the database at `path`, migrates it and indexes the
    /// posts stored before the full-text index existed.
    /// A file already at `path` is first read, never written, and refused with
    /// [`StoreError::NotOurs`] unless it is a mentiond database or empty.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        create_parent(path)?;
        if path.metadata().is_ok_and(|meta| meta.len() > 0) {
            schema::check_ours(path)?;
        }
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a hit already alerted on must survive power loss (alert volume is tiny).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "cache_size", -8192)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        schema::migrate(&mut conn)?;
        search::index_missing_posts(&mut conn)?;
        Ok(Store {
            conn,
            feedback_off_after: 0,
        })
    }

    /// Opens an existing database for reading only (CLI commands beside a running
    /// daemon), refusing another program's file as [`Store::open`] does.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if path.metadata().is_ok_and(|meta| meta.len() > 0) {
            schema::check_ours(path)?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(Store {
            conn,
            feedback_off_after: 0,
        })
    }
}

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A cloneable handle to the [`Store`] owned by the writer thread. The thread ends
/// when the last handle is dropped, after finishing every queued call.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: std_mpsc::Sender<Job>,
    changes: tokio::sync::watch::Receiver<i64>,
}

impl StoreHandle {
    /// A handle to `store` and the writer loop that owns it, for the caller to run on a
    /// thread of its own (the daemon runs it as the supervised `store` thread).
    pub fn new(store: Store) -> (StoreHandle, StoreWriter) {
        let (jobs, queue) = std_mpsc::channel::<Job>();
        let latest = store.latest_change().unwrap_or(0);
        let (changed, changes) = tokio::sync::watch::channel(latest);
        (
            StoreHandle { jobs, changes },
            StoreWriter {
                store,
                queue,
                changed,
            },
        )
    }

    /// The newest sequence number of the change log (`Store::hit_changes_after`),
    /// updated after each call that committed a change, so the console's live feed
    /// wakes without polling.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<i64> {
        self.changes.clone()
    }

    /// Moves `store` onto a new, unsupervised writer thread (tests and tools).
    pub fn spawn(store: Store) -> (StoreHandle, JoinHandle<()>) {
        let (handle, writer) = StoreHandle::new(store);
        let thread = std::thread::Builder::new()
            .name("mentiond-store".into())
            .spawn(move || writer.run())
            .expect("spawning the store thread");
        (handle, thread)
    }

    /// Runs `f` on the writer thread and returns its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> R + Send + 'static,
    {
        self.queue(f).await
    }

    /// Queues `f` on the writer thread at once and returns a future of its result:
    /// the job keeps its place in the queue while the caller goes on, and runs even
    /// if the future is dropped.
    pub fn queue<R, F>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<R, StoreError>> + Send + use<R, F>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let queued = self
            .jobs
            .send(Box::new(move |store: &mut Store| {
                let _ = reply.send(f(store));
            }))
            .map_err(|_| StoreError::Closed);
        async move {
            queued?;
            answer.await.map_err(|_| StoreError::Closed)
        }
    }
}

/// The writer loop: owns the [`Store`] and runs the jobs of every [`StoreHandle`].
pub struct StoreWriter {
    store: Store,
    queue: std_mpsc::Receiver<Job>,
    changed: tokio::sync::watch::Sender<i64>,
}

impl StoreWriter {
    /// Runs jobs in order until the last handle is dropped. A panicking job is not
    /// caught: it unwinds the thread (an open transaction rolls back) and callers then
    /// get [`StoreError::Closed`].
    pub fn run(mut self) {
        for job in self.queue {
            job(&mut self.store);
            // One indexed read per job: every commit that logged a change wakes the feed.
            if let Ok(latest) = self.store.latest_change() {
                self.changed.send_if_modified(|seen| {
                    let newer = latest > *seen;
                    if newer {
                        *seen = latest;
                    }
                    newer
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
