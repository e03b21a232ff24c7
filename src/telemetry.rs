//! Logging: `tracing` filtered by `[log] level` unless `RUST_LOG` is set. Under
//! systemd (`JOURNAL_STREAM` names the stream stderr is) plain logs go to the journal
//! natively, levels mapped to priorities and fields kept as journal fields; otherwise,
//! or when the journal socket cannot be reached, to stderr, plain or JSON. Field names
//! are fixed: `source`, `receiver`, `delivery_id`, `error`, `n_posts`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber; a second call is a no-op (tests start several daemons).
pub fn init(level: &str, format: LogFormat) {
    let filter = || {
        EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(level))
            .unwrap_or_else(|_| EnvFilter::new("info"))
    };
    let journal = (format == LogFormat::Plain && stderr_is_journal_stream())
        .then(|| tracing_journald::layer().map(journal_layer));
    if let Some(Ok(layer)) = journal {
        let _ = tracing_subscriber::registry()
            .with(filter())
            .with(layer)
            .try_init();
        return;
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into journald or files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = match format {
        LogFormat::Plain => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if let Some(Err(err)) = journal {
        tracing::warn!(error = %err, "journal unavailable, logging to stderr");
    }
}

/// The journal's own levels: `info` is informational (6), not notice, and fields keep
/// their names (`SOURCE=`, `ERROR=`) so `journalctl SOURCE=hn` finds a source's lines.
fn journal_layer(layer: tracing_journald::Layer) -> tracing_journald::Layer {
    use tracing_journald::{Priority, PriorityMappings};
    layer
        .with_field_prefix(None)
        .with_priority_mappings(PriorityMappings {
            error: Priority::Error,
            warn: Priority::Warning,
            info: Priority::Informational,
            debug: Priority::Debug,
            trace: Priority::Debug,
        })
}

/// Whether stderr is the stream systemd connected to the journal: `JOURNAL_STREAM`
/// holds its `device:inode`, and a child whose stderr was redirected inherits the
/// variable, so it must match stderr itself (systemd.exec(5)).
fn stderr_is_journal_stream() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let stderr = std::io::stderr().as_fd().try_clone_to_owned();
    let Ok(meta) = stderr.and_then(|fd| std::fs::File::from(fd).metadata()) else {
        return false;
    };
    journal_stream_matches(&value.to_string_lossy(), meta.dev(), meta.ino())
}

/// Whether `value` (`JOURNAL_STREAM`, `device:inode` in decimal) names `dev` and `ino`.
fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let parse = |text: &str| text.trim().parse::<u64>().ok();
    value
        .split_once(':')
        .and_then(|(d, i)| Some((parse(d)?, parse(i)?)))
        == Some((dev, ino))
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (journald adds the timestamp).
    Plain,
    /// One JSON object per line.
    Json,
}

/// `[log]` as written.
#[derive(Debug, serde::Deserialize)]
pub struct RawLog {
    /// Filter directive (`info`, `mentiond=debug`, …).
    pub level: String,
    /// `plain` or `json`.
    pub format: String,
}

/// `[log]`, validated.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `tracing` filter directive.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

impl LogSettings {
    /// Validates `[log]`; problems are `(key, message)` relative to it.
    pub fn parse(raw: &RawLog) -> (LogSettings, Vec<(&'static str, String)>) {
        let mut problems = Vec::new();
        let format = match raw.format.as_str() {
            "plain" => LogFormat::Plain,
            "json" => LogFormat::Json,
            other => {
                problems.push((
                    "format",
                    format!("unknown format `{other}`, expected `plain` or `json`"),
                ));
                LogFormat::Plain
            }
        };
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&raw.level) {
            problems.push(("level", format!("invalid filter: {err}")));
        }
        let settings = LogSettings {
            level: raw.level.clone(),
            format,
        };
        (settings, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_must_name_stderrs_device_and_inode() {
        assert!(journal_stream_matches("2049:131075", 2049, 131075));
        assert!(
            !journal_stream_matches("2049:131075", 2049, 7),
            "inherited by a redirected child"
        );
        assert!(!journal_stream_matches("", 2049, 131075));
        assert!(!journal_stream_matches("2049", 2049, 131075));
        assert!(!journal_stream_matches("a:b", 0, 0));
    }
}
