//! What the web console keeps: login sessions (the session id only as its SHA-256,
//! so a copy of the database opens no session), each user's language and columns,
//! who took which hit, and the change log (`hit_changes`) its live feed replays from.
//! Triggers (migration 16) write the change log in the transaction of the change
//! itself: a `hit` row when a hit is stored, an `update` row when it is acknowledged,
//! escalated, taken or released; purging a hit forgets its rows.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::time::{from_unix_millis, parse_timestamp, timestamp, unix_millis};
use super::{Store, StoreError};
use crate::model::HitId;

/// A live login session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The user's name (`[[users]] name`, or `token` for the shared token).
    pub user: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// One entry of the change log: hit `hit` was stored (`hit`) or changed (`update`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitChange {
    /// Increasing sequence number (the SSE event id).
    pub seq: i64,
    /// The hit.
    pub hit: HitId,
    /// `hit` or `update`.
    pub kind: String,
}

/// Who took a hit, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitTake {
    /// The user who took it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a take or release did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeOutcome {
    /// Done (or already so).
    Done,
    /// Someone else holds it.
    TakenBy(String),
    /// No hit has this id.
    NotFound,
}

impl Store {
    /// Stores a new session for `user` under the hash of its id, and drops the
    /// sessions that have expired by `now`.
    pub fn create_session(
        &self,
        id_hash: &str,
        user: &str,
        csrf: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM console_sessions WHERE expires_at <= ?1",
            [unix_millis(now)],
        )?;
        self.conn.execute(
            "INSERT INTO console_sessions (id_hash, user, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id_hash,
                user,
                csrf,
                unix_millis(now),
                unix_millis(expires_at)
            ],
        )?;
        Ok(())
    }

    /// The session stored under `id_hash` if it has not expired by `now`.
    pub fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredSession>, StoreError> {
        let found: Option<(String, String, i64)> = self
            .conn
            .query_row(
                "SELECT user, csrf, expires_at FROM console_sessions
                 WHERE id_hash = ?1 AND expires_at > ?2",
                params![id_hash, unix_millis(now)],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        Ok(found.and_then(|(user, csrf, expires)| {
            Some(StoredSession {
                user,
                csrf,
                expires_at: from_unix_millis(expires)?,
            })
        }))
    }

    /// Ends the session stored under `id_hash` (logout).
    pub fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM console_sessions WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    /// Ends every session of the users in `users` (a reload removed them, changed
    /// their password, or changed the shared token); returns how many ended.
    pub fn delete_sessions_of(&self, users: &[String]) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for user in users {
            deleted += self
                .conn
                .execute("DELETE FROM console_sessions WHERE user = ?1", [user])?;
        }
        Ok(deleted)
    }

    /// The interface language `user` chose, if any.
    pub fn user_lang(&self, user: &str) -> Result<Option<String>, StoreError> {
        self.user_setting(user, UserSetting::Lang)
    }

    /// Records the interface language `user` chose.
    pub fn set_user_lang(&self, user: &str, lang: &str) -> Result<(), StoreError> {
        self.set_user_setting(user, UserSetting::Lang, lang)
    }

    /// `user`'s columns as the JSON array the console stored, if they saved any.
    pub fn user_columns(&self, user: &str) -> Result<Option<String>, StoreError> {
        self.user_setting(user, UserSetting::Columns)
    }

    /// Replaces `user`'s columns with `columns` (a JSON array, in display order).
    pub fn set_user_columns(&self, user: &str, columns: &str) -> Result<(), StoreError> {
        self.set_user_setting(user, UserSetting::Columns, columns)
    }

    fn user_setting(&self, user: &str, setting: UserSetting) -> Result<Option<String>, StoreError> {
        let column = setting.column();
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {column} FROM console_users WHERE name = ?1"),
                [user],
                |row| row.get(0),
            )
            .optional()?
            .flatten())
    }

    fn set_user_setting(
        &self,
        user: &str,
        setting: UserSetting,
        value: &str,
    ) -> Result<(), StoreError> {
        let column = setting.column();
        self.conn.execute(
            &format!(
                "INSERT INTO console_users (name, {column}) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET {column} = excluded.{column}"
            ),
            params![user, value],
        )?;
        Ok(())
    }

    /// Assigns hit `hit` to `by`, unless someone else holds it.
    pub fn take_hit(
        &self,
        hit: HitId,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<TakeOutcome, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        if !hit_exists(&tx, hit)? {
            return Ok(TakeOutcome::NotFound);
        }
        let holder = holder(&tx, hit)?;
        match holder {
            Some(holder) if holder == by => Ok(TakeOutcome::Done),
            Some(holder) => Ok(TakeOutcome::TakenBy(holder)),
            None => {
                tx.execute(
                    "INSERT INTO hit_takes (hit, taken_by, taken_at) VALUES (?1, ?2, ?3)",
                    params![hit, by, timestamp(now)],
                )?;
                tx.commit()?;
                Ok(TakeOutcome::Done)
            }
        }
    }

    /// Gives hit `hit` back, if `by` holds it (or nobody does).
    pub fn release_hit(&self, hit: HitId, by: &str) -> Result<TakeOutcome, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        if !hit_exists(&tx, hit)? {
            return Ok(TakeOutcome::NotFound);
        }
        let holder = holder(&tx, hit)?;
        match holder {
            Some(holder) if holder != by => Ok(TakeOutcome::TakenBy(holder)),
            Some(_) => {
                tx.execute("DELETE FROM hit_takes WHERE hit = ?1", [hit])?;
                tx.commit()?;
                Ok(TakeOutcome::Done)
            }
            None => Ok(TakeOutcome::Done),
        }
    }

    /// Who holds each of `hits` (those nobody holds are left out).
    pub fn hit_takes(
        &self,
        hits: &[HitId],
    ) -> Result<std::collections::HashMap<HitId, HitTake>, StoreError> {
        let ids = serde_json::to_string(&hits.iter().map(|hit| hit.0).collect::<Vec<_>>())?;
        let mut statement = self.conn.prepare_cached(
            "SELECT hit, taken_by, taken_at FROM hit_takes
             WHERE hit IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = statement.query_map([ids], |row| {
            Ok((
                HitId(row.get(0)?),
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut takes = std::collections::HashMap::new();
        for row in rows {
            let (hit, by, at) = row?;
            if let Some(at) = parse_timestamp(&at) {
                takes.insert(hit, HitTake { by, at });
            }
        }
        Ok(takes)
    }

    /// The people who called each of `hits` not relevant (hits nobody did are left
    /// out), in the order they said so.
    pub fn hit_not_relevant_by(
        &self,
        hits: &[HitId],
    ) -> Result<std::collections::HashMap<HitId, Vec<String>>, StoreError> {
        let ids = serde_json::to_string(&hits.iter().map(|hit| hit.0).collect::<Vec<_>>())?;
        let mut statement = self.conn.prepare_cached(
            "SELECT hit, person FROM hit_feedback
             WHERE verdict = 'not-relevant' AND hit IN (SELECT value FROM json_each(?1))
             ORDER BY at, person",
        )?;
        let rows = statement.query_map([ids], |row| Ok((HitId(row.get(0)?), row.get(1)?)))?;
        let mut people: std::collections::HashMap<HitId, Vec<String>> =
            std::collections::HashMap::new();
        for row in rows {
            let (hit, person) = row?;
            people.entry(hit).or_default().push(person);
        }
        Ok(people)
    }

    /// The change log after `seq`, oldest first, at most `limit` entries.
    pub fn hit_changes_after(&self, seq: i64, limit: usize) -> Result<Vec<HitChange>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT seq, hit, kind FROM hit_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![seq, i64::try_from(limit).unwrap_or(i64::MAX)],
            |row| {
                Ok(HitChange {
                    seq: row.get(0)?,
                    hit: HitId(row.get(1)?),
                    kind: row.get(2)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest change's sequence number (0 when the log is empty).
    pub fn latest_change(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq FROM hit_changes ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }
}

/// A per-user console setting: its column in `console_users`.
#[derive(Clone, Copy)]
enum UserSetting {
    Lang,
    Columns,
}

impl UserSetting {
    fn column(self) -> &'static str {
        match self {
            UserSetting::Lang => "lang",
            UserSetting::Columns => "columns",
        }
    }
}

/// Who holds hit `hit`, if anyone.
fn holder(conn: &rusqlite::Connection, hit: HitId) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT taken_by FROM hit_takes WHERE hit = ?1",
            [hit],
            |row| row.get(0),
        )
        .optional()?)
}

fn hit_exists(conn: &rusqlite::Connection, hit: HitId) -> Result<bool, StoreError> {
    Ok(conn
        .query_row("SELECT 1 FROM hits WHERE id = ?1", [hit], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("mentiond.db")).unwrap();
        (dir, store)
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 9, minute, 0).unwrap()
    }

    /// Stores a post and a hit on it the way a batch does (plain SQL: the triggers
    /// under test fire on any insert).
    fn store_hit(store: &Store, post: &str) -> HitId {
        store
            .conn
            .execute(
                "INSERT INTO posts (source, post_id, text, fetched_at) VALUES ('x', ?1, 'Turkcell', ?2)",
                params![post, timestamp(at(0))],
            )
            .unwrap();
        let post = store.conn.last_insert_rowid();
        store
            .conn
            .execute(
                "INSERT INTO hits (post, brand, matched, detected_at) VALUES (?1, 'Turkcell', '[]', ?2)",
                params![post, timestamp(at(0))],
            )
            .unwrap();
        HitId(store.conn.last_insert_rowid())
    }

    #[test]
    fn a_session_ends_at_its_expiry_and_at_logout() {
        let (_dir, store) = open();
        store
            .create_session("hash-a", "ayse", "csrf-a", at(0), at(30))
            .unwrap();
        let live = store.session("hash-a", at(29)).unwrap().unwrap();
        assert_eq!((live.user.as_str(), live.csrf.as_str()), ("ayse", "csrf-a"));
        assert_eq!(store.session("hash-a", at(30)).unwrap(), None, "expired");
        assert_eq!(store.session("hash-b", at(1)).unwrap(), None, "unknown");
        // A new login sweeps expired sessions out of the table.
        store
            .create_session("hash-b", "ali", "csrf-b", at(31), at(59))
            .unwrap();
        let count: i64 = store
            .conn
            .query_row("SELECT count(*) FROM console_sessions", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(count, 1);
        store.delete_session("hash-b").unwrap();
        assert_eq!(store.session("hash-b", at(32)).unwrap(), None);
    }

    #[test]
    fn ending_a_users_sessions_leaves_the_other_users_sessions() {
        let (_dir, store) = open();
        for (hash, user) in [
            ("h1", "ayse"),
            ("h2", "ayse"),
            ("h3", "ali"),
            ("h4", "token"),
        ] {
            store
                .create_session(hash, user, "csrf", at(0), at(59))
                .unwrap();
        }
        let ended = store
            .delete_sessions_of(&["ayse".to_string(), "token".to_string()])
            .unwrap();
        assert_eq!(ended, 3);
        for gone in ["h1", "h2", "h4"] {
            assert_eq!(store.session(gone, at(1)).unwrap(), None, "{gone}");
        }
        assert_eq!(store.session("h3", at(1)).unwrap().unwrap().user, "ali");
    }

    #[test]
    fn every_stored_hit_and_state_change_enters_the_change_log_and_a_purge_takes_it_out() {
        let (_dir, store) = open();
        assert_eq!(store.latest_change().unwrap(), 0);
        let first = store_hit(&store, "p1");
        let second = store_hit(&store, "p2");
        assert_eq!(
            store.take_hit(first, "ayse", at(1)).unwrap(),
            TakeOutcome::Done
        );
        assert_eq!(
            store.take_hit(first, "ali", at(2)).unwrap(),
            TakeOutcome::TakenBy("ayse".into())
        );
        assert_eq!(
            store.release_hit(first, "ali").unwrap(),
            TakeOutcome::TakenBy("ayse".into())
        );
        store.ack_hit(first, "ayse", "console", at(3)).unwrap();
        assert_eq!(store.release_hit(first, "ayse").unwrap(), TakeOutcome::Done);
        assert_eq!(
            store.take_hit(HitId(999), "ayse", at(4)).unwrap(),
            TakeOutcome::NotFound
        );
        let log: Vec<(i64, String)> = store
            .hit_changes_after(0, 100)
            .unwrap()
            .into_iter()
            .map(|change| (change.hit.0, change.kind))
            .collect();
        assert_eq!(
            log,
            [
                (first.0, "hit".to_string()),
                (second.0, "hit".to_string()),
                (first.0, "update".to_string()),
                (first.0, "update".to_string()),
                (first.0, "update".to_string()),
            ],
            "stored, stored, taken, acknowledged, released; refusals log nothing"
        );
        let after = store.hit_changes_after(2, 2).unwrap();
        assert_eq!(after.iter().map(|c| c.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(store.latest_change().unwrap(), 5);
        store.take_hit(second, "ali", at(5)).unwrap();
        store
            .conn
            .execute("DELETE FROM hits WHERE id = ?1", [second])
            .unwrap();
        assert!(store.hit_takes(&[second]).unwrap().is_empty());
        assert!(
            store
                .hit_changes_after(0, 100)
                .unwrap()
                .iter()
                .all(|change| change.hit == first),
            "a purged hit's entries go with it"
        );
    }

    #[test]
    fn columns_and_language_are_kept_per_user() {
        let (_dir, store) = open();
        assert_eq!(store.user_columns("ayse").unwrap(), None);
        store.set_user_lang("ayse", "tr").unwrap();
        store.set_user_columns("ayse", "[1]").unwrap();
        store.set_user_columns("ali", "[2]").unwrap();
        assert_eq!(store.user_lang("ayse").unwrap().as_deref(), Some("tr"));
        assert_eq!(store.user_columns("ayse").unwrap().as_deref(), Some("[1]"));
        assert_eq!(store.user_columns("ali").unwrap().as_deref(), Some("[2]"));
        assert_eq!(store.user_lang("ali").unwrap(), None);
    }
}
