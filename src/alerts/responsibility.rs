//! Responsibility: a hit is open until someone answers it: a reply on the platform
//! from one of the brand's `own_handles` (recognised by routing's `OwnHandles` and
//! applied in the batch transaction), `mentiond ack`, or the HTTP API. The
//! [`EscalationLoop`] escalates hits still open after their route's SLA, once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use super::Wakers;
use crate::routing::Router;
use crate::store::{StoreError, StoreHandle};

/// Open hits read per page of an escalation check.
const PAGE: usize = 500;

/// Checks for overdue hits every `every` and enqueues their escalations.
pub struct EscalationLoop {
    /// The routes in force (with their SLA and `escalate_to`), read at each check so
    /// a reload applies from the next one.
    pub router: CurrentRouter,
    /// The store.
    pub store: StoreHandle,
    /// Delivery workers to wake when escalations were enqueued.
    pub wakers: Arc<Wakers>,
    /// Time between checks.
    pub every: Duration,
    /// Stops the loop between checks.
    pub cancel: CancellationToken,
}

/// Reads the router in force (the one of the current snapshot).
pub type CurrentRouter = Arc<dyn Fn() -> Arc<Router> + Send + Sync>;

/// Runs `check` at the time every `period` until `cancel`, waking every delivery
/// worker after a check that enqueued deliveries (it returns how many).
pub(super) async fn every<F, Fut>(
    period: Duration,
    cancel: &CancellationToken,
    wakers: &Wakers,
    check: F,
) where
    F: Fn(DateTime<Utc>) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(period) => {}
        }
        if check(Utc::now()).await > 0 {
            wakers.wake_all();
        }
    }
}

impl EscalationLoop {
    /// Runs until cancelled, checking once at start and then every `every`; a check
    /// finds nothing to do while no route escalates.
    pub async fn run(self) {
        let this = &self;
        let check = |now| async move {
            match this.check(now).await {
                Ok(0) => 0,
                Ok(escalations) => {
                    info!(escalations, "open hits past their SLA escalated");
                    escalations
                }
                Err(err) => {
                    error!(error = %err, "escalation check failed");
                    0
                }
            }
        };
        // What fell overdue while the daemon was down is escalated at once, not a
        // period after the restart.
        if check(Utc::now()).await > 0 {
            self.wakers.wake_all();
        }
        every(self.every, &self.cancel, &self.wakers, check).await;
    }

    /// One check at `now`: escalates every open hit past its route's SLA, marking it
    /// so it is never escalated again. Returns how many deliveries were enqueued.
    pub async fn check(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        self.check_with(now, Arc::new(|| {})).await
    }

    /// [`EscalationLoop::check`], running `between` after a page of open hits is read
    /// and planned and before its escalations are written, where tests land a
    /// concurrent acknowledgement.
    async fn check_with(
        &self,
        now: DateTime<Utc>,
        between: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<usize, StoreError> {
        // One router for the whole check, whatever a reload swaps meanwhile.
        let router = (self.router)();
        let Some(longest) = router.longest_sla() else {
            return Ok(0);
        };
        // Hits found more than a day before the longest SLA ran out are history, not
        // something to page anyone about after a long outage.
        let from = now - longest - chrono::Duration::days(1);
        let mut after = 0;
        let mut enqueued = 0;
        // Page by hit id, so open hits that no route escalates can never crowd out
        // the overdue ones behind them.
        loop {
            let router = Arc::clone(&router);
            let between = Arc::clone(&between);
            let (page_len, last, count) = self
                .store
                .call(move |store| -> Result<(usize, i64, usize), StoreError> {
                    let open = store.open_hits(from, now, after, PAGE)?;
                    let last = open.last().map_or(after, |hit| hit.hit_id.0);
                    let (escalations, overdue) = router.plan_escalations(&open, now);
                    between();
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
    use crate::model::{HitId, Post, ReceiverName};
    use crate::pipeline::tests::commit_matched;
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
            escalate_to: escalate_to.iter().map(|r| ReceiverName::from(*r)).collect(),
            ..crate::routing::tests::route(&["hook"])
        }
    }

    /// Stores one Turkcell hit per post id, found at `at`, planned by `router`.
    fn record_hits(store: &mut Store, router: &Router, ids: &[String], at: DateTime<Utc>) {
        let posts = ids
            .iter()
            .map(|id| {
                let hit = BrandHit::exact_for_tests("Turkcell", Some("care"), "Turkcell");
                let json = format!(r#"{{"source":"x","id":"{id}","text":"Turkcell yok"}}"#);
                MatchedPost {
                    post: post(&json),
                    sentiment: Sentiment::Negative,
                    sentiment_score: 0.0,
                    hits: vec![hit],
                }
            })
            .collect();
        commit_matched(store, router, posts, at);
    }

    /// An escalation loop over `router` and `store`, checked by hand.
    fn escalation_loop(router: &Arc<Router>, store: &StoreHandle) -> EscalationLoop {
        let router = Arc::clone(router);
        EscalationLoop {
            router: Arc::new(move || Arc::clone(&router)),
            store: store.clone(),
            wakers: Arc::default(),
            every: Duration::from_secs(30),
            cancel: CancellationToken::new(),
        }
    }

    #[tokio::test]
    async fn an_open_hit_is_escalated_once_after_its_sla_unless_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        let router = Arc::new(Router::new(vec![route(60, &["pager"])]));
        record_hits(&mut store, &router, &["p1".into(), "p2".into()], t0);
        let answered = store.open_hits(t0, t0, 0, 10).unwrap()[1].hit_id;
        store
            .ack_hit(answered, "ayse", "cli", t0 + chrono::Duration::minutes(20))
            .unwrap();
        let (store, thread) = StoreHandle::spawn(store);
        let escalations = escalation_loop(&router, &store);
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
            .call(move |store| store.due_deliveries(&"pager".into(), unix_millis(minutes(90)), 10))
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

    #[tokio::test]
    async fn each_check_reads_the_routes_in_force_so_a_reload_adding_an_sla_escalates() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        let without_sla = Router::new(vec![route(0, &[])]);
        record_hits(&mut store, &without_sla, &["p1".into()], t0);
        let (store, thread) = StoreHandle::spawn(store);
        let in_force = Arc::new(arc_swap::ArcSwap::from_pointee(without_sla));
        let read = Arc::clone(&in_force);
        let escalations = EscalationLoop {
            router: Arc::new(move || read.load_full()),
            ..escalation_loop(&Arc::new(Router::new(Vec::new())), &store)
        };
        let later = t0 + chrono::Duration::minutes(90);
        assert_eq!(escalations.check(later).await.unwrap(), 0, "no SLA yet");
        in_force.store(Arc::new(Router::new(vec![route(60, &["pager"])])));
        assert_eq!(escalations.check(later).await.unwrap(), 1);
        drop(escalations);
        drop(store);
        thread.join().unwrap();
    }

    /// A second connection (as `mentiond ack` opens) acknowledges hits after the check
    /// has read and planned them and before it writes: round after round, with none,
    /// one or both of a round's two hits acknowledged in between.
    #[tokio::test]
    async fn an_acknowledgement_between_the_read_and_the_write_is_never_escalated() {
        const ROUNDS: i64 = 200;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        let router = Arc::new(Router::new(vec![route(60, &["pager", "lead"])]));
        let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        // Each round's hits are found two hours after the last round's, so a check
        // one hour after them sees only its own round as overdue.
        let found = move |round: i64| t0 + chrono::Duration::hours(2 * round);
        let mut rounds = Vec::new();
        for round in 0..ROUNDS {
            let at = found(round);
            record_hits(
                &mut store,
                &router,
                &[format!("{round}a"), format!("{round}b")],
                at,
            );
            let hits: Vec<HitId> = store
                .open_hits(at, at, 0, 10)
                .unwrap()
                .iter()
                .map(|hit| hit.hit_id)
                .collect();
            assert_eq!(hits.len(), 2);
            // None, one, then both of the round's hits are acknowledged in between.
            let acked = hits[..(round % 3) as usize].to_vec();
            rounds.push((hits, acked));
        }

        let (go, acker_go) = std::sync::mpsc::channel::<Vec<HitId>>();
        let (acker_done, done) = std::sync::mpsc::channel::<()>();
        let acker = std::thread::spawn(move || {
            let other = Store::open(&path).unwrap();
            for hits in acker_go {
                for hit in hits {
                    let outcome = other.ack_hit(hit, "ayse", "cli", t0).unwrap();
                    assert!(matches!(outcome, crate::store::AckOutcome::Acked { .. }));
                }
                acker_done.send(()).unwrap();
            }
        });
        let to_ack = Arc::new(std::sync::Mutex::new(Vec::new()));
        let between = {
            let to_ack = Arc::clone(&to_ack);
            let done = std::sync::Mutex::new(done);
            Arc::new(move || {
                let hits = std::mem::take(&mut *to_ack.lock().unwrap());
                go.send(hits).unwrap();
                done.lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the acknowledging thread answers");
            })
        };

        let (store, thread) = StoreHandle::spawn(store);
        let escalations = escalation_loop(&router, &store);
        for (round, (_, acked)) in rounds.iter().enumerate() {
            *to_ack.lock().unwrap() = acked.clone();
            let now = found(round as i64) + chrono::Duration::hours(1);
            let enqueued = escalations
                .check_with(now, Arc::clone(&between) as Arc<dyn Fn() + Send + Sync>)
                .await
                .unwrap();
            let expected = if acked.len() == 2 { 0 } else { 2 };
            assert_eq!(enqueued, expected, "round {round}, acknowledged {acked:?}");
        }
        drop(between);
        acker.join().unwrap();

        let end = unix_millis(found(ROUNDS));
        let acked: Vec<HitId> = rounds.iter().flat_map(|(_, acked)| acked.clone()).collect();
        let expected: Vec<HitId> = rounds
            .iter()
            .flat_map(|(hits, acked)| hits.iter().filter(|h| !acked.contains(h)).copied())
            .collect();
        for receiver in ["pager", "lead"] {
            let due = store
                .call(move |store| store.due_deliveries(&receiver.into(), end, 1000))
                .await
                .unwrap()
                .unwrap();
            let with_open_hits = rounds.iter().filter(|(_, acked)| acked.len() < 2);
            assert_eq!(due.len(), with_open_hits.count());
            let mut escalated = Vec::new();
            for delivery in due {
                assert_eq!(delivery.kind, crate::store::DeliveryKind::Escalation);
                let id = delivery.id.clone();
                let (hits, total) = store
                    .call(move |store| store.delivery_hits(&id, 10))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(total, hits.len());
                assert_eq!(delivery.max_hits, total, "sized for the hits it carries");
                escalated.extend(hits.iter().map(|hit| hit.hit_id));
            }
            escalated.sort_unstable();
            assert!(
                escalated.iter().all(|hit| !acked.contains(hit)),
                "an acknowledged hit was escalated to {receiver}"
            );
            assert_eq!(escalated, expected, "every open hit escalated once");
        }
        drop(escalations);
        drop(store);
        thread.join().unwrap();
    }
}
