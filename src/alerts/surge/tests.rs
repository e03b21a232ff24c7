//! Surge checks over a replayed day in a real store, delivered by a real file
//! receiver's worker.

use std::path::Path;

use chrono::{DurationRound, TimeZone};
use tokio::sync::Notify;

use super::*;
use crate::alerts::file::{FileNotifier, FileSettings};
use crate::alerts::{DeliverySettings, DeliveryWorker, RawDelivery};
use crate::matcher::BrandHit;
use crate::metrics::Metrics;
use crate::model::Post;
use crate::pipeline::tests::commit_matched;
use crate::routing::surge::tests::settings;
use crate::routing::tests::route;
use crate::routing::{RouteConfig, Router};
use crate::sentiment::Sentiment;
use crate::service::Pulses;
use crate::settings::DurationSetting;
use crate::store::{MatchedPost, Store};

/// The check time: close to the real time, so the worker does not find the alert
/// older than `delivery.max_age`; on a whole ten minutes, so windows line up.
fn now() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(chrono::Duration::minutes(10))
        .unwrap()
}

/// Commits `n` mentions of `brand` found at `at` (ids from `first`), by four
/// authors in turn, with the tone `sentiment`.
fn mentions(
    store: &mut Store,
    brand: &str,
    first: usize,
    n: usize,
    sentiment: Sentiment,
    at: DateTime<Utc>,
) {
    let texts = ["{brand} internet gitti", "{brand} şebeke yok, internet yok"];
    let posts = (first..first + n)
        .map(|i| {
            let text = texts[i % 2].replace("{brand}", brand);
            let json = serde_json::json!({
                "source": "x", "id": format!("{brand}-{i}"), "text": text,
                "author": {"handle": format!("user{}", i % 4), "followers": i * 10},
            });
            let mut hit = BrandHit::exact_for_tests(brand, Some("care"), brand);
            hit.competitor = brand == "Vodafone";
            MatchedPost {
                post: Post::from_json(&json.to_string()).unwrap(),
                sentiment,
                sentiment_score: 0.0,
                hits: vec![hit],
            }
        })
        .collect();
    // Mentions go to a receiver no worker serves: only surges reach the file.
    commit_matched(store, &Router::new(vec![route(&["people"])]), posts, at);
}

/// A normal day before the window ending at `now`: `per_window` neutral Turkcell
/// mentions every ten minutes.
fn normal_day(store: &mut Store, per_window: usize) {
    for window in 2..=145 {
        let at = now() - chrono::Duration::minutes(10 * window) + chrono::Duration::minutes(1);
        mentions(
            store,
            "Turkcell",
            window as usize * 1000,
            per_window,
            Sentiment::Neutral,
            at,
        );
    }
}

/// A spike of `n` mentions spread over the window ending at `now`.
fn spike(store: &mut Store, brand: &str, n: usize, sentiment: Sentiment) {
    for i in 0..n {
        let at = now() - chrono::Duration::seconds(540) + chrono::Duration::seconds(i as i64 * 8);
        mentions(store, brand, 1_000_000 + i, 1, sentiment, at);
    }
}

fn surge_loop(store: &StoreHandle, routes: Vec<RouteConfig>) -> SurgeLoop {
    let router = Arc::new(Router::new(routes));
    SurgeLoop {
        router: Arc::new(move || Arc::clone(&router)),
        store: store.clone(),
        wakers: Arc::default(),
        settings: settings(),
        every: SURGE_CHECK,
        cancel: CancellationToken::new(),
    }
}

/// Runs a worker for the file receiver `alerts-file` writing to `path` until the
/// file has `lines` lines (bounded), and returns them.
async fn deliver(store: &StoreHandle, path: &Path, lines: usize) -> Vec<serde_json::Value> {
    let text = |value: &str| DurationSetting::Text(value.into());
    let (delivery, problems) = DeliverySettings::parse(&RawDelivery {
        timeout: text("5s"),
        backoff_initial: text("1s"),
        backoff_max: text("1s"),
        max_age: text("1h"),
    });
    assert!(problems.is_empty());
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(
        DeliveryWorker {
            notifier: Arc::new(FileNotifier::new(
                "alerts-file".into(),
                FileSettings {
                    path: path.to_path_buf(),
                    hits_per_message: 100,
                },
            )),
            store: store.clone(),
            settings: delivery,
            wake: Arc::new(Notify::new()),
            cancel: cancel.clone(),
            wakers: Arc::default(),
            metrics: Arc::new(Metrics::new()),
            pulse: Pulses::new(None).pulse("delivery:alerts-file"),
        }
        .run(),
    );
    let read = || std::fs::read_to_string(path).unwrap_or_default();
    for _ in 0..100 {
        if read().lines().count() >= lines {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
    worker.await.unwrap();
    read()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn a_spike_on_a_replayed_day_is_one_surge_alert_with_terms_authors_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    normal_day(&mut store, 3);
    spike(&mut store, "Turkcell", 60, Sentiment::Negative);
    // The competitor surges too, but no route names it.
    spike(&mut store, "Vodafone", 40, Sentiment::Negative);
    let (store, _thread) = StoreHandle::spawn(store);
    let surges = surge_loop(&store, vec![route(&["alerts-file"])]);
    assert_eq!(surges.check(now()).await.unwrap(), 1);
    // Still in the spike five minutes on: the cooldown holds, here and after a restart.
    let later = now() + chrono::Duration::minutes(5);
    assert_eq!(surges.check(later).await.unwrap(), 0);
    let restarted = surge_loop(&store, vec![route(&["alerts-file"])]);
    assert_eq!(restarted.check(now()).await.unwrap(), 0);
    let stored = store
        .call(move |store| store.surges(now() - chrono::Duration::days(1), later))
        .await
        .unwrap()
        .unwrap();
    let brands: Vec<(&str, &str)> = stored
        .iter()
        .map(|surge| (surge.brand.as_str(), surge.kind.as_str()))
        .collect();
    assert_eq!(brands, [("Turkcell", "volume"), ("Vodafone", "volume")]);

    let path = dir.path().join("alerts.jsonl");
    let alerts = deliver(&store, &path, 1).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["type"], "surge");
    let note = &alert["surge"];
    assert_eq!(note["brand"], "Turkcell");
    assert_eq!(
        (note["count"].as_u64(), note["usual"].as_u64()),
        (Some(60), Some(3))
    );
    assert_eq!(
        note["terms"],
        serde_json::json!(["internet", "yok", "gitti", "sebeke"])
    );
    assert_eq!(
        note["authors"],
        serde_json::json!(["user0", "user1", "user2", "user3"])
    );
    // The samples: the three loudest posts of the spike.
    let samples: Vec<&str> = alert["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["post"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        samples,
        ["Turkcell-1000057", "Turkcell-1000058", "Turkcell-1000059"]
    );
    // 10M followers (50) and a complaint (20).
    assert_eq!(alert["hits"][0]["priority"], 70);
}

#[tokio::test]
async fn a_normal_day_has_no_surge_at_any_hour() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    normal_day(&mut store, 3);
    let (store, _thread) = StoreHandle::spawn(store);
    let surges = surge_loop(&store, vec![route(&["alerts-file"])]);
    for hours_ago in 0..24 {
        let at = now() - chrono::Duration::hours(hours_ago);
        assert_eq!(surges.check(at).await.unwrap(), 0, "{hours_ago} hours ago");
    }
    let stored = store
        .call(|store| store.surges(Utc.timestamp_opt(0, 0).unwrap(), now()))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.is_empty());
}

#[tokio::test]
async fn negative_mentions_alone_surge_and_go_to_a_surge_route() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    normal_day(&mut store, 16);
    // 45 mentions, under three times the usual 16; 25 of them negative, usually none.
    spike(&mut store, "Turkcell", 25, Sentiment::Negative);
    mentions(
        &mut store,
        "Turkcell",
        2_000_000,
        20,
        Sentiment::Neutral,
        now() - chrono::Duration::minutes(2),
    );
    let (store, _thread) = StoreHandle::spawn(store);
    let routes = vec![
        RouteConfig {
            kind: Some(crate::routing::RouteKind::Surge),
            sentiment: Some(Sentiment::Negative),
            ..route(&["alerts-file"])
        },
        route(&["people"]),
    ];
    assert_eq!(surge_loop(&store, routes).check(now()).await.unwrap(), 1);
    let alerts = deliver(&store, &dir.path().join("alerts.jsonl"), 1).await;
    assert_eq!(alerts.len(), 1);
    let note = &alerts[0]["surge"];
    assert_eq!(note["kind"], "negative");
    assert_eq!(
        (note["count"].as_u64(), note["usual"].as_u64()),
        (Some(25), Some(0))
    );
}
