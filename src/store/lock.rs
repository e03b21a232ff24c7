//! The daemon's lock file, `<database>.lock`: an advisory lock that keeps a second
//! `mentiond run` off the database, and a note that tells `mentiond status` what the
//! database itself cannot hold while it cannot be written (a full disk).
//!
//! The file is written once at lock time to its full [`LOCK_FILE_BYTES`], and the note
//! is rewritten in place inside them: on a file system that overwrites in place (ext4,
//! XFS, tmpfs) that needs no new block, so it still works when the disk is full.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{Store, StoreError, create_parent};
use crate::metrics::{StoreWrite, WriteFailure};

/// Size the lock file is written to at lock time; every note fits inside it.
const LOCK_FILE_BYTES: usize = 1024;

/// One daemon's exclusive hold on a database: an advisory lock on `<database>.lock`
/// holding the daemon's pid, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DaemonLock {
    file: std::fs::File,
}

/// What a running daemon's lock file says: its pid, and the kinds of database write
/// failing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonNote {
    /// The daemon holding the lock (or that held it last).
    pub pid: u32,
    /// The kinds of write failing at its last note, oldest kind first.
    pub failures: Vec<WriteFailure>,
}

/// The lock file of the database at `database`.
fn lock_path(database: &Path) -> PathBuf {
    let mut path = database.as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

impl Store {
    /// Takes the daemon's exclusive lock beside the database at `path`, so a second
    /// `mentiond run` on the same file is refused ([`StoreError::Locked`] names the pid
    /// of the holder). Read commands do not lock and work beside a running daemon.
    pub fn lock_exclusive(path: &Path) -> Result<DaemonLock, StoreError> {
        create_parent(path)?;
        let lock_path = lock_path(path);
        let lock_error = |source| StoreError::Lock {
            path: lock_path.display().to_string(),
            source,
        };
        // Not truncated on open: the holder's pid must survive a refused second run.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(lock_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = daemon_note(path).map(|note| note.pid);
                return Err(StoreError::Locked { pid });
            }
            Err(std::fs::TryLockError::Error(err)) => return Err(lock_error(err)),
        }
        let lock = DaemonLock { file };
        lock.file.set_len(0).map_err(lock_error)?;
        lock.note(&[]).map_err(lock_error)?;
        Ok(lock)
    }
}

impl DaemonLock {
    /// Rewrites the note in place: the pid on the first line, then one line per kind
    /// of write in `failures` (an error too long to fit is cut).
    pub fn note(&self, failures: &[WriteFailure]) -> std::io::Result<()> {
        let mut text = format!("{}\n", std::process::id());
        for failure in failures {
            let error: String = failure
                .error
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let line = format!(
                "failing {} {} {}",
                failure.write.as_str(),
                failure
                    .since
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                error
            );
            let room = LOCK_FILE_BYTES.saturating_sub(text.len() + 1);
            let mut cut = line.len().min(room);
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            text.push_str(&line[..cut]);
            text.push('\n');
        }
        // Spaces up to the reserved size, so a shorter note hides a longer one.
        let mut bytes = text.into_bytes();
        bytes.truncate(LOCK_FILE_BYTES);
        bytes.resize(LOCK_FILE_BYTES, b' ');
        self.file.write_all_at(&bytes, 0)
    }
}

/// Reads the lock file beside `database`: `None` when there is none or it holds no
/// pid. The note may be a dead daemon's: compare its pid with a live process.
pub fn daemon_note(database: &Path) -> Option<DaemonNote> {
    let text = std::fs::read_to_string(lock_path(database)).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    let failures = lines
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("failing ")?;
            let (write, rest) = rest.split_once(' ')?;
            let (since, error) = rest.split_once(' ').unwrap_or((rest, ""));
            Some(WriteFailure {
                write: StoreWrite::parse(write)?,
                since: DateTime::parse_from_rfc3339(since)
                    .ok()?
                    .with_timezone(&Utc),
                error: error.to_string(),
            })
        })
        .collect();
    Some(DaemonNote { pid, failures })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_daemon_lock_is_refused_with_the_holders_pid_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/mentiond.db");
        let first = Store::lock_exclusive(&path).unwrap();
        let lock_file = dir.path().join("sub/mentiond.db.lock");
        assert_eq!(
            std::fs::read_to_string(&lock_file).unwrap().trim(),
            std::process::id().to_string()
        );
        let refused = Store::lock_exclusive(&path).unwrap_err();
        assert!(
            matches!(refused, StoreError::Locked { pid: Some(pid) } if pid == std::process::id()),
            "{refused:?}"
        );
        assert!(
            refused
                .to_string()
                .contains(&format!("pid {}", std::process::id()))
        );
        // Readers and the CLI's writers do not need the lock.
        Store::open(&path).unwrap();
        drop(first);
        let _again = Store::lock_exclusive(&path).unwrap();
    }

    #[test]
    fn the_note_says_which_writes_fail_in_place_and_forgets_them_when_they_recover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mentiond.db");
        let lock = Store::lock_exclusive(&path).unwrap();
        let lock_file = lock_path(&path);
        let size = std::fs::metadata(&lock_file).unwrap().len();
        assert_eq!(size, LOCK_FILE_BYTES as u64);
        let pid = std::process::id();
        assert_eq!(
            daemon_note(&path),
            Some(DaemonNote {
                pid,
                failures: Vec::new()
            })
        );

        let since = DateTime::parse_from_rfc3339("2026-11-26T18:00:00.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let failures = vec![
            WriteFailure {
                write: StoreWrite::Commit,
                since,
                error: "database or disk is full\nforged line".to_string(),
            },
            WriteFailure {
                write: StoreWrite::Heartbeat,
                since,
                error: "é".repeat(2000),
            },
        ];
        lock.note(&failures).unwrap();
        assert_eq!(
            std::fs::metadata(&lock_file).unwrap().len(),
            size,
            "rewritten in place"
        );
        let note = daemon_note(&path).unwrap();
        assert_eq!(note.pid, pid);
        assert_eq!(note.failures.len(), 2, "{note:?}");
        assert_eq!(note.failures[0].write, StoreWrite::Commit);
        assert_eq!(note.failures[0].since, since);
        assert_eq!(
            note.failures[0].error,
            "database or disk is full forged line"
        );
        assert!(note.failures[1].error.starts_with("ééé"));

        lock.note(&[]).unwrap();
        assert_eq!(daemon_note(&path).unwrap().failures, Vec::new());
        assert_eq!(std::fs::metadata(&lock_file).unwrap().len(), size);
    }
}
