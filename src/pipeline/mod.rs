//! The pipeline connects the stages: it receives each source's page, runs the matcher
//! on every post, and commits posts, hits, the source cursor and the planned
//! deliveries in one store transaction, then wakes the delivery workers.
//!
//! Backfill lives here and only here: while a source catches up on its first run,
//! hits on posts older than `backfill` are stored but get no deliveries, so a new
//! install does not flood the team with last week's mentions.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::{Instrument, error, info, info_span, warn};

pub mod poll_loop;

use crate::alerts::responsibility::OwnHandles;
use crate::matcher::SharedMatcher;
use crate::model::Post;
use crate::routing::Router;
use crate::store::{BatchOutcome, NewBatch, StoreError, StoreHandle};

/// One page from a source, with a channel to report when it is committed.
#[derive(Debug)]
pub struct Batch {
    /// Source name (the cursor's key).
    pub source: String,
    /// Posts of the page.
    pub posts: Vec<Post>,
    /// Cursor to commit with them.
    pub cursor: Option<String>,
    /// The source is on its first run (no committed cursor before it started).
    pub backfilling: bool,
    /// Told the outcome once the transaction committed or failed.
    pub done: oneshot::Sender<Result<BatchOutcome, StoreError>>,
}

/// The single task between the sources and the store.
pub struct Pipeline {
    /// Pages from every poll loop; the pipeline ends when all senders are gone.
    pub batches: mpsc::Receiver<Batch>,
    /// The compiled keywords; the current matcher is taken once per batch, so a reload
    /// applies from the next batch on.
    pub matcher: Arc<SharedMatcher>,
    /// Routes hits to receivers.
    pub router: Arc<Router>,
    /// Recognises replies from the brands' own accounts, which acknowledge hits.
    pub own_handles: Arc<OwnHandles>,
    /// The store.
    pub store: StoreHandle,
    /// One per delivery worker, woken after deliveries were enqueued.
    pub wakers: Vec<Arc<Notify>>,
    /// On a first run, posts older than this are stored but not alerted.
    pub backfill: Duration,
}

impl Pipeline {
    /// Processes batches until every sender is dropped, finishing the one in flight.
    pub async fn run(mut self) {
        while let Some(batch) = self.batches.recv().await {
            let span =
                info_span!("process_batch", source = %batch.source, n_posts = batch.posts.len());
            self.process(batch).instrument(span).await;
        }
        info!("pipeline drained");
    }

    async fn process(&self, batch: Batch) {
        let now = Utc::now();
        let replies = self.own_handles.replies(&batch.posts, now);
        let matcher = self.matcher.current();
        let posts: Vec<_> = batch
            .posts
            .into_iter()
            .filter_map(|post| {
                let hits = matcher.match_post(&post);
                (!hits.is_empty()).then_some((post, hits))
            })
            .collect();
        for variant in matcher.take_noisy() {
            warn!(
                brand = %variant.brand,
                variant = %variant.variant,
                hits = variant.hits,
                "generated typo switched off: it fires like a word of its own (list it under `misspellings` to keep it)"
            );
        }
        let router = Arc::clone(&self.router);
        let alert_from = batch
            .backfilling
            .then(|| chrono::Duration::from_std(self.backfill).ok())
            .flatten()
            .map(|backfill| now - backfill);
        let new_batch = NewBatch {
            source: batch.source,
            cursor: batch.cursor,
            posts,
            now,
            replies,
        };
        let result = self
            .store
            .call(move |store| {
                store.record_batch(new_batch, |hits| match alert_from {
                    None => router.plan(hits, now),
                    Some(from) => {
                        let recent: Vec<_> = hits
                            .iter()
                            .filter(|hit| hit.post.created_at.is_none_or(|at| at >= from))
                            .cloned()
                            .collect();
                        router.plan(&recent, now)
                    }
                })
            })
            .await
            .and_then(|result| result);
        match &result {
            Ok(outcome) if outcome.new_hits > 0 || outcome.acked > 0 => {
                info!(
                    new_posts = outcome.new_posts,
                    new_hits = outcome.new_hits,
                    deliveries = outcome.deliveries,
                    acked = outcome.acked,
                    "hits stored"
                );
                if outcome.deliveries > 0 {
                    self.wakers.iter().for_each(|wake| wake.notify_one());
                }
            }
            Ok(_) => {}
            Err(err) => error!(error = %err, "batch not stored"),
        }
        // The poll loop may be gone (shutdown); the commit stands either way.
        let _ = batch.done.send(result);
    }
}
