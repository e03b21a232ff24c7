//! Shared test harness: a temporary workspace with a config file, the real `mentiond`
//! binary as a child process, and small helpers for waiting on observable effects.
//! Every wait is bounded; servers bind 127.0.0.1 only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sha2::Sha256;

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mentiond");

/// A signing secret in the Standard Webhooks form, and its raw key.
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The keywords every daemon test uses.
pub const KEYWORDS: &str = r##"
[[brand]]
name = "Turkcell"
team = "turkcell-care"
terms = ["Turkcell"]
handles = ["@TurkcellHizmet"]
own_handles = ["@TurkcellHizmet"]
misspellings = ["turkcel"]

[[brand]]
name = "THY"
team = "thy-care"
terms = ["THY", "Türk Hava Yolları"]
exclude = ["thy kingdom"]
"##;

/// A temporary directory holding `mentiond.toml`, `keywords.toml` and the database.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A workspace with the test keywords and the given config body.
    pub fn new(config: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("keywords.toml"), KEYWORDS).unwrap();
        let workspace = Workspace { dir };
        workspace.write_config(config);
        workspace
    }

    /// Replaces the config file. `{dir}` in `config` stands for the workspace path.
    pub fn write_config(&self, config: &str) {
        let storage = format!(
            "[storage]\npath = \"{}\"\n",
            self.path("mentiond.db").display()
        );
        let config = config.replace("{dir}", &self.dir.path().display().to_string());
        // Fast retries so tests observe several attempts in well under a second.
        let delivery =
            "[delivery]\nbackoff_initial = \"100ms\"\nbackoff_max = \"200ms\"\ntimeout = \"5s\"\n";
        let mut body = if config.contains("[delivery]") {
            config
        } else {
            format!("{delivery}{config}")
        };
        // Alerts go out at once unless a test is about grouping.
        if !body.contains("[route_defaults]") {
            body = format!("{body}\n[route_defaults]\ngroup_wait = \"0s\"\n");
        }
        std::fs::write(self.config_path(), format!("{storage}{body}")).unwrap();
    }

    /// A path inside the workspace.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.path("mentiond.toml")
    }

    /// Runs a one-shot command with `--config` and waits for it.
    pub fn command(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("running mentiond")
    }

    /// `mentiond hits --json`, parsed.
    pub fn hits(&self) -> Vec<serde_json::Value> {
        self.json_lines(&["hits", "--json", "--limit", "1000"])
    }

    /// Runs a command that prints one JSON object per line, asserting success.
    pub fn json_lines(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let output = self.command(args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Starts `mentiond run` and waits until it logged readiness. The config must list
    /// its own `[[sources]]`: the embedded defaults reach public hosts (news feeds,
    /// Hacker News, Mastodon, Bluesky's Jetstream), and tests stay on loopback.
    pub fn start(&self) -> Daemon {
        self.start_with_env(&[])
    }

    /// [`Workspace::start`] with variables added to the daemon's environment.
    pub fn start_with_env(&self, env: &[(&str, &std::ffi::OsStr)]) -> Daemon {
        let daemon = self.spawn(env);
        wait_for("daemon readiness", Duration::from_secs(20), || {
            daemon.log_text().contains("mentiond ready")
        });
        daemon
    }

    /// Starts `mentiond run` with variables added to its environment, without waiting
    /// for readiness (see [`Workspace::start`]).
    pub fn spawn(&self, env: &[(&str, &std::ffi::OsStr)]) -> Daemon {
        let config = std::fs::read_to_string(self.config_path()).unwrap();
        assert!(
            config.contains("[[sources]]"),
            "a test daemon must not run the default (public) sources:\n{config}"
        );
        let log = self.path(&format!("daemon-{}.log", rand_suffix()));
        let child = Command::new(BIN)
            .arg("--config")
            .arg(self.config_path())
            .arg("run")
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info,mentiond=debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawning mentiond");
        Daemon {
            child: Some(child),
            log,
        }
    }
}

/// A running `mentiond run`; stopped with SIGTERM (and checked) or killed on drop.
pub struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }

    /// Everything the daemon wrote to stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` and waits (bounded) for the exit status.
    pub fn signal(mut self, signal: Signal) -> ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        kill(Pid::from_raw(child.id() as i32), signal).expect("signalling mentiond");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "mentiond did not exit after {signal}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, asserting a clean exit 0.
    pub fn stop(self) {
        let log = self.log.clone();
        let status = self.signal(Signal::SIGTERM);
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert_eq!(
            status.code(),
            Some(0),
            "mentiond exited with {status}:\n{text}"
        );
        assert!(text.contains("mentiond stopped"), "{text}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `condition` every 20 ms until it holds, failing the test after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Async twin of [`wait_for`].
pub async fn wait_for_async<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Verifies a Standard Webhooks signature independently of the code under test.
pub fn signature_is_valid(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    header.split(' ').any(|candidate| candidate == expected)
}

/// Reads a fixture from `tests/fixtures`.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A loopback HTTP receiver that answers POSTs to one path from a script (the n-th
/// request gets the n-th response, later ones `then`) and records every request with
/// its arrival time.
pub struct ScriptedReceiver {
    /// The server; requests to other paths get 404 and show in `received_requests`.
    pub server: wiremock::MockServer,
    path: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<(Instant, wiremock::Request)>>>,
}

impl ScriptedReceiver {
    /// Starts a receiver on 127.0.0.1 answering POST `path`.
    pub async fn start(
        path: &str,
        script: Vec<wiremock::ResponseTemplate>,
        then: wiremock::ResponseTemplate,
    ) -> ScriptedReceiver {
        Self::start_with(path, move |index, _| {
            script.get(index).cloned().unwrap_or_else(|| then.clone())
        })
        .await
    }

    /// Starts a receiver on 127.0.0.1 answering the n-th POST `path` (from 0) with
    /// `respond(n, request)`.
    pub async fn start_with(
        path: &str,
        respond: impl Fn(usize, &wiremock::Request) -> wiremock::ResponseTemplate
        + Send
        + Sync
        + 'static,
    ) -> ScriptedReceiver {
        let server = wiremock::MockServer::start().await;
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorder = std::sync::Arc::clone(&log);
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path(path))
            .respond_with(move |request: &wiremock::Request| {
                let mut log = recorder.lock().unwrap();
                let index = log.len();
                log.push((Instant::now(), request.clone()));
                respond(index, request)
            })
            .mount(&server)
            .await;
        ScriptedReceiver {
            server,
            path: path.to_string(),
            log,
        }
    }

    /// The URL of the scripted path.
    pub fn url(&self) -> String {
        format!("{}{}", self.server.uri(), self.path)
    }

    /// Requests to the scripted path so far, with their arrival times.
    pub fn requests(&self) -> Vec<(Instant, wiremock::Request)> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (bounded) until at least `n` requests arrived, and returns them.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<(Instant, wiremock::Request)> {
        wait_for_async(
            &format!("{n} requests to {}", self.path),
            Duration::from_secs(20),
            || async { self.requests().len() >= n },
        )
        .await;
        self.requests()
    }
}

/// A header of a recorded request, or "" when absent.
pub fn header<'a>(request: &'a wiremock::Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// A jsonl source reading `{dir}/tickets.jsonl` every 200 ms, for configs.
pub const TICKETS_SOURCE: &str = r#"
[[sources]]
kind = "jsonl"
name = "tickets"
path = "{dir}/tickets.jsonl"
interval = "200ms"
"#;

impl Workspace {
    /// Appends post lines to `tickets.jsonl` (see [`TICKETS_SOURCE`]).
    pub fn append_tickets(&self, lines: &[&str]) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("tickets.jsonl"))
            .unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
    }

    /// `mentiond deliveries --status all --json`, parsed.
    pub fn deliveries(&self) -> Vec<serde_json::Value> {
        self.json_lines(&["deliveries", "--status", "all", "--json"])
    }
}
