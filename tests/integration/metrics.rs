//! `/healthz`, `/readyz` and `/metrics` on the API listener, end to end: the real
//! daemon on a loopback port, no token needed for them (and still needed for the rest),
//! the exposition read by a Prometheus text-format parser, its series moving as posts
//! are matched and alerts delivered, and readiness following a failing source.

use std::time::Duration;

use prometheus_parse::{Sample, Scrape, Value};
use serde_json::Value as Json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::api::api_address;
use crate::support::{TICKETS_SOURCE, Workspace, wait_for, wait_for_async};

/// An `[api]` section on a free loopback port.
const API: &str = "[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"api-t0ken-secret\"\n";

/// GETs `/metrics` without a token and parses it.
async fn scrape(address: &str) -> Scrape {
    let response = reqwest::get(format!("http://{address}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).unwrap()
}

/// The sample of series `name` with exactly `labels`.
fn sample<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    scrape.samples.iter().find(|sample| {
        sample.metric == name
            && sample.labels.len() == labels.len()
            && labels
                .iter()
                .all(|(key, value)| sample.labels.get(key) == Some(*value))
    })
}

/// The value of counter `name` with `labels`, if the series is there and typed so.
fn counter(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    match sample(scrape, name, labels)?.value {
        Value::Counter(value) => Some(value),
        _ => None,
    }
}

/// The value of gauge `name` with `labels`, if the series is there and typed so.
fn gauge(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    match sample(scrape, name, labels)?.value {
        Value::Gauge(value) => Some(value),
        _ => None,
    }
}

/// The number of observations of histogram `name` (its `+Inf` bucket).
fn observations(scrape: &Scrape, name: &str) -> Option<f64> {
    match &sample(scrape, name, &[])?.value {
        Value::Histogram(buckets) => buckets
            .iter()
            .find(|bucket| bucket.less_than == f64::INFINITY)
            .map(|bucket| bucket.count),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_need_no_token_and_move_as_posts_are_matched_and_alerts_delivered() {
    let workspace = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n{API}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ));
    std::fs::write(workspace.path("tickets.jsonl"), "").unwrap();
    let daemon = workspace.start();
    let address = api_address(&daemon.log_text());
    let client = reqwest::Client::new();
    let healthz = client
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200);
    assert_eq!(healthz.text().await.unwrap(), "ok");
    let anonymous = client
        .post(format!("http://{address}/api/v1/hits/1/ack"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "every other route needs the token");

    let before = scrape(&address).await;
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        gauge(&before, "mentiond_build_info", &[("version", version)]),
        Some(1.0)
    );
    let tickets = [("source", "tickets")];
    assert_eq!(
        counter(&before, "mentiond_posts_ingested_total", &tickets),
        Some(0.0)
    );
    assert_eq!(
        counter(&before, "mentiond_source_errors_total", &tickets),
        Some(0.0)
    );
    for outcome in ["delivered", "retry", "dead"] {
        let labels = [("receiver", "f"), ("outcome", outcome)];
        assert_eq!(
            counter(&before, "mentiond_deliveries_total", &labels),
            Some(0.0)
        );
    }
    let f = [("receiver", "f")];
    assert_eq!(gauge(&before, "mentiond_outbox_pending", &f), Some(0.0));
    assert_eq!(
        gauge(&before, "mentiond_outbox_oldest_pending_age_seconds", &f),
        Some(0.0)
    );
    assert_eq!(gauge(&before, "mentiond_open_hits", &[]), Some(0.0));
    assert_eq!(gauge(&before, "mentiond_sla_breached_hits", &[]), Some(0.0));
    assert_eq!(
        gauge(&before, "mentiond_source_consecutive_failures", &tickets),
        Some(0.0)
    );
    assert!(
        before
            .samples
            .iter()
            .all(|sample| sample.metric != "mentiond_hits_total"),
        "no hit yet"
    );

    let created = (chrono::Utc::now() - chrono::Duration::minutes(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    workspace.append_tickets(&[
        &format!(r#"{{"source":"x","id":"m1","created_at":"{created}","text":"Turkcell faturam yanlış"}}"#),
        &format!(r#"{{"source":"x","id":"m2","created_at":"{created}","text":"turkcel yine çekmiyor"}}"#),
    ]);
    wait_for("both hits delivered", Duration::from_secs(20), || {
        let deliveries = workspace.deliveries();
        workspace.hits().len() == 2
            && !deliveries.is_empty()
            && deliveries.iter().all(|row| row["status"] == "delivered")
    });
    let after = scrape(&address).await;
    assert_eq!(
        counter(&after, "mentiond_posts_ingested_total", &tickets),
        Some(2.0)
    );
    for kind in ["exact", "misspelling"] {
        let labels = [("brand", "Turkcell"), ("kind", kind)];
        assert_eq!(
            counter(&after, "mentiond_hits_total", &labels),
            Some(1.0),
            "{kind}"
        );
    }
    let delivered = [("receiver", "f"), ("outcome", "delivered")];
    let sent = workspace.deliveries().len() as f64;
    assert_eq!(
        counter(&after, "mentiond_deliveries_total", &delivered),
        Some(sent)
    );
    assert!(observations(&after, "mentiond_match_duration_seconds").unwrap() >= 1.0);
    assert!(observations(&after, "mentiond_batch_commit_duration_seconds").unwrap() >= 1.0);
    assert_eq!(gauge(&after, "mentiond_open_hits", &[]), Some(2.0));
    assert_eq!(gauge(&after, "mentiond_outbox_pending", &f), Some(0.0));
    let lag = gauge(&after, "mentiond_source_lag_seconds", &tickets).unwrap();
    assert!((110.0..3600.0).contains(&lag), "lag {lag}");
    let last_success = gauge(
        &after,
        "mentiond_source_last_success_timestamp_seconds",
        &tickets,
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        (now - 60.0..=now + 1.0).contains(&last_success),
        "{last_success} vs {now}"
    );
    assert_eq!(
        counter(&after, "mentiond_source_errors_total", &tickets),
        Some(0.0)
    );
    daemon.stop();
}

/// `/readyz`'s status and JSON body.
async fn readyz(address: &str) -> (u16, Json) {
    let response = reqwest::get(format!("http://{address}/readyz"))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_fails_while_a_source_keeps_failing_and_recovers_with_it() {
    let feed = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rss"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&feed)
        .await;
    let workspace = Workspace::new(&format!(
        "[poll]\nbackoff_initial = \"100ms\"\nbackoff_max = \"200ms\"\n\n[[sources]]\nkind = \"feed\"\nname = \"news\"\nurl = \"{}/rss\"\ninterval = \"200ms\"\n\n{API}ready_failing_intervals = 2\n",
        feed.uri()
    ));
    let daemon = workspace.start();
    let address = api_address(&daemon.log_text());
    wait_for_async("readyz to fail", Duration::from_secs(20), || {
        let address = address.clone();
        async move { readyz(&address).await.0 == 503 }
    })
    .await;
    // The source keeps failing, so it stays so.
    let (status, body) = readyz(&address).await;
    assert_eq!(status, 503);
    assert_eq!(body["ready"], false);
    assert_eq!(body["failing_sources"], serde_json::json!(["news"]));
    let reason = body["reasons"][0].as_str().unwrap();
    assert!(
        reason.starts_with("source news failing for ")
            && reason.ends_with("(more than 2 intervals of 200ms)"),
        "{reason}"
    );
    let healthz = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200, "alive while not ready");
    let failing = scrape(&address).await;
    let news = [("source", "news")];
    assert!(counter(&failing, "mentiond_source_errors_total", &news).unwrap() >= 2.0);
    assert!(gauge(&failing, "mentiond_source_consecutive_failures", &news).unwrap() >= 2.0);
    assert_eq!(
        gauge(
            &failing,
            "mentiond_source_last_success_timestamp_seconds",
            &news
        ),
        None,
        "never succeeded"
    );

    feed.reset().await;
    Mock::given(method("GET"))
        .and(path("/rss"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>news</title><link>https://news.example/</link><description>d</description></channel></rss>"#,
            "application/rss+xml",
        ))
        .mount(&feed)
        .await;
    wait_for_async("readyz to pass again", Duration::from_secs(20), || {
        let address = address.clone();
        async move { readyz(&address).await == (200, serde_json::json!({"ready": true})) }
    })
    .await;
    let recovered = scrape(&address).await;
    assert_eq!(
        gauge(&recovered, "mentiond_source_consecutive_failures", &news),
        Some(0.0)
    );
    daemon.stop();
}
