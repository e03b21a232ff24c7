//! Sources made of several independent streams (one per search query, hashtag,
//! timeline or subreddit listing), each with its own platform cursor. [`StreamSource`]
//! turns such a platform into one [`Source`]: the source cursor is a JSON object of
//! per-stream states, one failing stream does not hold back the others, and a used-up
//! rate limit ends the poll early with what was fetched so far. A stream without a
//! state yet (a query added to the keywords) marks its page as backfill. When some
//! streams have more waiting, the next fetch asks only those, so one busy query does
//! not cost a request for every other one. A stream whose server asked not to be
//! polled for a while (RSS `ttl`) rests alone; the others keep the source's schedule.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::{Page, SharedRules, Source, SourceError, StreamFailures};
use crate::escape;
use crate::keywords::KeywordRules;
use crate::model::Post;
use crate::model::SourceName;

/// What one stream returned.
#[derive(Debug)]
pub struct StreamPage<S> {
    /// Posts of this request.
    pub posts: Vec<Post>,
    /// The stream's state once these posts are committed.
    pub state: S,
    /// The stream has more waiting right now.
    pub more: bool,
    /// The server asked not to poll this stream again before this (RSS `ttl`); the
    /// other streams of the source keep their schedule.
    pub not_before: Option<Duration>,
}

/// A platform whose work splits into named streams.
#[async_trait::async_trait]
pub trait Streams: Send + Sync {
    /// Per-stream state persisted in the source cursor.
    type State: Serialize + DeserializeOwned + Send + Sync;

    /// Whether one rate limit covers every stream (one platform account), so a used-up
    /// window ends the poll; `false` for streams on unrelated servers (feed URLs).
    fn shared_rate_limit(&self) -> bool {
        true
    }

    /// Fetches what is new in stream `key` after `state` (`None`: never polled).
    async fn fetch_stream(
        &mut self,
        key: &str,
        state: Option<Self::State>,
    ) -> Result<StreamPage<Self::State>, SourceError>;
}

/// Adapts a [`Streams`] platform to the [`Source`] trait.
pub struct StreamSource<T> {
    name: SourceName,
    keys: Vec<String>,
    /// Derives the keys from the watch list in force, when they follow it.
    following: Option<Following>,
    streams: T,
    /// Streams whose last page said `more`; empty means "ask every stream".
    continuing: HashSet<String>,
    /// Streams resting until the time their server asked for.
    resting: HashMap<String, Instant>,
    /// The rest each stream's server last asked for, so a change is logged once.
    schedules: HashMap<String, Duration>,
    /// What failed in the last fetch, for the poll loop's one line per poll.
    failures: Option<StreamFailures>,
}

impl<T: Streams> StreamSource<T> {
    /// The source `name` polling `streams` under `keys`, in order; each key names one
    /// stream's state in the cursor.
    pub fn build(name: SourceName, keys: Vec<String>, streams: T) -> StreamSource<T> {
        StreamSource {
            name,
            keys,
            following: None,
            streams,
            continuing: HashSet::new(),
            resting: HashMap::new(),
            schedules: HashMap::new(),
            failures: None,
        }
    }

    /// The source `name` polling `streams` under the keys `keys_of` derives from the
    /// watch list in `rules`, derived again at the first fetch after a reload swapped
    /// it, so the search queries follow the keywords without a restart.
    pub fn following(
        name: SourceName,
        rules: &SharedRules,
        keys_of: impl Fn(&KeywordRules) -> Vec<String> + Send + Sync + 'static,
        streams: T,
    ) -> StreamSource<T> {
        let seen = rules.load_full();
        let keys = keys_of(&seen);
        StreamSource {
            following: Some(Following {
                rules: Arc::clone(rules),
                seen,
                keys_of: Box::new(keys_of),
            }),
            ..StreamSource::build(name, keys, streams)
        }
    }

    /// The stream keys, in polling order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The platform behind the streams.
    pub fn streams(&self) -> &T {
        &self.streams
    }
}

#[async_trait::async_trait]
impl<T: Streams> Source for StreamSource<T> {
    fn name(&self) -> &SourceName {
        &self.name
    }

    fn stream_failures(&self) -> Option<StreamFailures> {
        self.failures.clone()
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
        self.follow_rules();
        let name = self.name.clone();
        let mut states: BTreeMap<String, serde_json::Value> = match cursor {
            None => BTreeMap::new(),
            Some(text) => serde_json::from_str(text).unwrap_or_else(|err| {
                warn!(source = %name, error = %err, "unreadable cursor, starting over");
                BTreeMap::new()
            }),
        };
        let mut page = Page::default();
        let mut seen = HashSet::new();
        let mut first_error = None;
        let mut succeeded = 0usize;
        let mut failing = 0usize;
        self.failures = None;
        let continuing = std::mem::take(&mut self.continuing);
        let now = Instant::now();
        let resting = &self.resting;
        let keys: Vec<String> = self
            .keys
            .iter()
            .filter(|key| continuing.is_empty() || continuing.contains(*key))
            .filter(|key| resting.get(*key).is_none_or(|until| *until <= now))
            .cloned()
            .collect();
        for key in &keys {
            let state = states
                .get(key)
                .and_then(|value| serde_json::from_value(value.clone()).ok());
            let first_look = state.is_none();
            match self.streams.fetch_stream(key, state).await {
                Ok(stream_page) => {
                    succeeded += 1;
                    if stream_page.more {
                        self.continuing.insert(key.clone());
                    }
                    page.more |= stream_page.more;
                    page.backfill |= first_look;
                    self.schedule(key, stream_page.not_before);
                    let n_posts = stream_page.posts.len();
                    page.posts.extend(
                        stream_page
                            .posts
                            .into_iter()
                            .filter(|post| seen.insert(post.id.clone())),
                    );
                    let state = serde_json::to_value(&stream_page.state)
                        .map_err(|err| SourceError::Malformed(format!("state: {err}")))?;
                    debug!(source = %name, stream = %key, n_posts, "stream fetched");
                    states.insert(key.clone(), state);
                }
                Err(err) => {
                    let wait = match &err {
                        _ if !self.streams.shared_rate_limit() => None,
                        SourceError::RateLimited { wait } => Some(*wait),
                        SourceError::Status { status: 429, .. } => err.retry_after(),
                        _ => None,
                    };
                    // The poll loop logs the poll once with the count; one line per
                    // stream would repeat an offline host's error for every URL on it.
                    debug!(source = %name, stream = %key, error = %escape::log(&err.to_string()), "stream fetch failed");
                    failing += 1;
                    if let Some(wait) = wait {
                        // The window is used up for every stream of this platform.
                        page.not_before = Some(wait);
                        page.more = false;
                        self.continuing.clear();
                        first_error.get_or_insert(err);
                        break;
                    }
                    first_error.get_or_insert(err);
                }
            }
        }
        if let Some(err) = &first_error {
            self.failures = Some(StreamFailures {
                failing,
                streams: keys.len(),
                first_error: err.to_string(),
            });
        }
        match first_error {
            Some(err) if succeeded == 0 => Err(err),
            _ => {
                page.cursor = Some(serde_json::to_string(&states).expect("JSON values serialize"));
                Ok(page)
            }
        }
    }
}

/// Where a [`StreamSource`] following the watch list reads it.
struct Following {
    rules: SharedRules,
    /// The rules the keys were last derived from.
    seen: Arc<KeywordRules>,
    keys_of: KeysOf,
}

/// Derives a source's stream keys from a watch list.
type KeysOf = Box<dyn Fn(&KeywordRules) -> Vec<String> + Send + Sync>;

impl<T> StreamSource<T> {
    /// Derives the keys again when a reload swapped the watch list since the last
    /// fetch. A key no longer derived stops being polled; its state stays in the cursor
    /// and is used again if the key comes back.
    fn follow_rules(&mut self) {
        let Some(following) = &mut self.following else {
            return;
        };
        let current = following.rules.load_full();
        if Arc::ptr_eq(&current, &following.seen) {
            return;
        }
        let keys = (following.keys_of)(&current);
        following.seen = current;
        if keys != self.keys {
            info!(source = %self.name, streams = keys.len(), "streams rebuilt from the reloaded keywords");
            self.continuing.retain(|key| keys.contains(key));
            self.keys = keys;
        }
    }

    /// Rests stream `key` for `rest` (its server's own schedule) or returns it to the
    /// source's; a change of schedule is logged once.
    fn schedule(&mut self, key: &str, rest: Option<Duration>) {
        match rest {
            Some(rest) => {
                self.resting.insert(key.to_string(), Instant::now() + rest);
                if self.schedules.insert(key.to_string(), rest) != Some(rest) {
                    info!(source = %self.name, stream = %key, wait_secs = rest.as_secs(), "following the stream's own schedule");
                }
            }
            None => {
                self.resting.remove(key);
                if self.schedules.remove(key).is_some() {
                    info!(source = %self.name, stream = %key, "stream back on the source's schedule");
                }
            }
        }
    }
}

/// Keeps the newest `capacity` keys, for platforms that need a seen-set on top of
/// their cursor (Reddit's `before=` can skip or repeat items).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SeenSet(Vec<String>);

impl SeenSet {
    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `key` was recorded.
    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|seen| seen == key)
    }

    /// Records `key`, dropping the oldest beyond `capacity`.
    pub fn insert(&mut self, key: String, capacity: usize) {
        if !self.contains(&key) {
            self.0.push(key);
        }
        if self.0.len() > capacity {
            let excess = self.0.len() - capacity;
            self.0.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_log::Captured;
    use std::collections::VecDeque;

    struct Scripted {
        answers: VecDeque<Result<StreamPage<u32>, SourceError>>,
        asked: Vec<(String, Option<u32>)>,
    }

    #[async_trait::async_trait]
    impl Streams for Scripted {
        type State = u32;
        async fn fetch_stream(
            &mut self,
            key: &str,
            state: Option<u32>,
        ) -> Result<StreamPage<u32>, SourceError> {
            self.asked.push((key.to_string(), state));
            self.answers.pop_front().expect("scripted answer")
        }
    }

    fn scripted(keys: Vec<&str>, streams: Scripted) -> StreamSource<Scripted> {
        let keys = keys.into_iter().map(str::to_string).collect();
        StreamSource::build("scripted".into(), keys, streams)
    }

    fn post(id: &str) -> Post {
        Post::from_json(&format!(r#"{{"source":"s","id":"{id}","text":"t"}}"#)).unwrap()
    }

    fn ok(ids: &[&str], state: u32, more: bool) -> Result<StreamPage<u32>, SourceError> {
        Ok(StreamPage {
            not_before: None,
            posts: ids.iter().map(|id| post(id)).collect(),
            state,
            more,
        })
    }

    #[tokio::test]
    async fn states_round_trip_and_duplicates_across_streams_collapse() {
        let mut source = scripted(
            vec!["a", "b"],
            Scripted {
                answers: VecDeque::from([ok(&["1", "2"], 7, false), ok(&["2", "3"], 9, true)]),
                asked: Vec::new(),
            },
        );
        let page = source.fetch(Some(r#"{"a":5}"#)).await.unwrap();
        let ids: Vec<_> = page.posts.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert!(page.more);
        assert!(page.backfill, "stream b had no state yet");
        assert_eq!(page.cursor.as_deref(), Some(r#"{"a":7,"b":9}"#));
        assert_eq!(
            source.streams().asked,
            [("a".to_string(), Some(5)), ("b".to_string(), None)]
        );
        // Only stream b had more: the next fetch asks b alone, then everyone again.
        source
            .streams
            .answers
            .extend([ok(&[], 10, false), ok(&[], 8, false), ok(&[], 11, false)]);
        let cursor = page.cursor.unwrap();
        let page = source.fetch(Some(&cursor)).await.unwrap();
        assert!(!page.more);
        assert_eq!(source.streams().asked[2..], [("b".to_string(), Some(9))]);
        source.fetch(page.cursor.as_deref()).await.unwrap();
        assert_eq!(
            source.streams().asked[3..],
            [("a".to_string(), Some(7)), ("b".to_string(), Some(10))]
        );
    }

    #[tokio::test]
    async fn one_failing_stream_keeps_its_state_and_the_others_advance() {
        let mut source = scripted(
            vec!["a", "b"],
            Scripted {
                answers: VecDeque::from([
                    Err(SourceError::Malformed("x".into())),
                    ok(&["3"], 9, false),
                ]),
                asked: Vec::new(),
            },
        );
        let page = source.fetch(Some(r#"{"a":5,"b":1}"#)).await.unwrap();
        assert!(!page.backfill, "both streams were known");
        assert_eq!(page.cursor.as_deref(), Some(r#"{"a":5,"b":9}"#));
        assert_eq!(page.posts.len(), 1);
    }

    #[tokio::test]
    async fn failing_streams_are_counted_for_the_poll_loop_and_only_logged_at_debug() {
        let (log, _guard) = Captured::start(tracing::Level::INFO);
        let refused = || Err(SourceError::Transport("connection refused\x1b[2J".into()));
        let mut source = scripted(
            vec!["a", "b", "c"],
            Scripted {
                answers: VecDeque::from([refused(), ok(&["1"], 1, false), refused()]),
                asked: Vec::new(),
            },
        );
        let page = source.fetch(None).await.unwrap();
        assert_eq!(page.posts.len(), 1);
        assert_eq!(
            source.stream_failures(),
            Some(StreamFailures {
                failing: 2,
                streams: 3,
                first_error: "request failed: connection refused\x1b[2J".into(),
            })
        );
        source
            .streams
            .answers
            .extend([refused(), refused(), refused()]);
        assert!(source.fetch(page.cursor.as_deref()).await.is_err());
        assert_eq!(source.stream_failures().map(|f| f.failing), Some(3));
        source
            .streams
            .answers
            .extend([ok(&[], 1, false), ok(&[], 1, false), ok(&[], 1, false)]);
        source.fetch(page.cursor.as_deref()).await.unwrap();
        assert_eq!(
            source.stream_failures(),
            None,
            "a clean poll clears the count"
        );
        assert_eq!(log.count("stream fetch failed"), 0, "{}", log.text());
    }

    #[tokio::test]
    async fn rate_limit_stops_the_poll_with_what_was_fetched() {
        let mut source = scripted(
            vec!["a", "b", "c"],
            Scripted {
                answers: VecDeque::from([
                    ok(&["1"], 2, true),
                    Err(SourceError::RateLimited {
                        wait: Duration::from_secs(90),
                    }),
                ]),
                asked: Vec::new(),
            },
        );
        let page = source.fetch(None).await.unwrap();
        assert_eq!(page.not_before, Some(Duration::from_secs(90)));
        assert!(!page.more);
        assert_eq!(source.streams().asked.len(), 2, "stream c was not asked");
        let mut all_fail = scripted(
            vec!["a"],
            Scripted {
                answers: VecDeque::from([Err(SourceError::Status {
                    status: 503,
                    retry_after: None,
                })]),
                asked: Vec::new(),
            },
        );
        assert!(all_fail.fetch(None).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_resting_stream_is_skipped_while_the_others_keep_their_schedule() {
        let (log, _guard) = Captured::start(tracing::Level::INFO);
        let rest = |state, wait| {
            Ok(StreamPage {
                not_before: Some(Duration::from_secs(wait)),
                posts: Vec::new(),
                state,
                more: false,
            })
        };
        let mut source = scripted(
            vec!["a", "b"],
            Scripted {
                answers: VecDeque::from([rest(1, 3600), ok(&["1"], 1, false)]),
                asked: Vec::new(),
            },
        );
        let page = source.fetch(None).await.unwrap();
        assert_eq!(page.not_before, None, "stream a's rest is not the source's");
        source.streams.answers.push_back(ok(&["2"], 2, false));
        let page = source.fetch(page.cursor.as_deref()).await.unwrap();
        assert_eq!(
            page.posts[0].id, "2",
            "b's new item arrives on the next poll"
        );
        assert_eq!(source.streams().asked[2].0, "b");
        assert_eq!(source.streams().asked.len(), 3, "a rests");
        tokio::time::advance(Duration::from_secs(3601)).await;
        source
            .streams
            .answers
            .extend([rest(2, 3600), ok(&[], 2, false)]);
        source.fetch(page.cursor.as_deref()).await.unwrap();
        assert_eq!(source.streams().asked[3].0, "a", "a's rest is over");
        assert_eq!(source.streams().asked.len(), 5);
        assert_eq!(
            log.count("following the stream's own schedule"),
            1,
            "logged once per change, not per poll"
        );
    }

    #[test]
    fn seen_set_is_bounded_and_keeps_the_newest() {
        let mut seen = SeenSet::default();
        for id in ["a", "b", "c", "b"] {
            seen.insert(id.to_string(), 2);
        }
        assert!(!seen.contains("a"));
        assert!(seen.contains("b") && seen.contains("c"));
    }
}
