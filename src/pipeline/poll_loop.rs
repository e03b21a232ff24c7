//! The one loop every source runs in: fetch since the last cursor, hand the page to
//! the pipeline, fetch the next one while it commits and confirm each commit before
//! handing over the page after next, then, once the source has nothing more, confirm
//! the last page and wait the interval (with jitter), or back off after failures
//! (honouring `Retry-After`). Cancellation stops it between polls; a page already
//! handed over is committed by the pipeline, which drains before the store closes.
//!
//! Every poll's outcome is recorded as the source's health. A source that starts
//! without a committed cursor is backfilling until its first page that has no `more`
//! behind it is committed, and so is any page the source marks as `backfill`; the
//! pipeline does not alert old posts of such batches.
//!
//! A source that offers a [`Source::wake`] signal (a followed file) is fetched as soon
//! as it signals, after a short debounce, instead of waiting out the interval; the
//! interval stays as the fallback. Backoff after failures is never cut short.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::backoff::{Backoff, MAX_RETRY_AFTER, jittered};
use crate::escape;
use crate::metrics::Metrics;
use crate::model::SourceName;
use crate::pipeline::Batch;
use crate::sources::{Page, Source, SourceError};
use crate::store::{BatchOutcome, PollOutcome, StoreError, StoreHandle};

/// Pause after a wake before fetching, so a burst of writes is read in one poll.
const WAKE_DEBOUNCE: Duration = Duration::from_millis(20);

/// Where a source stands: the cursor to fetch from, and whether it is still on its
/// first run.
#[derive(Debug, Clone)]
struct Position {
    cursor: Option<String>,
    backfilling: bool,
}

/// A page handed to the pipeline, not yet confirmed committed.
struct Pending {
    receiver: oneshot::Receiver<Result<BatchOutcome, StoreError>>,
    /// Where the source stands once it is committed.
    position: Position,
    n_posts: usize,
}

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
    /// Counts posts ingested and failed polls.
    pub metrics: Arc<Metrics>,
}

impl PollLoop {
    /// Runs until cancelled or until the pipeline is gone.
    ///
    /// While a page commits, the next one is fetched from its cursor and handed over
    /// (marked `follows_unconfirmed`), so reading, matching and committing overlap; at
    /// most two pages of a source are unconfirmed. When a page fails to commit, the
    /// one behind it fails uncommitted too, and the loop goes back to the last
    /// committed cursor after a backoff.
    pub async fn run(mut self) {
        let name = self.source.name().clone();
        let Some(cursor) = self.initial_cursor(&name).await else {
            return;
        };
        // Where the last confirmed commit left the source, and where the pages handed
        // over since leave it.
        let mut committed = Position {
            backfilling: cursor.is_none(),
            cursor,
        };
        let mut ahead = committed.clone();
        let mut pending: Option<Pending> = None;
        let mut failures = 0u32;
        let wake = self.source.wake();
        loop {
            let span = info_span!("poll", source = %name);
            let fetched = tokio::select! {
                _ = self.cancel.cancelled() => break,
                fetched = self.source.fetch(ahead.cursor.as_deref()).instrument(span.clone()) => fetched,
            };
            // Queued now, awaited at the end of the round: the store records it after
            // the commit in flight, and the page is handed over without waiting for
            // that commit, so the next page is matched while it runs.
            let health = self.record_health(&name, &fetched);
            // One line per poll, whatever the number of streams that failed in it.
            let streams = self.source.stream_failures();
            let (wait, wakeable) = match fetched {
                Ok(page) => {
                    if let Some(streams) = &streams {
                        warn!(parent: &span, failing = streams.failing, streams = streams.streams, error = %escape::log(&streams.first_error), "some streams failed");
                    }
                    let more = page.more;
                    let not_before = page.not_before;
                    let n_posts = page.posts.len();
                    if n_posts > 0 || page.cursor != ahead.cursor {
                        let batch = (
                            page.posts,
                            page.cursor.clone(),
                            ahead.backfilling || page.backfill,
                        );
                        let Some(receiver) = self.hand_over(&name, batch, pending.is_some()).await
                        else {
                            break;
                        };
                        ahead = Position {
                            cursor: page.cursor,
                            backfilling: ahead.backfilling && more,
                        };
                        let handed = Pending {
                            receiver,
                            position: ahead.clone(),
                            n_posts,
                        };
                        // Confirm the page before it and, going idle, this one too.
                        let mut waiting: Vec<Pending> =
                            pending.replace(handed).into_iter().collect();
                        if !more {
                            waiting.extend(pending.take());
                        }
                        match self.confirm_in_order(&name, waiting, &span).await {
                            None => break,
                            Some(Ok(position)) => {
                                if let Some(position) = position {
                                    committed = position;
                                    failures = 0;
                                }
                            }
                            Some(Err(message)) => {
                                // A page handed over behind the failed one fails too.
                                if let Some(behind) = pending.take() {
                                    let _ = behind.receiver.await;
                                }
                                failures += 1;
                                error!(parent: &span, error = %escape::log(&message.to_string()), "page not committed, will retry");
                                ahead = committed.clone();
                                self.sleep(self.backoff.delay(failures)).await;
                                continue;
                            }
                        }
                    } else {
                        failures = 0;
                    }
                    if more {
                        (Duration::ZERO, false)
                    } else {
                        let wait = jittered(
                            self.interval.max(not_before.unwrap_or_default()),
                            self.jitter,
                        );
                        // A platform's `not_before` is a request to stay away: honour it.
                        (wait, not_before.is_none())
                    }
                }
                Err(err) => {
                    failures += 1;
                    self.metrics.source_error(name.as_str());
                    let transient = err.is_transient();
                    let backoff = match err.reconnect_after() {
                        Some(scheduled) => scheduled.min(MAX_RETRY_AFTER),
                        None => self.backoff.delay_honouring(failures, err.retry_after()),
                    };
                    // A permanent error will not heal in seconds: never poll faster than usual.
                    let wait = if transient {
                        backoff
                    } else {
                        backoff.max(self.interval)
                    };
                    warn!(
                        parent: &span,
                        error = %escape::log(&err.to_string()),
                        failing = streams.as_ref().map(|streams| streams.failing),
                        streams = streams.as_ref().map(|streams| streams.streams),
                        transient,
                        failures,
                        wait_secs = wait.as_secs_f64(),
                        "poll failed"
                    );
                    (wait, false)
                }
            };
            health.await;
            let wake = wake.as_deref().filter(|_| wakeable);
            if !self.sleep_or_wake(wait, wake).await {
                break;
            }
        }
        info!(source = %name, "poll loop stopped");
    }

    /// Reads the committed cursor, retrying while the store is unavailable.
    async fn initial_cursor(&self, name: &SourceName) -> Option<Option<String>> {
        let mut failures = 0;
        loop {
            let source = name.clone();
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

    /// Queues the poll's outcome as the source's health on the store's thread; the
    /// future resolves when it is recorded. A store failure here is logged and never
    /// stops polling.
    fn record_health(
        &self,
        name: &SourceName,
        fetched: &Result<Page, SourceError>,
    ) -> impl Future<Output = ()> + use<> {
        let outcome = match fetched {
            Ok(page) => PollOutcome::Success {
                n_posts: page.posts.len(),
                newest_post_at: page.posts.iter().filter_map(|post| post.created_at).max(),
            },
            Err(err) => PollOutcome::Failure {
                error: err.to_string(),
            },
        };
        let source = name.clone();
        let now = chrono::Utc::now();
        let recorded = self
            .store
            .queue(move |store| store.record_poll(&source, &outcome, now));
        let name = name.clone();
        async move {
            if let Err(err) = recorded.await.and_then(|result| result) {
                warn!(source = %name, error = %err, "cannot record source health");
            }
        }
    }

    /// Hands a page (posts, cursor, backfilling) to the pipeline; `None` means the
    /// pipeline is gone (shutdown).
    async fn hand_over(
        &self,
        name: &SourceName,
        (posts, cursor, backfilling): (Vec<crate::model::Post>, Option<String>, bool),
        follows_unconfirmed: bool,
    ) -> Option<oneshot::Receiver<Result<BatchOutcome, StoreError>>> {
        let (done, committed) = oneshot::channel();
        let batch = Batch {
            source: name.clone(),
            posts,
            cursor,
            backfilling,
            done,
            follows_unconfirmed,
        };
        self.batches.send(batch).await.ok()?;
        Some(committed)
    }

    /// Waits for handed-over pages' commits, in the order they were handed over: the
    /// position after the last (`None` for no page), `Err` at the first that failed
    /// (the pages after it are waited for, and fail too), `None` when the pipeline is
    /// gone.
    async fn confirm_in_order(
        &self,
        name: &SourceName,
        pages: Vec<Pending>,
        span: &tracing::Span,
    ) -> Option<Result<Option<Position>, StoreError>> {
        let mut position = None;
        let mut pages = pages.into_iter();
        while let Some(pending) = pages.next() {
            match pending.receiver.await.ok()? {
                Ok(_) => {
                    self.metrics.posts_ingested(name.as_str(), pending.n_posts);
                    debug!(parent: span, n_posts = pending.n_posts, "page committed");
                    position = Some(pending.position);
                }
                Err(err) => {
                    for behind in pages {
                        let _ = behind.receiver.await;
                    }
                    return Some(Err(err));
                }
            }
        }
        Some(Ok(position))
    }

    /// Sleeps `wait`; `false` if cancelled meanwhile.
    async fn sleep(&self, wait: Duration) -> bool {
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }

    /// Sleeps `wait` or, when `wake` is notified first, [`WAKE_DEBOUNCE`]; `false` if
    /// cancelled meanwhile.
    async fn sleep_or_wake(&self, wait: Duration, wake: Option<&Notify>) -> bool {
        let Some(wake) = wake else {
            return self.sleep(wait).await;
        };
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
            _ = wake.notified() => self.sleep(WAKE_DEBOUNCE.min(wait)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use tokio::time::Instant;

    use super::*;
    use crate::keywords::KeywordRules;
    use crate::pipeline::Pipeline;
    use crate::pipeline::snapshot::{KeywordSnapshot, SharedKeywords};
    use crate::routing::Router;
    use crate::sources::{Page, SourceError};
    use crate::store::Store;

    /// When each fetch happened and with which cursor.
    type CallLog = Arc<Mutex<Vec<(Instant, Option<String>)>>>;

    /// A source that replays scripted answers and records when it was asked, with
    /// which cursor. When the script runs out it answers empty pages.
    struct Scripted {
        answers: VecDeque<Result<Page, SourceError>>,
        calls: CallLog,
        // A channel rather than a polling sleep: a pending test timer would let paused
        // time jump forward while the store thread works, skewing the measured gaps.
        count: tokio::sync::watch::Sender<usize>,
        /// What [`Source::wake`] hands out.
        wake: Option<Arc<Notify>>,
    }

    #[async_trait::async_trait]
    impl Source for Scripted {
        fn name(&self) -> &SourceName {
            static NAME: std::sync::LazyLock<SourceName> =
                std::sync::LazyLock::new(|| "scripted".into());
            &NAME
        }

        async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
            let mut calls = self.calls.lock().unwrap();
            calls.push((Instant::now(), cursor.map(str::to_string)));
            self.count.send_replace(calls.len());
            self.answers
                .pop_front()
                .unwrap_or_else(|| Ok(Page::default()))
        }

        fn wake(&self) -> Option<Arc<Notify>> {
            self.wake.clone()
        }
    }

    fn page(cursor: &str, more: bool) -> Result<Page, SourceError> {
        Ok(Page {
            cursor: Some(cursor.to_string()),
            more,
            ..Page::default()
        })
    }

    fn status(status: u16, retry_after: Option<u64>) -> Result<Page, SourceError> {
        Err(SourceError::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        })
    }

    struct Harness {
        _dir: tempfile::TempDir,
        store: StoreHandle,
    }

    impl Harness {
        fn new() -> Harness {
            let dir = tempfile::tempdir().unwrap();
            let (store, _thread) =
                StoreHandle::spawn(Store::open(&dir.path().join("m.db")).unwrap());
            Harness { _dir: dir, store }
        }

        /// The loop under test: 60 s interval, no jitter, backoff from 1 s to 8 s.
        fn poll_loop(
            &self,
            source: Scripted,
            batches: mpsc::Sender<Batch>,
            cancel: &CancellationToken,
        ) -> PollLoop {
            PollLoop {
                source: Box::new(source),
                interval: Duration::from_secs(60),
                jitter: 0.0,
                backoff: Backoff {
                    initial: Duration::from_secs(1),
                    max: Duration::from_secs(8),
                },
                store: self.store.clone(),
                batches,
                cancel: cancel.clone(),
                metrics: Default::default(),
            }
        }

        /// Runs a poll loop over `answers` until `calls` fetches were made, then
        /// cancels it and returns the gaps between fetches and the cursors passed in.
        async fn run(
            &self,
            answers: Vec<Result<Page, SourceError>>,
            calls: usize,
        ) -> (Vec<Duration>, Vec<Option<String>>) {
            self.run_waking(answers, calls, None).await
        }

        /// [`Harness::run`] with a source whose [`Source::wake`] hands out `wake`.
        async fn run_waking(
            &self,
            answers: Vec<Result<Page, SourceError>>,
            calls: usize,
            wake: Option<Arc<Notify>>,
        ) -> (Vec<Duration>, Vec<Option<String>>) {
            let log = Arc::new(Mutex::new(Vec::new()));
            let (count, mut counted) = tokio::sync::watch::channel(0);
            let (batches, input) = mpsc::channel(4);
            let pipeline = tokio::spawn(
                Pipeline {
                    batches: input,
                    keywords: Arc::new(SharedKeywords::new(
                        KeywordSnapshot::new(KeywordRules::default(), Router::new(Vec::new()))
                            .unwrap(),
                    )),
                    store: self.store.clone(),
                    wakers: Arc::default(),
                    backfill: Duration::from_secs(3600),
                    metrics: Default::default(),
                    pulse: Default::default(),
                }
                .run(),
            );
            let cancel = CancellationToken::new();
            let source = Scripted {
                answers: answers.into(),
                calls: Arc::clone(&log),
                count,
                wake,
            };
            let poll = tokio::spawn(self.poll_loop(source, batches, &cancel).run());
            counted.wait_for(|n| *n >= calls).await.unwrap();
            cancel.cancel();
            poll.await.unwrap();
            pipeline.await.unwrap();
            let log = log.lock().unwrap();
            let gaps = log.windows(2).map(|pair| pair[1].0 - pair[0].0).collect();
            (gaps, log.iter().map(|(_, cursor)| cursor.clone()).collect())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waits_the_interval_and_passes_each_committed_cursor_on() {
        let harness = Harness::new();
        let (gaps, cursors) = harness
            .run(vec![page("a", false), page("b", false)], 3)
            .await;
        assert_eq!(gaps, [Duration::from_secs(60), Duration::from_secs(60)]);
        assert_eq!(cursors, [None, Some("a".into()), Some("b".into())]);

        // A new loop over the same store starts from the committed cursor.
        let (_, cursors) = harness.run(vec![], 1).await;
        assert_eq!(cursors, [Some("b".into())]);
    }

    #[tokio::test(start_paused = true)]
    async fn more_pages_are_fetched_at_once() {
        let harness = Harness::new();
        let (gaps, cursors) = harness
            .run(vec![page("1", true), page("2", true), page("3", false)], 4)
            .await;
        assert_eq!(gaps[..2], [Duration::ZERO, Duration::ZERO]);
        assert_eq!(gaps[2], Duration::from_secs(60));
        assert_eq!(cursors[3].as_deref(), Some("3"));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_back_off_exponentially_and_keep_the_cursor() {
        let harness = Harness::new();
        let answers = vec![
            page("a", false),
            status(503, None),
            status(502, None),
            status(500, None),
            page("b", false),
        ];
        let (gaps, cursors) = harness.run(answers, 6).await;
        // After the first success: interval; then backoff ceilings 1 s, 2 s, 4 s with
        // equal jitter (each wait in [ceiling/2, ceiling]); then the interval again.
        assert_eq!(gaps[0], Duration::from_secs(60));
        for (gap, ceiling) in gaps[1..4].iter().zip([1, 2, 4]) {
            let ceiling = Duration::from_secs(ceiling);
            assert!(
                *gap >= ceiling / 2 && *gap <= ceiling,
                "{gap:?} not within {ceiling:?}"
            );
        }
        assert_eq!(gaps[4], Duration::from_secs(60));
        assert!(
            cursors[1..5].iter().all(|c| c.as_deref() == Some("a")),
            "{cursors:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_permanent_errors_wait_the_interval() {
        let harness = Harness::new();
        let (gaps, _) = harness
            .run(vec![status(429, Some(300)), status(404, None)], 3)
            .await;
        assert_eq!(gaps[0], Duration::from_secs(300), "429 Retry-After: 300");
        assert_eq!(
            gaps[1],
            Duration::from_secs(60),
            "a 404 is not retried faster than the interval"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_streams_documented_reconnect_wait_replaces_the_backoff() {
        let harness = Harness::new();
        let dropped = || {
            Err(SourceError::Disconnected {
                reason: "connection reset".into(),
                reconnect_after: Some(Duration::from_millis(250)),
            })
        };
        let (gaps, _) = harness
            .run(
                vec![dropped(), dropped(), status(503, None), page("a", false)],
                4,
            )
            .await;
        assert_eq!(gaps[0], Duration::from_millis(250), "{gaps:?}");
        assert_eq!(gaps[1], Duration::from_millis(250), "{gaps:?}");
        assert!(
            gaps[2] >= Duration::from_secs(2),
            "others back off: {gaps:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_cuts_the_interval_short_but_never_a_backoff() {
        let harness = Harness::new();
        let wake = Arc::new(Notify::new());
        // A change signalled before the loop starts is kept until the loop waits.
        wake.notify_one();
        let (gaps, _) = harness
            .run_waking(
                vec![status(503, None), page("a", false), page("b", false)],
                4,
                Some(Arc::clone(&wake)),
            )
            .await;
        assert!(
            gaps[0] >= Duration::from_millis(500) && gaps[0] <= Duration::from_secs(1),
            "backoff after a failure is not cut short: {gaps:?}"
        );
        assert_eq!(gaps[1], WAKE_DEBOUNCE, "woken after the first success");
        assert_eq!(gaps[2], Duration::from_secs(60), "no signal: the interval");
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_interrupts_the_wait() {
        let harness = Harness::new();
        let started = Instant::now();
        let (_, cursors) = harness.run(vec![page("a", false)], 1).await;
        assert_eq!(cursors.len(), 1);
        assert!(
            Instant::now() - started < Duration::from_secs(60),
            "did not wait out the interval"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn first_run_backfills_until_a_page_without_more_is_committed() {
        let harness = Harness::new();
        let (batches, mut input) = mpsc::channel::<Batch>(4);
        let flags = tokio::spawn(async move {
            let mut flags = Vec::new();
            while let Some(batch) = input.recv().await {
                flags.push(batch.backfilling);
                let _ = batch.done.send(Ok(Default::default()));
            }
            flags
        });
        let (count, mut counted) = tokio::sync::watch::channel(0);
        let cancel = CancellationToken::new();
        let source = Scripted {
            answers: vec![
                page("1", true),
                page("2", false),
                page("3", false),
                Ok(Page {
                    cursor: Some("4".into()),
                    backfill: true,
                    ..Page::default()
                }),
            ]
            .into(),
            calls: Arc::new(Mutex::new(Vec::new())),
            count,
            wake: None,
        };
        let poll = tokio::spawn(harness.poll_loop(source, batches, &cancel).run());
        counted.wait_for(|n| *n >= 5).await.unwrap();
        cancel.cancel();
        poll.await.unwrap();
        // The fourth page marks itself as backfill (a new query); the fifth is the
        // script's empty page.
        assert_eq!(flags.await.unwrap(), [true, true, false, true, false]);
    }
    #[tokio::test(start_paused = true)]
    async fn the_next_page_is_read_while_one_commits_and_a_failed_commit_goes_back() {
        let harness = Harness::new();
        let (batches, mut input) = mpsc::channel::<Batch>(4);
        // A pipeline that answers the first page only once the second arrived (so the
        // loop read ahead), failing both, and every later one with success.
        let follows = tokio::spawn(async move {
            let mut follows = Vec::new();
            let first = input.recv().await.unwrap();
            follows.push(first.follows_unconfirmed);
            let second = input.recv().await.unwrap();
            follows.push(second.follows_unconfirmed);
            let _ = first.done.send(Err(StoreError::Closed));
            let _ = second.done.send(Err(StoreError::EarlierPageFailed));
            while let Some(batch) = input.recv().await {
                follows.push(batch.follows_unconfirmed);
                let _ = batch.done.send(Ok(Default::default()));
            }
            follows
        });
        let (count, mut counted) = tokio::sync::watch::channel(0);
        let calls = Arc::new(Mutex::new(Vec::new()));
        let source = Scripted {
            answers: vec![page("1", true), page("2", true), page("3", false)].into(),
            calls: Arc::clone(&calls),
            count,
            wake: None,
        };
        let cancel = CancellationToken::new();
        let poll = tokio::spawn(harness.poll_loop(source, batches, &cancel).run());
        counted.wait_for(|n| *n >= 4).await.unwrap();
        cancel.cancel();
        poll.await.unwrap();
        let cursors: Vec<Option<String>> = calls
            .lock()
            .unwrap()
            .iter()
            .map(|(_, c)| c.clone())
            .collect();
        // Page 2 was fetched from page 1's cursor before page 1 was confirmed; after
        // the failure the loop fetched again from the committed cursor (none).
        assert_eq!(cursors, [None, Some("1".into()), None, Some("3".into())]);
        // The fourth is the script's empty page, handed over once page 3 was confirmed.
        assert_eq!(follows.await.unwrap(), [false, true, false, false]);
    }

    #[tokio::test]
    async fn the_next_page_is_handed_over_while_the_store_still_commits_the_one_before() {
        let harness = Harness::new();
        let (batches, mut input) = mpsc::channel::<Batch>(4);
        let (count, _counted) = tokio::sync::watch::channel(0);
        let source = Scripted {
            answers: vec![page("1", true), page("2", false)].into(),
            calls: Arc::new(Mutex::new(Vec::new())),
            count,
            wake: None,
        };
        let cancel = CancellationToken::new();
        let poll = tokio::spawn(harness.poll_loop(source, batches, &cancel).run());
        let first = input.recv().await.unwrap();
        // The first page's commit: the store's thread busy until released. The loop
        // queued its health record before handing the page over, so that is not stuck
        // behind it.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let commit = harness.store.queue(move |_| released.recv().ok());
        // Real time: without the overlap the loop waits for the store, and this ends.
        let second = tokio::time::timeout(Duration::from_secs(10), input.recv()).await;
        release.send(()).unwrap();
        commit.await.unwrap();
        let second = second
            .expect("the second page is handed over while the first commits")
            .unwrap();
        assert!(second.follows_unconfirmed);
        assert_eq!(second.cursor.as_deref(), Some("2"));
        let _ = first.done.send(Ok(Default::default()));
        let _ = second.done.send(Ok(Default::default()));
        cancel.cancel();
        poll.await.unwrap();
    }

    /// How an [`Outage`] source behaves.
    #[derive(Clone, Copy)]
    enum Behaviour {
        /// A new cursor at every poll.
        Healthy,
        /// An HTTP 500 for this long from the start, then one page.
        Fails500For(Duration),
        /// A payload that does not parse for this long, then one page.
        GarbageFor(Duration),
        /// A fetch that never returns.
        Hangs,
    }

    /// A named source that behaves as told and logs when it was asked.
    struct Outage {
        name: SourceName,
        behaviour: Behaviour,
        started: Instant,
        calls: CallLog,
    }

    #[async_trait::async_trait]
    impl Source for Outage {
        fn name(&self) -> &SourceName {
            &self.name
        }

        async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
            let now = Instant::now();
            let n = {
                let mut calls = self.calls.lock().unwrap();
                calls.push((now, cursor.map(str::to_string)));
                calls.len()
            };
            let failing = |spell: Duration| now - self.started < spell;
            match self.behaviour {
                Behaviour::Healthy => page(&format!("{n:05}"), false),
                Behaviour::Fails500For(spell) if failing(spell) => status(500, None),
                Behaviour::GarbageFor(spell) if failing(spell) => Err(SourceError::Malformed(
                    "expected value at line 1 column 1".into(),
                )),
                Behaviour::Fails500For(_) | Behaviour::GarbageFor(_) => page("recovered", false),
                Behaviour::Hangs => std::future::pending().await,
            }
        }
    }

    /// An hour of injected time: a source answering 500, one serving garbage and one
    /// that hangs beside a healthy one, all with the shipped poll settings (60 s
    /// interval, backoff from 10 s to 15 m) and one pipeline and store.
    #[tokio::test(start_paused = true)]
    async fn an_hour_of_500s_garbage_or_a_hang_leaves_the_other_sources_their_pace() {
        const HOUR: Duration = Duration::from_secs(3600);
        const INTERVAL: Duration = Duration::from_secs(60);
        const BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);
        let harness = Harness::new();
        let (batches, input) = mpsc::channel(16);
        let pipeline = tokio::spawn(
            Pipeline {
                batches: input,
                keywords: Arc::new(SharedKeywords::new(
                    KeywordSnapshot::new(KeywordRules::default(), Router::new(Vec::new())).unwrap(),
                )),
                store: harness.store.clone(),
                wakers: Arc::default(),
                backfill: HOUR,
                metrics: Default::default(),
                pulse: Default::default(),
            }
            .run(),
        );
        // Time moves only when this test moves it: the store thread's real work must
        // not let paused time jump ahead (a running blocking task stops auto-advance).
        let (release, held) = std::sync::mpsc::channel::<()>();
        let hold = tokio::task::spawn_blocking(move || {
            let _ = held.recv();
        });
        let cancel = CancellationToken::new();
        let started = Instant::now();
        let sources = [
            ("healthy", Behaviour::Healthy),
            ("failing", Behaviour::Fails500For(HOUR)),
            ("garbage", Behaviour::GarbageFor(HOUR)),
            ("hanging", Behaviour::Hangs),
        ];
        let mut logs = Vec::new();
        let mut loops = Vec::new();
        for (name, behaviour) in sources {
            let calls = CallLog::default();
            logs.push(Arc::clone(&calls));
            let source = Outage {
                name: name.into(),
                behaviour,
                started,
                calls,
            };
            loops.push(tokio::spawn(
                PollLoop {
                    source: Box::new(source),
                    interval: INTERVAL,
                    jitter: 0.0,
                    backoff: Backoff {
                        initial: Duration::from_secs(10),
                        max: BACKOFF_MAX,
                    },
                    store: harness.store.clone(),
                    batches: batches.clone(),
                    cancel: cancel.clone(),
                    metrics: Default::default(),
                }
                .run(),
            ));
        }
        drop(batches);
        // One second at a time, each settled (every woken loop's store calls answered)
        // before the next: the hour, then a recovery window of one longest backoff.
        let end = HOUR + BACKOFF_MAX + INTERVAL;
        while Instant::now() - started < end {
            tokio::time::advance(Duration::from_secs(1)).await;
            for _ in 0..3 {
                for _ in 0..8 {
                    tokio::task::yield_now().await;
                }
                harness.store.call(|_| ()).await.unwrap();
            }
        }
        cancel.cancel();
        for poll in loops {
            poll.await.unwrap();
        }
        pipeline.await.unwrap();
        drop(release);
        hold.await.unwrap();

        let times = |log: &CallLog, until: Duration| -> Vec<Duration> {
            log.lock()
                .unwrap()
                .iter()
                .map(|(at, _)| *at - started)
                .filter(|at| *at < until)
                .collect()
        };
        let [healthy, failing, garbage, hanging] = &logs[..] else {
            unreachable!()
        };
        // The healthy source keeps its pace: a poll every interval, each committed.
        let paced = times(healthy, HOUR);
        assert_eq!(paced.len(), 60, "{paced:?}");
        for gap in paced.windows(2).map(|pair| pair[1] - pair[0]) {
            assert!(
                gap >= INTERVAL && gap <= INTERVAL + Duration::from_secs(2),
                "{paced:?}"
            );
        }
        let last = healthy.lock().unwrap().len();
        let cursor = |name: &str| {
            let name = SourceName::from(name);
            let store = harness.store.clone();
            async move {
                store
                    .call(move |store| store.cursor(&name))
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        assert_eq!(cursor("healthy").await, Some(format!("{last:05}")));
        // The failing source backs off to the longest wait: a bounded request rate.
        let attempts = times(failing, HOUR);
        assert!(
            (8..=20).contains(&attempts.len()),
            "{} attempts in the hour: {attempts:?}",
            attempts.len()
        );
        for gap in attempts.windows(2).map(|pair| pair[1] - pair[0]) {
            assert!(
                gap >= Duration::from_secs(5) && gap <= BACKOFF_MAX,
                "{attempts:?}"
            );
        }
        // Garbage is a permanent error: backed off too, never faster than the interval.
        let garbled = times(garbage, HOUR);
        assert!((5..=20).contains(&garbled.len()), "{garbled:?}");
        for gap in garbled.windows(2).map(|pair| pair[1] - pair[0]) {
            assert!(gap >= INTERVAL, "{garbled:?}");
        }
        // Both recover on their own within one longest backoff after the hour.
        assert_eq!(cursor("failing").await, Some("recovered".to_string()));
        assert_eq!(cursor("garbage").await, Some("recovered".to_string()));
        // The hanging fetch holds only its own loop.
        assert_eq!(hanging.lock().unwrap().len(), 1);
        assert_eq!(cursor("hanging").await, None);
        // Its health shows the failing spell.
        let health = harness
            .store
            .call(move |store| store.source_health(chrono::Utc::now()))
            .await
            .unwrap()
            .unwrap();
        let failing_health = health
            .iter()
            .find(|h| h.source.as_str() == "failing")
            .unwrap();
        assert_eq!(failing_health.failures, 0, "recovered: {failing_health:?}");
        assert!(failing_health.last_success_at.is_some());
    }
}
