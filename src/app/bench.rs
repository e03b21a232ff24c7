//! `mentiond bench pipeline`: generated posts through the real daemon. The daemon runs
//! as a child process of this binary (so its memory and CPU are its own) with one or
//! more `jsonl` sources, the given keywords, one route and a `webhook` receiver served
//! here on 127.0.0.1; a writer appends the posts, either all before the daemon starts
//! (throughput) or paced at a rate while it runs (latency). It measures posts and hits
//! per second until every source's committed cursor reached the end of its file, the
//! latency from a post's write to the webhook request carrying its hit, and the
//! daemon's peak resident memory and CPU.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::keywords;
use crate::model::SourceName;
use crate::report;
use crate::store::Store;

/// Words the filler text is drawn from: Turkish and English, none a brand.
const WORDS: &[&str] = &[
    "bugün",
    "hava",
    "çok",
    "güzel",
    "yarın",
    "maç",
    "akşam",
    "başlıyor",
    "kargo",
    "hâlâ",
    "gelmedi",
    "fatura",
    "ödeme",
    "günü",
    "şehirde",
    "trafik",
    "felç",
    "kahve",
    "içmeye",
    "gidiyoruz",
    "arkadaşlar",
    "sizce",
    "neden",
    "böyle",
    "olmuş",
    "yeni",
    "telefon",
    "aldım",
    "ekran",
    "kırıldı",
    "okul",
    "tatil",
    "haftaya",
    "annem",
    "yemek",
    "yaptı",
    "the",
    "train",
    "was",
    "late",
    "again",
    "weekend",
    "plans",
    "anyone",
    "coffee",
    "meeting",
    "moved",
    "to",
    "tomorrow",
    "music",
    "festival",
    "tickets",
    "sold",
    "out",
    "evde",
    "kaldık",
    "dizi",
    "izliyoruz",
    "kitap",
    "okuyorum",
    "sabah",
    "erken",
    "kalktım",
    "iş",
    "yerinde",
    "toplantı",
    "uzadı",
    "otobüs",
    "durağında",
    "bekliyorum",
    "market",
    "alışverişi",
    "pazartesi",
    "sendromu",
];

/// Words in a post, about the length of a tweet.
const POST_WORDS: usize = 30;

/// What to run.
#[derive(Debug, Clone)]
pub struct PipelineBench {
    /// The keywords file the daemon runs with; mentions are written with its brands'
    /// first terms.
    pub keywords: PathBuf,
    /// Posts to write.
    pub posts: usize,
    /// Percentage of posts that mention a brand.
    pub hit_percent: f64,
    /// Posts per second the writer appends at while the daemon runs; 0 writes every
    /// post before the daemon starts.
    pub rate: u32,
    /// `jsonl` sources (files) the posts are spread over.
    pub sources: usize,
    /// Seed of the generated text.
    pub seed: u64,
    /// How long to wait for the daemon to catch up before giving up.
    pub timeout: Duration,
    /// Each source's `max_batch_bytes`; `None` keeps the default.
    pub batch_bytes: Option<u64>,
    /// Leave the working directory (posts, database, log) instead of removing it, for
    /// a baseline run over the same posts (`bench/pipeline_baseline.py`).
    pub keep: bool,
}

/// What was measured.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineReport {
    /// Posts written.
    pub posts: usize,
    /// Hits the daemon stored.
    pub hits: u64,
    /// Hits the webhook received (a competitor brand's hits go to no route).
    pub hits_delivered: usize,
    /// `jsonl` sources.
    pub sources: usize,
    /// The writer's rate (0: everything written before the start).
    pub rate: u32,
    /// Seconds from the first post available to every cursor committed at its end.
    pub seconds: f64,
    /// Posts read, matched and committed per second.
    pub posts_per_s: f64,
    /// Hits stored per second.
    pub hits_per_s: f64,
    /// Webhook requests received.
    pub webhook_requests: usize,
    /// Write of a post to the webhook request carrying its hit, milliseconds.
    pub latency_ms: Latency,
    /// The daemon's peak resident set (`VmHWM`), MiB; absent off Linux.
    pub peak_rss_mib: Option<f64>,
    /// The daemon's CPU time over the measured seconds (1.0 = one core busy); absent
    /// off Linux.
    pub cpu_cores: Option<f64>,
    /// The working directory, when kept.
    pub kept: Option<PathBuf>,
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// What the webhook saw.
#[derive(Default)]
struct Received {
    requests: AtomicUsize,
    hits: AtomicUsize,
    /// Microseconds from each hit's write to its request.
    latencies: Mutex<Vec<u64>>,
}

/// Runs the benchmark with the daemon at `binary` (this program).
pub async fn run(bench: &PipelineBench, binary: &Path) -> anyhow::Result<PipelineReport> {
    if bench.sources == 0 || bench.posts == 0 {
        bail!("--sources and --posts must be at least 1");
    }
    let rules = keywords::load_keywords(&bench.keywords)?;
    let mentions: Vec<String> = rules
        .brands
        .iter()
        .filter_map(|brand| brand.terms.first().map(|term| term.text.clone()))
        .collect();
    if mentions.is_empty() {
        bail!("{} has no brand with a term", bench.keywords.display());
    }
    let dir = std::env::temp_dir().join(format!(
        "mentiond-bench-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = measure(bench, binary, &mentions, &dir).await;
    if bench.keep {
        return result.map(|report| PipelineReport {
            kept: Some(dir),
            ..report
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(
    bench: &PipelineBench,
    binary: &Path,
    mentions: &[String],
    dir: &Path,
) -> anyhow::Result<PipelineReport> {
    let paths = Paths {
        files: (0..bench.sources)
            .map(|n| dir.join(format!("posts-{n}.jsonl")))
            .collect(),
        // A directory of its own: every database write in the posts' directory would
        // wake the jsonl sources' file watchers (see `warn_shared_directories`).
        database: dir.join("db/mentiond.db"),
        log: dir.join("daemon.log"),
    };
    let files = &paths.files;
    for file in files {
        std::fs::write(file, "")?;
    }
    // Nanoseconds after `epoch` at which each post was written (0: not yet).
    let written: Arc<Vec<AtomicU64>> =
        Arc::new((0..bench.posts).map(|_| AtomicU64::new(0)).collect());
    let epoch = Instant::now();
    let received = Arc::new(Received::default());
    let stop = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hook", listener.local_addr()?);
    let server = tokio::spawn(serve_webhook(
        listener,
        Arc::clone(&received),
        Arc::clone(&written),
        epoch,
        stop.clone(),
    ));
    let writer = Writer {
        files: files.clone(),
        mentions: mentions.to_vec(),
        posts: bench.posts,
        hit_percent: bench.hit_percent,
        seed: bench.seed,
        written: Arc::clone(&written),
        epoch,
    };
    if bench.rate == 0 {
        let writer = writer.clone();
        tokio::task::spawn_blocking(move || writer.write(0)).await??;
    }
    let config = dir.join("mentiond.toml");
    std::fs::write(&config, daemon_config(bench, &paths, &hook))?;
    let mut daemon = std::process::Command::new(binary)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("RUST_LOG", "warn,mentiond::app=info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&paths.log)?)
        .spawn()
        .context("starting the daemon")?;
    let result = drive(bench, &mut daemon, &paths, &writer).await;
    if result.is_err() {
        let _ = daemon.kill();
        let _ = daemon.wait();
    }
    stop.cancel();
    let _ = server.await;
    let measured = result?;
    let mut latencies = std::mem::take(&mut *received.latencies.lock().expect("latencies"));
    latencies.sort_unstable();
    Ok(PipelineReport {
        posts: bench.posts,
        hits: measured.hits,
        hits_delivered: received.hits.load(Ordering::Relaxed),
        sources: bench.sources,
        rate: bench.rate,
        seconds: measured.seconds,
        posts_per_s: bench.posts as f64 / measured.seconds,
        hits_per_s: measured.hits as f64 / measured.seconds,
        webhook_requests: received.requests.load(Ordering::Relaxed),
        latency_ms: percentiles(&latencies),
        peak_rss_mib: measured.peak_rss_mib,
        cpu_cores: measured.cpu_cores,
        kept: None,
    })
}

/// What [`drive`] measured of the daemon.
struct Measured {
    hits: u64,
    seconds: f64,
    peak_rss_mib: Option<f64>,
    cpu_cores: Option<f64>,
}

/// Where a run keeps its files.
struct Paths {
    /// One JSON-lines file per source.
    files: Vec<PathBuf>,
    database: PathBuf,
    /// The daemon's stderr.
    log: PathBuf,
}

/// Waits for the started daemon, writes (at a rate), waits until it caught up and
/// every hit reached the webhook, and stops it.
async fn drive(
    bench: &PipelineBench,
    daemon: &mut std::process::Child,
    paths: &Paths,
    writer: &Writer,
) -> anyhow::Result<Measured> {
    let (written, files, database, log) =
        (&writer.written, &paths.files, &paths.database, &paths.log);
    let pid = daemon.id();
    wait_until(Duration::from_secs(60), || {
        if let Some(status) = daemon.try_wait()? {
            bail!("the daemon exited with {status}");
        }
        Ok(std::fs::read_to_string(log)?.contains("mentiond ready"))
    })
    .await
    .with_context(|| {
        format!(
            "the daemon never got ready:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        )
    })?;
    let cpu_at_start = cpu_seconds(pid);
    let started = Instant::now();
    let writing = (bench.rate > 0).then(|| {
        let writer = writer.clone();
        let rate = bench.rate;
        tokio::task::spawn_blocking(move || writer.write(rate))
    });
    // One reader beside the daemon; each read sees the commits made before it.
    let store = Store::open_read_only(database)?;
    // Done reading when every file is written and every cursor sits at its end.
    let sources: Vec<SourceName> = (0..bench.sources)
        .map(|n| SourceName::from(format!("bench-{n}")))
        .collect();
    let caught_up = || {
        if written
            .last()
            .is_some_and(|at| at.load(Ordering::Relaxed) == 0)
        {
            return Ok(false);
        }
        for (source, file) in sources.iter().zip(files) {
            let len = std::fs::metadata(file)?.len();
            let offset = store
                .cursor(source)?
                .and_then(|cursor| serde_json::from_str::<serde_json::Value>(&cursor).ok())
                .and_then(|cursor| cursor["offset"].as_u64());
            if offset != Some(len) {
                return Ok(false);
            }
        }
        Ok(true)
    };
    wait_until(bench.timeout, caught_up)
        .await
        .context("the daemon did not read every post in time")?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_cores = cpu_seconds(pid)
        .zip(cpu_at_start)
        .map(|(now, before)| (now - before) / seconds);
    if let Some(writing) = writing {
        writing.await??;
    }
    let hits = store.counts()?.1;
    // Hits of competitor brands go to no route, so the outbox tells when every
    // delivery was made, not the count of hits.
    wait_until(bench.timeout, || Ok(store.outbox_depth()?.is_empty()))
        .await
        .context("the webhook did not receive every delivery in time")?;
    let peak_rss_mib = peak_rss_kib(pid).map(|kib| kib as f64 / 1024.0);
    stop_daemon(daemon, pid).await?;
    Ok(Measured {
        hits,
        seconds,
        peak_rss_mib,
        cpu_cores,
    })
}

fn daemon_config(bench: &PipelineBench, paths: &Paths, hook: &str) -> String {
    let quote = |path: &Path| serde_json::to_string(&path.display().to_string()).expect("a string");
    let mut config = format!(
        "keywords = {keywords}\n\n[storage]\npath = {database}\n\n[report]\nenabled = false\n\n\
         [console]\nenabled = false\n\n[delivery]\nbackoff_initial = \"100ms\"\n\n\
         [route_defaults]\ngroup_wait = \"0s\"\ngroup_interval = \"0s\"\n\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"bench-hook\"\nurl = \"{hook}\"\n\n\
         [[routes]]\nreceivers = [\"bench-hook\"]\n",
        keywords = quote(&std::path::absolute(&bench.keywords).unwrap_or(bench.keywords.clone())),
        database = quote(&paths.database),
    );
    for (n, file) in paths.files.iter().enumerate() {
        config.push_str(&format!(
            "\n[[sources]]\nkind = \"jsonl\"\nname = \"bench-{n}\"\npath = {}\ninterval = \"1s\"\n",
            quote(file)
        ));
        if let Some(bytes) = bench.batch_bytes {
            config.push_str(&format!("max_batch_bytes = {bytes}\n"));
        }
    }
    config
}

/// Writes the posts, spreading them over the files in turn.
#[derive(Clone)]
struct Writer {
    files: Vec<PathBuf>,
    mentions: Vec<String>,
    posts: usize,
    hit_percent: f64,
    seed: u64,
    written: Arc<Vec<AtomicU64>>,
    epoch: Instant,
}

impl Writer {
    /// Writes every post, `rate` a second (0: at once), one `write` per post so the
    /// daemon never reads half a line written by two calls.
    fn write(&self, rate: u32) -> std::io::Result<()> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut files = self
            .files
            .iter()
            .map(|path| {
                let file = std::fs::OpenOptions::new().append(true).open(path)?;
                Ok(std::io::BufWriter::with_capacity(1 << 16, file))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let started = Instant::now();
        let mut line = String::new();
        for seq in 0..self.posts {
            if rate > 0 {
                let due = started + Duration::from_secs_f64(seq as f64 / f64::from(rate));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            line.clear();
            let mut text = String::new();
            let mention = rng.gen_bool((self.hit_percent / 100.0).clamp(0.0, 1.0));
            let at = if mention {
                rng.gen_range(0..POST_WORDS)
            } else {
                usize::MAX
            };
            for n in 0..POST_WORDS {
                if n > 0 {
                    text.push(' ');
                }
                if n == at {
                    text.push_str(&self.mentions[rng.gen_range(0..self.mentions.len())]);
                } else {
                    text.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
                }
            }
            let post = serde_json::json!({
                "source": "bench",
                "id": format!("b{seq}"),
                "created_at": now,
                "author": {"handle": format!("user{}", seq % 997)},
                "text": text,
            });
            line.push_str(&post.to_string());
            line.push('\n');
            let file = &mut files[seq % self.files.len()];
            file.write_all(line.as_bytes())?;
            if rate > 0 {
                file.flush()?;
            }
            self.written[seq].store(
                u64::try_from(self.epoch.elapsed().as_nanos())
                    .unwrap_or(u64::MAX)
                    .max(1),
                Ordering::Relaxed,
            );
        }
        for file in &mut files {
            file.flush()?;
        }
        Ok(())
    }
}

/// Answers every POST with 204, noting for each hit (`hits[].post.id` = `b<seq>`) the
/// time since its post was written.
async fn serve_webhook(
    listener: tokio::net::TcpListener,
    received: Arc<Received>,
    written: Arc<Vec<AtomicU64>>,
    epoch: Instant,
    stop: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let received = Arc::clone(&received);
        let written = Arc::clone(&written);
        let service =
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let received = Arc::clone(&received);
                let written = Arc::clone(&written);
                async move {
                    let body = request.into_body().collect().await?.to_bytes();
                    let now = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    received.requests.fetch_add(1, Ordering::Relaxed);
                    let message: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or_default();
                    let mut latencies = Vec::new();
                    for hit in message["hits"].as_array().into_iter().flatten() {
                        let seq = hit["post"]["id"]
                            .as_str()
                            .and_then(|id| id.strip_prefix('b'))
                            .and_then(|seq| seq.parse::<usize>().ok());
                        if let Some(at) = seq.and_then(|seq| written.get(seq)) {
                            latencies.push(now.saturating_sub(at.load(Ordering::Relaxed)) / 1_000);
                        }
                    }
                    received.hits.fetch_add(latencies.len(), Ordering::Relaxed);
                    received
                        .latencies
                        .lock()
                        .expect("latencies")
                        .extend(latencies);
                    let mut response =
                        hyper::Response::new(http_body_util::Empty::<hyper::body::Bytes>::new());
                    *response.status_mut() = hyper::StatusCode::NO_CONTENT;
                    Ok::<_, hyper::Error>(response)
                }
            });
        let stop = stop.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.cancelled() => {}
            }
        });
    }
}

/// Polls `done` every 10 ms until it holds or `limit` passed.
async fn wait_until(
    limit: Duration,
    mut done: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if done()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// SIGTERM, and a clean exit within 30 s.
async fn stop_daemon(daemon: &mut std::process::Child, pid: u32) -> anyhow::Result<()> {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid)?);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
    let mut status = None;
    wait_until(Duration::from_secs(30), || {
        status = daemon.try_wait()?;
        Ok(status.is_some())
    })
    .await
    .context("the daemon did not stop within 30 s of SIGTERM")?;
    match status {
        Some(status) if status.success() => Ok(()),
        Some(status) => bail!("the daemon exited with {status}"),
        None => bail!("the daemon did not stop"),
    }
}

/// Nearest-rank percentiles of sorted microseconds, in milliseconds (0 when empty).
fn percentiles(sorted_us: &[u64]) -> Latency {
    let ms: Vec<f64> = sorted_us.iter().map(|&us| us as f64 / 1000.0).collect();
    let at = |q: f64| report::quantile(&ms, q).unwrap_or(0.0);
    Latency {
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// `VmHWM` of a process, KiB (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User and system CPU seconds of a process so far (Linux; clock ticks of 100 Hz,
/// the value on every Linux architecture Rust supports).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces, start past its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let us: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        let latency = percentiles(&us);
        assert_eq!((latency.p50, latency.p99, latency.max), (50.0, 99.0, 100.0));
        assert_eq!(percentiles(&[]).max, 0.0);
    }

    #[test]
    fn this_process_reports_its_peak_memory_and_cpu_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
            assert!(cpu_seconds(std::process::id()).is_some());
        }
    }
}
