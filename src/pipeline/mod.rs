//! The pipeline connects the stages: each source's poll loop ([`poll_loop`]) hands it
//! pages; it runs the matcher on every post, reads each post's tone once, labels the
//! hits, plans their deliveries with the router (a pure stage), and commits posts,
//! hits, deliveries and the source cursor in one store transaction, then wakes the
//! delivery workers.
//!
//! Backfill lives here and only here: while a source catches up on its first run,
//! hits on posts older than `backfill` are stored but get no deliveries, so a new
//! install does not flood the team with last week's mentions.

pub mod poll_loop;
pub mod snapshot;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, info_span, warn};

use crate::alerts::Wakers;
use crate::escape;
use crate::metrics::{Metrics, StoreWrite};
use crate::model::{Post, SourceName};
use crate::routing::{GroupRef, HitKey, HitLabels, OwnReply, RoutedHit, Router};
use crate::service::Pulse;
use crate::store::{
    BatchOutcome, MatchedPost, NewBatch, NoisyVariant, Store, StoreError, StoreHandle,
};
use snapshot::SharedKeywords;

/// One page from a source, with a channel to report when it is committed.
#[derive(Debug)]
pub struct Batch {
    /// Source name (the cursor's key).
    pub source: SourceName,
    /// Posts of the page.
    pub posts: Vec<Post>,
    /// Cursor to commit with them.
    pub cursor: Option<String>,
    /// The source is on its first run (no committed cursor before it started).
    pub backfilling: bool,
    /// Told the outcome once the transaction committed or failed.
    pub done: oneshot::Sender<Result<BatchOutcome, StoreError>>,
    /// Handed over before the source's previous page was confirmed committed: it
    /// fails, uncommitted, when that page failed.
    pub follows_unconfirmed: bool,
}

/// The single task between the sources and the store.
pub struct Pipeline {
    /// Pages from every poll loop; the pipeline ends when all senders are gone.
    pub batches: mpsc::Receiver<Batch>,
    /// Everything compiled from the keywords and routes; the current snapshot is taken
    /// once per batch, so a reload applies from the next batch on.
    pub keywords: Arc<SharedKeywords>,
    /// The store.
    pub store: StoreHandle,
    /// The delivery workers, woken after deliveries were enqueued.
    pub wakers: Arc<Wakers>,
    /// On a first run, posts older than this are stored but not alerted.
    pub backfill: Duration,
    /// Counts hits, noisy variants switched off, match and commit durations.
    pub metrics: Arc<Metrics>,
    /// The watchdog's liveness stamp: beats while waiting for a batch and after each.
    pub pulse: Pulse,
}

/// A matched page on its way to the store.
#[derive(Debug)]
pub struct MatchedPage {
    /// Source whose cursor advances.
    pub source: SourceName,
    /// Cursor to commit with the page.
    pub cursor: Option<String>,
    /// Posts with at least one hit.
    pub posts: Vec<MatchedPost>,
    /// Replies from the brands' own handles.
    pub replies: Vec<OwnReply>,
    /// Hits on posts written before this are stored without alert (a first run).
    pub alert_from: Option<DateTime<Utc>>,
    /// Detection time.
    pub now: DateTime<Utc>,
}

/// What committing a page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// What the store changed.
    pub stored: BatchOutcome,
    /// New hits stored without alert because their posts are older than the backfill
    /// window of a first run.
    pub held_for_backfill: usize,
    /// Brand and first term's kind of each hit on a post not stored before.
    pub new_hits: Vec<(Arc<str>, &'static str)>,
}

/// A page whose commit runs on the store's thread while the next page is matched.
struct InFlight {
    source: SourceName,
    done: oneshot::Sender<Result<BatchOutcome, StoreError>>,
    started: Instant,
    commit: std::pin::Pin<Box<dyn std::future::Future<Output = Committed> + Send>>,
}

/// The store call for one page: the commit's outcome, and the variants feedback
/// switched off as the store has them right after it.
type Committed = Result<
    (
        Result<PageOutcome, StoreError>,
        Result<Vec<(String, String)>, StoreError>,
    ),
    StoreError,
>;

/// A matched page ready to commit.
struct Prepared {
    page: MatchedPage,
    router: Arc<Router>,
    noisy: Vec<NoisyVariant>,
    done: oneshot::Sender<Result<BatchOutcome, StoreError>>,
    follows_unconfirmed: bool,
}

impl Pipeline {
    /// Processes batches until every sender is dropped, finishing the one in flight.
    ///
    /// Matching and committing overlap: a page is matched while the page before it
    /// commits on the store's thread, and is committed only after it, so commits keep
    /// the order pages came in. When a source's page failed to commit, a page of that
    /// source handed over behind it (`Batch::follows_unconfirmed`) fails too,
    /// uncommitted, so no cursor lands past posts that were not stored.
    pub async fn run(mut self) {
        let mut in_flight: Option<InFlight> = None;
        let mut failed: HashSet<SourceName> = HashSet::new();
        // The variants feedback switched off: read before matching while no commit is
        // in flight, and right after each commit, so matching never waits for one.
        let mut feedback = self.read_feedback().await;
        loop {
            let next = match in_flight.as_mut() {
                Some(flight) => tokio::select! {
                    committed = flight.commit.as_mut() => {
                        let flight = in_flight.take().expect("a commit in flight");
                        if let Some(latest) = self.finish(flight, committed, &mut failed) {
                            feedback = Some(latest);
                        }
                        continue;
                    }
                    batch = self.batches.recv() => batch,
                },
                None => self.pulse.waiting(self.batches.recv()).await,
            };
            let Some(batch) = next else { break };
            if in_flight.is_none()
                && let Some(latest) = self.read_feedback().await
            {
                feedback = Some(latest);
            }
            let span =
                info_span!("process_batch", source = %batch.source, n_posts = batch.posts.len());
            let prepared = span.in_scope(|| self.prepare(batch, feedback.clone()));
            if let Some(flight) = in_flight.take()
                && let Some(latest) = self.land(flight, &mut failed).await
            {
                feedback = Some(latest);
            }
            let source = prepared.page.source.clone();
            if prepared.follows_unconfirmed && failed.contains(&source) {
                error!(parent: &span, "batch not stored: the page before it failed to commit");
                let _ = prepared.done.send(Err(StoreError::EarlierPageFailed));
                continue;
            }
            in_flight = Some(self.submit(prepared));
            self.pulse.beat();
        }
        if let Some(flight) = in_flight.take() {
            self.land(flight, &mut failed).await;
        }
        info!("pipeline drained");
    }

    /// The variants people's feedback switched off, as the store has them now (given
    /// beside the running daemon, `mentiond feedback`, or through it); `None` (logged)
    /// when the store cannot say, so the matcher keeps what it had.
    async fn read_feedback(&self) -> Option<Vec<(String, String)>> {
        let variants = self
            .store
            .call(|store| store.feedback_off_variants())
            .await
            .and_then(|result| result);
        match variants {
            Ok(variants) => Some(variants),
            Err(err) => {
                error!(error = %err, "cannot read variants switched off by feedback");
                None
            }
        }
    }

    /// Matches a batch with the snapshot in force (feedback applied), reads each
    /// matched post's tone, and notes the typos switched off as noisy.
    fn prepare(&self, batch: Batch, feedback: Option<Vec<(String, String)>>) -> Prepared {
        let now = Utc::now();
        let keywords = self.keywords.current();
        if let Some(feedback) = feedback {
            keywords.matcher.set_feedback_off(feedback);
        }
        let matching = Instant::now();
        let replies = keywords.own_handles.replies(&batch.posts, now);
        let posts: Vec<MatchedPost> = batch
            .posts
            .into_iter()
            .filter_map(|post| {
                let hits = keywords.matcher.match_post(&post);
                (!hits.is_empty()).then(|| {
                    let reading = keywords.lexicon.score(&post.text);
                    MatchedPost {
                        sentiment: reading.label,
                        sentiment_score: reading.score,
                        post,
                        hits,
                    }
                })
            })
            .collect();
        self.metrics.observe_match(matching.elapsed());
        let noisy: Vec<NoisyVariant> = keywords
            .matcher
            .take_noisy()
            .into_iter()
            .map(|variant| {
                self.metrics.noisy_variant_switched_off(&variant.brand);
                warn!(
                    brand = %escape::log(&variant.brand),
                    variant = %escape::log(&variant.variant),
                    hits = variant.hits,
                    "generated typo switched off: it fires like a word of its own (list it under `misspellings` to keep it)"
                );
                NoisyVariant {
                    brand: variant.brand,
                    variant: variant.variant,
                    hits: variant.hits,
                    switched_off_at: now,
                }
            })
            .collect();
        let alert_from = batch
            .backfilling
            .then(|| chrono::Duration::from_std(self.backfill).ok())
            .flatten()
            .map(|backfill| now - backfill);
        Prepared {
            page: MatchedPage {
                source: batch.source,
                cursor: batch.cursor,
                posts,
                replies,
                alert_from,
                now,
            },
            router: Arc::clone(&keywords.router),
            noisy,
            done: batch.done,
            follows_unconfirmed: batch.follows_unconfirmed,
        }
    }

    /// Queues the page's commit on the store's thread; the returned flight resolves
    /// when it ran.
    fn submit(&self, prepared: Prepared) -> InFlight {
        let Prepared {
            page,
            router,
            noisy,
            done,
            ..
        } = prepared;
        let source = page.source.clone();
        let store = self.store.clone();
        let commit = Box::pin(async move {
            store
                .call(move |store| {
                    if !noisy.is_empty()
                        && let Err(err) = store.record_noisy(&noisy)
                    {
                        // Kept so the next matcher (a reload, a restart) starts with
                        // them off; the page commits regardless.
                        error!(error = %err, "cannot record switched-off typos");
                    }
                    let outcome = commit_page(store, &router, page);
                    (outcome, store.feedback_off_variants())
                })
                .await
        });
        InFlight {
            source,
            done,
            started: Instant::now(),
            commit,
        }
    }

    /// Waits for a commit in flight and [`Pipeline::finish`]es it.
    async fn land(
        &self,
        mut flight: InFlight,
        failed: &mut HashSet<SourceName>,
    ) -> Option<Vec<(String, String)>> {
        let committed = flight.commit.as_mut().await;
        self.finish(flight, committed, failed)
    }

    /// Reports a commit to its poll loop, logs and counts it and wakes the delivery
    /// workers; returns the feedback variants read after it.
    fn finish(
        &self,
        flight: InFlight,
        committed: Committed,
        failed: &mut HashSet<SourceName>,
    ) -> Option<Vec<(String, String)>> {
        self.metrics.observe_commit(flight.started.elapsed());
        let (result, feedback) = match committed {
            Ok((result, feedback)) => (result, feedback.ok()),
            Err(err) => (Err(err), None),
        };
        let span = info_span!("process_batch", source = %flight.source);
        match &result {
            // Not a write of its own: the page before it failed, and was counted.
            Err(StoreError::EarlierPageFailed) => {}
            Err(err) => self.metrics.store_write(StoreWrite::Commit, Err(err)),
            Ok(_) => self.metrics.store_write(StoreWrite::Commit, Ok(())),
        }
        match &result {
            Ok(outcome) => {
                failed.remove(&flight.source);
                let stored = outcome.stored;
                for (brand, kind) in &outcome.new_hits {
                    self.metrics.hit(brand, kind);
                }
                if stored.new_hits > 0 || stored.acked > 0 {
                    info!(
                        parent: &span,
                        new_posts = stored.new_posts,
                        new_hits = stored.new_hits,
                        deliveries = stored.deliveries,
                        acked = stored.acked,
                        "hits stored"
                    );
                }
                if outcome.held_for_backfill > 0 {
                    info!(
                        parent: &span,
                        held = outcome.held_for_backfill,
                        backfill = %humantime::format_duration(self.backfill),
                        "hits stored without alert: their posts are older than the backfill window of a first run"
                    );
                }
                if stored.deliveries > 0 {
                    self.wakers.wake_all();
                }
            }
            Err(err) => {
                failed.insert(flight.source.clone());
                error!(parent: &span, error = %err, "batch not stored");
            }
        }
        // The poll loop may be gone (shutdown); the commit stands either way.
        let _ = flight.done.send(result.map(|outcome| outcome.stored));
        feedback
    }
}

/// Routes and commits one matched page: reads what the store knows (which posts are
/// stored already, each group's message history), plans the new hits' deliveries with
/// the router (pure), then commits posts, hits, deliveries, replies and cursor in one
/// transaction. It runs as one call on the store's thread, so no message is rendered
/// between the read and the commit.
pub fn commit_page(
    store: &mut Store,
    router: &Router,
    page: MatchedPage,
) -> Result<PageOutcome, StoreError> {
    // Posts are keyed by their own `source` (a jsonl line may name its channel), not
    // by the name of the configured source that read them.
    let stored = store.stored_posts(
        page.posts
            .iter()
            .map(|p| (p.post.source.as_str(), p.post.id.as_str())),
    )?;
    let mut seen = HashSet::new();
    let mut held_for_backfill = 0;
    let mut new_hits = Vec::new();
    let mut routed = Vec::new();
    for matched in &page.posts {
        let post = &matched.post;
        let key = (post.source.as_str(), post.id.as_str());
        if stored.contains(&key) || !seen.insert(key) {
            continue;
        }
        new_hits.extend(matched.hits.iter().map(|hit| {
            let kind = hit.terms.first().map_or("none", |term| term.kind.as_str());
            (hit.brand.clone(), kind)
        }));
        let too_old = page
            .alert_from
            .is_some_and(|from| post.created_at.is_some_and(|at| at < from));
        if too_old {
            held_for_backfill += matched.hits.len();
            continue;
        }
        routed.extend(matched.hits.iter().map(|hit| RoutedHit {
            key: HitKey {
                source: post.source.clone(),
                post_id: post.id.clone(),
                brand: hit.brand.to_string(),
            },
            labels: HitLabels::of(post, hit, matched.sentiment),
        }));
    }
    let groups: Vec<GroupRef> = router.groups_of(&routed);
    let history: HashMap<_, _> = if groups.is_empty() {
        HashMap::new()
    } else {
        store.group_history(&groups)?
    };
    let deliveries = router.plan(&routed, &history, page.now);
    let stored = store.record_batch(NewBatch {
        source: page.source,
        cursor: page.cursor,
        posts: page.posts,
        deliveries,
        now: page.now,
        replies: page.replies,
    })?;
    Ok(PageOutcome {
        stored,
        held_for_backfill,
        new_hits,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::matcher::BrandHit;
    use crate::routing::RouteConfig;
    use crate::routing::tests::route;
    use crate::sentiment::Sentiment;

    fn page(ids: &[&str], now: DateTime<Utc>) -> MatchedPage {
        MatchedPage {
            // The configured source's name differs from the posts' own channel, as
            // with a jsonl file of e-mail tickets.
            source: "tickets".into(),
            cursor: None,
            posts: ids
                .iter()
                .map(|id| MatchedPost {
                    post: Post::from_json(&format!(
                        r#"{{"source":"mail","id":"{id}","text":"Turkcell yok"}}"#
                    ))
                    .unwrap(),
                    sentiment: Sentiment::Negative,
                    sentiment_score: 0.0,
                    hits: vec![BrandHit::exact_for_tests("Turkcell", None, "Turkcell")],
                })
                .collect(),
            replies: Vec::new(),
            alert_from: None,
            now,
        }
    }

    /// Commits `posts` of source `x` found at `now` as the pipeline does (no
    /// replies, no backfill): the stages after the matcher, for their tests.
    pub(crate) fn commit_matched(
        store: &mut Store,
        router: &Router,
        posts: Vec<MatchedPost>,
        now: DateTime<Utc>,
    ) -> PageOutcome {
        let page = MatchedPage {
            source: "x".into(),
            cursor: None,
            posts,
            replies: Vec::new(),
            alert_from: None,
            now,
        };
        commit_page(store, router, page).unwrap()
    }

    /// A pipeline task over `snapshot` and `store` (backfill one hour), and its input
    /// of `capacity` batches.
    fn spawn_pipeline(
        snapshot: snapshot::KeywordSnapshot,
        store: &StoreHandle,
        capacity: usize,
    ) -> (mpsc::Sender<Batch>, tokio::task::JoinHandle<()>) {
        let (batches, input) = mpsc::channel(capacity);
        let pipeline = tokio::spawn(
            Pipeline {
                batches: input,
                keywords: Arc::new(SharedKeywords::new(snapshot)),
                store: store.clone(),
                wakers: Arc::default(),
                backfill: Duration::from_secs(3600),
                metrics: Default::default(),
                pulse: Default::default(),
            }
            .run(),
        );
        (batches, pipeline)
    }

    #[test]
    fn posts_stored_before_are_left_out_of_routing_by_their_own_source_and_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let router = Router::new(vec![RouteConfig {
            group_wait: Duration::ZERO,
            ..route(&["hook"])
        }]);
        let now = Utc::now();
        commit_page(&mut store, &router, page(&["m1"], now)).unwrap();
        // The first message goes out, so the next hits open a message of their own.
        let first = store.deliveries(None, 10).unwrap().remove(0).id;
        store
            .freeze_payload(&first, "sent", crate::store::unix_millis(now))
            .unwrap();
        let outcome = commit_page(&mut store, &router, page(&["m1", "m2"], now)).unwrap();
        assert_eq!(outcome.stored.new_hits, 1);
        // The second message is planned from m2 alone: its id is the one m2 alone gets.
        let alone = page(&["m2"], now);
        let post = &alone.posts[0].post;
        let routed = [RoutedHit {
            key: HitKey {
                source: post.source.clone(),
                post_id: post.id.clone(),
                brand: "Turkcell".into(),
            },
            labels: HitLabels::of(post, &alone.posts[0].hits[0], Sentiment::Negative),
        }];
        let expected = router.plan(&routed, &HashMap::new(), now)[0].id.clone();
        let ids: Vec<_> = store
            .deliveries(None, 10)
            .unwrap()
            .into_iter()
            .map(|row| row.id)
            .collect();
        assert!(ids.contains(&expected), "{ids:?} lacks {expected}");
    }

    #[tokio::test]
    async fn the_snapshot_lexicon_reads_each_matched_posts_tone_and_the_store_keeps_its_score() {
        use crate::sentiment::{Lexicon, LexiconSource};
        use snapshot::KeywordSnapshot;
        let dir = tempfile::tempdir().unwrap();
        let (store, thread) = StoreHandle::spawn(Store::open(&dir.path().join("t.db")).unwrap());
        let rules = crate::keywords::parse_keywords(
            std::path::Path::new("keywords.toml"),
            "[[brand]]\nname = \"Turkcell\"\nterms = [\"Turkcell\"]\n",
        )
        .unwrap();
        // An extra lexicon file makes an unknown word a complaint.
        let lexicon = Lexicon::compile(&[LexiconSource {
            name: "ours.toml",
            text: "[words]\n\"zort\" = -3\n",
        }])
        .unwrap();
        let snapshot = KeywordSnapshot::new(rules, Router::new(Vec::new()))
            .unwrap()
            .with_lexicon(Arc::new(lexicon));
        let (batches, pipeline) = spawn_pipeline(snapshot, &store, 1);
        let post = |id: &str, text: &str| {
            Post::from_json(&format!(r#"{{"source":"s","id":"{id}","text":"{text}"}}"#)).unwrap()
        };
        let (done, committed) = oneshot::channel();
        batches
            .send(Batch {
                source: "s".into(),
                posts: vec![
                    post("1", "Turkcell zort"),
                    post("2", "Turkcell harika, teşekkürler"),
                    post("3", "Turkcell tarifeleri açıkladı"),
                ],
                cursor: None,
                backfilling: false,
                done,
                follows_unconfirmed: false,
            })
            .await
            .unwrap();
        committed.await.unwrap().unwrap();
        drop(batches);
        pipeline.await.unwrap();
        let stored = store
            .call(|store| store.hit_sentiments())
            .await
            .unwrap()
            .unwrap();
        drop(store);
        thread.join().unwrap();
        let labels: Vec<(&str, &str)> = stored
            .iter()
            .map(|(id, label, _)| (id.as_str(), label.as_str()))
            .collect();
        assert_eq!(
            labels,
            [("1", "negative"), ("2", "positive"), ("3", "neutral")]
        );
        let scores: Vec<f64> = stored.iter().map(|(_, _, score)| score.unwrap()).collect();
        assert!(
            scores[0] < -0.5 && scores[1] > 0.5 && scores[2] == 0.0,
            "{scores:?}"
        );
    }
    #[tokio::test]
    async fn a_page_behind_a_failed_commit_of_its_source_is_not_committed() {
        use snapshot::KeywordSnapshot;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (store, thread) = StoreHandle::spawn(Store::open(&path).unwrap());
        // Commits of source `bad` fail while the trigger exists.
        let side = rusqlite::Connection::open(&path).unwrap();
        side.execute_batch(
            "CREATE TRIGGER fail_bad BEFORE INSERT ON cursors WHEN NEW.source = 'bad'
             BEGIN SELECT RAISE(ABORT, 'injected'); END;",
        )
        .unwrap();
        let rules = crate::keywords::parse_keywords(
            std::path::Path::new("keywords.toml"),
            "[[brand]]\nname = \"Turkcell\"\nterms = [\"Turkcell\"]\n",
        )
        .unwrap();
        let snapshot = KeywordSnapshot::new(rules, Router::new(Vec::new())).unwrap();
        let (batches, pipeline) = spawn_pipeline(snapshot, &store, 8);
        let send = |source: &str, id: &str, follows_unconfirmed: bool| {
            let (done, committed) = oneshot::channel();
            let batch = Batch {
                source: source.into(),
                posts: vec![
                    Post::from_json(&format!(
                        r#"{{"source":"s","id":"{id}","text":"Turkcell {id}"}}"#
                    ))
                    .unwrap(),
                ],
                cursor: Some(id.to_string()),
                backfilling: false,
                done,
                follows_unconfirmed,
            };
            (batch, committed)
        };
        let mut results = Vec::new();
        for (source, id, follows) in [
            ("bad", "b1", false),
            ("bad", "b2", true),
            ("good", "g1", true),
        ] {
            let (batch, committed) = send(source, id, follows);
            batches.send(batch).await.unwrap();
            results.push(committed);
        }
        let mut outcomes = Vec::new();
        for committed in results {
            outcomes.push(committed.await.unwrap().map(|_| ()));
        }
        assert!(
            matches!(outcomes[0], Err(StoreError::Sqlite(_))),
            "{outcomes:?}"
        );
        assert!(
            matches!(outcomes[1], Err(StoreError::EarlierPageFailed)),
            "{outcomes:?}"
        );
        assert!(outcomes[2].is_ok(), "another source goes on: {outcomes:?}");
        // The loop's retry, from the committed cursor, commits once the fault is gone.
        side.execute_batch("DROP TRIGGER fail_bad").unwrap();
        let (batch, committed) = send("bad", "b1", false);
        batches.send(batch).await.unwrap();
        committed.await.unwrap().unwrap();
        drop(batches);
        pipeline.await.unwrap();
        let cursor = store
            .call(|store| store.cursor(&"bad".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cursor.as_deref(), Some("b1"));
        let stored = store
            .call(|store| store.stored_posts([("s", "b1"), ("s", "b2"), ("s", "g1")].into_iter()))
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.contains(&("s", "b2")), "b2 was never committed");
        assert_eq!(stored.len(), 2);
        drop(store);
        thread.join().unwrap();
    }
}
