//! Command-line interface: argument types and one function per command. Exit codes
//! are decided here, in one place: 0 success, 1 runtime failure (or, for `match`, no
//! line matched), 2 bad configuration, keywords or usage.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config, ConfigError};
use crate::escape;
use crate::keywords::{self, KeywordRules};
use crate::matcher::{BrandHit, Matcher, bench};
use crate::model::{DeliveryId, HitId, Post};
use crate::store::{
    AckOutcome, DeliveryStatus, FeedbackOutcome, FeedbackVerdict, HitQuery, HitRow, HitStatus,
    Store, database_bytes, parse_time_bound, unix_millis,
};
use crate::{app, report, shutdown, telemetry};

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
    Check {
        /// Instead of the summary, list every compiled variant of this brand or topic
        /// (joined phrases, generated typos, dropped real-word typos).
        #[arg(long, value_name = "BRAND")]
        variants: Option<String>,
        /// With `--variants`: first match every line of this file, so the listing
        /// shows how many hits each variant produced on it.
        #[arg(long, value_name = "FILE", requires = "variants")]
        corpus: Option<PathBuf>,
    },
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
    /// Measure what a keyword set costs: the full matcher and a raw DFA scan of the same
    /// patterns over a corpus (one post a line), on one thread; `bench pipeline`
    /// measures the whole daemon.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Bench {
        /// Keywords file to compile.
        #[arg(long, value_name = "FILE", required = true)]
        keywords: Option<PathBuf>,
        /// Corpus file, one post a line.
        #[arg(long, value_name = "FILE", required = true)]
        corpus: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// What else to measure.
        #[command(subcommand)]
        what: Option<BenchCommand>,
    },
    /// List stored hits, newest first: filter, search the post text, export.
    Hits(HitsArgs),
    /// Show whether the daemon runs (its heartbeat) and each source's health (last
    /// success, last error, lag, posts per minute), read from the daemon's database.
    Status {
        /// Print one JSON object for the daemon, then one per source.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a hit: someone is answering it, so it is not escalated.
    Ack {
        /// The hit id (shown in alerts and by `mentiond hits`).
        hit_id: HitId,
        /// Who is answering (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// Tell whether a hit was about the brand: `not-relevant` counts against the term or
    /// variant that made it (enough of it switches a generated typo off), `relevant`
    /// undoes it. Works beside the running daemon, which applies it from its next batch.
    Feedback {
        /// The hit id (shown in alerts and by `mentiond hits`).
        hit_id: HitId,
        /// `not-relevant` or `relevant`.
        #[arg(value_parser = parse_verdict)]
        verdict: FeedbackVerdict,
        /// Who says so (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// List deliveries (dead ones by default) and disabled receivers, or re-send one.
    Deliveries {
        /// What to do; without it, list.
        #[command(subcommand)]
        action: Option<DeliveriesAction>,
        /// Which deliveries to list.
        #[arg(long, value_enum, default_value_t = StatusFilter::Dead)]
        status: StatusFilter,
        /// Print one JSON object per delivery.
        #[arg(long)]
        json: bool,
        /// How many deliveries to show, newest first.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Write a consistent copy of the database to FILE, also while the daemon runs
    /// (SQLite's online backup), and print its size and row counts.
    Backup {
        /// Where to write the copy (written beside it first, then renamed).
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Compact the database file (VACUUM); refused while the daemon runs.
    Vacuum,
    /// Write the report of one local day (or, with `--week`, of the seven days ending
    /// with it) from the daemon's database, also while the daemon runs.
    Report {
        /// The local day in `[report] time_zone` (default: yesterday).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<chrono::NaiveDate>,
        /// Directory to write to (default: `[report] dir`).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Formats, comma-separated: md, csv, json, html (default: `[report] formats`).
        #[arg(long, value_delimiter = ',', value_parser = parse_report_format)]
        format: Vec<report::Format>,
        /// A weekly summary of the seven days ending with `--date`.
        #[arg(long)]
        week: bool,
        /// Replace files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Read a password from stdin (without echo on a terminal) and print its argon2id
    /// PHC string for a `[[users]] password_hash` of the web console.
    HashPassword,
}

fn parse_verdict(text: &str) -> Result<FeedbackVerdict, String> {
    FeedbackVerdict::parse(text).ok_or_else(|| "expected `not-relevant` or `relevant`".to_string())
}

fn parse_report_format(text: &str) -> Result<report::Format, String> {
    report::Format::parse(text).ok_or_else(|| format!("`{text}` is not md, csv, json or html"))
}

/// `mentiond hits` options: the filters of `GET /api/v1/hits` and the output format.
#[derive(Debug, Args)]
pub struct HitsArgs {
    /// Output: `text` for people; `csv` (a header, then one row per hit) or `json` (one
    /// object per line) for programs.
    #[arg(long, value_enum, default_value_t = HitsFormat::Text)]
    pub format: HitsFormat,
    /// The same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// How many hits to show (default: 20 as text, all as csv or json, so a program
    /// never gets a page it did not ask for).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only hits whose post has every word (folded like the matcher: `ulasamiyorum`
    /// finds `ulaşamıyorum`; `word*` for a prefix).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only hits of this brand.
    #[arg(long)]
    pub brand: Option<String>,
    /// Only hits of this topic.
    #[arg(long)]
    pub topic: Option<String>,
    /// Only hits of this team.
    #[arg(long)]
    pub team: Option<String>,
    /// Only hits on posts from this channel (the post's `source`, e.g. `x`).
    #[arg(long)]
    pub source: Option<String>,
    /// Only hits on posts of this author (the `author` key `GET /api/v1/hits/{id}`
    /// names: account id, else handle, else name); every one, with `--source`.
    #[arg(long)]
    pub author: Option<String>,
    /// Only hits detected at or after TIME: RFC 3339, a date (`2026-11-20`, midnight
    /// UTC) or a duration back from now (`24h`, `7d`).
    #[arg(long, value_name = "TIME", value_parser = time_bound)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only hits detected before TIME (written like `--since`).
    #[arg(long, value_name = "TIME", value_parser = time_bound)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only hits nobody acknowledged that were not escalated.
    #[arg(long, conflicts_with_all = ["acked", "escalated"])]
    pub open: bool,
    /// Only acknowledged hits.
    #[arg(long, conflicts_with = "escalated")]
    pub acked: bool,
    /// Only escalated hits nobody acknowledged since.
    #[arg(long)]
    pub escalated: bool,
    /// Every hit of this delivery (the "and N more" of an alert), whatever
    /// `--limit` says.
    #[arg(long)]
    pub delivery: Option<String>,
}

/// How `mentiond hits` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HitsFormat {
    /// Lines for people, escaped for the terminal.
    Text,
    /// RFC 4180 CSV with a header row; formula-like cells neutralised.
    Csv,
    /// One JSON object per hit and line, as `GET /api/v1/hits` lists them.
    Json,
}

/// Reads `--since`/`--until` against the current time.
fn time_bound(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    parse_time_bound(text, chrono::Utc::now()).map_err(String::from)
}

/// What `mentiond bench` measures besides the matcher.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Generated posts through the real daemon (a child process): jsonl sources →
    /// matcher → store → outbox → a webhook on 127.0.0.1. Prints posts/s, hits/s, the
    /// latency from a post's write to its webhook request, and the daemon's peak
    /// memory and CPU.
    Pipeline(PipelineArgs),
}

/// `mentiond bench pipeline` options.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Keywords the daemon runs with; mentions use its brands' first terms.
    #[arg(long, value_name = "FILE", default_value = "keywords.toml")]
    keywords: PathBuf,
    /// Posts to write.
    #[arg(long, default_value_t = 200_000)]
    posts: usize,
    /// Percentage of posts that mention a brand.
    #[arg(long, default_value_t = 2.0)]
    hit_percent: f64,
    /// Posts per second written while the daemon runs; 0 writes them all before it
    /// starts (throughput).
    #[arg(long, default_value_t = 0)]
    rate: u32,
    /// JSON-lines sources the posts are spread over.
    #[arg(long, default_value_t = 1)]
    sources: usize,
    /// Seed of the generated text.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Each source's `max_batch_bytes` (default: the source's default).
    #[arg(long)]
    batch_bytes: Option<u64>,
    /// Keep the working directory (posts, database, log) and print its path.
    #[arg(long)]
    keep: bool,
    /// Longest wait for the daemon to catch up.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10m")]
    timeout: std::time::Duration,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// `mentiond deliveries` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeliveriesAction {
    /// Queue a dead delivery again with the same id and body (re-enables its receiver
    /// if a 410 had disabled it); the daemon sends it at its next look at the outbox.
    Retry {
        /// The delivery id (`msg_…`).
        id: String,
    },
}

/// Which deliveries `mentiond deliveries` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    /// Given up: permanent failure, 410, or older than `delivery.max_age`.
    Dead,
    /// Waiting for their next attempt.
    Pending,
    /// Accepted by their receiver.
    Delivered,
    /// Every delivery.
    All,
}

/// Runs the parsed command and returns the process exit code.
pub fn execute(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run => run(cli.config),
        Command::Check { variants, corpus } => check(cli.config, variants, corpus),
        Command::Match {
            keywords,
            json,
            text,
        } => match_text(cli.config, keywords, json, text),
        Command::Bench {
            what: Some(BenchCommand::Pipeline(args)),
            ..
        } => bench_pipeline(args),
        Command::Bench {
            keywords: Some(keywords),
            corpus: Some(corpus),
            json,
            what: None,
        } => bench(&keywords, &corpus, json),
        Command::Bench { .. } => unreachable!("clap requires --keywords and --corpus"),
        Command::Hits(args) => hits(cli.config, args),
        Command::Status { json } => status(cli.config, json),
        Command::Ack { hit_id, by } => ack(cli.config, hit_id, by),
        Command::Feedback {
            hit_id,
            verdict,
            by,
        } => feedback(cli.config, hit_id, verdict, by),
        Command::Deliveries {
            action: Some(DeliveriesAction::Retry { id }),
            ..
        } => retry_delivery(cli.config, &id),
        Command::Deliveries {
            action: None,
            status,
            json,
            limit,
        } => deliveries(cli.config, status, json, limit),
        Command::Backup { file, force } => backup(cli.config, &file, force),
        Command::Vacuum => vacuum(cli.config),
        Command::Report {
            date,
            out,
            format,
            week,
            force,
        } => write_report(cli.config, date, out, format, week, force),
        Command::HashPassword => hash_password(),
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
        // Run beside the daemon rather than spawned: app owns every spawned task.
        let (result, signals) = tokio::join!(
            async {
                let result = app::run(config, shutdown_token.clone()).await;
                shutdown_token.cancel();
                result
            },
            shutdown::cancel_on_signal(shutdown_token.clone()),
        );
        signals.context("installing signal handlers")?;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

fn check(
    config_file: Option<PathBuf>,
    variants: Option<String>,
    corpus: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let matcher = Matcher::new(&config.keywords)?;
    if let Some(corpus) = corpus {
        let text = std::fs::read_to_string(&corpus)
            .with_context(|| format!("reading corpus {}", corpus.display()))?;
        text.lines().for_each(|line| {
            matcher.find(line);
        });
    }
    let mut out = std::io::stdout().lock();
    let Some(name) = variants else {
        print_summary(&mut out, &config, &matcher)?;
        return Ok(ExitCode::SUCCESS);
    };
    // Typos the daemon switched off as noisy or by feedback show as dropped, as the
    // daemon runs them, and each variant's feedback beside it.
    let mut feedback = Vec::new();
    if config.storage_path.exists() {
        let stored = Store::open_read_only(&config.storage_path).and_then(|mut store| {
            store.set_feedback_off_after(config.matcher.feedback_off_after);
            Ok((
                store.noisy_variants()?,
                store.variant_feedback(Some(&name))?,
            ))
        });
        match stored {
            Ok((noisy, given)) => {
                matcher.switch_off_typos(
                    noisy
                        .iter()
                        .map(|variant| (variant.brand.as_str(), variant.variant.as_str())),
                );
                matcher.set_feedback_off(
                    given
                        .iter()
                        .filter(|variant| variant.switched_off)
                        .map(|variant| (variant.brand.clone(), variant.variant.clone()))
                        .collect(),
                );
                feedback = given;
            }
            Err(err) => eprintln!("mentiond: switched-off typos not shown: {err}"),
        }
    }
    let Some(report) = matcher.variant_report(&name) else {
        eprintln!("mentiond: no brand or topic named `{name}` in the keywords");
        return Ok(ExitCode::from(2));
    };
    writeln!(out, "{} variants of {name}:", report.len())?;
    for variant in &report {
        let mut note = variant
            .dropped
            .map_or(String::new(), |reason| format!("  (dropped: {reason})"));
        // Feedback counts against what found the hit, not context or exclusion words.
        let finds = matches!(
            variant.source,
            "term" | "typo" | "handle" | "hashtag" | "domain" | "misspelling"
        );
        let given = feedback
            .iter()
            .find(|given| finds && given.variant == variant.variant);
        if let Some(given) = given {
            note.push_str(&format!(
                "  feedback: {} not relevant, {} relevant",
                given.tally.not_relevant, given.tally.relevant
            ));
            if !given.switchable && given.tally.not_relevant > given.tally.relevant {
                note.push_str(" (its own term: an exclusion is needed)");
            }
        }
        writeln!(
            out,
            "  {:<12} {:<28} from {:<24} hits {}{note}",
            variant.source,
            escape::terminal(&variant.variant),
            escape::terminal(&variant.term),
            variant.hits
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(keywords: &Path, corpus: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let rules = keywords::load_keywords(keywords)?;
    let corpus = std::fs::read_to_string(corpus)
        .with_context(|| format!("reading corpus {}", corpus.display()))?;
    let report = bench::run(&rules, &corpus)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "keywords: {} patterns, compiled in {:.3} s, {:.1} MiB",
        report.patterns,
        report.compile_seconds,
        report.memory_bytes as f64 / (1024.0 * 1024.0)
    )?;
    writeln!(
        out,
        "corpus: {} posts, {:.1} MB",
        report.posts,
        report.bytes as f64 / 1e6
    )?;
    let engines = [
        ("matcher", &report.matcher),
        ("raw DFA", &report.raw_dfa),
        ("DFA on pre-folded text", &report.prefolded_dfa),
    ];
    for (name, run) in engines {
        writeln!(
            out,
            "{name:<22} {:.3} s  {:.0} posts/s  {:.1} MB/s",
            run.seconds, run.posts_per_s, run.mb_per_s
        )?;
    }
    writeln!(out, "ratio matcher/raw DFA: {:.2}", report.ratio)?;
    writeln!(
        out,
        "hits: {} in {} posts ({} with a generated typo)",
        report.hits, report.posts_with_hits, report.typo_hits
    )?;
    writeln!(out, "busiest variants:")?;
    for variant in &report.busiest_variants {
        writeln!(
            out,
            "  {:>8}  {} {} ({}, from {})",
            variant.hits,
            escape::terminal(&variant.brand),
            escape::terminal(&variant.variant),
            variant.source,
            escape::terminal(&variant.term)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_pipeline(args: PipelineArgs) -> anyhow::Result<ExitCode> {
    let bench = app::bench::PipelineBench {
        keywords: args.keywords,
        posts: args.posts,
        hit_percent: args.hit_percent,
        rate: args.rate,
        sources: args.sources,
        seed: args.seed,
        timeout: args.timeout,
        batch_bytes: args.batch_bytes,
        keep: args.keep,
    };
    let binary = std::env::current_exe().context("finding this program")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(app::bench::run(&bench, &binary))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rate = if report.rate == 0 {
        "all written before the start".to_string()
    } else {
        format!("written at {} posts/s", report.rate)
    };
    writeln!(
        out,
        "posts: {} over {} source(s), {rate}; hits: {}",
        report.posts, report.sources, report.hits
    )?;
    writeln!(
        out,
        "read, matched and committed in {:.2} s: {:.0} posts/s, {:.0} hits/s",
        report.seconds, report.posts_per_s, report.hits_per_s
    )?;
    writeln!(
        out,
        "write to webhook ({} hits in {} requests): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        report.hits_delivered,
        report.webhook_requests,
        report.latency_ms.p50,
        report.latency_ms.p99,
        report.latency_ms.max
    )?;
    let or_unknown = |value: Option<f64>, unit: &str| {
        value.map_or("unknown".to_string(), |v| format!("{v:.2}{unit}"))
    };
    writeln!(
        out,
        "daemon: peak RSS {}, CPU {}",
        or_unknown(report.peak_rss_mib, " MiB"),
        or_unknown(report.cpu_cores, " cores")
    )?;
    if let Some(kept) = &report.kept {
        writeln!(out, "kept: {}", kept.display())?;
    }
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
        "brands ({}) and topics ({}) from {}, {} patterns:",
        rules.brands.len(),
        rules.topics.len(),
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
    for topic in &rules.topics {
        writeln!(
            out,
            "  topic {} (team {}): all {}, any {}, none {}{}",
            topic.name,
            topic.team.as_deref().unwrap_or("-"),
            topic.all.len(),
            topic.any.len(),
            topic.none.len(),
            topic
                .near
                .map_or(String::new(), |near| format!(", within {near} words"))
        )?;
    }
    writeln!(out, "receivers ({}):", config.receivers.len())?;
    for receiver in &config.receivers {
        writeln!(out, "  {} [{}]", receiver.name, receiver.kind.kind_name())?;
    }
    writeln!(out, "routes ({}):", config.routes.len())?;
    for (index, route) in config.routes.iter().enumerate() {
        let matchers = route.matcher_labels();
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
        Some(path) => keywords::load_keywords(&path)?,
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
        // A post object also brings what the filters look at (source, language, author).
        let hits = post
            .as_ref()
            .map_or_else(|| matcher.find(text), |post| matcher.match_post(post));
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
    let mut written = Ok(());
    if texts.is_empty() {
        for (index, line) in std::io::stdin().lock().lines().enumerate() {
            written = handle(index + 1, &line.context("reading stdin")?);
            if written.is_err() {
                break;
            }
        }
    } else {
        for (index, text) in texts.iter().enumerate() {
            written = handle(index + 1, text);
            if written.is_err() {
                break;
            }
        }
    }
    match written.and_then(|()| out.flush()) {
        Ok(()) => {}
        // The reader has what it wanted (`| head`): stop quietly, and keep grep's exit code.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(err) => return Err(err.into()),
    }
    Ok(if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn match_json(line: usize, hits: &[BrandHit]) -> serde_json::Value {
    json!({
        "line": line,
        "hits": hits.iter().map(|hit| json!({"brand": hit.brand, "kind": hit.kind, "terms": hit.terms})).collect::<Vec<_>>(),
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

fn deliveries(
    config_file: Option<PathBuf>,
    status: StatusFilter,
    json: bool,
    limit: usize,
) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let store = Store::open_read_only(existing_database(&config)?)?;
    let status = match status {
        StatusFilter::Dead => Some(DeliveryStatus::Dead),
        StatusFilter::Pending => Some(DeliveryStatus::Pending),
        StatusFilter::Delivered => Some(DeliveryStatus::Delivered),
        StatusFilter::All => None,
    };
    let rows = store.deliveries(status, limit)?;
    let disabled = store.disabled_receivers()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        for row in &rows {
            serde_json::to_writer(&mut out, row)?;
            writeln!(out)?;
        }
    } else {
        for receiver in &disabled {
            writeln!(
                out,
                "receiver {} disabled since {}: {}",
                escape::terminal(receiver.receiver.as_str()),
                rfc3339_millis(receiver.disabled_at),
                escape::terminal(&receiver.reason)
            )?;
        }
        for row in &rows {
            writeln!(
                out,
                "{} {} {} attempts={} created={}{}",
                row.id,
                escape::terminal(row.receiver.as_str()),
                row.status.as_str(),
                row.attempts,
                rfc3339_millis(row.created_at),
                row.last_error
                    .as_ref()
                    .map_or(String::new(), |e| format!(": {}", escape::terminal(e)))
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn retry_delivery(config_file: Option<PathBuf>, id: &str) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let store = Store::open(existing_database(&config)?)?;
    match store.retry_delivery(&DeliveryId::from(id), unix_millis(chrono::Utc::now()))? {
        Some(receiver) => {
            println!(
                "delivery {} queued again for receiver {} with the same id",
                escape::terminal(id),
                escape::terminal(receiver.as_str())
            );
            Ok(ExitCode::SUCCESS)
        }
        None => anyhow::bail!("no dead delivery with id {}", escape::terminal(id)),
    }
}

fn ack(
    config_file: Option<PathBuf>,
    hit_id: HitId,
    by: Option<String>,
) -> anyhow::Result<ExitCode> {
    let by = person(by);
    let config = config::load(config_file.as_deref())?;
    let store = Store::open(existing_database(&config)?)?;
    match store.ack_hit(hit_id, &by, "cli", chrono::Utc::now())? {
        AckOutcome::Acked {
            brand,
            first_response,
        } => {
            println!(
                "hit #{hit_id} ({}) acknowledged by {}; first response after {} min",
                escape::terminal(&brand),
                escape::terminal(&by),
                first_response.num_minutes()
            );
            Ok(ExitCode::SUCCESS)
        }
        AckOutcome::AlreadyAcked { by, at } => {
            println!(
                "hit #{hit_id} was already acknowledged by {} at {at}",
                escape::terminal(by.as_deref().unwrap_or("?"))
            );
            Ok(ExitCode::SUCCESS)
        }
        AckOutcome::NotFound => anyhow::bail!("no hit #{hit_id}"),
    }
}

/// Who runs a command that records a person: `--by`, else the OS user.
fn person(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "operator".to_string())
}

fn feedback(
    config_file: Option<PathBuf>,
    hit_id: HitId,
    verdict: FeedbackVerdict,
    by: Option<String>,
) -> anyhow::Result<ExitCode> {
    let by = person(by);
    let config = config::load(config_file.as_deref())?;
    let mut store = Store::open(existing_database(&config)?)?;
    store.set_feedback_off_after(config.matcher.feedback_off_after);
    let outcome = match store.record_feedback(hit_id.0, verdict, &by, chrono::Utc::now()) {
        Err(crate::store::StoreError::UnknownHit(_)) => anyhow::bail!("no hit #{hit_id}"),
        other => other?,
    };
    println!("{}", describe_feedback(&outcome, &by));
    Ok(ExitCode::SUCCESS)
}

/// What `mentiond feedback` recorded, in one line.
fn describe_feedback(outcome: &FeedbackOutcome, by: &str) -> String {
    let FeedbackOutcome {
        hit_id,
        verdict,
        brand,
        term,
        variant,
        kind,
        tally,
        ..
    } = outcome;
    let what = if outcome.generated { "typo" } else { "variant" };
    let recorded = if outcome.changed {
        "recorded"
    } else {
        "already recorded"
    };
    let effect = if outcome.switched_off {
        "switched off: the daemon stops matching it from its next batch".to_string()
    } else if !outcome.switchable && *verdict == FeedbackVerdict::NotRelevant {
        format!(
            "it is {}'s own term, never switched off by feedback: an exclusion is needed (`exclude` in keywords.toml)",
            escape::terminal(brand)
        )
    } else {
        "on".to_string()
    };
    format!(
        "hit #{hit_id} ({}): {} by {} {recorded} against {what} `{}` of `{}` ({kind}); {} not relevant, {} relevant; {effect}",
        escape::terminal(brand),
        verdict.as_str(),
        escape::terminal(by),
        escape::terminal(variant),
        escape::terminal(term),
        tally.not_relevant,
        tally.relevant,
    )
}

fn write_report(
    config_file: Option<PathBuf>,
    date: Option<chrono::NaiveDate>,
    out: Option<PathBuf>,
    formats: Vec<report::Format>,
    week: bool,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let settings = &config.report;
    let store = Store::open_read_only(existing_database(&config)?)?;
    let now = chrono::Utc::now();
    let date = date.unwrap_or_else(|| {
        now.with_timezone(&settings.time_zone).date_naive() - chrono::Days::new(1)
    });
    let period = if week {
        report::Period::week(date)
    } else {
        report::Period::day(date)
    };
    let formats = if formats.is_empty() {
        settings.formats.clone()
    } else {
        formats
    };
    let dir = out.unwrap_or_else(|| settings.dir.clone());
    let daily = report::generate(&store, period, settings.time_zone, settings.language, now)?;
    let written = report::write_files(&daily, &dir, &formats, force)?;
    for format in &formats {
        let path = report::report_path(&dir, period, *format);
        let shown = escape::terminal(&path.display().to_string()).into_owned();
        if written.contains(&path) {
            println!("written {shown}");
        } else {
            println!("kept {shown} (it exists; --force replaces it)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn backup(config_file: Option<PathBuf>, file: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let database = existing_database(&config)?;
    let report = Store::backup(database, file, force)
        .with_context(|| format!("backing up {}", database.display()))?;
    println!(
        "backup written to {}: {}, {} posts, {} hits, {} deliveries",
        escape::terminal(&file.display().to_string()),
        size(report.bytes),
        report.posts,
        report.hits,
        report.deliveries
    );
    Ok(ExitCode::SUCCESS)
}

fn vacuum(config_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let database = existing_database(&config)?;
    // Held while VACUUM rewrites the file, so a daemon started meanwhile is refused.
    let _lock = Store::lock_exclusive(database).with_context(|| {
        format!(
            "cannot vacuum {} (it rewrites the whole file and needs it to itself)",
            database.display()
        )
    })?;
    let before = database_bytes(database);
    let mut store = Store::open(database)?;
    store.vacuum()?;
    drop(store);
    println!(
        "vacuumed {}: {} before, {} after",
        escape::terminal(&database.display().to_string()),
        size(before),
        size(database_bytes(database))
    );
    Ok(ExitCode::SUCCESS)
}

/// A file size in MiB with the exact byte count.
fn size(bytes: u64) -> String {
    format!(
        "{:.1} MiB ({bytes} bytes)",
        bytes as f64 / (1024.0 * 1024.0)
    )
}

/// The configured database path, if the daemon has created it.
fn existing_database(config: &Config) -> anyhow::Result<&std::path::Path> {
    if !config.storage_path.exists() {
        anyhow::bail!(
            "no database at {} (has the daemon run with this configuration?)",
            config.storage_path.display()
        );
    }
    Ok(&config.storage_path)
}

fn rfc3339_millis(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms).map_or_else(|| unix_ms.to_string(), rfc3339)
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn hits(config_file: Option<PathBuf>, args: HitsArgs) -> anyhow::Result<ExitCode> {
    /// Hits shown to a person when `--limit` is not given.
    const SCREENFUL: usize = 20;
    let format = if args.json {
        HitsFormat::Json
    } else {
        args.format
    };
    let config = config::load(config_file.as_deref())?;
    let store = Store::open_read_only(existing_database(&config)?)?;
    let for_people = format == HitsFormat::Text;
    let limit = match (args.limit, &args.delivery) {
        (_, Some(_)) => None,
        (Some(limit), None) => Some(limit),
        (None, None) if for_people => Some(SCREENFUL + 1),
        (None, None) => None,
    };
    let status = [
        (args.open, HitStatus::Open),
        (args.acked, HitStatus::Acked),
        (args.escalated, HitStatus::Escalated),
    ]
    .into_iter()
    .find_map(|(asked, status)| asked.then_some(status));
    let query = HitQuery {
        brand: args.brand,
        topic: args.topic,
        team: args.team,
        source: args.source,
        author: args.author,
        status,
        since: args.since,
        until: args.until,
        text: args.search,
        delivery: args.delivery.map(DeliveryId),
        limit,
        ..HitQuery::default()
    };
    let mut hits = store.hits(&query)?.hits;
    // One more than a screenful was read, to know whether to say that there are more.
    let more =
        args.limit.is_none() && for_people && query.delivery.is_none() && hits.len() > SCREENFUL;
    if more {
        hits.truncate(SCREENFUL);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        HitsFormat::Text => print_hits_text(&mut out, &hits)?,
        HitsFormat::Csv => print_hits_csv(&mut out, &hits)?,
        HitsFormat::Json => {
            for hit in &hits {
                serde_json::to_writer(&mut out, hit)?;
                writeln!(out)?;
            }
        }
    }
    if more {
        writeln!(
            out,
            "(the newest {SCREENFUL} hits; --limit N shows more, --json all)"
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_hits_text(out: &mut impl Write, hits: &[HitRow]) -> std::io::Result<()> {
    for hit in hits {
        let author = hit.post.author.as_ref().and_then(|author| {
            author
                .handle
                .as_deref()
                .or(author.name.as_deref())
                .or(author.id.as_deref())
        });
        writeln!(
            out,
            "#{} {} {}{} [{}] {}: {}",
            hit.id,
            rfc3339(hit.detected_at),
            escape::terminal(&hit.brand),
            if hit.topic { " (topic)" } else { "" },
            escape::terminal(&hit.post.source),
            escape::terminal(author.unwrap_or("?")),
            escape::terminal(&hit.post.text.replace('\n', " ")),
        )?;
        if let Some(url) = &hit.post.url {
            writeln!(out, "    {}", escape::terminal(url))?;
        }
        if let Some(at) = hit.acked_at {
            writeln!(
                out,
                "    acknowledged by {} at {}",
                escape::terminal(hit.acked_by.as_deref().unwrap_or("?")),
                rfc3339(at)
            )?;
        } else if let Some(at) = hit.escalated_at {
            writeln!(out, "    escalated at {}", rfc3339(at))?;
        }
    }
    Ok(())
}

/// The columns of `mentiond hits --format csv`.
const CSV_COLUMNS: &[&str] = &[
    "id",
    "detected_at",
    "status",
    "brand",
    "topic",
    "team",
    "severity",
    "competitor",
    "sentiment",
    "source",
    "post_id",
    "url",
    "created_at",
    "author_handle",
    "author_name",
    "author_followers",
    "lang",
    "text",
    "terms",
    "acked_at",
    "acked_by",
    "escalated_at",
];

fn print_hits_csv(out: &mut impl Write, hits: &[HitRow]) -> std::io::Result<()> {
    write!(out, "{}\r\n", CSV_COLUMNS.join(","))?;
    for hit in hits {
        let author = hit.post.author.clone().unwrap_or_default();
        let terms: Vec<&str> = hit
            .terms
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|term| term.get("matched").and_then(|m| m.as_str()))
            .collect();
        let cells = [
            hit.id.to_string(),
            rfc3339(hit.detected_at),
            hit.status.as_str().to_string(),
            hit.brand.clone(),
            hit.topic.to_string(),
            hit.team.clone().unwrap_or_default(),
            hit.severity.to_string(),
            hit.competitor.to_string(),
            hit.sentiment.to_string(),
            hit.post.source.clone(),
            hit.post.id.clone(),
            hit.post.url.clone().unwrap_or_default(),
            hit.post.created_at.map(rfc3339).unwrap_or_default(),
            author.handle.unwrap_or_default(),
            author.name.unwrap_or_default(),
            author.followers.map(|f| f.to_string()).unwrap_or_default(),
            hit.post.lang.clone().unwrap_or_default(),
            hit.post.text.clone(),
            terms.join("; "),
            hit.acked_at.map(rfc3339).unwrap_or_default(),
            hit.acked_by.clone().unwrap_or_default(),
            hit.escalated_at.map(rfc3339).unwrap_or_default(),
        ];
        let row: Vec<_> = cells.iter().map(|cell| escape::csv(cell)).collect();
        write!(out, "{}\r\n", row.join(","))?;
    }
    Ok(())
}

/// Opens the configured database read-only, beside a running daemon.
fn status(config_file: Option<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    let config = config::load(config_file.as_deref())?;
    let database = existing_database(&config)?;
    let store = Store::open_read_only(database)?;
    let now = chrono::Utc::now();
    let health = store.source_health(now)?;
    let heartbeat = store.heartbeat()?;
    // While the database cannot be written, the heartbeat goes stale: the lock file's
    // note of the same live daemon says why.
    let failing = crate::store::daemon_note(database)
        .filter(|note| {
            heartbeat.as_ref().is_some_and(|beat| {
                beat.pid == note.pid && beat.stopped_at.is_none() && process_alive(note.pid)
            })
        })
        .map(|note| note.failures)
        .unwrap_or_default();
    let running =
        heartbeat.as_ref().is_some_and(|beat| beat.is_running(now)) || !failing.is_empty();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        let mut daemon = match &heartbeat {
            Some(beat) => serde_json::to_value(beat)?,
            None => json!({}),
        };
        daemon["running"] = json!(running);
        daemon["failing_writes"] = failing
            .iter()
            .map(|failure| {
                json!({
                    "write": failure.write.as_str(),
                    "since": rfc3339(failure.since),
                    "error": failure.error,
                })
            })
            .collect();
        serde_json::to_writer(&mut out, &json!({ "daemon": daemon }))?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "daemon: {}",
            daemon_state(heartbeat.as_ref(), running, now)
        )?;
        for failure in &failing {
            writeln!(
                out,
                "    CANNOT WRITE THE DATABASE ({} failing for {}): {}",
                failure.write.as_str(),
                humane((now - failure.since).to_std().unwrap_or_default()),
                escape::terminal(&failure.error)
            )?;
        }
        if !failing.is_empty() {
            writeln!(
                out,
                "    posts wait at their sources' last committed cursors; the daemon retries by itself"
            )?;
        }
    }
    // Intake channels are listed like sources: their health is one row per request.
    let listed = config
        .sources
        .iter()
        .map(|source| (&source.name, source.kind.kind_name()))
        .chain(
            config
                .intake
                .channels
                .iter()
                .map(|channel| (&channel.name, "intake")),
        );
    for (source_name, kind) in listed {
        let known = health.iter().find(|h| &h.source == source_name);
        if json {
            let mut value = match known {
                Some(h) => serde_json::to_value(h)?,
                None => json!({"source": source_name, "polled": false}),
            };
            // Whether the health is the running daemon's, or left by its last run.
            value["current"] = json!(running);
            serde_json::to_writer(&mut out, &value)?;
            writeln!(out)?;
            continue;
        }
        let name = escape::terminal(source_name.as_str());
        let Some(h) = known else {
            writeln!(out, "{name} ({}): not polled yet", kind)?;
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
            kind,
            ago(h.last_success_at),
            h.newest_post_at
                .map(|at| humane((now - at).to_std().unwrap_or_default()))
                .unwrap_or_else(|| "unknown".into()),
            h.posts_per_minute,
        )?;
        if let Some(error) = &h.last_error {
            writeln!(
                out,
                "    last error {}{} ({} failure(s) since last success): {}",
                ago(h.last_error_at),
                if running { "" } else { " in the last run" },
                h.failures,
                escape::terminal(error)
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The daemon line of `mentiond status`: running (pid, host, last heartbeat) or not
/// running (when it stopped or was last seen).
fn daemon_state(
    heartbeat: Option<&crate::store::Heartbeat>,
    running: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let ago = |at: chrono::DateTime<chrono::Utc>| humane((now - at).to_std().unwrap_or_default());
    let Some(beat) = heartbeat else {
        return "not running (no heartbeat recorded)".to_string();
    };
    let who = format!("pid {} on {}", beat.pid, escape::terminal(&beat.host));
    match beat.stopped_at {
        _ if running => format!("running ({who}, last heartbeat {} ago)", ago(beat.beat_at)),
        Some(stopped) => format!("not running (stopped {} ago, {who})", ago(stopped)),
        None => format!(
            "not running (last seen {} ago, {who}; it did not stop cleanly)",
            ago(beat.beat_at)
        ),
    }
}

/// Whether a process with this pid exists (on this host).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Ok(()) | Err(nix::errno::Errno::EPERM)
    )
}

/// A duration rounded to whole seconds, written like `1h 2m 3s`.
fn humane(duration: std::time::Duration) -> String {
    humantime::format_duration(std::time::Duration::from_secs(duration.as_secs())).to_string()
}

/// `mentiond hash-password`: reads one line from stdin (echo off on a terminal) and
/// prints the argon2id PHC string of it.
fn hash_password() -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let echo = if terminal {
        eprint!("password: ");
        std::io::stderr().flush()?;
        let saved = nix::sys::termios::tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet
            .local_flags
            .remove(nix::sys::termios::LocalFlags::ECHO);
        nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &quiet)?;
        Some(saved)
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = echo {
        nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &saved)?;
        eprintln!();
    }
    read.context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        anyhow::bail!("empty password");
    }
    let hash = crate::console::hash_password(password)
        .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}
