//! Responsibility: a hit is open until someone answers it: a reply on the platform
//! from one of the brand's `own_handles` (recognised by routing's `OwnHandles` and
//! applied in the batch transaction), `mentiond ack`, or the HTTP API. The
//! [`EscalationLoop`] escalates hits still open after their route's SLA, once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::routing::Router;
use crate::store::{StoreError, StoreHandle};

/// Open hits read per page of an escalation check.
const PAGE: usize = 500;

/// Checks for overdue hits every `every` and enqueues their escalations.
pub struct EscalationLoop {
    /// Routes with their SLA and `escalate_to`.
    pub router: Arc<Router>,
    /// The store.
    pub store: StoreHandle,
    /// Delivery workers to wake when escalations were enqueued.
    pub wakers: Vec<Arc<Notify>>,
    /// Time between checks.
    pub every: Duration,
    /// Stops the loop between checks.
    pub cancel: CancellationToken,
}

impl EscalationLoop {
    /// Runs until cancelled; returns at once when no route escalates.
    pub async fn run(self) {
        if self.router.longest_sla().is_none() {
            return;
        }
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep(self.every) => {}
            }
            match self.check(Utc::now()).await {
                Ok(0) => {}
                Ok(escalations) => {
                    info!(escalations, "open hits past their SLA escalated");
                    self.wakers.iter().for_each(|wake| wake.notify_one());
                }
                Err(err) => error!(error = %err, "escalation check failed"),
            }
        }
    }

    /// One check at `now`: escalates every open hit past its route's SLA, marking it
    /// so it is never escalated again. Returns how many deliveries were enqueued.
    pub async fn check(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let Some(longest) = self.router.longest_sla() else {
            return Ok(0);
        };
        let router = Arc::clone(&self.router);
        // Hits found more than a day before the longest SLA ran out are history, not
        // something to page anyone about after a long outage.
        let from = now - longest - chrono::Duration::days(1);
        let mut after = 0;
        let mut enqueued = 0;
        // Page by hit id, so open hits that no route escalates can never crowd out
        // the overdue ones behind them.
        loop {
            let router = Arc::clone(&router);
            let (page_len, last, count) = self
                .store
                .call(move |store| -> Result<(usize, i64, usize), StoreError> {
                    let open = store.open_hits(from, now, after, PAGE)?;
                    let last = open.last().map_or(after, |hit| hit.hit_id);
                    let (escalations, overdue) = router.plan_escalations(&open, now);
                    let count = if overdue.is_empty() {
                        0
                    } else {
                        store.record_escalations(&escalations, &overdue, now)?
                    };
                    Ok((open.len(), last, count))
                })
                .await
                .and_then(|result| result)?;
            enqueued += count;
            if page_len < PAGE {
                return Ok(enqueued);
            }
            after = last;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::BrandHit;
    use crate::model::Post;
    use crate::pipeline::{MatchedPage, commit_page};
    use crate::routing::RouteConfig;
    use crate::sentiment::Sentiment;
    use crate::store::{MatchedPost, Store, unix_millis};
    use chrono::TimeZone;

    fn post(json: &str) -> Post {
        Post::from_json(json).unwrap()
    }

    fn route(sla_minutes: u64, escalate_to: &[&str]) -> RouteConfig {
        RouteConfig {
            group_wait: Duration::ZERO,
            group_interval: Duration::ZERO,
            sla: Duration::from_secs(sla_minutes * 60),
            escalate_to: escalate_to.iter().map(|r| r.to_string()).collect(),
            ..crate::routing::tests::route(&["hook"])
        }
    }

    #[tokio::test]
    async fn an_open_hit_is_escalated_once_after_its_sla_unless_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        let router = Arc::new(Router::new(vec![route(60, &["pager"])]));
        let posts = ["p1", "p2"]
            .iter()
            .map(|id| {
                let hit = BrandHit::exact_for_tests("Turkcell", Some("care"), "Turkcell");
                MatchedPost {
                    post: post(&format!(
                        r#"{{"source":"x","id":"{id}","text":"Turkcell yok"}}"#
                    )),
                    sentiment: Sentiment::Negative,
                    hits: vec![hit],
                }
            })
            .collect();
        let page = MatchedPage {
            source: "x".into(),
            cursor: None,
            posts,
            replies: Vec::new(),
            alert_from: None,
            now: t0,
        };
        commit_page(&mut store, &router, page).unwrap();
        let answered = store.open_hits(t0, t0, 0, 10).unwrap()[1].hit_id;
        store
            .ack_hit(answered, "ayse", "cli", t0 + chrono::Duration::minutes(20))
            .unwrap();
        let (store, thread) = StoreHandle::spawn(store);
        let escalations = EscalationLoop {
            router: Arc::clone(&router),
            store: store.clone(),
            wakers: Vec::new(),
            every: Duration::from_secs(30),
            cancel: CancellationToken::new(),
        };
        let minutes = move |m| t0 + chrono::Duration::minutes(m);
        assert_eq!(
            escalations.check(minutes(59)).await.unwrap(),
            0,
            "within the SLA"
        );
        assert_eq!(escalations.check(minutes(60)).await.unwrap(), 1);
        assert_eq!(
            escalations.check(minutes(90)).await.unwrap(),
            0,
            "only once"
        );
        let due = store
            .call(move |store| store.due_deliveries("pager", unix_millis(minutes(90)), 10))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(due.len(), 1);
        let id = due[0].id.clone();
        let (hits, total) = store
            .call(move |store| store.delivery_hits(&id, 10))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(total, 1, "the acknowledged hit is not escalated");
        assert_eq!(hits[0].post.id, "p1");
        drop(escalations);
        drop(store);
        thread.join().unwrap();
    }
}
