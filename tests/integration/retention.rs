//! Retention, backup and vacuum with the real binary: a daemon purges what is older
//! than `[storage] retention` and keeps the rest (and its cursors); `mentiond backup`
//! copies the database consistently while the daemon writes; `mentiond vacuum` waits
//! for the daemon to stop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::support::{Daemon, TICKETS_SOURCE, Workspace, wait_for};

const WAIT: Duration = Duration::from_secs(20);

fn config() -> String {
    format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n\
         [[routes]]\nreceivers = [\"f\"]\n"
    )
}

fn ticket(id: &str) -> String {
    format!(r#"{{"source":"callcenter","id":"{id}","text":"Turkcell faturam yine yanlış {id}"}}"#)
}

fn read_only(path: &Path) -> Connection {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

/// A running daemon that has stored one hit for each ticket of `ids`.
fn daemon_with_hits(ids: &[&str]) -> (Workspace, Daemon, PathBuf) {
    let ws = Workspace::new(&config());
    let lines: Vec<String> = ids.iter().map(|id| ticket(id)).collect();
    ws.append_tickets(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let daemon = ws.start();
    let database = ws.path("mentiond.db");
    wait_for("a hit per ticket", WAIT, || {
        count(&read_only(&database), "SELECT COUNT(*) FROM hits") == ids.len() as i64
    });
    (ws, daemon, database)
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_backup_taken_while_the_daemon_writes_is_consistent_and_an_existing_file_is_refused() {
    let (ws, daemon, database) = daemon_with_hits(&["T-0"]);

    // Posts keep arriving while the backup runs (bounded: at most 3,000 lines).
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (writing, path) = (Arc::clone(&writing), ws.path("tickets.jsonl"));
        std::thread::spawn(move || {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            for n in 1..=3000 {
                if !writing.load(Ordering::Relaxed) {
                    break;
                }
                writeln!(file, "{}", ticket(&format!("T-{n}"))).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    // Let the daemon commit a few batches of the stream first.
    wait_for("more hits", WAIT, || {
        count(&read_only(&database), "SELECT COUNT(*) FROM hits") > 20
    });

    let copy = ws.path("backup/copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let output = ws.command(&["backup", copy.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout.contains("backup written to") && stdout.contains("MiB"),
        "{stdout}"
    );

    let conn = read_only(&copy);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let dangling: i64 = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count() as i64;
    assert_eq!(
        dangling, 0,
        "every hit's post and delivery's hit is in the copy"
    );
    let (posts, hits) = (
        count(&conn, "SELECT COUNT(*) FROM posts"),
        count(&conn, "SELECT COUNT(*) FROM hits"),
    );
    assert!(posts > 20 && hits == posts, "posts {posts}, hits {hits}");
    assert!(
        stdout.contains(&format!("{posts} posts, {hits} hits")),
        "{stdout}"
    );
    // A hit in the copy is never without the cursor that covers it: the copy is one
    // committed state, not a mix.
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM cursors"), 1);
    drop(conn);
    let leftovers: Vec<_> = std::fs::read_dir(copy.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["copy.db"],
        "no partial file, no WAL beside the copy"
    );

    // An existing file is refused, untouched; --force replaces it.
    let before = std::fs::read(&copy).unwrap();
    let output = ws.command(&["backup", copy.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("exists; pass --force"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    let output = ws.command(&["backup", "--force", copy.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));

    writing.store(false, Ordering::Relaxed);
    writer.join().unwrap();
    daemon.stop();
}

#[test]
fn vacuum_is_refused_while_the_daemon_runs_and_compacts_once_it_stopped() {
    let (ws, daemon, database) = daemon_with_hits(&["T-1", "T-2"]);

    let output = ws.command(&["vacuum"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("cannot vacuum") && message.contains(&format!("(pid {})", daemon.pid())),
        "{message}"
    );
    daemon.stop();

    // Free pages, as a large purge leaves them.
    let conn = Connection::open(&database).unwrap();
    conn.execute_batch(
        "CREATE TABLE filler (x BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO filler SELECT randomblob(4000) FROM n;
         DROP TABLE filler;
         PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::metadata(&database).unwrap().len();

    let output = ws.command(&["vacuum"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("vacuumed"),
        "{output:?}"
    );
    let after = std::fs::metadata(&database).unwrap().len();
    assert!(after * 4 < before, "{before} bytes before, {after} after");
    let conn = read_only(&database);
    assert_eq!(count(&conn, "PRAGMA freelist_count"), 0);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM hits"), 2);
}

#[test]
fn a_daemon_purges_rows_older_than_its_retention_and_keeps_new_ones_and_its_cursor() {
    let (ws, daemon, database) = daemon_with_hits(&["T-old-1", "T-old-2"]);
    wait_for("their alerts delivered", WAIT, || {
        let conn = read_only(&database);
        count(
            &conn,
            "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'",
        ) >= 1
            && count(
                &conn,
                "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
            ) == 0
    });
    daemon.stop();
    // Make them a year old.
    Connection::open(&database)
        .unwrap()
        .execute_batch(
            "UPDATE hits SET detected_at = '2025-11-01T00:00:00.000Z';
             UPDATE posts SET fetched_at = '2025-11-01T00:00:00.000Z';
             UPDATE deliveries SET created_at = 1761955200000, next_attempt_at = 1761955200000,
                 rendered_at = 1761955200000, delivered_at = 1761955200000;",
        )
        .unwrap();

    let daemon = ws.start();
    wait_for("a purge at start", WAIT, || {
        daemon.log_text().contains("purged")
    });
    let log = daemon.log_text();
    assert!(log.contains("hits=2") && log.contains("posts=2"), "{log}");
    ws.append_tickets(&[&ticket("T-new")]);
    wait_for("the new hit", WAIT, || ws.hits().len() == 1);
    daemon.stop();

    let hits = ws.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["post"]["id"], "T-new");
    let conn = read_only(&database);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM posts"), 1);
    // The cursor was kept: the old lines were not read (and alerted) again.
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM cursors"), 1);
    assert!(
        ws.deliveries()
            .iter()
            .all(|delivery| delivery["created_at"].as_i64() > Some(1761955200000)),
        "only the new alert's deliveries are left"
    );
}

#[test]
fn the_wal_is_checkpointed_off_the_writer_and_stays_short() {
    let ws = Workspace::new(&config());
    std::fs::write(ws.path("tickets.jsonl"), "").unwrap();
    let daemon = ws.start();
    let wal = ws.path("mentiond.db-wal");
    let mut sizes = Vec::new();
    for burst in 0..6 {
        let ids: Vec<String> = (0..300).map(|n| format!("b{burst}-{n}")).collect();
        let lines: Vec<String> = ids.iter().map(|id| ticket(id)).collect();
        ws.append_tickets(&lines.iter().map(String::as_str).collect::<Vec<_>>());
        let expected = 300 * (burst + 1);
        wait_for("the burst stored", WAIT, || {
            count(
                &read_only(&ws.path("mentiond.db")),
                "SELECT count(*) FROM hits",
            ) == expected
        });
        // Past the checkpointer's next turn, so the burst's pages are out of the WAL.
        std::thread::sleep(Duration::from_millis(600));
        sizes.push(std::fs::metadata(&wal).unwrap().len());
    }
    daemon.stop();
    // The writer's own automatic checkpoints are off: without the checkpointer the
    // WAL would hold all six bursts; with it, each burst reuses the file.
    let first = sizes[0].max(1 << 20);
    assert!(
        sizes.iter().all(|&size| size <= 2 * first),
        "the WAL grew with every burst: {sizes:?}"
    );
}
