//! Supervision with injected faults: the daemon (`app::run_with`, the library entry
//! the binary uses) against a real SQLite file, a real JSON-lines source and file
//! receiver, plus a source or notifier that panics. A panicking source is restarted
//! while the others keep delivering; a panicking delivery worker or store thread ends
//! the run with an error naming the task (the binary maps it to exit code 1).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mentiond::alerts::{Alert, DeliveryError, Notifier};
use mentiond::app::{ExtraSource, Extras, run_with};
use mentiond::model::{Post, ReceiverName, SourceName};
use mentiond::sources::{Page, Source, SourceError};
use mentiond::store::Delivery;
use tokio_util::sync::CancellationToken;

use crate::support::{Workspace, wait_for_async};

const WAIT: Duration = Duration::from_secs(20);

/// A jsonl source with one Turkcell complaint, a file receiver and fast retries.
fn workspace() -> Workspace {
    let workspace = Workspace::new(
        r#"
[poll]
backoff_initial = "50ms"
backoff_max = "100ms"

[[sources]]
kind = "jsonl"
name = "tickets"
path = "{dir}/tickets.jsonl"
interval = "100ms"

[[receivers]]
kind = "file"
name = "care-file"
path = "{dir}/alerts.jsonl"

[[routes]]
receivers = ["care-file"]
"#,
    );
    std::fs::write(
        workspace.path("tickets.jsonl"),
        r#"{"source":"mail","id":"ticket-1","text":"Turkcell faturam iki kat geldi"}"#.to_string()
            + "\n",
    )
    .unwrap();
    workspace
}

fn load(workspace: &Workspace) -> mentiond::config::Config {
    mentiond::config::load(Some(&workspace.config_path())).unwrap()
}

/// Panics on its first `panics` fetches (counted across restarts), then returns one
/// post about another brand than the tickets (so it is not grouped into their message).
struct BrokenSource {
    name: SourceName,
    fetches: Arc<AtomicUsize>,
    panics: usize,
}

#[async_trait::async_trait]
impl Source for BrokenSource {
    fn name(&self) -> &SourceName {
        &self.name
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
        let fetch = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(
            fetch > self.panics,
            "injected fault: fetch {fetch} of broken"
        );
        let post: Post = serde_json::from_str(
            r#"{"source":"broken","id":"recovered-1","text":"THY uçuşu yine rötar yaptı"}"#,
        )
        .unwrap();
        Ok(Page {
            posts: if cursor.is_none() {
                vec![post]
            } else {
                Vec::new()
            },
            cursor: Some("done".to_string()),
            ..Page::default()
        })
    }
}

/// Takes the place of the `care-file` receiver and panics where told.
struct PanickingNotifier {
    name: ReceiverName,
    in_render: bool,
}

#[async_trait::async_trait]
impl Notifier for PanickingNotifier {
    fn name(&self) -> &ReceiverName {
        &self.name
    }

    fn render(&self, alert: &Alert<'_>) -> String {
        assert!(!self.in_render, "injected fault: render");
        alert.delivery_id.to_string()
    }

    async fn deliver(&self, _delivery: &Delivery) -> Result<(), DeliveryError> {
        panic!("injected fault: deliver")
    }
}

/// Runs the daemon with `notifier` until it ends on its own (bounded), asserts that
/// its error contains `expected` and returns the workspace to look at.
async fn assert_run_fails_with(notifier: PanickingNotifier, expected: &str) -> Workspace {
    let workspace = workspace();
    let extras = Extras {
        notifiers: vec![Arc::new(notifier)],
        ..Extras::default()
    };
    let run = run_with(load(&workspace), CancellationToken::new(), extras);
    let result = tokio::time::timeout(WAIT, run)
        .await
        .expect("the daemon kept running after a critical task died");
    let error = format!("{:#}", result.expect_err("run must fail"));
    assert!(error.contains(expected), "{error}");
    workspace
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_source_is_restarted_while_the_other_source_keeps_delivering() {
    let workspace = workspace();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&fetches);
    let extras = Extras {
        sources: vec![ExtraSource {
            interval: Duration::from_millis(100),
            make: Box::new(move || {
                Box::new(BrokenSource {
                    name: "broken".into(),
                    fetches: Arc::clone(&counted),
                    panics: 2,
                })
            }),
        }],
        ..Extras::default()
    };
    let shutdown = CancellationToken::new();
    let daemon = tokio::spawn(run_with(load(&workspace), shutdown.clone(), extras));

    let alerts = workspace.path("alerts.jsonl");
    wait_for_async("alerts from both sources", WAIT, || async {
        let text = std::fs::read_to_string(&alerts).unwrap_or_default();
        text.contains("ticket-1") && text.contains("recovered-1")
    })
    .await;
    assert!(
        !daemon.is_finished(),
        "a panicking source must not stop the daemon"
    );
    assert!(fetches.load(Ordering::SeqCst) >= 3);

    shutdown.cancel();
    let result = tokio::time::timeout(WAIT, daemon).await.unwrap().unwrap();
    assert!(result.is_ok(), "{result:?}");
    let hits = workspace.hits();
    let posts: Vec<&str> = hits
        .iter()
        .filter_map(|hit| hit["post"]["id"].as_str())
        .collect();
    assert!(
        posts.contains(&"ticket-1") && posts.contains(&"recovered-1"),
        "{hits:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_delivery_worker_ends_the_run_with_an_error_naming_it() {
    let notifier = PanickingNotifier {
        name: "care-file".into(),
        in_render: false,
    };
    let expected = "task delivery:care-file panicked: injected fault: deliver";
    let workspace = assert_run_fails_with(notifier, expected).await;
    // The hit was committed before the worker died, so a restart delivers it.
    assert_eq!(workspace.hits().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_thread_killed_by_a_panicking_job_ends_the_run_with_an_error() {
    // The body is rendered inside a store job: this panic unwinds the store thread.
    let notifier = PanickingNotifier {
        name: "care-file".into(),
        in_render: true,
    };
    assert_run_fails_with(notifier, "task store panicked: injected fault: render").await;
}
