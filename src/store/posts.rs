//! Posts, hits and source cursors. A batch's posts (with their full-text index rows),
//! hits, cursor and the deliveries planned for its new hits are committed in one
//! transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use std::collections::{HashMap, HashSet};

use super::outbox::insert_deliveries;
use super::replies::apply_replies;
use super::search::index_posts;
use super::time::timestamp;
use super::{Store, StoreError};
use crate::matcher::{BrandHit, HitKind};
use crate::model::{HitId, Post, SourceName};
use crate::routing::{HitKey, NewDelivery, OwnReply, post_priority};
use crate::sentiment::Sentiment;

/// One poll's worth of work for the store, matched and routed before it gets here.
#[derive(Debug)]
pub struct NewBatch {
    /// Source whose cursor advances.
    pub source: SourceName,
    /// Cursor to store with the batch (`None`: leave it as it is).
    pub cursor: Option<String>,
    /// Matched posts with their hits (posts without hits are not stored).
    pub posts: Vec<MatchedPost>,
    /// The deliveries routing planned for the new hits.
    pub deliveries: Vec<NewDelivery>,
    /// Detection time recorded on new hits.
    pub now: DateTime<Utc>,
    /// Replies from brands' own handles in the page; they acknowledge the hits on the
    /// posts they answer.
    pub replies: Vec<OwnReply>,
}

/// A post the matcher found something in.
#[derive(Debug, Clone)]
pub struct MatchedPost {
    /// The post.
    pub post: Post,
    /// Its tone, read once.
    pub sentiment: Sentiment,
    /// The score of that tone, from -1 (complaint) to 1 (praise).
    pub sentiment_score: f32,
    /// Its hits, one per brand or topic.
    pub hits: Vec<BrandHit>,
}

/// What a batch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Posts stored for the first time.
    pub new_posts: usize,
    /// Hits stored for the first time.
    pub new_hits: usize,
    /// Deliveries enqueued.
    pub deliveries: usize,
    /// Hits acknowledged by own-handle replies.
    pub acked: usize,
}

/// `author_earlier_hits` counts at most this many (shown as "1000+"): enough to tell a
/// regular from a newcomer, and it keeps storing a prolific author's posts cheap.
pub const EARLIER_HITS_CAP: u64 = 1000;

impl Store {
    /// The committed cursor of `source`.
    pub fn cursor(&self, source: &SourceName) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM cursors WHERE source = ?1",
                [source],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Which of `posts` (each a post's own `(source, id)`, its dedupe key) are stored
    /// already: their hits were planned when they were new, so routing leaves them out.
    pub fn stored_posts<'a>(
        &self,
        posts: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<HashSet<(&'a str, &'a str)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT 1 FROM posts WHERE source = ?1 AND post_id = ?2")?;
        let mut stored = HashSet::new();
        for (source, id) in posts {
            if statement.exists(params![source, id])? {
                stored.insert((source, id));
            }
        }
        Ok(stored)
    }

    /// The stored hits (id and brand, oldest first) of each of `ids` stored under
    /// `source`, by post id; a post not stored has no entry.
    pub fn hits_of_posts(
        &self,
        source: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<(HitId, String)>>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT hits.id, hits.brand FROM hits JOIN posts ON posts.id = hits.post
             WHERE posts.source = ?1 AND posts.post_id = ?2 ORDER BY hits.id",
        )?;
        let mut found = HashMap::new();
        for id in ids {
            let hits = statement
                .query_map(params![source, id], |row| {
                    Ok((HitId(row.get(0)?), row.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            if !hits.is_empty() {
                found.insert(id.clone(), hits);
            }
        }
        Ok(found)
    }

    /// Commits a batch in one transaction: new posts (indexed for full-text search) and
    /// their hits (with the labels routes match on), the planned deliveries of the hits this transaction stored,
    /// acknowledgements by own-handle replies, and the cursor. Posts and hits already
    /// stored are left alone, so a page committed twice changes nothing.
    pub fn record_batch(&mut self, batch: NewBatch) -> Result<BatchOutcome, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcome = BatchOutcome::default();
        let mut new_hits: HashMap<HitKey, HitId> = HashMap::new();
        let mut to_index: Vec<(i64, String)> = Vec::new();
        let now = timestamp(batch.now);
        {
            let mut insert_post = tx.prepare_cached(
                "INSERT OR IGNORE INTO posts (source, post_id, url, author_id, author_handle,
                     author_name, author_followers, author_key, text, lang, created_at, kind,
                     in_reply_to, fetched_at, likes, reposts, replies, quotes, score)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19)",
            )?;
            let mut insert_hit = tx.prepare_cached(
                "INSERT OR IGNORE INTO hits (post, brand, team, matched, detected_at,
                     author_earlier_hits, severity, competitor, is_topic, sentiment,
                     sentiment_score, priority)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            // One lookup: `author_hits` is kept by triggers on `hits` (migration 18).
            let mut earlier = tx.prepare_cached(
                "SELECT MIN(hits, ?3) FROM author_hits WHERE source = ?1 AND author_key = ?2",
            )?;
            for MatchedPost {
                post,
                sentiment,
                sentiment_score,
                hits,
            } in batch.posts
            {
                if hits.is_empty() {
                    continue;
                }
                let author = post.author.clone().unwrap_or_default();
                let engagement = post.engagement.unwrap_or_default();
                let count = |n: Option<u64>| n.map(|n| n.min(i64::MAX as u64) as i64);
                let priority = post_priority(&post, sentiment) as i64;
                let inserted = insert_post.execute(params![
                    post.source,
                    post.id,
                    post.url,
                    author.id,
                    author.handle,
                    author.name,
                    author.followers.map(|f| f.min(i64::MAX as u64) as i64),
                    post.author_key(),
                    post.text,
                    post.lang,
                    post.created_at.map(timestamp),
                    post.kind,
                    post.in_reply_to,
                    now,
                    count(engagement.likes),
                    count(engagement.reposts),
                    count(engagement.replies),
                    count(engagement.quotes),
                    count(engagement.score),
                ])?;
                if inserted == 0 {
                    continue;
                }
                outcome.new_posts += 1;
                let post_row = tx.last_insert_rowid();
                let author_earlier_hits: i64 = match post.author_key() {
                    Some(key) => earlier
                        .query_row(params![post.source, key, EARLIER_HITS_CAP], |r| r.get(0))
                        .optional()?
                        .unwrap_or(0),
                    None => 0,
                };
                for hit in hits {
                    let matched = serde_json::to_string(&hit.terms)?;
                    if insert_hit.execute(params![
                        post_row,
                        hit.brand,
                        hit.team,
                        matched,
                        now,
                        author_earlier_hits,
                        hit.severity.as_str(),
                        hit.competitor,
                        hit.kind == HitKind::Topic,
                        sentiment.as_str(),
                        f64::from(sentiment_score),
                        priority,
                    ])? == 0
                    {
                        continue;
                    }
                    new_hits.insert(
                        HitKey {
                            source: post.source.clone(),
                            post_id: post.id.clone(),
                            brand: hit.brand.to_string(),
                        },
                        HitId(tx.last_insert_rowid()),
                    );
                }
                to_index.push((post_row, post.text));
            }
        }
        outcome.new_hits = new_hits.len();
        outcome.deliveries = insert_deliveries(&tx, &batch.deliveries, &new_hits, batch.now)?;
        outcome.acked = apply_replies(&tx, &batch.replies)?;
        if let Some(cursor) = &batch.cursor {
            tx.execute(
                "INSERT INTO cursors (source, cursor, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                params![batch.source, cursor, now],
            )?;
        }
        index_posts(&tx, to_index.iter().map(|(id, text)| (*id, text.as_str())))?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Number of stored posts and hits (for `check` and tests).
    pub fn counts(&self) -> Result<(u64, u64), StoreError> {
        let posts: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM posts", [], |r| r.get(0))?;
        let hits: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM hits", [], |r| r.get(0))?;
        Ok((posts as u64, hits as u64))
    }

    /// Each hit's post id, sentiment label and score, in insertion order (tests).
    #[cfg(test)]
    pub(crate) fn hit_sentiments(&self) -> Result<Vec<(String, String, Option<f64>)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT posts.post_id, hits.sentiment, hits.sentiment_score
             FROM hits JOIN posts ON posts.id = hits.post ORDER BY hits.id",
        )?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
