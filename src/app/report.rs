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

use crate::report::{self, Period, ReportSettings};
use crate::store::StoreHandle;

/// Where the task reads the time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Longest sleep between two checks, so a clock that jumped (a suspended machine, a
/// corrected clock) delays a report by at most this.
const RECHECK: Duration = Duration::from_secs(15 * 60);

/// Writes the reports due at `clock()`, each day's files once; returns the days
/// written. A file that cannot be written fails the pass (it is tried again at the
/// next); a store error fails the task.
pub async fn write_due(
    settings: &ReportSettings,
    store: &StoreHandle,
    clock: &Clock,
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
        let files: Vec<PathBuf> =
            tokio::task::spawn_blocking(move || report::write_files(&daily, &dir, &formats, false))
                .await??;
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

/// The task: catch up at start, then write each day's report at `at` until `stop`.
pub async fn write_reports(
    settings: ReportSettings,
    store: StoreHandle,
    clock: Clock,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    if !settings.send_to.is_empty() {
        warn!(
            receivers = settings.send_to.join(", "),
            "report send_to is not delivered yet; the files are written"
        );
    }
    loop {
        match write_due(&settings, &store, &clock).await {
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
        let first = write_due(&settings, &store, &clock).await.unwrap();
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
            write_due(&settings, &store, &later)
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
