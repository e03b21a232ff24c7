//! Report files: each written atomically (a temporary file in the same directory,
//! synced, then linked to its name, which fails when the name exists), so a reader
//! never sees half a report and a day is never written twice; and which days are due.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{Format, Period, ReportSettings};

/// Most days caught up at start; older missed days are left to `mentiond report`.
pub const CATCH_UP_DAYS: u64 = 31;

/// Why a report file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// The directory or a file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReportFileError + '_ {
    move |source| ReportFileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The path of `period`'s report in `format` under `dir`.
pub fn report_path(dir: &Path, period: Period, format: Format) -> PathBuf {
    dir.join(format!("{}.{}", period.stem(), format.extension()))
}

/// A report file's name as the writer makes it: `2026-11-25.html` (a day) or
/// `week-2026-11-25.csv` (the week ending that day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportName {
    /// The (last) day.
    pub day: NaiveDate,
    /// A weekly report.
    pub week: bool,
    /// Its format.
    pub format: Format,
}

impl ReportName {
    /// Reads a file name the writer produces; `None` for any other name (a temporary
    /// file, a path, anything with a separator).
    pub fn parse(name: &str) -> Option<ReportName> {
        let (stem, extension) = name.rsplit_once('.')?;
        let format = Format::parse(extension).filter(|f| f.extension() == extension)?;
        let (week, date) = match stem.strip_prefix("week-") {
            Some(date) => (true, date),
            None => (false, stem),
        };
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        let parsed = ReportName { day, week, format };
        (parsed.file_name() == name).then_some(parsed)
    }

    /// The file name.
    pub fn file_name(&self) -> String {
        let prefix = if self.week { "week-" } else { "" };
        format!(
            "{prefix}{}.{}",
            self.day.format("%Y-%m-%d"),
            self.format.extension()
        )
    }
}

/// Writes `contents` as `period`'s report in `format` under `dir` (created when
/// missing). An existing file is kept unless `force`; returns the path when written.
pub fn write_report(
    dir: &Path,
    period: Period,
    format: Format,
    contents: &[u8],
    force: bool,
) -> Result<Option<PathBuf>, ReportFileError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let path = report_path(dir, period, format);
    if !force && path.exists() {
        return Ok(None);
    }
    let temp = dir.join(format!(
        ".{}.{}.{}.tmp",
        period.stem(),
        format.extension(),
        std::process::id()
    ));
    let written = std::fs::File::create(&temp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .map_err(io_error(&temp));
    let placed = written.and_then(|()| {
        if force {
            std::fs::rename(&temp, &path).map(|()| true)
        } else {
            // A link fails when the name exists: another writer won, nothing is lost.
            match std::fs::hard_link(&temp, &path) {
                Ok(()) => Ok(true),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(err) => Err(err),
            }
        }
        .map_err(io_error(&path))
    });
    let _ = std::fs::remove_file(&temp);
    Ok(placed?.then_some(path))
}

/// Whether every one of `formats` of `period`'s report is in `dir`.
pub fn report_done(dir: &Path, period: Period, formats: &[Format]) -> bool {
    formats
        .iter()
        .all(|format| report_path(dir, period, *format).exists())
}

/// The newest day with a daily report file (`YYYY-MM-DD.*`) in `dir`.
pub fn newest_report_day(dir: &Path) -> Option<NaiveDate> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            let name = name.to_str()?;
            let (stem, _) = name.split_once('.')?;
            NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok()
        })
        .max()
}

/// The days whose daily reports are due at `now`, oldest first: the last day whose
/// report time (`at` the next morning in the zone) has passed, and every day since the
/// newest report in `dir` that is not written in full (at most [`CATCH_UP_DAYS`]);
/// with no report in `dir` yet, only that last day.
pub fn days_due(settings: &ReportSettings, now: DateTime<Utc>) -> Vec<NaiveDate> {
    let local = now.with_timezone(&settings.time_zone);
    let today = local.date_naive();
    let latest = if local.time() >= settings.at {
        today - Days::new(1)
    } else {
        today - Days::new(2)
    };
    let first = match newest_report_day(&settings.dir) {
        Some(newest) => newest
            .min(latest)
            .max(latest - Days::new(CATCH_UP_DAYS - 1)),
        None => latest,
    };
    first
        .iter_days()
        .take_while(|day| *day <= latest)
        .filter(|day| !report_done(&settings.dir, Period::day(*day), &settings.formats))
        .collect()
}

/// When the next day's report is due after `now`: the next `at` in the zone.
pub fn next_run(settings: &ReportSettings, now: DateTime<Utc>) -> DateTime<Utc> {
    let zone = settings.time_zone;
    let local = now.with_timezone(&zone).date_naive();
    for offset in 0..3 {
        let day = local + Days::new(offset);
        let start = super::start_of_day(day, zone);
        let wanted = day.and_time(settings.at);
        let at = chrono::TimeZone::from_local_datetime(&zone, &wanted)
            .earliest()
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or(start);
        if at > now {
            return at;
        }
    }
    now + chrono::Duration::hours(24)
}
