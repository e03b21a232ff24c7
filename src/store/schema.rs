//! Embedded migrations, applied in order and recorded in `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` moves the schema from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE posts (
    id               INTEGER PRIMARY KEY,
    source           TEXT NOT NULL,
    post_id          TEXT NOT NULL,
    url              TEXT,
    author_id        TEXT,
    author_handle    TEXT,
    author_name      TEXT,
    author_followers INTEGER,
    author_key       TEXT,
    text             TEXT NOT NULL,
    lang             TEXT,
    created_at       TEXT,
    kind             TEXT,
    in_reply_to      TEXT,
    fetched_at       TEXT NOT NULL,
    UNIQUE (source, post_id)
);
CREATE INDEX posts_by_author ON posts (source, author_key);

CREATE TABLE hits (
    id          INTEGER PRIMARY KEY,
    post        INTEGER NOT NULL REFERENCES posts (id),
    brand       TEXT NOT NULL,
    team        TEXT,
    matched     TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    UNIQUE (post, brand)
);
CREATE INDEX hits_by_detected ON hits (detected_at);

CREATE TABLE cursors (
    source     TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    receiver        TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX deliveries_due ON deliveries (receiver, status, next_attempt_at);

CREATE TABLE delivery_hits (
    delivery TEXT NOT NULL REFERENCES deliveries (id),
    hit      INTEGER NOT NULL REFERENCES hits (id),
    PRIMARY KEY (delivery, hit)
);
"#,
    // 2: source health. One row per source with its last success and error, and one
    // row per poll for the posts-per-minute rate that `mentiond status` shows.
    r#"
CREATE TABLE source_health (
    source          TEXT PRIMARY KEY,
    last_success_at INTEGER,
    last_error_at   INTEGER,
    last_error      TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    newest_post_at  INTEGER
);

CREATE TABLE source_polls (
    source  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    n_posts INTEGER NOT NULL
);
CREATE INDEX source_polls_by_time ON source_polls (source, at);
"#,
    // 3: delivery semantics. `requeued_at`: a manual retry restarts the age limit;
    // `last_status`: the HTTP status of the last failed attempt; `receiver_state`: a
    // receiver disabled by 410 Gone stays disabled across restarts.
    r#"
ALTER TABLE deliveries ADD COLUMN requeued_at INTEGER;
ALTER TABLE deliveries ADD COLUMN last_status INTEGER;

CREATE TABLE receiver_state (
    receiver    TEXT PRIMARY KEY,
    disabled_at INTEGER NOT NULL,
    reason      TEXT NOT NULL
);
"#,
    // 4: bodies rendered at the first attempt. A row is open (hits may still join it)
    // until `rendered_at` is set; then its payload is frozen, so every retry sends the
    // same bytes. Rows from before were rendered when queued.
    r#"
ALTER TABLE deliveries ADD COLUMN rendered_at INTEGER;
UPDATE deliveries SET rendered_at = created_at;
ALTER TABLE deliveries ADD COLUMN group_key TEXT;
ALTER TABLE deliveries ADD COLUMN max_hits INTEGER NOT NULL DEFAULT 10;
ALTER TABLE hits ADD COLUMN author_earlier_hits INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_open ON deliveries (receiver, group_key) WHERE rendered_at IS NULL;
"#,
    // 5: responsibility. A hit is open until acknowledged (`acked_at`, by whom and how:
    // `cli`, `api` or `reply`); an open hit past its route's SLA is escalated once
    // (`escalated_at`) through a delivery of kind `escalation`.
    r#"
ALTER TABLE hits ADD COLUMN acked_at TEXT;
ALTER TABLE hits ADD COLUMN acked_by TEXT;
ALTER TABLE hits ADD COLUMN ack_source TEXT;
ALTER TABLE hits ADD COLUMN escalated_at TEXT;
CREATE INDEX hits_open ON hits (detected_at) WHERE acked_at IS NULL AND escalated_at IS NULL;
ALTER TABLE deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'mention';
"#,
    // 6: operator alerts about a failing receiver carry what failed in `note`.
    r#"
ALTER TABLE deliveries ADD COLUMN note TEXT;
"#,
    // 7: the labels routes match on, written once when a hit is stored, so the
    // escalation check routes stored hits without the keywords or the text. Hits
    // stored before count as normal, own-brand, neutral.
    r#"
ALTER TABLE hits ADD COLUMN severity TEXT;
ALTER TABLE hits ADD COLUMN competitor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hits ADD COLUMN is_topic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hits ADD COLUMN sentiment TEXT;
"#,
    // 8: `/metrics` counts open hits that breached their SLA on this index, as it
    // counts the other open hits on `hits_open`, without reading the table.
    r#"
CREATE INDEX hits_escalated_open ON hits (escalated_at) WHERE acked_at IS NULL AND escalated_at IS NOT NULL;
"#,
    // 9: generated typos switched off as noisy stay off across reloads and restarts.
    r#"
CREATE TABLE noisy_variants (
    brand           TEXT NOT NULL,
    variant         TEXT NOT NULL,
    hits            INTEGER NOT NULL,
    switched_off_at TEXT NOT NULL,
    PRIMARY KEY (brand, variant)
);
"#,
    // 10: the running daemon's heartbeat, so `mentiond status` tells a stopped daemon
    // from a running one. One row (`id = 1`), replaced at each start.
    r#"
CREATE TABLE daemon_heartbeat (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    version    TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    beat_at    INTEGER NOT NULL,
    every_ms   INTEGER NOT NULL,
    stopped_at INTEGER
);
"#,
    // 11: retention. Purging a hit looks up whether a delivery still carries it, and so
    // does the foreign-key check when a hit row is deleted.
    r#"
CREATE INDEX delivery_hits_by_hit ON delivery_hits (hit);
"#,
    // 12: full-text search over post text. Contentless: the index holds each post's
    // folded text under its `posts.id` (written with the post by `record_batch`; posts
    // stored before are indexed by `Store::open`), and a deleted post leaves it too.
    r#"
CREATE VIRTUAL TABLE posts_fts USING fts5 (body, content = '', contentless_delete = 1);
CREATE TRIGGER posts_fts_forget AFTER DELETE ON posts BEGIN
    DELETE FROM posts_fts WHERE rowid = old.id;
END;
"#,
    // 13: the sentiment score beside its label (-1 complaint .. 1 praise), so reports
    // can average it. Hits stored before have none.
    r#"
ALTER TABLE hits ADD COLUMN sentiment_score REAL;
"#,
    // 14: insight. The engagement counts platforms give (`posts.likes` …, NULL where
    // unknown), each hit's priority (0-100, from reach, engagement and tone), and the
    // surges detected, so a restart does not alert one again and reports list them.
    // Hits stored before have no priority (0 when routed).
    r#"
ALTER TABLE posts ADD COLUMN likes INTEGER;
ALTER TABLE posts ADD COLUMN reposts INTEGER;
ALTER TABLE posts ADD COLUMN replies INTEGER;
ALTER TABLE posts ADD COLUMN quotes INTEGER;
ALTER TABLE posts ADD COLUMN score INTEGER;
ALTER TABLE hits ADD COLUMN priority INTEGER;
CREATE TABLE surges (
    id            INTEGER PRIMARY KEY,
    brand         TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('volume', 'negative')),
    window_start  TEXT NOT NULL,
    window_end    TEXT NOT NULL,
    count         INTEGER NOT NULL,
    baseline      INTEGER NOT NULL,
    top_terms     TEXT NOT NULL,
    top_authors   TEXT NOT NULL,
    sample_hits   TEXT NOT NULL,
    deliveries    INTEGER NOT NULL,
    UNIQUE (brand, kind, window_end)
);
CREATE INDEX surges_by_brand ON surges (brand, kind, window_end);
"#,
    // 15: feedback from people. Per hit and person the latest verdict, with the brand,
    // term, variant and kind that made the hit copied in, so the feedback outlives the
    // hit when retention purges it (no foreign key for that reason). `switchable`: the
    // variant is a generated typo or a folded form, which enough negative feedback
    // switches off; the brand's own written term never is.
    r#"
CREATE TABLE hit_feedback (
    hit        INTEGER NOT NULL,
    person     TEXT NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('not-relevant', 'relevant')),
    at         TEXT NOT NULL,
    brand      TEXT NOT NULL,
    term       TEXT NOT NULL,
    variant    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    generated  INTEGER NOT NULL,
    switchable INTEGER NOT NULL,
    PRIMARY KEY (hit, person)
);
CREATE INDEX hit_feedback_by_variant ON hit_feedback (brand, variant);
"#,
    // 16: the web console. Sessions (the id only as its SHA-256), each user's
    // language and columns, who took which hit, and the change log its live feed
    // resumes from: triggers write a `hit` row when a hit is stored (in the batch's
    // transaction) and an `update` row when its state changes, and forget a purged
    // hit's rows.
    r#"
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    user       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE console_users (
    name    TEXT PRIMARY KEY,
    lang    TEXT,
    columns TEXT
);
CREATE TABLE hit_takes (
    hit      INTEGER PRIMARY KEY,
    taken_by TEXT NOT NULL,
    taken_at TEXT NOT NULL
);
CREATE TABLE hit_changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    hit  INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hit', 'update'))
);
CREATE INDEX hit_changes_by_hit ON hit_changes (hit);
CREATE TRIGGER hit_changes_stored AFTER INSERT ON hits BEGIN
    INSERT INTO hit_changes (hit, kind) VALUES (NEW.id, 'hit');
END;
CREATE TRIGGER hit_changes_state AFTER UPDATE OF acked_at, escalated_at ON hits
WHEN OLD.acked_at IS NOT NEW.acked_at OR OLD.escalated_at IS NOT NEW.escalated_at BEGIN
    INSERT INTO hit_changes (hit, kind) VALUES (NEW.id, 'update');
END;
CREATE TRIGGER hit_changes_taken AFTER INSERT ON hit_takes BEGIN
    INSERT INTO hit_changes (hit, kind) VALUES (NEW.hit, 'update');
END;
CREATE TRIGGER hit_changes_retaken AFTER UPDATE ON hit_takes BEGIN
    INSERT INTO hit_changes (hit, kind) VALUES (NEW.hit, 'update');
END;
CREATE TRIGGER hit_changes_released AFTER DELETE ON hit_takes BEGIN
    INSERT INTO hit_changes (hit, kind) VALUES (OLD.hit, 'update');
END;
CREATE TRIGGER hit_changes_purged AFTER DELETE ON hits BEGIN
    DELETE FROM hit_takes WHERE hit = OLD.id;
    DELETE FROM hit_changes WHERE hit = OLD.id;
END;
CREATE TRIGGER hit_changes_feedback AFTER INSERT ON hit_feedback BEGIN
    INSERT INTO hit_changes (hit, kind) VALUES (NEW.hit, 'update');
END;
CREATE TRIGGER hit_changes_feedback_changed AFTER UPDATE ON hit_feedback BEGIN
    INSERT INTO hit_changes (hit, kind) VALUES (NEW.hit, 'update');
END;
"#,
    // 17: a group's last rendered message by index. Without it `group_history` read
    // every delivery of the receiver, and `group_key` and `rendered_at` sit behind the
    // payload's overflow pages, so each batch cost grew with the outbox's history.
    r#"
CREATE INDEX deliveries_by_group ON deliveries (receiver, group_key, rendered_at);
"#,
    // 18: each author's hit count, kept by triggers, so storing a hit reads its
    // author's earlier hits in one lookup instead of walking up to a thousand of them.
    r#"
CREATE TABLE author_hits (
    source     TEXT NOT NULL,
    author_key TEXT NOT NULL,
    hits       INTEGER NOT NULL,
    PRIMARY KEY (source, author_key)
) WITHOUT ROWID;
INSERT INTO author_hits (source, author_key, hits)
    SELECT posts.source, posts.author_key, COUNT(*) FROM hits JOIN posts ON posts.id = hits.post
    WHERE posts.author_key IS NOT NULL GROUP BY posts.source, posts.author_key;
CREATE TRIGGER author_hits_added AFTER INSERT ON hits BEGIN
    INSERT INTO author_hits (source, author_key, hits)
        SELECT source, author_key, 1 FROM posts WHERE id = NEW.post AND author_key IS NOT NULL
        ON CONFLICT (source, author_key) DO UPDATE SET hits = hits + 1;
END;
CREATE TRIGGER author_hits_removed AFTER DELETE ON hits BEGIN
    UPDATE author_hits SET hits = hits - 1
        WHERE (source, author_key) = (SELECT source, author_key FROM posts WHERE id = OLD.post);
END;
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// `PRAGMA application_id` of a mentiond database ("MNTD"), so `file(1)` and
/// [`check_ours`] can tell it from another program's SQLite file.
pub const APPLICATION_ID: i32 = 0x4D4E_5444;

/// Tables every mentiond database has had since the first migration; a file without
/// the application id (written before it was set) is ours when it has them all.
const FIRST_TABLES: [&str; 5] = ["cursors", "deliveries", "delivery_hits", "hits", "posts"];

/// Reads the existing, non-empty file at `path` without writing to it and refuses it
/// unless it is a mentiond database: stamped with [`APPLICATION_ID`], or from before
/// the stamp (a schema version and the first migration's tables), or a SQLite file
/// with nothing in it.
pub fn check_ours(path: &std::path::Path) -> Result<(), StoreError> {
    let refuse = |why: String| StoreError::NotOurs {
        path: path.display().to_string(),
        why,
    };
    let read = || -> rusqlite::Result<(i32, usize, Vec<String>)> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let id = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
        let version = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let tables = conn
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok((id, version, tables))
    };
    let (id, version, tables) = read().map_err(|err| match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => refuse("not a SQLite database".into()),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            refuse(format!("the SQLite file is damaged: {err}"))
        }
        _ => StoreError::Sqlite(err),
    })?;
    let before_the_stamp =
        id == 0 && version > 0 && FIRST_TABLES.iter().all(|t| tables.iter().any(|n| n == t));
    let empty = id == 0 && version == 0 && tables.is_empty();
    if id == APPLICATION_ID || before_the_stamp || empty {
        return Ok(());
    }
    let mut shown: Vec<&str> = tables.iter().map(String::as_str).take(5).collect();
    if tables.len() > shown.len() {
        shown.push("…");
    }
    Err(refuse(format!(
        "another program's SQLite file: application_id {id}, tables {}",
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        }
    )))
}

/// Applies every migration the database has not seen, each in its own transaction,
/// and stamps the file with [`APPLICATION_ID`].
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: current,
            supported: MIGRATIONS.len(),
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    let id: i32 = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    if id != APPLICATION_ID {
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    Ok(())
}
