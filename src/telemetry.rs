//! Logging: `tracing` to stderr, plain (journald adds timestamps) or JSON, filtered by
//! `[log] level` unless `RUST_LOG` is set. Field names are fixed: `source`,
//! `receiver`, `delivery_id`, `error`, `n_posts`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call is a no-op (tests start several daemons).
pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into journald or files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = match format {
        LogFormat::Plain => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
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
