//! The store against a real SQLite file in a temporary directory.

use chrono::{TimeZone, Utc};

use super::*;
use crate::matcher::BrandHit;
use crate::model::{DeliveryId, HitId, Post, ReceiverName};
use crate::routing::{HitKey, NewDelivery, NewEscalation, OwnReply};
use crate::sentiment::Sentiment;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/dir/mentiond.db")).unwrap();
    (dir, store)
}

fn post(id: &str, author: &str) -> Post {
    Post::from_json(&format!(
        r#"{{"source":"news","id":"{id}","author":{{"handle":"{author}"}},"text":"Turkcell çekmiyor {id}"}}"#
    ))
    .unwrap()
}

fn hit(brand: &str) -> BrandHit {
    BrandHit::exact_for_tests(brand, Some("care"), "Turkcell")
}

/// When every test batch is recorded.
fn hit_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()
}

/// A batch of `posts` with one planned delivery per hit, to receiver `file`.
fn batch(cursor: &str, posts: Vec<(Post, Vec<BrandHit>)>) -> NewBatch {
    let deliveries = posts
        .iter()
        .flat_map(|(post, hits)| {
            hits.iter().map(move |hit| {
                let key = HitKey {
                    source: post.source.clone(),
                    post_id: post.id.clone(),
                    brand: hit.brand.to_string(),
                };
                NewDelivery {
                    id: DeliveryId(format!("msg_{}_{}", key.post_id, key.brand)),
                    receiver: "file".into(),
                    group_key: format!("hit={}_{}", key.post_id, key.brand),
                    hits: vec![key],
                    max_hits: 10,
                    urgent: false,
                    due_at: hit_time(),
                    hold_until: None,
                    split: false,
                }
            })
        })
        .collect();
    NewBatch {
        source: "news".into(),
        cursor: Some(cursor.into()),
        posts: posts
            .into_iter()
            .map(|(post, hits)| MatchedPost {
                post,
                sentiment: Sentiment::Neutral,
                sentiment_score: 0.0,
                hits,
            })
            .collect(),
        deliveries,
        now: hit_time(),
        replies: Vec::new(),
    }
}

#[test]
fn a_page_recorded_twice_changes_nothing_the_second_time() {
    let (_dir, mut store) = open();
    let page = || {
        batch(
            "c1",
            vec![
                (post("1", "ayse"), vec![hit("Turkcell"), hit("THY")]),
                (post("2", "ali"), vec![hit("Turkcell")]),
            ],
        )
    };
    let first = store.record_batch(page()).unwrap();
    assert_eq!(
        first,
        BatchOutcome {
            new_posts: 2,
            new_hits: 3,
            deliveries: 3,
            acked: 0
        }
    );
    let second = store.record_batch(page()).unwrap();
    assert_eq!(second, BatchOutcome::default());
    assert_eq!(store.counts().unwrap(), (2, 3));
    assert_eq!(store.deliveries(None, 10).unwrap().len(), 3);
    assert_eq!(store.cursor(&"news".into()).unwrap().as_deref(), Some("c1"));
}

#[test]
fn posts_without_hits_are_not_stored_and_the_cursor_still_advances() {
    let (_dir, mut store) = open();
    let outcome = store
        .record_batch(batch("c7", vec![(post("1", "a"), vec![])]))
        .unwrap();
    assert_eq!(outcome, BatchOutcome::default());
    assert_eq!(store.counts().unwrap(), (0, 0));
    assert_eq!(store.cursor(&"news".into()).unwrap().as_deref(), Some("c7"));
    assert_eq!(store.cursor(&"other".into()).unwrap(), None);
}

/// Makes writing cursor `c2` fail, late in a batch's transaction (after the posts,
/// hits and deliveries).
fn refuse_cursor_c2(store: &Store) {
    store
        .conn
        .execute_batch(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON cursors WHEN NEW.cursor = 'c2'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
             CREATE TEMP TRIGGER refuse_update BEFORE UPDATE ON cursors WHEN NEW.cursor = 'c2'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
}

#[test]
fn a_failing_batch_commits_nothing_not_even_its_cursor() {
    let (_dir, mut store) = open();
    store
        .record_batch(batch("c1", vec![(post("1", "a"), vec![hit("Turkcell")])]))
        .unwrap();
    // A write that fails late in the transaction (here the cursor, after the posts,
    // hits and deliveries) must take everything with it.
    refuse_cursor_c2(&store);
    let result = store.record_batch(batch("c2", vec![(post("2", "a"), vec![hit("Turkcell")])]));
    assert!(result.is_err());
    assert_eq!(
        store.counts().unwrap(),
        (1, 1),
        "post 2 and its hit rolled back"
    );
    assert_eq!(
        store.cursor(&"news".into()).unwrap().as_deref(),
        Some("c1"),
        "cursor rolled back"
    );
    assert_eq!(store.deliveries(None, 10).unwrap().len(), 1);
}

#[test]
fn author_history_counts_earlier_hits_from_the_same_author() {
    let (_dir, mut store) = open();
    for (id, author) in [("1", "ayse"), ("2", "ayse"), ("3", "ali"), ("4", "ayse")] {
        store
            .record_batch(batch(id, vec![(post(id, author), vec![hit("Turkcell")])]))
            .unwrap();
    }
    let seen: Vec<i64> = store
        .conn
        .prepare("SELECT author_earlier_hits FROM hits ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(seen, [0, 1, 0, 2]);
}

#[test]
fn an_authors_earlier_hits_are_counted_up_to_the_cap() {
    let (_dir, mut store) = open();
    let posts: Vec<_> = (0..=EARLIER_HITS_CAP + 1)
        .map(|n| (post(&n.to_string(), "bot"), vec![hit("Turkcell")]))
        .collect();
    store.record_batch(batch("c", posts)).unwrap();
    let most: i64 = store
        .conn
        .query_row("SELECT MAX(author_earlier_hits) FROM hits", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(most as u64, EARLIER_HITS_CAP);
    // The count stays exact beyond the cap, and each hit saw the ones before it.
    let kept: i64 = store
        .conn
        .query_row(
            "SELECT hits FROM author_hits WHERE author_key IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kept as u64, EARLIER_HITS_CAP + 2);
    let first_three: Vec<i64> = store
        .conn
        .prepare("SELECT author_earlier_hits FROM hits ORDER BY id LIMIT 3")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(first_three, [0, 1, 2]);
}

#[test]
fn an_authors_hit_count_follows_hits_stored_and_purged() {
    let (_dir, mut store) = open();
    let posts = (0..3)
        .map(|n| (post(&n.to_string(), "ayse"), vec![hit("Turkcell")]))
        .collect();
    store.record_batch(batch("c", posts)).unwrap();
    let count = |store: &Store| -> i64 {
        store
            .conn
            .query_row("SELECT hits FROM author_hits", [], |row| row.get(0))
            .unwrap()
    };
    assert_eq!(count(&store), 3);
    // Deleted as retention deletes: the hits' deliveries first, then the hit.
    store
        .conn
        .execute_batch(
            "DELETE FROM delivery_hits WHERE hit = (SELECT MIN(id) FROM hits);
             DELETE FROM hits WHERE id = (SELECT MIN(id) FROM hits);",
        )
        .unwrap();
    assert_eq!(count(&store), 2);
    store
        .record_batch(batch("c", vec![(post("9", "ayse"), vec![hit("Turkcell")])]))
        .unwrap();
    let earlier: i64 = store
        .conn
        .query_row(
            "SELECT author_earlier_hits FROM hits ORDER BY id DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(earlier, 2);
}

#[test]
fn outbox_lifecycle_due_delivered_failed_dead() {
    let (_dir, mut store) = open();
    store
        .record_batch(batch(
            "c",
            vec![
                (post("1", "a"), vec![hit("A")]),
                (post("2", "a"), vec![hit("B")]),
            ],
        ))
        .unwrap();
    let now = unix_millis(Utc::now());
    let due = store.due_deliveries(&"file".into(), now, 10).unwrap();
    assert_eq!(due.len(), 2);
    assert!(
        store
            .due_deliveries(&"other".into(), now, 10)
            .unwrap()
            .is_empty()
    );

    store.mark_delivered(&due[0].id, now).unwrap();
    store
        .mark_failed(&FailedAttempt {
            id: &due[1].id,
            error: "HTTP status 503",
            status: Some(503),
            retry_at_ms: Some(now + 60_000),
        })
        .unwrap();
    assert!(
        store
            .due_deliveries(&"file".into(), now, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.next_attempt_at(&"file".into()).unwrap(),
        Some(now + 60_000)
    );
    let retried = store
        .due_deliveries(&"file".into(), now + 60_000, 10)
        .unwrap();
    assert_eq!(
        (retried[0].id.as_str(), retried[0].attempts),
        (due[1].id.as_str(), 1)
    );

    store
        .mark_failed(&FailedAttempt {
            id: &due[1].id,
            error: "HTTP status 404",
            status: Some(404),
            retry_at_ms: None,
        })
        .unwrap();
    let dead = store.deliveries(Some(DeliveryStatus::Dead), 10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 2);
    assert_eq!(dead[0].last_error.as_deref(), Some("HTTP status 404"));
    assert_eq!(dead[0].last_status, Some(404));
    assert_eq!(
        store
            .deliveries(Some(DeliveryStatus::Delivered), 10)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.next_attempt_at(&"file".into()).unwrap(), None);
}

#[test]
fn a_dead_delivery_retried_keeps_its_id_and_payload_and_restarts_its_age() {
    let (_dir, mut store) = open();
    store
        .record_batch(batch("c", vec![(post("1", "a"), vec![hit("A")])]))
        .unwrap();
    let now = unix_millis(Utc::now());
    let original = store
        .due_deliveries(&"file".into(), now, 10)
        .unwrap()
        .remove(0);
    assert_eq!(original.age_from, original.created_at);
    assert_eq!(
        store.retry_delivery(&original.id, now).unwrap(),
        None,
        "not dead yet"
    );
    store
        .mark_failed(&FailedAttempt {
            id: &original.id,
            error: "HTTP status 410",
            status: Some(410),
            retry_at_ms: None,
        })
        .unwrap();
    store
        .disable_receiver(&"file".into(), "HTTP status 410", now)
        .unwrap();
    assert!(store.is_receiver_disabled(&"file".into()).unwrap());
    assert!(
        store
            .due_deliveries(&"file".into(), now, 10)
            .unwrap()
            .is_empty()
    );

    let later = now + 3_600_000;
    assert_eq!(
        store
            .retry_delivery(&original.id, later)
            .unwrap()
            .as_ref()
            .map(ReceiverName::as_str),
        Some("file")
    );
    assert!(
        !store.is_receiver_disabled(&"file".into()).unwrap(),
        "retry re-enables"
    );
    let again = store
        .due_deliveries(&"file".into(), later, 10)
        .unwrap()
        .remove(0);
    assert_eq!(again.id, original.id);
    assert_eq!(again.payload, original.payload);
    assert_eq!(again.attempts, 1);
    assert_eq!(again.created_at, original.created_at);
    assert_eq!(again.age_from, later);
    assert_eq!(
        store.retry_delivery(&"msg_unknown".into(), later).unwrap(),
        None
    );
}

#[test]
fn a_delivery_renders_from_its_stored_hits_and_freezes_once() {
    let (_dir, mut store) = open();
    let mut first = post("1", "ayse");
    first.url = Some("https://x.example/1".into());
    let mut grouped = batch(
        "c",
        vec![(first, vec![hit("A")]), (post("2", "ayse"), vec![hit("A")])],
    );
    // One message for both hits, showing one.
    let hits = grouped
        .deliveries
        .drain(..)
        .flat_map(|delivery| delivery.hits)
        .collect();
    grouped.deliveries = vec![NewDelivery {
        id: "msg_group".into(),
        receiver: "file".into(),
        hits,
        group_key: "brand=A".into(),
        max_hits: 1,
        urgent: false,
        due_at: hit_time(),
        hold_until: None,
        split: false,
    }];
    store.record_batch(grouped).unwrap();
    let now = unix_millis(Utc::now());
    let due = store
        .due_deliveries(&"file".into(), now, 10)
        .unwrap()
        .remove(0);
    assert!(!due.rendered && due.payload.is_empty());
    assert_eq!(due.max_hits, 1);
    let (hits, total) = store.delivery_hits(&due.id, due.max_hits).unwrap();
    assert_eq!((hits.len(), total), (1, 2));
    assert_eq!(hits[0].post.text, "Turkcell çekmiyor 1");
    assert_eq!(hits[0].post.url.as_deref(), Some("https://x.example/1"));
    assert_eq!(
        hits[0].post.author.as_ref().unwrap().handle.as_deref(),
        Some("ayse")
    );
    assert_eq!(hits[0].spans(), vec![std::ops::Range { start: 0, end: 8 }]);
    let (second, _) = store.delivery_hits(&due.id, 10).unwrap();
    assert_eq!(
        second[1].author_earlier_hits, 1,
        "the author's history is kept"
    );

    assert_eq!(
        store.freeze_payload(&due.id, "body-1", now).unwrap(),
        "body-1"
    );
    assert_eq!(
        store.freeze_payload(&due.id, "body-2", now).unwrap(),
        "body-1",
        "a frozen body never changes"
    );
    let again = store
        .due_deliveries(&"file".into(), now, 10)
        .unwrap()
        .remove(0);
    assert!(again.rendered);
    assert_eq!(again.payload, "body-1");
}

#[test]
fn disabled_receivers_are_listed_until_enabled() {
    let (_dir, store) = open();
    assert!(store.disabled_receivers().unwrap().is_empty());
    store
        .disable_receiver(&"slack".into(), "HTTP status 410", 5)
        .unwrap();
    store
        .disable_receiver(&"slack".into(), "HTTP status 410 again", 7)
        .unwrap();
    let disabled = store.disabled_receivers().unwrap();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].reason, "HTTP status 410 again");
    assert!(!store.is_receiver_disabled(&"file".into()).unwrap());
    store.enable_receiver(&"slack".into()).unwrap();
    assert!(store.disabled_receivers().unwrap().is_empty());
}

#[test]
fn reopening_keeps_data_and_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    {
        let mut store = Store::open(&path).unwrap();
        store
            .record_batch(batch("c", vec![(post("1", "a"), vec![hit("A")])]))
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.counts().unwrap(), (1, 1));
    let hits = store.hits(&HitQuery::default()).unwrap().hits;
    assert_eq!(hits[0].post.text, "Turkcell çekmiyor 1");
    assert_eq!(hits[0].terms[0]["term"], "Turkcell");
    store
        .conn
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(store);
    assert!(matches!(Store::open(&path), Err(StoreError::TooNew { .. })));
}

/// Every file in `dir` with its bytes, to show a refused open wrote nothing.
fn files_in(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_foreign_or_damaged_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mentiond.db");
    let foreign = |setup: &str| {
        let _ = std::fs::remove_file(&path);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(setup).unwrap();
    };
    let mut damaged = b"SQLite format 3\0".to_vec();
    damaged.extend(std::iter::repeat_n(0xA5, 4096));
    type Case<'a> = (&'a str, Box<dyn Fn() + 'a>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "text",
            Box::new(|| std::fs::write(&path, "these are my notes, not a database\n").unwrap()),
            "not a SQLite database",
        ),
        (
            "a damaged header",
            Box::new(|| std::fs::write(&path, &damaged).unwrap()),
            "",
        ),
        (
            "another program's tables",
            Box::new(|| {
                foreign(
                    "CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'a');",
                )
            }),
            "tables users",
        ),
        (
            "another program's application id",
            Box::new(|| foreign("PRAGMA application_id = 1234;")),
            "application_id 1234",
        ),
        (
            "a schema version without our tables",
            Box::new(|| foreign("PRAGMA user_version = 3; CREATE TABLE posts (x);")),
            "tables posts",
        ),
    ];
    for (what, make, says) in cases {
        make();
        let before = files_in(dir.path());
        let Err(err) = Store::open(&path) else {
            panic!("{what}: opened");
        };
        let message = err.to_string();
        assert!(
            matches!(err, StoreError::NotOurs { .. }) && message.contains(says),
            "{what}: {message}"
        );
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("left untouched"), "{message}");
        assert_eq!(files_in(dir.path()), before, "{what}: the files changed");
    }
}

#[test]
fn new_databases_are_stamped_and_older_or_empty_ones_are_ours() {
    let dir = tempfile::tempdir().unwrap();
    let id = |path: &std::path::Path| -> i32 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .unwrap()
    };
    let new = dir.path().join("new.db");
    drop(Store::open(&new).unwrap());
    assert_eq!(id(&new), schema::APPLICATION_ID);
    drop(Store::open(&new).unwrap());

    // A database written before the stamp: our tables and a version, id 0.
    let older = dir.path().join("older.db");
    drop(Store::open(&older).unwrap());
    rusqlite::Connection::open(&older)
        .unwrap()
        .pragma_update(None, "application_id", 0)
        .unwrap();
    drop(Store::open(&older).unwrap());
    assert_eq!(id(&older), schema::APPLICATION_ID);

    // An empty SQLite file (made by `sqlite3 x.db 'VACUUM'`, say) and an empty file.
    let empty = dir.path().join("empty.db");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); DROP TABLE t;")
        .unwrap();
    assert!(std::fs::metadata(&empty).unwrap().len() > 0);
    drop(Store::open(&empty).unwrap());
    let zero = dir.path().join("zero.db");
    std::fs::write(&zero, "").unwrap();
    drop(Store::open(&zero).unwrap());
    assert_eq!(id(&zero), schema::APPLICATION_ID);
}

#[test]
fn a_batch_reads_group_history_through_indexes_never_the_whole_outbox() {
    let (_dir, store) = open();
    for sql in [outbox::GROUP_LAST_SENT, outbox::GROUP_OPEN_DUE] {
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(["hook", "brand=Turkcell"], |row| row.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // Searching by receiver alone (`deliveries_due`) would still read every
        // delivery of the receiver.
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN"))
                && plan
                    .iter()
                    .any(|step| step.contains("INDEX") && step.contains("group_key=?")),
            "{sql}: {plan:?}"
        );
    }
}

#[tokio::test]
async fn the_writer_thread_serves_calls_and_ends_with_the_last_handle() {
    let (_dir, store) = open();
    let (handle, thread) = StoreHandle::spawn(store);
    let counts = handle.call(|store| store.counts()).await.unwrap().unwrap();
    assert_eq!(counts, (0, 0));
    drop(handle);
    thread.join().unwrap();
}

#[test]
fn a_hit_is_open_until_acknowledged_once_by_command_or_own_reply() {
    let (_dir, mut store) = open();
    let mut complaint = post("1", "ayse");
    complaint.created_at = Some(hit_time() - chrono::Duration::minutes(10));
    store
        .record_batch(batch(
            "c",
            vec![
                (complaint, vec![hit("A")]),
                (post("2", "ali"), vec![hit("A")]),
            ],
        ))
        .unwrap();
    let open = store.open_hits(hit_time(), hit_time(), 0, 10).unwrap();
    assert_eq!(open.len(), 2);
    let (first, second) = (open[0].hit_id, open[1].hit_id);
    let page = store
        .open_hits(hit_time(), hit_time(), first.0, 10)
        .unwrap();
    assert_eq!(page.len(), 1, "keyset paging starts after `after`");
    assert_eq!(page[0].hit_id, second);

    let later = hit_time() + chrono::Duration::minutes(4);
    assert_eq!(
        store.ack_hit(first, "ayse-care", "cli", later).unwrap(),
        AckOutcome::Acked {
            brand: "A".into(),
            first_response: chrono::Duration::minutes(14)
        }
    );
    assert!(matches!(
        store.ack_hit(first, "someone", "api", later).unwrap(),
        AckOutcome::AlreadyAcked { by: Some(by), .. } if by == "ayse-care"
    ));
    assert_eq!(
        store.ack_hit(HitId(999), "x", "cli", later).unwrap(),
        AckOutcome::NotFound
    );

    // A reply from the brand's own handle, in a later batch, answers the second hit.
    let mut reply_batch = batch("c2", Vec::new());
    reply_batch.replies = vec![OwnReply {
        source: "news".into(),
        in_reply_to: "2".into(),
        brand: "A".into(),
        by: "@A_Destek".into(),
        at: later,
    }];
    let outcome = store.record_batch(reply_batch).unwrap();
    assert_eq!(outcome.acked, 1);
    let rows = store.hits(&HitQuery::default()).unwrap().hits;
    let answered = rows.iter().find(|h| h.id == second).unwrap();
    assert_eq!(answered.acked_by.as_deref(), Some("@A_Destek"));
    assert!(
        store
            .open_hits(hit_time(), later, 0, 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn escalations_are_recorded_once_with_their_hits() {
    let (_dir, mut store) = open();
    store
        .record_batch(batch("c", vec![(post("1", "a"), vec![hit("A")])]))
        .unwrap();
    let open = store.open_hits(hit_time(), hit_time(), 0, 10).unwrap();
    let escalation = NewEscalation {
        id: "msg_esc".into(),
        receiver: "pager".into(),
        hit_ids: vec![open[0].hit_id],
    };
    let later = hit_time() + chrono::Duration::hours(1);
    assert_eq!(
        store
            .record_escalations(std::slice::from_ref(&escalation), &[open[0].hit_id], later)
            .unwrap(),
        1
    );
    assert!(
        store
            .open_hits(hit_time(), later, 0, 10)
            .unwrap()
            .is_empty(),
        "escalated once"
    );
    let due = store
        .due_deliveries(&"pager".into(), unix_millis(later), 10)
        .unwrap()
        .remove(0);
    assert!(due.kind == DeliveryKind::Escalation && !due.rendered);
    assert_eq!(store.delivery_hits(&due.id, 10).unwrap().1, 1);
}

#[test]
fn escalations_carry_only_the_hits_still_open_when_written() {
    let (_dir, mut store) = open();
    let posts = ["1", "2", "3"]
        .iter()
        .map(|id| (post(id, "a"), vec![hit("A")]))
        .collect();
    store.record_batch(batch("c", posts)).unwrap();
    let open: Vec<HitId> = store
        .open_hits(hit_time(), hit_time(), 0, 10)
        .unwrap()
        .iter()
        .map(|hit| hit.hit_id)
        .collect();
    let escalation = |id: &str, hit_ids: &[HitId]| NewEscalation {
        id: id.into(),
        receiver: "pager".into(),
        hit_ids: hit_ids.to_vec(),
    };
    let planned = [
        escalation("msg_partly", &open[..2]),
        escalation("msg_all_acked", &open[2..]),
    ];
    // Acknowledged after the escalation check read them as open.
    let later = hit_time() + chrono::Duration::hours(1);
    for &hit in &open[1..] {
        store.ack_hit(hit, "ayse", "cli", later).unwrap();
    }
    assert_eq!(store.record_escalations(&planned, &open, later).unwrap(), 1);
    let due = store
        .due_deliveries(&"pager".into(), unix_millis(later), 10)
        .unwrap();
    assert_eq!(
        due.len(),
        1,
        "an escalation whose hits were all acknowledged is dropped"
    );
    assert_eq!(due[0].id.as_str(), "msg_partly", "the planned id is kept");
    assert_eq!(due[0].max_hits, 1);
    let (hits, total) = store.delivery_hits(&"msg_partly".into(), 10).unwrap();
    assert_eq!((hits[0].hit_id, total), (open[0], 1));
    let escalated: Vec<HitId> = store
        .conn
        .prepare("SELECT id FROM hits WHERE escalated_at IS NOT NULL")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        escalated,
        [open[0]],
        "acknowledged hits are not marked escalated"
    );

    // The same plan written again changes nothing.
    assert_eq!(store.record_escalations(&planned, &open, later).unwrap(), 0);
    assert_eq!(store.delivery_hits(&"msg_partly".into(), 10).unwrap().1, 1);
}

#[test]
fn a_split_group_fills_messages_of_its_size_and_overflows_into_numbered_ones() {
    let (_dir, mut store) = open();
    let posts = (1..=5)
        .map(|n| (post(&n.to_string(), "a"), vec![hit("A")]))
        .collect::<Vec<_>>();
    let mut first = batch("c1", posts);
    let keys: Vec<HitKey> = first.deliveries.drain(..).flat_map(|d| d.hits).collect();
    let planned = |id: &str, hits: Vec<HitKey>| NewDelivery {
        id: id.into(),
        receiver: "hook".into(),
        hits,
        group_key: "route=0;brand=A".into(),
        max_hits: 2,
        urgent: false,
        due_at: hit_time(),
        hold_until: None,
        split: true,
    };
    first.deliveries = vec![planned("msg_a", keys)];
    assert_eq!(store.record_batch(first).unwrap().deliveries, 3);
    let sizes = |store: &Store| -> Vec<(String, usize)> {
        let mut rows: Vec<(String, usize)> = store
            .deliveries(None, 100)
            .unwrap()
            .into_iter()
            .map(|row| {
                let id = row.id.clone();
                (id.to_string(), store.delivery_hits(&id, 100).unwrap().1)
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(
        sizes(&store),
        [
            ("msg_a".into(), 2),
            ("msg_a-2".into(), 2),
            ("msg_a-3".into(), 1)
        ]
    );
    // A later hit of the group fills the open message with room before opening another.
    let mut later = batch("c2", vec![(post("6", "a"), vec![hit("A")])]);
    let key = later.deliveries.remove(0).hits;
    later.deliveries = vec![planned("msg_b", key)];
    store.record_batch(later).unwrap();
    assert_eq!(
        sizes(&store),
        [
            ("msg_a".into(), 2),
            ("msg_a-2".into(), 2),
            ("msg_a-3".into(), 2)
        ]
    );
}

#[test]
fn hits_acknowledged_before_the_first_send_are_left_out_of_the_message() {
    let (_dir, mut store) = open();
    let mut page = batch(
        "c",
        vec![
            (post("1", "a"), vec![hit("A")]),
            (post("2", "b"), vec![hit("A")]),
        ],
    );
    let keys: Vec<HitKey> = page.deliveries.drain(..).flat_map(|d| d.hits).collect();
    page.deliveries = vec![NewDelivery {
        id: "msg_g".into(),
        receiver: "file".into(),
        hits: keys,
        group_key: "brand=A".into(),
        max_hits: 10,
        urgent: false,
        due_at: hit_time(),
        hold_until: None,
        split: false,
    }];
    store.record_batch(page).unwrap();
    let id = DeliveryId::from("msg_g");
    let ids: Vec<HitId> = store
        .hits(&HitQuery::default())
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id)
        .collect();
    store.ack_hit(ids[0], "ayse", "cli", hit_time()).unwrap();
    let (hits, total) = store.delivery_hits(&id, 10).unwrap();
    assert_eq!((hits.len(), total), (1, 1), "the answered hit is not sent");
    assert_eq!(hits[0].hit_id, ids[1]);
    assert_eq!(
        store
            .hits(&HitQuery {
                delivery: Some(id.clone()),
                ..HitQuery::default()
            })
            .unwrap()
            .hits
            .len(),
        2,
        "`mentiond hits --delivery` still lists both"
    );
    store.ack_hit(ids[1], "ayse", "cli", hit_time()).unwrap();
    assert_eq!(store.delivery_hits(&id, 10).unwrap().1, 0);
    store.close_unsent(&id, unix_millis(hit_time())).unwrap();
    let row = store.deliveries(None, 10).unwrap().remove(0);
    assert_eq!(row.status, DeliveryStatus::Delivered);
    assert!(
        row.last_error
            .unwrap()
            .contains("acknowledged before the first send")
    );
}

#[test]
fn outbox_depth_and_open_hit_counts_follow_sends_acks_and_escalations() {
    let (_dir, mut store) = open();
    assert_eq!(store.outbox_depth().unwrap(), []);
    assert_eq!(store.hit_counts().unwrap(), HitCounts::default());
    store
        .record_batch(batch(
            "c",
            vec![
                (post("1", "a"), vec![hit("A")]),
                (post("2", "b"), vec![hit("B")]),
                (post("3", "c"), vec![hit("C")]),
            ],
        ))
        .unwrap();
    let queued = unix_millis(hit_time());
    let depth = |store: &Store| -> Vec<(String, u64, i64)> {
        store
            .outbox_depth()
            .unwrap()
            .into_iter()
            .map(|row| (row.receiver.to_string(), row.pending, row.oldest_queued_at))
            .collect()
    };
    assert_eq!(depth(&store), [("file".to_string(), 3, queued)]);
    let due = store.due_deliveries(&"file".into(), queued, 10).unwrap();
    store.mark_delivered(&due[0].id, queued + 1_000).unwrap();
    assert_eq!(depth(&store), [("file".to_string(), 2, queued)]);

    let open = store.open_hits(hit_time(), hit_time(), 0, 10).unwrap();
    store
        .ack_hit(open[0].hit_id, "ayse", "cli", hit_time())
        .unwrap();
    let later = hit_time() + chrono::Duration::hours(1);
    let escalation = NewEscalation {
        id: "msg_esc".into(),
        receiver: "pager".into(),
        hit_ids: vec![open[1].hit_id],
    };
    store
        .record_escalations(&[escalation], &[open[1].hit_id], later)
        .unwrap();
    assert_eq!(
        store.hit_counts().unwrap(),
        HitCounts {
            open: 2,
            sla_breached: 1
        }
    );
    assert_eq!(
        depth(&store),
        [
            ("file".to_string(), 2, queued),
            ("pager".to_string(), 1, unix_millis(later)),
        ]
    );
    // Each count walks a partial index holding only its own rows, not every hit.
    for (condition, index) in [
        ("escalated_at IS NULL", "INDEX hits_open"),
        ("escalated_at IS NOT NULL", "INDEX hits_escalated_open"),
    ] {
        let plan: String = store
            .conn
            .query_row(
                &format!(
                    "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM hits WHERE acked_at IS NULL AND {condition}"
                ),
                [],
                |row| row.get(3),
            )
            .unwrap();
        assert!(plan.contains(index), "{condition}: {plan}");
    }
}

#[test]
fn the_write_probe_fails_when_the_database_cannot_be_written() {
    let (_dir, mut store) = open();
    store.probe_write().unwrap();
    store.conn.pragma_update(None, "query_only", true).unwrap();
    assert!(store.probe_write().is_err());
    store.conn.pragma_update(None, "query_only", false).unwrap();
    store.probe_write().unwrap();
}

// --- Reading hits back: filters, pages, full-text search ---------------------------

/// A post of `source` with `text` by `author`.
fn post_with(source: &str, id: &str, author: &str, text: &str) -> Post {
    let mut post = post(id, author);
    post.source = source.into();
    post.text = text.into();
    post
}

fn ids(page: &HitPage) -> Vec<i64> {
    page.hits.iter().map(|hit| hit.id.0).collect()
}

/// Ids of the hits a full-text search finds, newest first.
fn found(store: &Store, search: &str) -> Vec<String> {
    store
        .hits(&HitQuery {
            text: Some(search.into()),
            ..HitQuery::default()
        })
        .unwrap_or_else(|err| panic!("searching {search:?}: {err}"))
        .hits
        .iter()
        .map(|hit| hit.post.id.clone())
        .collect()
}

/// Number of rows in the full-text index.
fn indexed(store: &Store) -> i64 {
    store
        .conn
        .query_row("SELECT COUNT(*) FROM posts_fts", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn hits_filter_by_brand_topic_team_source_status_and_time() {
    let (_dir, mut store) = open();
    let mut topic = BrandHit::exact_for_tests("Outage", Some("noc"), "kesinti");
    topic.kind = crate::matcher::HitKind::Topic;
    store
        .record_batch(batch(
            "c1",
            vec![
                (post("1", "ayse"), vec![hit("Turkcell"), topic.clone()]),
                (post_with("x", "2", "ali", "THY rötar"), vec![hit("THY")]),
            ],
        ))
        .unwrap();
    let mut later = batch(
        "c2",
        vec![(
            post_with("x", "3", "veli", "Turkcell yine"),
            vec![hit("Turkcell")],
        )],
    );
    later.now = hit_time() + chrono::Duration::hours(2);
    later.deliveries.clear();
    store.record_batch(later).unwrap();
    let all = store.hits(&HitQuery::default()).unwrap();
    assert_eq!(all.hits.len(), 4);
    fn by(store: &Store, query: HitQuery) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = store
            .hits(&query)
            .unwrap()
            .hits
            .into_iter()
            .map(|hit| (hit.post.id, hit.brand))
            .collect();
        found.sort();
        found
    }
    let pair = |post: &str, brand: &str| (post.to_string(), brand.to_string());
    let named = |name: &str| Some(name.to_string());
    let after = |hours: i64| Some(hit_time() + chrono::Duration::hours(hours));
    let query = |set: &dyn Fn(&mut HitQuery)| {
        let mut query = HitQuery::default();
        set(&mut query);
        query
    };
    let cases = [
        (
            "brand",
            query(&|q| q.brand = named("Turkcell")),
            vec![pair("1", "Turkcell"), pair("3", "Turkcell")],
        ),
        (
            "topic",
            query(&|q| q.topic = named("Outage")),
            vec![pair("1", "Outage")],
        ),
        (
            "a topic is not a brand",
            query(&|q| q.brand = named("Outage")),
            vec![],
        ),
        (
            "team",
            query(&|q| q.team = named("noc")),
            vec![pair("1", "Outage")],
        ),
        (
            "source and brand",
            query(&|q| {
                q.source = named("x");
                q.brand = named("Turkcell");
            }),
            vec![pair("3", "Turkcell")],
        ),
        (
            "since is inclusive",
            query(&|q| q.since = after(2)),
            vec![pair("3", "Turkcell")],
        ),
        (
            "until is exclusive",
            query(&|q| {
                q.until = after(2);
                q.brand = named("Turkcell");
            }),
            vec![pair("1", "Turkcell")],
        ),
    ];
    for (what, query, expected) in cases {
        assert_eq!(by(&store, query), expected, "{what}");
    }

    let id_of = |post: &str, brand: &str| {
        all.hits
            .iter()
            .find(|hit| hit.post.id == post && hit.brand == brand)
            .unwrap()
            .id
    };
    store
        .ack_hit(id_of("2", "THY"), "ayse", "cli", hit_time())
        .unwrap();
    store
        .record_escalations(&[], &[id_of("1", "Turkcell")], hit_time())
        .unwrap();
    let with = |status: HitStatus| {
        by(
            &store,
            HitQuery {
                status: Some(status),
                ..HitQuery::default()
            },
        )
    };
    assert_eq!(with(HitStatus::Acked), [pair("2", "THY")]);
    assert_eq!(with(HitStatus::Escalated), [pair("1", "Turkcell")]);
    assert_eq!(
        with(HitStatus::Open),
        [pair("1", "Outage"), pair("3", "Turkcell")]
    );
    let acked = store.hit_detail(id_of("2", "THY")).unwrap().unwrap().hit;
    assert_eq!(acked.status, HitStatus::Acked);
    assert_eq!(acked.acked_by.as_deref(), Some("ayse"));
    assert_eq!(acked.acked_at, Some(hit_time()));
    assert_eq!((acked.severity, acked.sentiment), ("normal", "neutral"));
    assert_eq!(acked.terms[0]["term"], "Turkcell");
}

#[test]
fn pages_walk_every_hit_once_and_after_polls_only_newer_ones() {
    let (_dir, mut store) = open();
    let record = |store: &mut Store, from: usize, to: usize| {
        for n in from..=to {
            let id = n.to_string();
            let mut page = batch(&id, vec![(post(&id, "a"), vec![hit("Turkcell")])]);
            page.deliveries.clear();
            store.record_batch(page).unwrap();
        }
    };
    record(&mut store, 1, 7);
    let everything = ids(&store.hits(&HitQuery::default()).unwrap());
    assert_eq!(everything.len(), 7);
    assert!(everything.windows(2).all(|w| w[0] > w[1]), "newest first");

    let mut walked = Vec::new();
    let mut before = None;
    let mut pages = 0;
    let newest = loop {
        let page = store
            .hits(&HitQuery {
                before,
                limit: Some(3),
                ..HitQuery::default()
            })
            .unwrap();
        pages += 1;
        assert!(page.hits.len() <= 3);
        walked.extend(ids(&page));
        if before.is_none() {
            assert_eq!(page.latest, Some(HitCursor::at(HitId(everything[0]))));
        }
        match page.next {
            Some(next) => before = Some(next),
            None => break page.latest,
        }
        assert!(pages < 10, "paging ends");
    };
    assert_eq!(pages, 3);
    assert_eq!(walked, everything, "no duplicates, no gaps");
    assert!(newest.is_some());

    // A live column polls with the newest cursor it has seen.
    let latest = HitCursor::at(HitId(everything[0]));
    let poll = |store: &Store, after, limit| {
        store
            .hits(&HitQuery {
                after: Some(after),
                limit: Some(limit),
                ..HitQuery::default()
            })
            .unwrap()
    };
    let nothing = poll(&store, latest, 50);
    assert!(nothing.hits.is_empty());
    assert_eq!(nothing.latest, Some(latest), "the cursor stays");
    assert_eq!(nothing.next, None);
    record(&mut store, 8, 10);
    // Three new hits, two a page: the older two first, then the newest one.
    let first = poll(&store, latest, 2);
    assert_eq!(ids(&first), [everything[0] + 2, everything[0] + 1]);
    assert_eq!(first.next, None);
    let second = poll(&store, first.latest.unwrap(), 2);
    assert_eq!(ids(&second), [everything[0] + 3]);
    assert!(poll(&store, second.latest.unwrap(), 2).hits.is_empty());
}

#[test]
fn search_folds_turkish_letters_and_apostrophes_like_the_matcher() {
    let (_dir, mut store) = open();
    store
        .record_batch(batch(
            "c",
            vec![
                (
                    post_with("x", "p1", "a", "Turkcell'e bir türlü ulaşamıyorum"),
                    vec![hit("Turkcell")],
                ),
                (
                    post_with("x", "p2", "b", "THY’nin uçağı yine rötar yaptı"),
                    vec![hit("THY")],
                ),
                (
                    post_with("x", "p3", "c", "İstanbul'da Turkcell çekmiyor"),
                    vec![hit("Turkcell")],
                ),
                (
                    post_with("x", "p4", "d", "ISTANBUL hatlarında THYnin sorunu"),
                    vec![hit("THY")],
                ),
            ],
        ))
        .unwrap();
    assert_eq!(found(&store, "ulasamiyorum"), ["p1"]);
    assert_eq!(found(&store, "ULAŞAMIYORUM"), ["p1"]);
    assert_eq!(found(&store, "ulaşamıyorum"), ["p1"]);
    assert_eq!(found(&store, "THYnin"), ["p4", "p2"]);
    assert_eq!(found(&store, "THY'nin"), ["p4", "p2"]);
    assert_eq!(found(&store, "thy’nin"), ["p4", "p2"]);
    assert_eq!(found(&store, "THY"), ["p2"], "the stem of THY'nin");
    assert_eq!(found(&store, "thy nin"), ["p2"]);
    assert_eq!(found(&store, "İstanbul"), ["p4", "p3"]);
    assert_eq!(found(&store, "istanbul"), ["p4", "p3"]);
    assert_eq!(found(&store, "istanbulda"), ["p3"]);
    assert_eq!(found(&store, "ulaş*"), ["p1"]);
    assert_eq!(
        found(&store, "ucagi rotar"),
        ["p2"],
        "every word, any order"
    );
    assert!(found(&store, "ucagi turkcell").is_empty());
    assert_eq!(
        found(&store, "  ").len(),
        4,
        "a blank search filters nothing"
    );
    assert!(found(&store, "*** \"").is_empty(), "no word finds nothing");
    // Operators, quotes, column filters and broken syntax are text: they find what
    // they spell or nothing, never an error.
    for hostile in [
        "\"",
        "\"\"",
        "AND",
        "OR OR",
        "NOT thy",
        "thy AND",
        "NEAR(",
        "NEAR(thy rotar",
        "NEAR(thy rotar, 2)",
        "*",
        "thy*)",
        "-thy",
        "thy -",
        "^thy",
        "body:thy",
        "{body}: x",
        "'",
        "\\",
        "(",
        ")",
        "a\"b",
        "thy\" OR \"istanbul",
        "\u{0903}",
        "\u{0}",
        "🙂",
        "rowid:1",
        "x:*",
        "+",
        "\"thy\"*",
    ] {
        let hits = found(&store, hostile);
        assert!(hits.len() <= 4, "{hostile:?}");
    }
    assert_eq!(found(&store, "thy\" OR \"istanbul"), Vec::<String>::new());
    assert_eq!(found(&store, "-thy"), ["p2"], "a minus is not an operator");
}

#[test]
fn a_post_is_indexed_in_the_transaction_that_stores_it_and_old_posts_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let mut store = Store::open(&path).unwrap();
    store
        .record_batch(batch("c1", vec![(post("1", "a"), vec![hit("Turkcell")])]))
        .unwrap();
    assert_eq!(indexed(&store), 1);
    refuse_cursor_c2(&store);
    let failed = store.record_batch(batch(
        "c2",
        vec![(
            post_with("news", "2", "a", "Turkcell kayıp"),
            vec![hit("Turkcell")],
        )],
    ));
    assert!(failed.is_err());
    assert_eq!(
        indexed(&store),
        1,
        "the index row rolled back with its post"
    );
    assert!(found(&store, "kayip").is_empty());
    store
        .record_batch(batch("c3", vec![(post("3", "a"), vec![hit("Turkcell")])]))
        .unwrap();
    assert_eq!(indexed(&store), 2);
    assert_eq!(found(&store, "cekmiyor"), ["3", "1"]);

    // A database from before the index (rows missing) is indexed when opened.
    store
        .conn
        .execute(
            "INSERT INTO posts_fts (posts_fts) VALUES ('delete-all')",
            [],
        )
        .unwrap();
    assert!(found(&store, "cekmiyor").is_empty());
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(indexed(&store), 2);
    assert_eq!(found(&store, "cekmiyor"), ["3", "1"]);
    // A deleted post leaves the index with it.
    store
        .conn
        .execute_batch(
            "DELETE FROM delivery_hits; DELETE FROM hits WHERE post = 1; DELETE FROM posts WHERE id = 1;",
        )
        .unwrap();
    assert_eq!(indexed(&store), 1);
}

#[test]
fn a_hit_detail_lists_its_authors_earlier_hits_only() {
    let (_dir, mut store) = open();
    for (id, author) in [("1", "ayse"), ("2", "ali"), ("3", "ayse"), ("4", "ayse")] {
        store
            .record_batch(batch(id, vec![(post(id, author), vec![hit("Turkcell")])]))
            .unwrap();
    }
    let all = store.hits(&HitQuery::default()).unwrap().hits;
    let third = all.iter().find(|hit| hit.post.id == "3").unwrap().id;
    let detail = store.hit_detail(third).unwrap().unwrap();
    assert_eq!(detail.hit.post.id, "3");
    assert_eq!(detail.hit.author_earlier_hits, 1);
    let earlier: Vec<&str> = detail
        .author_hits
        .iter()
        .map(|hit| hit.post.id.as_str())
        .collect();
    assert_eq!(earlier, ["1"], "not ali's, not the later one");
    assert!(store.hit_detail(HitId(999)).unwrap().is_none());
    // The detail names the author, and the `author` filter pages through all of it.
    let key = detail.author.expect("an author key");
    let page = |before: Option<HitCursor>| {
        store
            .hits(&HitQuery {
                source: Some(detail.hit.post.source.clone()),
                author: Some(key.clone()),
                before,
                limit: Some(2),
                ..HitQuery::default()
            })
            .unwrap()
    };
    let first = page(None);
    let second = page(first.next);
    let ids: Vec<&str> = first
        .hits
        .iter()
        .chain(&second.hits)
        .map(|hit| hit.post.id.as_str())
        .collect();
    assert_eq!(ids, ["4", "3", "1"]);
    assert!(second.next.is_none());
}

#[test]
fn competitor_summary_gives_share_of_voice_complaint_words_and_own_reply_times() {
    let (_dir, mut store) = open();
    let matched = |id: &str, brand: &str, text: &str, sentiment: Sentiment| {
        let mut found = hit(brand);
        found.competitor = brand == "Vodafone";
        MatchedPost {
            post: Post::from_json(&format!(
                r#"{{"source":"x","id":"{id}","text":"{text}","created_at":"2026-11-21T08:50:00Z"}}"#
            ))
            .unwrap(),
            sentiment,
            sentiment_score: 0.0,
            hits: vec![found],
        }
    };
    let posts = vec![
        matched(
            "t1",
            "Turkcell",
            "Turkcell fatura yüksek",
            Sentiment::Negative,
        ),
        matched(
            "t2",
            "Turkcell",
            "Turkcell fatura hatalı",
            Sentiment::Negative,
        ),
        matched(
            "t3",
            "Turkcell",
            "Turkcell internet yok",
            Sentiment::Negative,
        ),
        matched(
            "v1",
            "Vodafone",
            "Vodafone şebeke çekmiyor",
            Sentiment::Negative,
        ),
        matched(
            "v2",
            "Vodafone",
            "Vodafone kampanya güzel",
            Sentiment::Positive,
        ),
    ];
    let reply = |id: &str, brand: &str, minutes: i64| OwnReply {
        source: "x".into(),
        in_reply_to: id.into(),
        brand: brand.into(),
        by: format!("@{brand}Destek"),
        at: Utc.with_ymd_and_hms(2026, 11, 21, 8, 50, 0).unwrap()
            + chrono::Duration::minutes(minutes),
    };
    store
        .record_batch(NewBatch {
            source: "x".into(),
            cursor: None,
            posts,
            deliveries: Vec::new(),
            now: hit_time(),
            replies: Vec::new(),
        })
        .unwrap();
    // The competitor's own handle answers like ours do: its hits are acknowledged.
    let outcome = store
        .record_batch(NewBatch {
            source: "x".into(),
            cursor: None,
            posts: Vec::new(),
            deliveries: Vec::new(),
            now: hit_time(),
            replies: vec![
                reply("t1", "Turkcell", 5),
                reply("t2", "Turkcell", 20),
                reply("t3", "Turkcell", 60),
                reply("v1", "Vodafone", 30),
            ],
        })
        .unwrap();
    assert_eq!(outcome.acked, 4);
    let day = (
        hit_time() - chrono::Duration::hours(12),
        hit_time() + chrono::Duration::hours(12),
    );
    let summary = store.competitor_summary(day.0, day.1).unwrap();
    let words = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
        list.iter().map(|(w, n)| (w.to_string(), *n)).collect()
    };
    assert_eq!(
        summary,
        [
            BrandSummary {
                brand: "Turkcell".into(),
                competitor: false,
                mentions: 3,
                share_of_voice: 0.6,
                complaint_words: words(&[
                    ("fatura", 2),
                    ("hatali", 1),
                    ("internet", 1),
                    ("yok", 1),
                    ("yuksek", 1)
                ]),
                median_response_secs: Some(20 * 60),
            },
            BrandSummary {
                brand: "Vodafone".into(),
                competitor: true,
                mentions: 2,
                share_of_voice: 0.4,
                complaint_words: words(&[("cekmiyor", 1), ("sebeke", 1)]),
                median_response_secs: Some(30 * 60),
            },
        ]
    );
    // Outside the period: nothing.
    let before = store
        .competitor_summary(day.0 - chrono::Duration::days(2), day.0)
        .unwrap();
    assert!(before.is_empty());
}

#[test]
fn engagement_and_priority_are_stored_and_carried_to_alerts() {
    let (_dir, mut store) = open();
    let post = Post::from_json(
        r#"{"source":"news","id":"e1","author":{"handle":"ayse","followers":999},"text":"Turkcell çekmiyor","engagement":{"likes":90,"reposts":4,"score":1}}"#,
    )
    .unwrap();
    let mut new = batch("c1", vec![(post.clone(), vec![hit("Turkcell")])]);
    new.posts[0].sentiment = Sentiment::Negative;
    store.record_batch(new).unwrap();
    let (hits, _) = store
        .delivery_hits(&DeliveryId("msg_e1_Turkcell".into()), 10)
        .unwrap();
    assert_eq!(hits[0].post.engagement, post.engagement);
    // 30 for reach, 20 for 99 interactions, 20 for the complaint.
    assert_eq!(hits[0].priority, 70);
}
