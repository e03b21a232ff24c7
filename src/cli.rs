//! Command-line interface: argument types and one function per command. Exit codes
//! are decided here, in one place: 0 success, 1 runtime failure (or, for `match`, no
//! line matched), 2 bad configuration, keywords or usage.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config, ConfigError, KeywordRules};
use crate::escape;
use crate::matcher::{BrandHit, Matcher};
use crate::model::Post;
use crate::store::Store;
use crate::{app, shutdown, telemetry};

/// Watches public posts for brand mentions and alerts the people responsible.
#[derive(Debug, Parser)]
#[command(name = "mentiond", version, about)]
pub struct Cli {
    /// Configuration file layered over the built-in defaults.
    #[arg(long, short, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon until SIGTERM or SIGINT.
    Run,
    /// Validate the configuration and keywords and print a summary.
    Check,
    /// Match text against the keywords, like grep (exit 0 if any line matched, 1 if none).
    Match {
        /// Keywords file to use instead of the configured one.
        #[arg(long, value_name = "FILE")]
        keywords: Option<PathBuf>,
        /// Print one JSON object per input line.
        #[arg(long)]
        json: bool,
        /// Texts to match; without them, lines are read from stdin (plain text or post JSON).
        text: Vec<String>,
    },
    /// List stored hits, newest first.
    Hits {
        /// Print one JSON object per hit.
        #[arg(long)]
        json: bool,
        /// How many hits to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only hits of this brand.
        #[arg(long)]
        brand: Option<String>,
    },
    /// Show each source's health (last success, last error, lag, posts per minute),
    /// read from the database of the running daemon.
    Status {
        /// Print one JSON object per source.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the parsed command and returns the process exit code.
pub fn execute(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run => run(cli.config),
        Command::Check => check(cli.config),
        Command::Match {
            keywords,
            json,
            text,
        } => match_text(cli.config, keywords, json, text),
        Command::Hits { json, limit, brand } => hits(cli.config, json, limit, brand),
        Command::Status { json } => status(cli.config, json),
    };
    match result {
        Ok(code) => code,
        Err(err) => match err.downcast_ref::<ConfigError>() {
            Some(config_error) => {
                eprintln!("mentiond: invalid configuration:\n{config_error}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("mentiond: {err:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn run(config_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    telemetry::init(&config.log.level, config.log.format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mentiond")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown_token = CancellationToken::new();
        let signals = tokio::spawn(shutdown::cancel_on_signal(shutdown_token.clone()));
        let result = app::run(config, shutdown_token.clone()).await;
        shutdown_token.cancel();
        signals
            .await
            .context("signal task")?
            .context("installing signal handlers")?;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

fn check(config_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let matcher = Matcher::new(&config.keywords)?;
    let mut out = std::io::stdout().lock();
    print_summary(&mut out, &config, &matcher)?;
    Ok(ExitCode::SUCCESS)
}

fn print_summary(out: &mut impl Write, config: &Config, matcher: &Matcher) -> std::io::Result<()> {
    let origin = config
        .file
        .as_ref()
        .map_or("built-in defaults".to_string(), |f| f.display().to_string());
    writeln!(out, "configuration OK: {origin}")?;
    writeln!(out, "database: {}", config.storage_path.display())?;
    writeln!(out, "sources ({}):", config.sources.len())?;
    for source in &config.sources {
        writeln!(
            out,
            "  {} [{}] every {}: {}",
            source.name,
            source.kind.kind_name(),
            humantime::format_duration(source.interval),
            source.kind.describe()
        )?;
    }
    let rules = &config.keywords;
    writeln!(
        out,
        "brands ({}) from {}, {} patterns:",
        rules.brands.len(),
        config.keywords_path.display(),
        matcher.pattern_count()
    )?;
    for brand in &rules.brands {
        let competitor = brand
            .competitor_of
            .as_ref()
            .map_or(String::new(), |of| format!(", competitor of {of}"));
        writeln!(
            out,
            "  {} (team {}{competitor}): {} terms, {} handles, {} hashtags, {} misspellings, {} exclusions",
            brand.name,
            brand.team.as_deref().unwrap_or("-"),
            brand.terms.len(),
            brand.handles.len(),
            brand.hashtags.len(),
            brand.misspellings.len(),
            brand.exclude.len()
        )?;
    }
    writeln!(out, "receivers ({}):", config.receivers.len())?;
    for receiver in &config.receivers {
        writeln!(out, "  {} [{}]", receiver.name, receiver.kind.kind_name())?;
    }
    writeln!(out, "routes ({}):", config.routes.len())?;
    for (index, route) in config.routes.iter().enumerate() {
        let mut matchers = Vec::new();
        if let Some(team) = &route.team {
            matchers.push(format!("team={team}"));
        }
        if let Some(brand) = &route.brand {
            matchers.push(format!("brand={brand}"));
        }
        let matchers = if matchers.is_empty() {
            "default".to_string()
        } else {
            matchers.join(" ")
        };
        let cont = if route.continue_matching {
            " (continue)"
        } else {
            ""
        };
        writeln!(
            out,
            "  {index}: {matchers} -> {}{cont}",
            route.receivers.join(", ")
        )?;
    }
    Ok(())
}

fn match_text(
    config_file: Option<PathBuf>,
    keywords: Option<PathBuf>,
    json: bool,
    texts: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let rules: KeywordRules = match keywords {
        Some(path) => config::load_keywords(&path)?,
        None => config::load(config_file.as_deref())?.keywords,
    };
    let matcher = Matcher::new(&rules)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut any = false;
    let mut handle = |number: usize, line: &str| -> std::io::Result<()> {
        // A line that is a post object is matched on its text; anything else as is.
        let post = line
            .trim_start()
            .starts_with('{')
            .then(|| Post::from_json(line).ok())
            .flatten();
        let text = post.as_ref().map_or(line, |p| p.text.as_str());
        let hits = matcher.find(text);
        any |= !hits.is_empty();
        if json {
            serde_json::to_writer(&mut out, &match_json(number, &hits))?;
            writeln!(out)
        } else if !hits.is_empty() {
            writeln!(
                out,
                "{number}: {}: {}",
                describe_hits(&hits),
                escape::terminal(text)
            )
        } else {
            Ok(())
        }
    };
    if texts.is_empty() {
        for (index, line) in std::io::stdin().lock().lines().enumerate() {
            handle(index + 1, &line.context("reading stdin")?)?;
        }
    } else {
        for (index, text) in texts.iter().enumerate() {
            handle(index + 1, text)?;
        }
    }
    out.flush()?;
    Ok(if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn match_json(line: usize, hits: &[BrandHit]) -> serde_json::Value {
    json!({
        "line": line,
        "hits": hits.iter().map(|hit| json!({"brand": hit.brand, "terms": hit.terms})).collect::<Vec<_>>(),
    })
}

fn describe_hits(hits: &[BrandHit]) -> String {
    hits.iter()
        .map(|hit| {
            let terms: Vec<_> = hit
                .terms
                .iter()
                .map(|t| escape::terminal(&t.matched).into_owned())
                .collect();
            format!("{} [{}]", hit.brand, terms.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn hits(
    config_file: Option<PathBuf>,
    json: bool,
    limit: usize,
    brand: Option<String>,
) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let store = open_database(&config)?;
    let hits = store.recent_hits(limit, brand.as_deref())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for hit in &hits {
        if json {
            serde_json::to_writer(&mut out, hit)?;
            writeln!(out)?;
        } else {
            let author = hit.author.as_deref().unwrap_or("?");
            writeln!(
                out,
                "#{} {} {} [{}] {}: {}",
                hit.id,
                hit.detected_at,
                escape::terminal(&hit.brand),
                escape::terminal(&hit.source),
                escape::terminal(author),
                escape::terminal(&hit.text.replace('\n', " ")),
            )?;
            if let Some(url) = &hit.url {
                writeln!(out, "    {}", escape::terminal(url))?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the configured database read-only, beside a running daemon.
fn open_database(config: &Config) -> anyhow::Result<Store> {
    if !config.storage_path.exists() {
        anyhow::bail!(
            "no database at {} (has the daemon run with this configuration?)",
            config.storage_path.display()
        );
    }
    Ok(Store::open_read_only(&config.storage_path)?)
}

fn status(config_file: Option<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let store = open_database(&config)?;
    let now = chrono::Utc::now();
    let health = store.source_health(now)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for source in &config.sources {
        let known = health.iter().find(|h| h.source == source.name);
        if json {
            let value = match known {
                Some(h) => serde_json::to_value(h)?,
                None => json!({"source": source.name, "polled": false}),
            };
            serde_json::to_writer(&mut out, &value)?;
            writeln!(out)?;
            continue;
        }
        let name = escape::terminal(&source.name);
        let Some(h) = known else {
            writeln!(out, "{name} ({}): not polled yet", source.kind.kind_name())?;
            continue;
        };
        let ago = |at: Option<chrono::DateTime<chrono::Utc>>| match at {
            Some(at) => format!("{} ago", humane((now - at).to_std().unwrap_or_default())),
            None => "never".to_string(),
        };
        let state = if h.failures == 0 { "ok" } else { "failing" };
        writeln!(
            out,
            "{name} ({}): {state}, last success {}, lag {}, {:.1} posts/min",
            source.kind.kind_name(),
            ago(h.last_success_at),
            h.newest_post_at
                .map(|at| humane((now - at).to_std().unwrap_or_default()))
                .unwrap_or_else(|| "unknown".into()),
            h.posts_per_minute,
        )?;
        if let Some(error) = &h.last_error {
            writeln!(
                out,
                "    last error {} ({} failure(s) since last success): {}",
                ago(h.last_error_at),
                h.failures,
                escape::terminal(error)
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A duration rounded to whole seconds, written like `1h 2m 3s`.
fn humane(duration: std::time::Duration) -> String {
    humantime::format_duration(std::time::Duration::from_secs(duration.as_secs())).to_string()
}
