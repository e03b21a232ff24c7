//! How long one retention step holds the store's writer on a large database, and what
//! `backup` and `vacuum` cost there. Not a criterion bench: a purge consumes its
//! input, so this seeds one database and times every step of one whole purge.
//!
//!     cargo bench --bench retention [-- POSTS [BATCH]]
//!
//! Seeds POSTS posts (default 1,000,000) with one hit each, the older half detected
//! 200 days ago, the newer half within the last day; one `file` delivery per 100 hits
//! (the split size of a program receiver), delivered. Then purges with a 180-day
//! retention in steps of `PURGE_BATCH` rows and prints the step times.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use mentiond::store::{PURGE_BATCH, Purge, Store, database_bytes};
use rusqlite::params;

const HITS_PER_DELIVERY: i64 = 100;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let posts = args.first().map_or(1_000_000, |&n| n as i64);
    let batch = args.get(1).copied().unwrap_or(PURGE_BATCH);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mentiond.db");
    drop(Store::open(&path).expect("creating the database"));

    let started = Instant::now();
    seed(&path, posts);
    println!(
        "seeded {posts} posts and hits, {} deliveries: {:.1} MiB in {:.1} s",
        posts / HITS_PER_DELIVERY,
        database_bytes(&path) as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );

    let copy = dir.path().join("copy.db");
    let started = Instant::now();
    let report = Store::backup(&path, &copy, false).expect("backup");
    println!(
        "backup: {:.1} MiB in {:.2} s",
        report.bytes as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );

    let mut store = Store::open(&path).expect("opening the database");
    let retention = Duration::from_secs(180 * 24 * 3600);
    let mut purge = Purge::new(Utc::now(), retention, batch);
    // The daemon's retention task checkpoints from its own connection between steps.
    let checkpointer = Store::open(&path).expect("opening the database");
    let mut steps = Vec::new();
    let mut checkpoints = Vec::new();
    let started = Instant::now();
    while !purge.is_done() {
        let step = Instant::now();
        store.purge_step(&mut purge).expect("purge step");
        steps.push(step.elapsed());
        let checkpoint = Instant::now();
        checkpointer.checkpoint().expect("checkpoint");
        checkpoints.push(checkpoint.elapsed());
    }
    let total = started.elapsed();
    let slow: Vec<String> = steps
        .iter()
        .enumerate()
        .filter(|(_, step)| step.as_millis() > 50)
        .map(|(index, step)| format!("#{index} {} ms", step.as_millis()))
        .collect();
    if !slow.is_empty() {
        println!("steps over 50 ms: {}", slow.join(", "));
    }
    steps.sort();
    let at = |q: f64| steps[((steps.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    checkpoints.sort();
    println!(
        "checkpoints between steps (off the writer): median {:.1} ms, max {:.1} ms",
        checkpoints[checkpoints.len() / 2].as_secs_f64() * 1e3,
        checkpoints[checkpoints.len() - 1].as_secs_f64() * 1e3
    );
    let removed = purge.removed();
    println!(
        "purge (batch {batch}): {} deliveries, {} hits, {} posts in {} steps, {:.1} s; \
         step ms: median {:.1}, p99 {:.1}, max {:.1}; {} steps over 50 ms",
        removed.deliveries,
        removed.hits,
        removed.posts,
        steps.len(),
        total.as_secs_f64(),
        at(0.5),
        at(0.99),
        at(1.0),
        steps.iter().filter(|step| step.as_millis() > 50).count()
    );

    // The hourly run once everything old is gone: one step that finds the first young row.
    let mut idle = Purge::new(Utc::now(), retention, PURGE_BATCH);
    let started = Instant::now();
    store.purge(&mut idle).expect("idle purge");
    println!(
        "purge with nothing old: {} steps, {:.2} ms",
        idle.steps(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let before = database_bytes(&path);
    let started = Instant::now();
    drop(checkpointer);
    store.vacuum().expect("vacuum");
    drop(store);
    println!(
        "vacuum: {:.1} MiB -> {:.1} MiB in {:.2} s",
        before as f64 / 1048576.0,
        database_bytes(&path) as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
}

/// Writes the rows directly, in one transaction (the pipeline's path is measured by
/// `bench/load_jsonl.py`); hit times grow with their ids, as the pipeline writes them.
fn seed(path: &std::path::Path, posts: i64) {
    let mut conn = rusqlite::Connection::open(path).expect("opening the database");
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    let tx = conn.transaction().unwrap();
    let old = Utc::now() - TimeDelta::days(200);
    let young = Utc::now() - TimeDelta::days(1);
    let half = posts / 2;
    {
        let mut post = tx
            .prepare(
                "INSERT INTO posts (id, source, post_id, url, author_handle, author_key, text,
                     created_at, fetched_at)
                 VALUES (?1, 'news', ?1, 'https://news.example/' || ?1, 'author' || (?1 % 5000),
                     'author' || (?1 % 5000), ?2, ?3, ?3)",
            )
            .unwrap();
        let mut hit = tx
            .prepare(
                "INSERT INTO hits (id, post, brand, team, matched, detected_at)
                 VALUES (?1, ?1, 'Turkcell', 'care', '[{\"term\":\"Turkcell\"}]', ?2)",
            )
            .unwrap();
        let mut delivery = tx
            .prepare(
                "INSERT INTO deliveries (id, receiver, payload, status, attempts, created_at,
                     next_attempt_at, delivered_at, rendered_at, group_key)
                 VALUES (?1, 'file', ?2, 'delivered', 1, ?3, ?3, ?3, ?3, 'brand=Turkcell')",
            )
            .unwrap();
        let mut carries = tx
            .prepare("INSERT INTO delivery_hits (delivery, hit) VALUES (?1, ?2)")
            .unwrap();
        let payload = "x".repeat(20_000);
        for id in 1..=posts {
            // One millisecond per post: a day's worth of ingest per 86 M posts.
            let at = if id <= half { old } else { young } + TimeDelta::milliseconds(id);
            let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let text =
                format!("Turkcell faturam iki kat geldi, müşteri hizmetleri yanıt vermiyor #{id}");
            post.execute(params![id, text, stamp]).unwrap();
            hit.execute(params![id, stamp]).unwrap();
            let message = format!("msg_{}", (id - 1) / HITS_PER_DELIVERY);
            if (id - 1) % HITS_PER_DELIVERY == 0 {
                delivery
                    .execute(params![message, payload, at.timestamp_millis()])
                    .unwrap();
            }
            carries.execute(params![message, id]).unwrap();
        }
    }
    tx.commit().unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
}
