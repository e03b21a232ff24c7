//! Maintenance of the database file: a consistent copy through SQLite's online backup
//! API while the daemon writes (`mentiond backup`), and `VACUUM` while it does not
//! (`mentiond vacuum`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::{Store, StoreError};

/// Pages copied per backup step (4 MiB of 4 KiB pages).
const PAGES_PER_STEP: std::os::raw::c_int = 1024;

/// Pause between two backup steps, so a large copy does not take the disk from the
/// daemon.
const STEP_PAUSE: Duration = Duration::from_millis(5);

/// Why a backup failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination exists and replacing it was not asked for.
    #[error("{0} exists; pass --force to replace it")]
    Exists(String),
    /// SQLite reported an error (reading the database or writing the copy).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The copy could not be written, synced or moved into place.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// What a backup wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    /// Size of the copy in bytes.
    pub bytes: u64,
    /// Posts in the copy.
    pub posts: u64,
    /// Hits in the copy.
    pub hits: u64,
    /// Deliveries in the copy.
    pub deliveries: u64,
}

/// The partial copy removed when a backup does not finish.
struct Partial(PathBuf);

impl Drop for Partial {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

impl Store {
    /// Copies the database at `database` to `destination` with SQLite's online backup
    /// API, beside a running daemon. Every step reads from one read transaction, so the
    /// copy is the database as of one commit while the daemon's writer goes on (WAL);
    /// steps of 1,024 pages with a short pause between them. The copy is written
    /// beside `destination`, switched to a single file (no WAL), synced, and only then
    /// moved under its name, so a failed backup never leaves a partial file there. An
    /// existing `destination` is refused unless `overwrite`.
    pub fn backup(
        database: &Path,
        destination: &Path,
        overwrite: bool,
    ) -> Result<BackupReport, BackupError> {
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| BackupError::Io { path, source }
        };
        if !overwrite && fs::symlink_metadata(destination).is_ok() {
            return Err(BackupError::Exists(destination.display().to_string()));
        }
        let partial = Partial(partial_path(destination));
        // A partial copy left by a killed backup is ours to replace.
        let _ = fs::remove_file(&partial.0);

        // Read-write without create: a missing database is an error, not a new file.
        let source = Connection::open_with_flags(
            database,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        source.busy_timeout(Duration::from_secs(5))?;
        source.execute_batch("BEGIN")?;
        // The first read opens the transaction and pins its snapshot for every step.
        source.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |row| {
            row.get::<_, i64>(0)
        })?;
        let mut copy = Connection::open(&partial.0)?;
        Backup::new(&source, &mut copy)?.run_to_completion(PAGES_PER_STEP, STEP_PAUSE, None)?;
        source.execute_batch("COMMIT")?;
        drop(source);

        copy.pragma_update(None, "journal_mode", "DELETE")?;
        let count = |table: &str| -> Result<u64, rusqlite::Error> {
            copy.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        };
        let (posts, hits, deliveries) = (count("posts")?, count("hits")?, count("deliveries")?);
        copy.close().map_err(|(_, err)| err)?;
        fs::File::open(&partial.0)
            .and_then(|file| file.sync_all())
            .map_err(io_error(&partial.0))?;
        if overwrite {
            fs::rename(&partial.0, destination).map_err(io_error(destination))?;
        } else {
            // A link fails if the name was taken meanwhile: never clobber a file.
            fs::hard_link(&partial.0, destination).map_err(|err| {
                if err.kind() == std::io::ErrorKind::AlreadyExists {
                    BackupError::Exists(destination.display().to_string())
                } else {
                    io_error(destination)(err)
                }
            })?;
        }
        drop(partial);
        if let Some(dir) = destination.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The new name must survive a power loss too.
            let _ = fs::File::open(dir).and_then(|dir| dir.sync_all());
        }
        let bytes = fs::metadata(destination)
            .map_err(io_error(destination))?
            .len();
        Ok(BackupReport {
            bytes,
            posts,
            hits,
            deliveries,
        })
    }

    /// Turns this connection's automatic checkpoints off: the daemon's writer leaves
    /// them to [`Store::checkpoint`] on a connection of its own, so no commit of the
    /// writer also copies a thousand pages into the database file.
    pub fn leave_checkpoints_to_another_connection(&self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Copies the pages committed to the WAL into the database file (a `PASSIVE`
    /// checkpoint). Run from a connection other than the writer's, it keeps the WAL
    /// short without holding up the writer.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Rewrites the database into a compact file (`VACUUM`) and empties the WAL into
    /// it. Needs the database to itself: the caller holds [`Store::lock_exclusive`].
    pub fn vacuum(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM")?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// The bytes the database at `path` takes on disk: the file and its WAL.
pub fn database_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), PathBuf::from(wal)]
        .iter()
        .filter_map(|file| fs::metadata(file).ok())
        .map(|meta| meta.len())
        .sum()
}

/// `dir/.name.partial-<pid>` beside `destination`.
fn partial_path(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    destination.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}
