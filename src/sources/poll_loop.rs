//! The one loop every source runs in: fetch since the committed cursor, hand the page
//! to the pipeline and wait until it is committed, then wait the interval (with
//! jitter), or back off after failures (honouring `Retry-After`). Cancellation stops
//! it between polls; a page already handed over is always waited for.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::Source;
use crate::backoff::{Backoff, jittered};
use crate::pipeline::Batch;
use crate::store::StoreHandle;

/// Everything one source's loop needs.
pub struct PollLoop {
    /// The source to drive.
    pub source: Box<dyn Source>,
    /// Time between successful polls.
    pub interval: Duration,
    /// Fraction of jitter on each wait.
    pub jitter: f64,
    /// Schedule after failures.
    pub backoff: Backoff,
    /// Where the committed cursor is read at start.
    pub store: StoreHandle,
    /// The pipeline's input.
    pub batches: mpsc::Sender<Batch>,
    /// Stops the loop.
    pub cancel: CancellationToken,
}

impl PollLoop {
    /// Runs until cancelled or until the pipeline is gone.
    pub async fn run(mut self) {
        let name = self.source.name().to_string();
        let Some(mut cursor) = self.initial_cursor(&name).await else {
            return;
        };
        let mut failures = 0u32;
        loop {
            let span = info_span!("poll", source = %name);
            let fetched = tokio::select! {
                _ = self.cancel.cancelled() => break,
                fetched = self.source.fetch(cursor.as_deref()).instrument(span.clone()) => fetched,
            };
            let wait = match fetched {
                Ok(page) => {
                    let more = page.more;
                    let not_before = page.not_before;
                    let n_posts = page.posts.len();
                    if n_posts > 0 || page.cursor != cursor {
                        match self.commit(&name, page.posts, page.cursor.clone()).await {
                            None => break,
                            Some(Ok(())) => {
                                cursor = page.cursor;
                                failures = 0;
                                debug!(parent: &span, n_posts, "page committed");
                            }
                            Some(Err(message)) => {
                                failures += 1;
                                error!(parent: &span, error = %message, "page not committed, will retry");
                                self.sleep(self.backoff.delay(failures)).await;
                                continue;
                            }
                        }
                    } else {
                        failures = 0;
                    }
                    if more {
                        Duration::ZERO
                    } else {
                        jittered(
                            self.interval.max(not_before.unwrap_or_default()),
                            self.jitter,
                        )
                    }
                }
                Err(err) => {
                    failures += 1;
                    let transient = err.is_transient();
                    let backoff = self.backoff.delay_honouring(failures, err.retry_after());
                    // A permanent error will not heal in seconds: never poll faster than usual.
                    let wait = if transient {
                        backoff
                    } else {
                        backoff.max(self.interval)
                    };
                    warn!(parent: &span, error = %err, transient, failures, wait_secs = wait.as_secs_f64(), "poll failed");
                    wait
                }
            };
            if !self.sleep(wait).await {
                break;
            }
        }
        info!(source = %name, "poll loop stopped");
    }

    /// Reads the committed cursor, retrying while the store is unavailable.
    async fn initial_cursor(&self, name: &str) -> Option<Option<String>> {
        let mut failures = 0;
        loop {
            let source = name.to_string();
            match self.store.call(move |store| store.cursor(&source)).await {
                Ok(Ok(cursor)) => return Some(cursor),
                Ok(Err(err)) => error!(source = %name, error = %err, "cannot read cursor"),
                Err(err) => error!(source = %name, error = %err, "cannot read cursor"),
            }
            failures += 1;
            if !self.sleep(self.backoff.delay(failures)).await {
                return None;
            }
        }
    }

    /// Hands a page to the pipeline and waits for its commit. `None` means the
    /// pipeline is gone (shutdown); `Some(Err)` that the commit failed.
    async fn commit(
        &self,
        name: &str,
        posts: Vec<crate::model::Post>,
        cursor: Option<String>,
    ) -> Option<Result<(), String>> {
        let (done, committed) = oneshot::channel();
        let batch = Batch {
            source: name.to_string(),
            posts,
            cursor,
            done,
        };
        self.batches.send(batch).await.ok()?;
        match committed.await.ok()? {
            Ok(_) => Some(Ok(())),
            Err(err) => Some(Err(err.to_string())),
        }
    }

    /// Sleeps `wait`; `false` if cancelled meanwhile.
    async fn sleep(&self, wait: Duration) -> bool {
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }
}
