//! Posts, hits and source cursors. A batch's posts, hits, cursor and the deliveries
//! planned for its new hits are committed in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use std::collections::{HashMap, HashSet};

use super::outbox::insert_deliveries;
use super::replies::apply_replies;
use super::time::timestamp;
use super::{Store, StoreError};
use crate::matcher::{BrandHit, HitKind};
use crate::model::{DeliveryId, HitId, Post, SourceName};
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

/// A stored hit as `mentiond hits` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HitRow {
    /// Hit id.
    pub id: HitId,
    /// Brand name.
    pub brand: String,
    /// Team.
    pub team: Option<String>,
    /// Source of the post.
    pub source: String,
    /// Post id within the source.
    pub post_id: String,
    /// Permalink.
    pub url: Option<String>,
    /// Author handle, else name, else id.
    pub author: Option<String>,
    /// Post text.
    pub text: String,
    /// When the post was written.
    pub created_at: Option<String>,
    /// When mentiond found it.
    pub detected_at: String,
    /// The matched terms.
    pub matched: serde_json::Value,
    /// When it was acknowledged, if it was.
    pub acked_at: Option<String>,
    /// Who acknowledged it.
    pub acked_by: Option<String>,
}

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

    /// Commits a batch in one transaction: new posts and their hits (with the labels
    /// routes match on), the planned deliveries of the hits this transaction stored,
    /// acknowledgements by own-handle replies, and the cursor. Posts and hits already
    /// stored are left alone, so a page committed twice changes nothing.
    pub fn record_batch(&mut self, batch: NewBatch) -> Result<BatchOutcome, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcome = BatchOutcome::default();
        let mut new_hits: HashMap<HitKey, HitId> = HashMap::new();
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
                     author_earlier_hits, severity, competitor, is_topic, sentiment, priority)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut earlier = tx.prepare_cached(
                "SELECT COUNT(*) FROM hits JOIN posts ON posts.id = hits.post
                 WHERE posts.source = ?1 AND posts.author_key = ?2 AND posts.id <> ?3",
            )?;
            for MatchedPost {
                post,
                sentiment,
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
                    Some(key) => {
                        earlier.query_row(params![post.source, key, post_row], |r| r.get(0))?
                    }
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
                        priority,
                    ])? == 0
                    {
                        continue;
                    }
                    new_hits.insert(
                        HitKey {
                            source: post.source.clone(),
                            post_id: post.id.clone(),
                            brand: hit.brand,
                        },
                        HitId(tx.last_insert_rowid()),
                    );
                }
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
        tx.commit()?;
        Ok(outcome)
    }

    /// The newest `limit` hits, newest first, of one brand and of one delivery when
    /// asked. A delivery's hits are all listed whatever `limit` says: its message may
    /// have shown only some of them, and this is how the rest is found.
    pub fn recent_hits(
        &self,
        limit: usize,
        brand: Option<&str>,
        delivery: Option<&DeliveryId>,
    ) -> Result<Vec<HitRow>, StoreError> {
        let limit = match delivery {
            Some(_) => -1,
            None => i64::try_from(limit).unwrap_or(i64::MAX),
        };
        let mut statement = self.conn.prepare(
            "SELECT hits.id, hits.brand, hits.team, posts.source, posts.post_id, posts.url,
                    COALESCE(posts.author_handle, posts.author_name, posts.author_id),
                    posts.text, posts.created_at, hits.detected_at, hits.matched,
                    hits.acked_at, hits.acked_by
             FROM hits JOIN posts ON posts.id = hits.post
             WHERE (?2 IS NULL OR hits.brand = ?2)
               AND (?3 IS NULL OR hits.id IN (SELECT hit FROM delivery_hits WHERE delivery = ?3))
             ORDER BY hits.id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map(params![limit, brand, delivery], |row| {
            Ok((
                HitRow {
                    id: row.get(0)?,
                    brand: row.get(1)?,
                    team: row.get(2)?,
                    source: row.get(3)?,
                    post_id: row.get(4)?,
                    url: row.get(5)?,
                    author: row.get(6)?,
                    text: row.get(7)?,
                    created_at: row.get(8)?,
                    detected_at: row.get(9)?,
                    matched: serde_json::Value::Null,
                    acked_at: row.get(11)?,
                    acked_by: row.get(12)?,
                },
                row.get::<_, String>(10)?,
            ))
        })?;
        let mut hits = Vec::new();
        for row in rows {
            let (mut hit, matched) = row?;
            hit.matched = serde_json::from_str(&matched)?;
            hits.push(hit);
        }
        Ok(hits)
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
}
