//! The daemon's heartbeat: one row the running daemon rewrites every few seconds and
//! marks stopped at a clean shutdown, so `mentiond status` (another process) tells a
//! running daemon from one that stopped or died. Also the counts of the daemon's
//! one-line summary (`STATUS=`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::time::{from_unix_millis, unix_millis};
use super::{Store, StoreError};

/// A daemon counts as not running once its last beat is older than this many beats.
pub const MISSED_BEATS: u32 = 3;

/// Who is beating: written when the daemon starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonInfo {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// mentiond version.
    pub version: String,
    /// Time between two beats.
    pub every: Duration,
}

/// The last heartbeat row, as `mentiond status` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heartbeat {
    /// Process id of the daemon that wrote it.
    pub pid: u32,
    /// Its host.
    pub host: String,
    /// Its version.
    pub version: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last beat.
    pub beat_at: DateTime<Utc>,
    /// Its time between two beats.
    #[serde(serialize_with = "serialize_millis")]
    pub every: Duration,
    /// When it stopped cleanly; `None` while it runs, or when it died.
    pub stopped_at: Option<DateTime<Utc>>,
}

fn serialize_millis<S: serde::Serializer>(every: &Duration, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_u128(every.as_millis())
}

impl Heartbeat {
    /// Whether the daemon runs at `now`: not stopped, and beating within
    /// [`MISSED_BEATS`] beats.
    pub fn is_running(&self, now: DateTime<Utc>) -> bool {
        let silence = (now - self.beat_at).to_std().unwrap_or_default();
        self.stopped_at.is_none() && silence <= self.every * MISSED_BEATS
    }
}

impl Store {
    /// Replaces the heartbeat row with `daemon`'s, beating at `now`.
    pub fn start_heartbeat(
        &mut self,
        daemon: &DaemonInfo,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = unix_millis(now);
        self.conn.execute(
            "INSERT OR REPLACE INTO daemon_heartbeat
                 (id, pid, host, version, started_at, beat_at, every_ms, stopped_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?4, ?5, NULL)",
            params![
                daemon.pid,
                daemon.host,
                daemon.version,
                at,
                i64::try_from(daemon.every.as_millis()).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(())
    }

    /// Records a beat of daemon `pid` at `now`.
    pub fn beat(&mut self, pid: u32, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE daemon_heartbeat SET beat_at = ?2 WHERE id = 1 AND pid = ?1",
            params![pid, unix_millis(now)],
        )?;
        Ok(())
    }

    /// Marks daemon `pid` stopped at `now` (a clean shutdown).
    pub fn stop_heartbeat(&mut self, pid: u32, now: DateTime<Utc>) -> Result<(), StoreError> {
        let at = unix_millis(now);
        self.conn.execute(
            "UPDATE daemon_heartbeat SET beat_at = ?2, stopped_at = ?2 WHERE id = 1 AND pid = ?1",
            params![pid, at],
        )?;
        Ok(())
    }

    /// The last heartbeat; `None` when no daemon ever ran on this database (or only a
    /// version without heartbeats did).
    pub fn heartbeat(&self) -> Result<Option<Heartbeat>, StoreError> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master
                            WHERE type = 'table' AND name = 'daemon_heartbeat')",
            [],
            |row| row.get(0),
        )?;
        if !exists {
            return Ok(None);
        }
        let row = self
            .conn
            .query_row(
                "SELECT pid, host, version, started_at, beat_at, every_ms, stopped_at
                 FROM daemon_heartbeat WHERE id = 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, u32>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, i64>(5)?,
                        row.get::<_, Option<i64>>(6)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.map(
            |(pid, host, version, started_at, beat_at, every_ms, stopped_at)| Heartbeat {
                pid,
                host,
                version,
                started_at: from_unix_millis(started_at).unwrap_or_default(),
                beat_at: from_unix_millis(beat_at).unwrap_or_default(),
                every: Duration::from_millis(u64::try_from(every_ms).unwrap_or(0)),
                stopped_at: stopped_at.and_then(from_unix_millis),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_runs_until_stopped_or_silent_for_three_beats() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        assert_eq!(store.heartbeat().unwrap(), None);
        let t0 = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let seconds = |s| t0 + chrono::Duration::seconds(s);
        let daemon = DaemonInfo {
            pid: 41,
            host: "box".into(),
            version: "0.1.0".into(),
            every: Duration::from_secs(10),
        };
        store.start_heartbeat(&daemon, t0).unwrap();
        store.beat(41, seconds(10)).unwrap();
        store.beat(99, seconds(20)).unwrap();
        let beat = store.heartbeat().unwrap().unwrap();
        assert_eq!((beat.pid, beat.host.as_str()), (41, "box"));
        assert_eq!(
            (beat.started_at, beat.beat_at),
            (t0, seconds(10)),
            "another pid's beat changes nothing"
        );
        assert!(beat.is_running(seconds(40)));
        assert!(!beat.is_running(seconds(41)), "three beats missed");

        store.stop_heartbeat(41, seconds(15)).unwrap();
        let stopped = store.heartbeat().unwrap().unwrap();
        assert_eq!(stopped.stopped_at, Some(seconds(15)));
        assert!(!stopped.is_running(seconds(15)));

        store
            .start_heartbeat(&DaemonInfo { pid: 42, ..daemon }, seconds(60))
            .unwrap();
        let restarted = store.heartbeat().unwrap().unwrap();
        assert_eq!((restarted.pid, restarted.stopped_at), (42, None));
        assert!(restarted.is_running(seconds(61)));
        let json = serde_json::to_value(&restarted).unwrap();
        assert_eq!(json["every"], 10_000);
    }
}
