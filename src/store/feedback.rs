//! Feedback from people on hits (`mentiond feedback`, the console): each verdict is
//! recorded against the brand, term and variant that made the hit, and a generated
//! typo or folded variant with enough net negative feedback is switched off for every
//! matcher compiled or refreshed after it (read through [`Store::feedback_off_variants`]),
//! until `relevant` verdicts cancel it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::time::timestamp;
use super::{Store, StoreError};
use crate::text::fold;

/// What a person says about a hit (serialized as `not-relevant` or `relevant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedbackVerdict {
    /// The hit is not about the brand (counts towards switching its variant off).
    NotRelevant,
    /// The hit is about the brand (undoes the person's `not-relevant`, and counts
    /// against switching its variant off).
    Relevant,
}

impl FeedbackVerdict {
    /// The verdict as stored and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackVerdict::NotRelevant => "not-relevant",
            FeedbackVerdict::Relevant => "relevant",
        }
    }

    /// Reads `not-relevant` or `relevant`.
    pub fn parse(text: &str) -> Option<FeedbackVerdict> {
        match text {
            "not-relevant" => Some(FeedbackVerdict::NotRelevant),
            "relevant" => Some(FeedbackVerdict::Relevant),
            _ => None,
        }
    }
}

/// How many people's verdicts a variant has, one per hit and person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackTally {
    /// `not-relevant` verdicts.
    pub not_relevant: u64,
    /// `relevant` verdicts.
    pub relevant: u64,
}

impl FeedbackTally {
    /// Whether `threshold` net negative verdicts (not relevant minus relevant) switch
    /// the variant off; a threshold of 0 switches nothing off.
    pub fn switches_off(self, threshold: u32) -> bool {
        threshold > 0 && self.not_relevant.saturating_sub(self.relevant) >= u64::from(threshold)
    }
}

/// What [`Store::record_feedback`] recorded (serializable for the console's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedbackOutcome {
    /// The hit.
    pub hit_id: i64,
    /// The verdict recorded.
    pub verdict: FeedbackVerdict,
    /// False when this person had given this verdict on this hit before (nothing changed).
    pub changed: bool,
    /// The hit's brand or topic.
    pub brand: String,
    /// The term, as written in the keywords file, behind the variant.
    pub term: String,
    /// The folded variant the verdict counts against.
    pub variant: String,
    /// The match kind (`exact`, `misspelling`, …).
    pub kind: String,
    /// The variant is a generated typo.
    pub generated: bool,
    /// The variant is a generated typo or a folded form that feedback may switch off;
    /// false for the brand's own written term, which needs an exclusion instead.
    pub switchable: bool,
    /// The variant's verdicts after this one.
    pub tally: FeedbackTally,
    /// The variant is now switched off by feedback.
    pub switched_off: bool,
}

/// The feedback on one variant (`mentiond check --variants`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantFeedback {
    /// Brand or topic.
    pub brand: String,
    /// The term as written.
    pub term: String,
    /// The folded variant.
    pub variant: String,
    /// A generated typo or folded form (feedback may switch it off).
    pub switchable: bool,
    /// Its verdicts.
    pub tally: FeedbackTally,
    /// Switched off by feedback.
    pub switched_off: bool,
}

/// The parts of a stored [`crate::matcher::TermMatch`] that feedback records.
#[derive(Debug, Deserialize)]
struct StoredTerm {
    term: String,
    kind: String,
    #[serde(default)]
    variant: String,
    #[serde(default)]
    generated: bool,
}

impl StoredTerm {
    /// A generated typo, or a written term's folded form that is not the term itself
    /// (`turktelekom` for `Türk Telekom`).
    fn switchable(&self) -> bool {
        self.generated || fold(&self.term).trim() != self.variant
    }
}

impl Store {
    /// Sets `[matcher] feedback_off_after` (0: feedback switches nothing off).
    pub fn set_feedback_off_after(&mut self, threshold: u32) {
        self.feedback_off_after = threshold;
    }

    /// Records `by`'s verdict on hit `hit_id`, once per hit and person (a later verdict
    /// replaces the earlier one; the same one again changes nothing), against the term
    /// that made the hit: a written one when the hit has one (the hit stands on it, so
    /// a typo beside it is not to blame), else the first generated or folded variant.
    pub fn record_feedback(
        &mut self,
        hit_id: i64,
        verdict: FeedbackVerdict,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<FeedbackOutcome, StoreError> {
        // Immediate: a read upgraded to a write beside the daemon's writer would fail
        // at once instead of waiting for the busy timeout.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, String)> = tx
            .query_row(
                "SELECT brand, matched FROM hits WHERE id = ?1",
                [hit_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((brand, matched)) = found else {
            return Err(StoreError::UnknownHit(hit_id));
        };
        let terms: Vec<StoredTerm> = serde_json::from_str(&matched)?;
        let blamed = terms
            .iter()
            .find(|term| !term.switchable())
            .or_else(|| terms.first())
            .ok_or(StoreError::UnknownHit(hit_id))?;
        let variant = if blamed.variant.is_empty() {
            fold(&blamed.term).trim().to_string()
        } else {
            blamed.variant.clone()
        };
        let switchable = blamed.switchable();
        let changed = tx.execute(
            "INSERT INTO hit_feedback (hit, person, verdict, at, brand, term, variant, kind,
                 generated, switchable)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (hit, person) DO UPDATE SET verdict = excluded.verdict, at = excluded.at
             WHERE verdict <> excluded.verdict",
            params![
                hit_id,
                by,
                verdict.as_str(),
                timestamp(at),
                brand,
                blamed.term,
                variant,
                blamed.kind,
                blamed.generated,
                switchable
            ],
        )? > 0;
        let tally = tally(&tx, &brand, &variant)?;
        tx.commit()?;
        Ok(FeedbackOutcome {
            hit_id,
            verdict,
            changed,
            term: blamed.term.clone(),
            kind: blamed.kind.clone(),
            generated: blamed.generated,
            switchable,
            tally,
            switched_off: switchable && tally.switches_off(self.feedback_off_after),
            brand,
            variant,
        })
    }

    /// The `(brand, variant)` pairs switched off by feedback: generated typos and folded
    /// forms with at least `feedback_off_after` net `not-relevant` verdicts.
    pub fn feedback_off_variants(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .variant_feedback(None)?
            .into_iter()
            .filter(|feedback| feedback.switched_off)
            .map(|feedback| (feedback.brand, feedback.variant))
            .collect())
    }

    /// The feedback on each variant of `brand` (every brand when `None`), by brand and
    /// variant.
    pub fn variant_feedback(
        &self,
        brand: Option<&str>,
    ) -> Result<Vec<VariantFeedback>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT brand, MIN(term), variant, MAX(switchable),
                    SUM(verdict = 'not-relevant'), SUM(verdict = 'relevant')
             FROM hit_feedback WHERE ?1 IS NULL OR brand = ?1
             GROUP BY brand, variant ORDER BY brand, variant",
        )?;
        let rows = statement.query_map([brand], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, bool>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })?;
        let mut variants = Vec::new();
        for row in rows {
            let (brand, term, variant, switchable, not_relevant, relevant) = row?;
            let tally = FeedbackTally {
                not_relevant: not_relevant.max(0) as u64,
                relevant: relevant.max(0) as u64,
            };
            variants.push(VariantFeedback {
                brand,
                term,
                variant,
                switchable,
                tally,
                switched_off: switchable && tally.switches_off(self.feedback_off_after),
            });
        }
        Ok(variants)
    }
}

/// The verdicts on `(brand, variant)`.
fn tally(
    conn: &rusqlite::Connection,
    brand: &str,
    variant: &str,
) -> Result<FeedbackTally, StoreError> {
    let (not_relevant, relevant): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(verdict = 'not-relevant'), 0), COALESCE(SUM(verdict = 'relevant'), 0)
         FROM hit_feedback WHERE brand = ?1 AND variant = ?2",
        params![brand, variant],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(FeedbackTally {
        not_relevant: not_relevant.max(0) as u64,
        relevant: relevant.max(0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::matcher::{BrandHit, TermKind, TermKinds, TermMatch};
    use crate::model::{Post, SourceName};
    use crate::sentiment::Sentiment;
    use crate::store::{MatchedPost, NewBatch};

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, minute, 0).unwrap()
    }

    fn term(
        term: &str,
        matched: &str,
        variant: &str,
        kind: TermKind,
        generated: bool,
    ) -> TermMatch {
        TermMatch {
            term: term.into(),
            matched: matched.into(),
            kind,
            variant: variant.into(),
            generated,
            start: 0,
            end: matched.len(),
            kinds: TermKinds::new(kind, false),
            suffix: None,
            evidence: Vec::new(),
        }
    }

    /// Stores one post per `terms` entry, each with one Turkcell hit made of those
    /// terms; returns the hit ids in order.
    fn store_hits(store: &mut Store, hits: Vec<Vec<TermMatch>>) -> Vec<i64> {
        let posts = hits
            .into_iter()
            .enumerate()
            .map(|(n, terms)| {
                let mut hit = BrandHit::exact_for_tests("Turkcell", None, "Turkcell");
                hit.terms = terms;
                MatchedPost {
                    post: Post::from_json(&format!(
                        r#"{{"source":"test","id":"p{n}","text":"tukrcell çekmiyor"}}"#
                    ))
                    .unwrap(),
                    sentiment: Sentiment::Neutral,
                    sentiment_score: 0.0,
                    hits: vec![hit],
                }
            })
            .collect();
        store
            .record_batch(NewBatch {
                source: SourceName("test".into()),
                cursor: None,
                posts,
                deliveries: Vec::new(),
                now: at(0),
                replies: Vec::new(),
            })
            .unwrap();
        let mut statement = store
            .conn
            .prepare("SELECT id FROM hits ORDER BY id")
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn typo() -> TermMatch {
        term(
            "Turkcell",
            "tukrcell",
            "tukrcell",
            TermKind::Misspelling,
            true,
        )
    }

    #[test]
    fn feedback_is_idempotent_per_person_switches_a_typo_off_and_relevant_undoes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut store = Store::open(&path).unwrap();
        store.set_feedback_off_after(3);
        let hits = store_hits(&mut store, vec![vec![typo()]; 4]);
        let not = FeedbackVerdict::NotRelevant;

        let first = store.record_feedback(hits[0], not, "ayse", at(1)).unwrap();
        assert_eq!(
            (
                first.brand.as_str(),
                first.term.as_str(),
                first.variant.as_str()
            ),
            ("Turkcell", "Turkcell", "tukrcell")
        );
        assert!(first.changed && first.generated && first.switchable);
        assert_eq!(first.kind, "misspelling");
        // The same verdict by the same person again counts once.
        let again = store.record_feedback(hits[0], not, "ayse", at(2)).unwrap();
        assert!(!again.changed);
        assert_eq!(
            again.tally,
            FeedbackTally {
                not_relevant: 1,
                relevant: 0
            }
        );
        store.record_feedback(hits[1], not, "ayse", at(3)).unwrap();
        assert!(store.feedback_off_variants().unwrap().is_empty());
        let third = store
            .record_feedback(hits[2], not, "mehmet", at(4))
            .unwrap();
        assert!(third.switched_off);
        assert_eq!(third.tally.not_relevant, 3);
        assert_eq!(
            store.feedback_off_variants().unwrap(),
            [("Turkcell".to_string(), "tukrcell".to_string())]
        );

        // Persistent: a store opened again (a restart) sees it off.
        drop(store);
        let mut store = Store::open(&path).unwrap();
        assert!(
            store.feedback_off_variants().unwrap().is_empty(),
            "0 switches none off"
        );
        store.set_feedback_off_after(3);
        assert_eq!(store.feedback_off_variants().unwrap().len(), 1);

        // Undo: the person's own `relevant` replaces their `not-relevant`.
        let undo = store
            .record_feedback(hits[2], FeedbackVerdict::Relevant, "mehmet", at(5))
            .unwrap();
        assert!(undo.changed && !undo.switched_off);
        assert_eq!(
            undo.tally,
            FeedbackTally {
                not_relevant: 2,
                relevant: 1
            }
        );
        assert!(store.feedback_off_variants().unwrap().is_empty());
        let report = store.variant_feedback(Some("Turkcell")).unwrap();
        assert_eq!(report.len(), 1);
        assert_eq!(report[0].tally, undo.tally);
        assert!(store.variant_feedback(Some("Vodafone")).unwrap().is_empty());
    }

    #[test]
    fn feedback_blames_the_written_term_a_hit_stands_on_which_is_never_switched_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("m.db")).unwrap();
        store.set_feedback_off_after(1);
        let written = term("Turkcell", "Turkcell", "turkcell", TermKind::Exact, false);
        let joined = term(
            "Türk Telekom",
            "turktelekom",
            "turktelekom",
            TermKind::Folded,
            false,
        );
        let hits = store_hits(&mut store, vec![vec![typo(), written], vec![joined]]);
        let not = FeedbackVerdict::NotRelevant;

        let outcome = store.record_feedback(hits[0], not, "ayse", at(1)).unwrap();
        assert_eq!(outcome.variant, "turkcell");
        assert!(!outcome.switchable && !outcome.switched_off);
        // A folded form of a written term (joined) may be switched off.
        let outcome = store.record_feedback(hits[1], not, "ayse", at(1)).unwrap();
        assert!(outcome.switchable && outcome.switched_off && !outcome.generated);
        assert_eq!(
            store.feedback_off_variants().unwrap(),
            [("Turkcell".to_string(), "turktelekom".to_string())]
        );
    }

    #[test]
    fn feedback_on_an_unknown_hit_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("m.db")).unwrap();
        let err = store
            .record_feedback(42, FeedbackVerdict::NotRelevant, "ayse", at(1))
            .unwrap_err();
        assert!(matches!(err, StoreError::UnknownHit(42)), "{err}");
        assert_eq!(
            serde_json::to_value(FeedbackVerdict::NotRelevant).unwrap(),
            "not-relevant"
        );
        assert_eq!(err.to_string(), "no hit with id 42");
    }
}
