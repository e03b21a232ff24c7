//! The daemon as a systemd service: the notify protocol heard on a socket the test
//! binds (as systemd's `NOTIFY_SOCKET`), the watchdog withheld while the store thread
//! is blocked, the heartbeat `mentiond status` reads, journald detection, the unit's
//! sandboxing score, and post text kept inert in log lines.

use std::ffi::OsStr;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::sources_status::FILE_RECEIVER;
use crate::support::{BIN, TICKETS_SOURCE, Workspace, wait_for};

/// One second: the daemon probes and pings every half of it.
const WATCHDOG_USEC: &str = "1000000";

/// A datagram socket standing in for systemd's notify socket.
struct NotifySocket {
    _dir: tempfile::TempDir,
    path: PathBuf,
    socket: UnixDatagram,
}

impl NotifySocket {
    fn bind() -> NotifySocket {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        NotifySocket {
            _dir: dir,
            path,
            socket,
        }
    }

    /// The next message, waiting at most `limit`.
    fn next(&self, limit: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(limit)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Every message up to and including the first that `last` accepts (bounded).
    fn until(&self, what: &str, last: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut heard = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}: {heard:?}");
            if let Some(message) = self.next(left) {
                let done = last(&message);
                heard.push(message);
                if done {
                    return heard;
                }
            }
        }
    }

    /// Every message that arrives within `window`.
    fn during(&self, window: Duration) -> Vec<String> {
        let end = Instant::now() + window;
        let mut heard = Vec::new();
        while let Some(left) = end
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
        {
            heard.extend(self.next(left));
        }
        heard
    }

    fn env(&self) -> [(&'static str, &OsStr); 2] {
        [
            ("NOTIFY_SOCKET", self.path.as_os_str()),
            ("WATCHDOG_USEC", OsStr::new(WATCHDOG_USEC)),
        ]
    }
}

/// Waits (bounded) for `child` to exit; kills it and fails naming `what` otherwise.
fn exit_of(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not exit: {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn monotonic_usec() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
    now.tv_sec() as u64 * 1_000_000 + now.tv_nsec() as u64 / 1_000
}

#[test]
fn the_manager_hears_ready_watchdog_reloading_ready_and_stopping_in_order() {
    let workspace = Workspace::new(&format!("{TICKETS_SOURCE}{FILE_RECEIVER}"));
    let socket = NotifySocket::bind();
    let daemon = workspace.start_with_env(&socket.env());
    let mut heard = socket.until("a watchdog ping", |m| m == "WATCHDOG=1");
    heard.extend(socket.until("a status line", |m| m.starts_with("STATUS=")));
    let signalled = monotonic_usec();
    kill(Pid::from_raw(daemon.pid() as i32), Signal::SIGHUP).unwrap();
    heard.extend(socket.until("the READY after the reload", |m| m == "READY=1"));
    daemon.stop();
    heard.extend(socket.until("STOPPING=1", |m| m == "STOPPING=1"));

    let reloading = heard
        .iter()
        .position(|m| m.starts_with("RELOADING=1\n"))
        .unwrap_or_else(|| panic!("no RELOADING: {heard:?}"));
    let usec: u64 = heard[reloading]
        .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
        .and_then(|usec| usec.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("MONOTONIC_USEC in the same datagram: {heard:?}"));
    assert!(
        usec >= signalled && usec - signalled < 10_000_000,
        "CLOCK_MONOTONIC, read after the SIGHUP: {usec} vs {signalled}"
    );
    let states: Vec<&str> = heard
        .iter()
        .map(|m| m.lines().next().unwrap_or_default())
        .filter(|m| !m.starts_with("STATUS=") && *m != "WATCHDOG=1")
        .collect();
    assert_eq!(
        states,
        ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
        "{heard:?}"
    );
    let first_ping = heard.iter().position(|m| m == "WATCHDOG=1").unwrap();
    assert!(
        first_ping > 0 && first_ping < reloading,
        "pings start after READY: {heard:?}"
    );
    let status = heard.iter().find(|m| m.starts_with("STATUS=")).unwrap();
    // The one jsonl source, polled or not yet; nothing stored.
    assert!(
        [
            "STATUS=1 source ok, 0 failing; 0 open hits; 0 deliveries pending",
            "STATUS=0 sources ok, 0 failing, 1 not polled yet; 0 open hits; 0 deliveries pending",
        ]
        .contains(&status.as_str()),
        "{status}"
    );
}

#[test]
fn a_missing_credential_file_fails_the_start_before_ready() {
    let workspace = Workspace::new(&format!(
        r#"{TICKETS_SOURCE}
[[receivers]]
kind = "webhook"
name = "hook"
url = "http://127.0.0.1:9/hook"
secret_file = "{{dir}}/missing-secret"

[[routes]]
receivers = ["hook"]
"#
    ));
    let socket = NotifySocket::bind();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(workspace.config_path())
        .arg("run")
        .envs(socket.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = exit_of(&mut child, "mentiond run");
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("secret_file") && stderr.contains("missing-secret"),
        "{stderr}"
    );
    assert_eq!(
        socket.during(Duration::from_millis(200)),
        Vec::<String>::new(),
        "not a word to the manager, READY least of all"
    );
}

#[test]
fn watchdog_pings_stop_while_the_store_thread_is_blocked_and_resume_after() {
    let workspace = Workspace::new(&format!("{TICKETS_SOURCE}{FILE_RECEIVER}"));
    let socket = NotifySocket::bind();
    let daemon = workspace.start_with_env(&socket.env());
    socket.until("a watchdog ping", |m| m == "WATCHDOG=1");

    // Another process holding the write lock: the store thread's next write waits
    // for it (up to its 5 s busy timeout) and runs no other job meanwhile.
    let blocker = rusqlite::Connection::open(workspace.path("mentiond.db")).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // A probe answered just before the lock may still be pinged for.
    socket.during(Duration::from_millis(800));
    let blocked = socket.during(Duration::from_secs(2));
    blocker.execute_batch("COMMIT").unwrap();
    assert!(
        !blocked.iter().any(|m| m == "WATCHDOG=1"),
        "pinged while the store thread was blocked: {blocked:?}"
    );
    socket.until("a ping once the store answers again", |m| m == "WATCHDOG=1");
    wait_for("the resumed line", Duration::from_secs(5), || {
        daemon.log_text().contains("watchdog pings resumed")
    });
    let log = daemon.log_text();
    daemon.stop();
    let withheld = log
        .lines()
        .find(|line| line.contains("no progress, watchdog ping withheld"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(withheld.contains("stuck=store"), "{withheld}");
}

#[test]
fn status_tells_a_running_daemon_from_a_stopped_one() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let workspace = Workspace::new(&format!(
        r#"
[[sources]]
kind = "hackernews"
name = "hn"
base_url = "http://127.0.0.1:{port}"
queries = ["Turkcell"]
interval = "200ms"
{FILE_RECEIVER}"#
    ));
    let daemon = workspace.start();
    let pid = daemon.pid();
    let status = || String::from_utf8(workspace.command(&["status"]).stdout).unwrap();
    wait_for("a failed poll", Duration::from_secs(20), || {
        status().contains("last error")
    });
    let running = status();
    let lines: Vec<&str> = running.lines().collect();
    assert!(
        lines[0].starts_with(&format!("daemon: running (pid {pid} on "))
            && lines[0].contains("last heartbeat"),
        "{running}"
    );
    assert!(
        lines[1].starts_with("hn (hackernews): failing"),
        "{running}"
    );
    assert!(
        lines[2].starts_with("    last error ") && !lines[2].contains("last run"),
        "{running}"
    );
    let rows = workspace.json_lines(&["status", "--json"]);
    assert_eq!(rows[0]["daemon"]["running"], true, "{rows:?}");
    assert_eq!(rows[0]["daemon"]["pid"], pid, "{rows:?}");
    assert_eq!(rows[1]["source"], "hn");
    assert_eq!(rows[1]["current"], true);

    daemon.stop();
    let stopped = status();
    let lines: Vec<&str> = stopped.lines().collect();
    assert!(
        lines[0].starts_with("daemon: not running (stopped ")
            && lines[0].contains(&format!("pid {pid} on ")),
        "{stopped}"
    );
    assert!(
        lines[2].starts_with("    last error ") && lines[2].contains(" in the last run ("),
        "{stopped}"
    );
    let rows = workspace.json_lines(&["status", "--json"]);
    assert_eq!(rows[0]["daemon"]["running"], false);
    assert!(rows[0]["daemon"]["stopped_at"].is_string(), "{rows:?}");
    assert_eq!(rows[1]["current"], false);
}

#[test]
fn hostile_post_text_reaches_log_lines_escaped() {
    let workspace = Workspace::new(&format!("{TICKETS_SOURCE}{FILE_RECEIVER}"));
    // Control characters written as JSON escapes: the post holds them raw.
    workspace.append_tickets(&[concat!(
        r#"{"source":"mail","id":"h1","#,
        r#""text":"Turkcell \u001b[31m\r\nERROR FAKE text line","#,
        r#""created_at":"\u001b[31myesterday\r\nERROR FAKE created_at line","#,
        r#""lang":"\u001b]0;title\u0007\nERROR FAKE lang line","#,
        r#""author":{"handle":"ayse","name":"\u001b[2J\nERROR FAKE author line","#,
        r#""followers":"\u009b31m\nERROR FAKE followers line"}}"#
    )]);
    let daemon = workspace.start();
    wait_for("the hit", Duration::from_secs(20), || {
        workspace.hits().len() == 1
    });
    let log = daemon.log_text();
    daemon.stop();
    // The hostile value did reach a log line: that is what must be inert.
    let dropped = log
        .lines()
        .find(|line| line.contains("dropped") && line.contains("field=created_at"))
        .unwrap_or_else(|| panic!("no warning about created_at: {log}"));
    assert!(
        dropped.contains("yesterday") && dropped.contains("ERROR FAKE created_at line"),
        "{dropped}"
    );
    for raw in ['\u{1b}', '\r', '\u{7}', '\u{9b}'] {
        assert!(!log.contains(raw), "{raw:?} in the log: {log:?}");
    }
    assert!(
        !log.lines().any(|line| line.starts_with("ERROR FAKE")),
        "a forged log line: {log}"
    );
}

#[test]
fn journald_is_chosen_only_when_journal_stream_names_stderr() {
    let workspace = Workspace::new(&format!("{TICKETS_SOURCE}{FILE_RECEIVER}"));
    let journal_exists = std::path::Path::new("/run/systemd/journal/socket").exists();
    let run = |name: &str, stream: Option<String>| {
        use std::os::unix::fs::MetadataExt;
        let path = workspace.path(name);
        let log = std::fs::File::create(&path).unwrap();
        let meta = log.metadata().unwrap();
        let value = stream.unwrap_or_else(|| format!("{}:{}", meta.dev(), meta.ino()));
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(workspace.config_path())
            .arg("run")
            .env("JOURNAL_STREAM", value)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let text = || std::fs::read_to_string(&path).unwrap_or_default();
        // Ready is logged to the journal when one listens: then give it the time.
        let ready = Instant::now() + Duration::from_secs(if journal_exists { 3 } else { 20 });
        while !text().contains("mentiond ready") && Instant::now() < ready {
            std::thread::sleep(Duration::from_millis(20));
        }
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
        let status = exit_of(&mut child, &text());
        assert!(status.success(), "{}", text());
        text()
    };

    let elsewhere = run("redirected.log", Some("1:1".into()));
    assert!(
        elsewhere.contains("mentiond ready") && !elsewhere.contains("journal"),
        "a JOURNAL_STREAM inherited by a redirected child is ignored: {elsewhere}"
    );
    let stream = run("journal-stream.log", None);
    if journal_exists {
        assert!(
            !stream.contains("mentiond ready"),
            "went to the journal: {stream}"
        );
    } else {
        assert!(
            stream.contains("journal unavailable, logging to stderr")
                && stream.contains("mentiond ready"),
            "without a journal socket, stderr as before: {stream}"
        );
    }
}

#[test]
fn the_unit_keeps_its_sandboxing_exposure_at_or_below_1_5() {
    let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/mentiond.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    for line in ["Type=notify", "NotifyAccess=main", "WatchdogSec="] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "the unit lacks {line}"
        );
    }
    let output = match Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(&unit)
        .output()
    {
        Ok(output) => output,
        Err(err) => {
            eprintln!(
                "SKIPPED: systemd-analyze not runnable ({err}); install the `systemd` package \
                 to check the unit's exposure"
            );
            return;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|line| {
            let rest = line
                .split("Overall exposure level for mentiond.service:")
                .nth(1)?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| {
            panic!(
                "no overall exposure in:\n{text}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    assert!(exposure <= 1.5, "exposure {exposure} > 1.5:\n{text}");
}
