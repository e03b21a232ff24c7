//! Generated typos the matcher switched off as noisy, kept so they stay off across
//! reloads and restarts: the daemon reads them before it compiles a matcher.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::time::{parse_timestamp, timestamp};
use super::{Store, StoreError};

/// A generated typo switched off for firing like a word of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoisyVariant {
    /// Brand or topic name.
    pub brand: String,
    /// The folded variant, as the matcher names it.
    pub variant: String,
    /// Its hits when it was switched off.
    pub hits: u64,
    /// When it was switched off.
    pub switched_off_at: DateTime<Utc>,
}

impl Store {
    /// Records switched-off variants; one recorded before keeps its first time and hits.
    pub fn record_noisy(&mut self, variants: &[NoisyVariant]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for variant in variants {
            tx.execute(
                "INSERT INTO noisy_variants (brand, variant, hits, switched_off_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (brand, variant) DO NOTHING",
                params![
                    variant.brand,
                    variant.variant,
                    i64::try_from(variant.hits).unwrap_or(i64::MAX),
                    timestamp(variant.switched_off_at)
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every switched-off variant, by brand and variant.
    pub fn noisy_variants(&self) -> Result<Vec<NoisyVariant>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT brand, variant, hits, switched_off_at FROM noisy_variants
             ORDER BY brand, variant",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut variants = Vec::new();
        for row in rows {
            let (brand, variant, hits, at) = row?;
            variants.push(NoisyVariant {
                brand,
                variant,
                hits: u64::try_from(hits).unwrap_or_default(),
                // Only `timestamp` writes the column; a hand-edited row still counts.
                switched_off_at: parse_timestamp(&at).unwrap_or_default(),
            });
        }
        Ok(variants)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn noisy_variants_round_trip_and_the_first_record_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut store = Store::open(&path).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        let telsa = NoisyVariant {
            brand: "Tesla".into(),
            variant: "telsa".into(),
            hits: 10,
            switched_off_at: at,
        };
        let karti = NoisyVariant {
            brand: "Akbank".into(),
            variant: "karti".into(),
            hits: 12,
            switched_off_at: at,
        };
        store.record_noisy(&[telsa.clone(), karti.clone()]).unwrap();
        let again = NoisyVariant {
            hits: 30,
            switched_off_at: at + chrono::Duration::hours(1),
            ..telsa.clone()
        };
        store.record_noisy(&[again]).unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.noisy_variants().unwrap(), [karti, telsa]);
    }
}
