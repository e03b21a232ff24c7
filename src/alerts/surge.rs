//! The [`SurgeLoop`]: every minute, per brand, the mentions of the last window against
//! the usual count of that hour of the week (`routing::surge`), and an alert through
//! the routes for each surge outside its cooldown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use super::Wakers;
use super::responsibility::{CurrentRouter, every};
use crate::routing::surge::{self, SurgeKind, SurgeSettings, WindowCount, WindowMention};
use crate::store::{StoreError, StoreHandle};

/// Time between two surge checks.
pub const SURGE_CHECK: Duration = Duration::from_secs(60);

/// Checks every brand for a surge every `every` and enqueues the alerts.
pub struct SurgeLoop {
    /// The routes in force, read at each check.
    pub router: CurrentRouter,
    /// The store.
    pub store: StoreHandle,
    /// Delivery workers to wake when alerts were enqueued.
    pub wakers: Arc<Wakers>,
    /// `[surge]`.
    pub settings: SurgeSettings,
    /// Time between checks.
    pub every: Duration,
    /// Stops the loop between checks.
    pub cancel: CancellationToken,
}

impl SurgeLoop {
    /// Runs until cancelled.
    pub async fn run(self) {
        let this = &self;
        every(self.every, &self.cancel, &self.wakers, |now| async move {
            match this.check(now).await {
                Ok(0) => 0,
                Ok(deliveries) => {
                    info!(deliveries, "surge alerts queued");
                    deliveries
                }
                Err(err) => {
                    error!(error = %err, "surge check failed");
                    0
                }
            }
        })
        .await;
    }

    /// One check at `now`: every brand's mentions in the window ending at `now`
    /// against its baseline; each surge outside its cooldown is stored with its
    /// deliveries. Returns how many deliveries were enqueued.
    pub async fn check(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let router = (self.router)();
        let settings = self.settings.clone();
        self.store
            .call(move |store| -> Result<usize, StoreError> {
                let window_start = settings.window_start(now);
                let mentions = store.window_mentions(window_start, now)?;
                if mentions.is_empty() {
                    return Ok(0);
                }
                let mut by_brand: HashMap<&str, Vec<WindowMention>> = HashMap::new();
                for mention in &mentions {
                    by_brand
                        .entry(mention.labels.brand.as_str())
                        .or_default()
                        .push(mention.clone());
                }
                let since = store.first_hit_at()?.unwrap_or(window_start);
                let secs = settings.window.as_secs().max(1) as i64;
                let mut history: HashMap<String, Vec<WindowCount>> = HashMap::new();
                for (from, to) in surge::history_ranges(&settings, since, now) {
                    for (brand, count) in store.window_counts(from, to, secs)? {
                        history.entry(brand).or_default().push(count);
                    }
                }
                let cooldown =
                    chrono::Duration::from_std(settings.cooldown).unwrap_or(chrono::Duration::MAX);
                let mut enqueued = 0;
                let mut brands: Vec<&&str> = by_brand.keys().collect();
                brands.sort();
                for brand in brands {
                    let counts = history.get(*brand).map_or(&[][..], Vec::as_slice);
                    let usual = surge::baseline(&settings, counts, since, now);
                    let mut last: HashMap<SurgeKind, Option<DateTime<Utc>>> = HashMap::new();
                    for kind in [SurgeKind::Volume, SurgeKind::Negative] {
                        last.insert(kind, store.last_surge(brand, kind)?);
                    }
                    let cooling = |kind: SurgeKind| {
                        last.get(&kind).copied().flatten().is_some_and(|at| {
                            at.checked_add_signed(cooldown).is_none_or(|end| end > now)
                        })
                    };
                    let Some(found) =
                        surge::detect(&settings, &by_brand[*brand], usual, now, cooling)
                    else {
                        continue;
                    };
                    let receivers = router.surge_receivers(&found.labels);
                    let count = store.record_surge(&found, &receivers, now)?;
                    info!(
                        brand = %found.note.brand,
                        kind = found.note.kind.as_str(),
                        count = found.note.count,
                        usual = found.note.usual,
                        deliveries = count,
                        "surge detected"
                    );
                    enqueued += count;
                }
                Ok(enqueued)
            })
            .await
            .and_then(|result| result)
    }
}

#[cfg(test)]
mod tests;
