//! The critical `report` task: at start it writes every daily report that is due
//! (the missed days, see `report::days_due`), then sleeps until the next `[report]
//! at` in the zone and writes the previous day. The clock is injected for tests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::alerts::{Notifier, ReportMessage, Wakers};
use crate::model::DeliveryId;
use crate::report::{self, DailyReport, Format, Period, ReportSettings};
use crate::store::StoreHandle;

/// Where the task reads the time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Longest sleep between two checks, so a clock that jumped (a suspended machine, a
/// corrected clock) delays a report by at most this.
const RECHECK: Duration = Duration::from_secs(15 * 60);

/// The receivers of `[report] send_to` and the wake-ups of their workers.
#[derive(Clone, Default)]
pub struct Recipients {
    /// The notifiers named in `send_to` (a reload's changes are not followed).
    pub notifiers: Vec<Arc<dyn Notifier>>,
    /// Wakes the delivery workers once a report is queued.
    pub wakers: Option<Arc<Wakers>>,
}

/// Writes the reports due at `clock()`, each day's files once, and queues each day's
/// message to every recipient once; returns the days written. A file that cannot be
/// written fails the pass (it is tried again at the next); a store error fails the
/// task.
pub async fn write_due(
    settings: &ReportSettings,
    store: &StoreHandle,
    clock: &Clock,
    recipients: &Recipients,
) -> anyhow::Result<Vec<NaiveDate>> {
    let now = clock();
    let mut written = Vec::new();
    for day in report::days_due(settings, now) {
        let (zone, language) = (settings.time_zone, settings.language);
        let period = Period::day(day);
        let daily = store
            .call(move |store| report::generate(store, period, zone, language, now))
            .await?
            .context("reading the report's hits")?;
        let (dir, formats) = (settings.dir.clone(), settings.formats.clone());
        let daily = Arc::new(daily);
        let files: Vec<PathBuf> = {
            let daily = Arc::clone(&daily);
            tokio::task::spawn_blocking(move || report::write_files(&daily, &dir, &formats, false))
                .await??
        };
        send(&daily, store, recipients, now).await?;
        info!(
            date = %day,
            files = files.len(),
            dir = %settings.dir.display(),
            "report written"
        );
        written.push(day);
    }
    Ok(written)
}

/// Queues `daily`'s message to each recipient, once per day and receiver (the
/// delivery id is derived from both).
async fn send(
    daily: &DailyReport,
    store: &StoreHandle,
    recipients: &Recipients,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if recipients.notifiers.is_empty() {
        return Ok(());
    }
    let (title, summary) = report::summary(daily);
    let html = report::render(daily, Format::Html);
    let csv = report::render(daily, Format::Csv);
    let json: serde_json::Value = serde_json::from_str(&report::render(daily, Format::Json))?;
    let json = json.to_string();
    let csv_name = format!("{}.csv", daily.last_day);
    for notifier in &recipients.notifiers {
        let id = DeliveryId(format!("report_{}_{}", daily.last_day, notifier.name()));
        let payload = notifier.render_report(&ReportMessage {
            id: &id,
            title: &title,
            summary: &summary,
            html: &html,
            csv: &csv,
            csv_name: &csv_name,
            json: &json,
            now,
        });
        let receiver = notifier.name().clone();
        let queued = store
            .call(move |store| store.enqueue_report(&id, &receiver, &payload, now))
            .await?
            .context("queueing the report")?;
        if queued {
            info!(receiver = %notifier.name(), date = %daily.last_day, "report queued");
        }
    }
    if let Some(wakers) = &recipients.wakers {
        wakers.wake_all();
    }
    Ok(())
}

/// The task: catch up at start, then write each day's report at `at` until `stop`.
pub async fn write_reports(
    settings: ReportSettings,
    store: StoreHandle,
    clock: Clock,
    recipients: Recipients,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        match write_due(&settings, &store, &clock, &recipients).await {
            Ok(_) => {}
            Err(err) if err.downcast_ref::<crate::store::StoreError>().is_some() => {
                return Err(err);
            }
            Err(err) => {
                warn!(error = %format!("{err:#}"), "cannot write the report; trying again later")
            }
        }
        let now = clock();
        let wait = (report::next_run(&settings, now) - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(RECHECK);
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Istanbul;

    use crate::report::Format;
    use crate::store::Store;

    #[tokio::test]
    async fn catch_up_after_a_three_day_gap_writes_three_reports_once() {
        let dir = tempfile::tempdir().unwrap();
        let reports = dir.path().join("reports");
        let settings = ReportSettings::parse(
            true,
            "00:05",
            "Europe/Istanbul",
            reports.clone(),
            "en",
            &["md".into(), "csv".into(), "json".into(), "html".into()],
            Vec::new(),
        )
        .unwrap();
        let (store, _thread) = StoreHandle::spawn(Store::open(&dir.path().join("db")).unwrap());
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        // The daemon last wrote the 22nd and was down until the 26th, 09:00.
        let written = report::write_files(
            &report::DailyReport::build(
                Period::day(day(22)),
                Istanbul,
                report::Language::En,
                report::Facts::default(),
            ),
            &reports,
            &Format::ALL,
            false,
        )
        .unwrap();
        assert_eq!(written.len(), 4);
        let now = Istanbul
            .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let clock: Clock = Arc::new(move || now);
        let first = write_due(&settings, &store, &clock, &Recipients::default())
            .await
            .unwrap();
        assert_eq!(first, [day(23), day(24), day(25)]);
        let mut names: Vec<_> = std::fs::read_dir(&reports)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 16, "{names:?}");
        assert_eq!(names[4], "2026-11-23.csv");
        // A second start (the same day, later) writes nothing.
        let later: Clock = Arc::new(move || now + chrono::Duration::hours(3));
        assert!(
            write_due(&settings, &store, &later, &Recipients::default())
                .await
                .unwrap()
                .is_empty()
        );
        // The task itself catches up and stops at its token.
        std::fs::remove_file(reports.join("2026-11-25.json")).unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn(write_reports(
            settings.clone(),
            store.clone(),
            later,
            Recipients::default(),
            stop.clone(),
        ));
        for _ in 0..200 {
            if reports.join("2026-11-25.json").exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(reports.join("2026-11-25.json").exists());
        stop.cancel();
        task.await.unwrap().unwrap();
    }
}
