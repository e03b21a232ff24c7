//! The daemon's side of the service manager: systemd's notify protocol (`READY=1`,
//! `RELOADING=1` with `MONOTONIC_USEC=`, `STOPPING=1`, `WATCHDOG=1`, `STATUS=`) over
//! the datagram socket named in `NOTIFY_SOCKET` (a path, or `@name` for an abstract
//! socket), and the watchdog that pings only while the daemon makes progress.
//!
//! Progress is two things: a probe (in the daemon, a heartbeat written on the store
//! thread) answered within the watchdog period, and a fresh [`Pulse`] from every task
//! that registered one (the pipeline and the delivery workers). A task beats on each
//! turn of its loop and, through [`Pulse::waiting`], while it waits for work, so an
//! idle daemon still pings while a task stuck in one await stops the pings and
//! systemd restarts the service.
//!
//! Without `NOTIFY_SOCKET` every message is a no-op; without `WATCHDOG_USEC` pulses
//! cost nothing.

use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;
// Tokio's clock, so paused-time tests move it; the same as std's in production.
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Where the service manager listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A socket file (systemd's `/run/systemd/notify`).
    Path(PathBuf),
    /// A Linux abstract socket (`NOTIFY_SOCKET=@name`).
    Abstract(Vec<u8>),
}

/// The connection to the service manager: a no-op unless `NOTIFY_SOCKET` was set.
#[derive(Debug)]
pub struct ServiceManager {
    /// The socket and where it sends, when a manager listens.
    channel: Option<(UnixDatagram, Target)>,
    /// `WATCHDOG_USEC`, when it is meant for this process.
    watchdog: Option<Duration>,
    /// Asks the watchdog loop for a fresh `STATUS=` line (after a reload).
    refresh: Notify,
}

impl ServiceManager {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` (the watchdog is
    /// ignored when `WATCHDOG_PID` names another process).
    pub fn from_env() -> ServiceManager {
        let var = |name| std::env::var(name).ok();
        ServiceManager::from_vars(
            std::env::var_os("NOTIFY_SOCKET"),
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
            std::process::id(),
        )
    }

    /// A manager listening on the socket file at `path`, with a watchdog of `watchdog`
    /// (tests and embedding programs).
    pub fn with_socket(path: &Path, watchdog: Option<Duration>) -> ServiceManager {
        ServiceManager::new(Some(Target::Path(path.to_path_buf())), watchdog)
    }

    /// A manager that sends nothing (no service manager).
    pub fn none() -> ServiceManager {
        ServiceManager::new(None, None)
    }

    fn from_vars(
        socket: Option<OsString>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
        pid: u32,
    ) -> ServiceManager {
        let target = socket.filter(|s| !s.is_empty()).map(|socket| {
            let bytes = socket.as_encoded_bytes();
            match bytes.strip_prefix(b"@") {
                Some(name) => Target::Abstract(name.to_vec()),
                None => Target::Path(PathBuf::from(socket)),
            }
        });
        let for_us = watchdog_pid.is_none_or(|text| text.trim().parse() == Ok(pid));
        let watchdog = watchdog_usec
            .and_then(|text| text.trim().parse::<u64>().ok())
            .filter(|usec| *usec > 0 && for_us)
            .map(Duration::from_micros);
        ServiceManager::new(target, watchdog)
    }

    fn new(target: Option<Target>, watchdog: Option<Duration>) -> ServiceManager {
        let channel = target.and_then(|target| match UnixDatagram::unbound() {
            Ok(socket) => Some((socket, target)),
            Err(err) => {
                warn!(error = %err, "cannot open a socket to the service manager");
                None
            }
        });
        ServiceManager {
            channel,
            watchdog,
            refresh: Notify::new(),
        }
    }

    /// The watchdog period systemd expects pings within (`WatchdogSec=`), if any.
    pub fn watchdog_period(&self) -> Option<Duration> {
        self.watchdog
    }

    /// `READY=1`: start-up (or a reload) is complete.
    pub fn ready(&self) {
        self.send("READY=1");
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` in the same datagram, as
    /// `Type=notify-reload` requires.
    pub fn reloading(&self) {
        match monotonic_usec() {
            Some(usec) => self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}")),
            None => self.send("RELOADING=1"),
        }
    }

    /// `READY=1` after a reload, accepted or refused, and a fresh `STATUS=` soon after.
    pub fn reloaded(&self) {
        self.ready();
        self.refresh.notify_one();
    }

    /// `STOPPING=1`: the ordered stop has begun.
    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// `WATCHDOG=1`: the daemon is making progress.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// `STATUS=` with `line`, control characters replaced so it stays one line.
    pub fn status(&self, line: &str) {
        let line: String = line
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        self.send(&format!("STATUS={line}"));
    }

    fn send(&self, message: &str) {
        let Some((socket, target)) = &self.channel else {
            return;
        };
        let sent = match target {
            Target::Path(path) => socket.send_to(message.as_bytes(), path),
            Target::Abstract(name) => abstract_address(name)
                .and_then(|address| socket.send_to_addr(message.as_bytes(), &address)),
        };
        if let Err(err) = sent {
            warn!(error = %err, "cannot notify the service manager");
        }
    }
}

fn abstract_address(name: &[u8]) -> io::Result<std::os::unix::net::SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    std::os::unix::net::SocketAddr::from_abstract_name(name)
}

/// CLOCK_MONOTONIC in microseconds, the clock `MONOTONIC_USEC=` is read against.
fn monotonic_usec() -> Option<u64> {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).ok()?;
    let secs = u64::try_from(now.tv_sec()).ok()?;
    let nanos = u64::try_from(now.tv_nsec()).ok()?;
    Some(secs * 1_000_000 + nanos / 1_000)
}

/// Every registered [`Pulse`], read by the watchdog.
#[derive(Debug)]
pub struct Pulses {
    /// Beats are milliseconds since this instant.
    start: Instant,
    /// How often a waiting task beats; `None`: no watchdog, pulses are no-ops.
    every: Option<Duration>,
    /// Held weakly: a task that stopped (a receiver a reload removed) drops its
    /// `Pulse`, and its stamp is forgotten instead of going stale.
    beats: Mutex<Vec<(String, Weak<AtomicU64>)>>,
}

impl Pulses {
    /// Pulses for a watchdog whose period is `period`: a waiting task beats every
    /// eighth of it, so a beat older than half of it means a task is stuck. `None`
    /// (no watchdog): pulses do nothing.
    pub fn new(period: Option<Duration>) -> Arc<Pulses> {
        Arc::new(Pulses {
            start: Instant::now(),
            every: period.map(|period| (period / 8).max(Duration::from_millis(1))),
            beats: Mutex::new(Vec::new()),
        })
    }

    /// Registers a task under `name` and returns its pulse, fresh as of now.
    pub fn pulse(&self, name: impl Into<String>) -> Pulse {
        let Some(every) = self.every else {
            return Pulse::default();
        };
        let stamp = Arc::new(AtomicU64::new(self.elapsed_millis()));
        self.beats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name.into(), Arc::downgrade(&stamp)));
        Pulse {
            beat: Some(Beat {
                stamp,
                start: self.start,
                every,
            }),
        }
    }

    /// The names of the tasks whose last beat is older than `limit`.
    pub fn stale(&self, limit: Duration) -> Vec<String> {
        let now = self.elapsed_millis();
        let limit = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        let mut beats = self.beats.lock().unwrap_or_else(PoisonError::into_inner);
        beats.retain(|(_, stamp)| stamp.strong_count() > 0);
        beats
            .iter()
            .filter_map(|(name, stamp)| {
                let last = stamp.upgrade()?.load(Ordering::Relaxed);
                (now.saturating_sub(last) > limit).then(|| name.clone())
            })
            .collect()
    }

    fn elapsed_millis(&self) -> u64 {
        millis_since(self.start)
    }
}

fn millis_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One task's liveness stamp. The default pulse (no watchdog) does nothing.
#[derive(Debug, Clone, Default)]
pub struct Pulse {
    beat: Option<Beat>,
}

#[derive(Debug, Clone)]
struct Beat {
    stamp: Arc<AtomicU64>,
    start: Instant,
    every: Duration,
}

impl Pulse {
    /// Marks the task alive now: called on every turn of its loop.
    pub fn beat(&self) {
        if let Some(beat) = &self.beat {
            beat.stamp
                .store(millis_since(beat.start), Ordering::Relaxed);
        }
    }

    /// Awaits `future`, a wait for work that may legitimately last (an empty queue, a
    /// pause), beating meanwhile; work itself is never awaited through this, so a task
    /// stuck in it goes stale.
    pub async fn waiting<F: Future>(&self, future: F) -> F::Output {
        let Some(beat) = &self.beat else {
            return future.await;
        };
        let mut future = std::pin::pin!(future);
        loop {
            self.beat();
            tokio::select! {
                output = &mut future => {
                    self.beat();
                    return output;
                }
                _ = tokio::time::sleep(beat.every) => {}
            }
        }
    }
}

/// The loop that pings the watchdog only while the daemon makes progress, and keeps
/// `STATUS=` current.
pub struct Watchdog<P, S> {
    /// Where pings and status lines go.
    pub manager: Arc<ServiceManager>,
    /// The tasks that must keep beating.
    pub pulses: Arc<Pulses>,
    /// Time between two probes when there is no watchdog (or a slower one).
    pub probe_every: Duration,
    /// Time between two `STATUS=` lines (sooner after a reload).
    pub status_every: Duration,
    /// Proves progress elsewhere (the daemon: a heartbeat written on the store
    /// thread); `false` or no answer within half the watchdog period withholds the ping.
    pub probe: P,
    /// The one-line summary for `STATUS=`; `None` when it cannot be read.
    pub status: S,
    /// Ends the loop.
    pub stop: CancellationToken,
}

impl<P, PF, S, SF> Watchdog<P, S>
where
    P: FnMut() -> PF,
    PF: Future<Output = bool>,
    S: FnMut() -> SF,
    SF: Future<Output = Option<String>>,
{
    /// Probes every `probe_every` or half the watchdog period, whichever is shorter,
    /// and pings when the probe answered within half the period (or `probe_every`
    /// without a watchdog) and no pulse is older than that; refreshes `STATUS=` every `status_every` and after each reload. Logs
    /// once when pings stop (`stuck`) and once when they resume.
    pub async fn run(mut self) {
        // Progress may take up to half the watchdog period (a probe waiting for the
        // store, a send in progress): systemd still hears a ping within the period.
        let limit = self
            .manager
            .watchdog_period()
            .map_or(self.probe_every, |period| period / 2);
        let interval = limit.min(self.probe_every);
        let mut withheld = false;
        let mut next_status = Instant::now();
        loop {
            let turn = Instant::now();
            let answered = matches!(tokio::time::timeout(limit, (self.probe)()).await, Ok(true));
            let mut stuck = self.pulses.stale(limit);
            if !answered {
                stuck.insert(0, "store".to_string());
            }
            if stuck.is_empty() {
                if withheld {
                    info!("progress again, watchdog pings resumed");
                }
                self.manager.watchdog();
                withheld = false;
            } else if !withheld {
                warn!(stuck = %stuck.join(", "), "no progress, watchdog ping withheld");
                withheld = true;
            }
            if answered && Instant::now() >= next_status {
                if let Ok(Some(line)) = tokio::time::timeout(interval, (self.status)()).await {
                    self.manager.status(&line);
                }
                next_status = Instant::now() + self.status_every;
            }
            let rest = interval.saturating_sub(turn.elapsed());
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tokio::time::sleep(rest) => {}
                _ = self.manager.refresh.notified() => next_status = Instant::now(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_names_a_path_or_an_abstract_socket_and_a_watchdog_for_this_pid() {
        let manager = ServiceManager::from_vars(
            Some("/run/systemd/notify".into()),
            Some("30000000"),
            Some("42"),
            42,
        );
        let (_, target) = manager.channel.as_ref().unwrap();
        assert_eq!(target, &Target::Path("/run/systemd/notify".into()));
        assert_eq!(manager.watchdog_period(), Some(Duration::from_secs(30)));

        let manager = ServiceManager::from_vars(Some("@sd-notify".into()), Some("1000"), None, 7);
        let (_, target) = manager.channel.as_ref().unwrap();
        assert_eq!(target, &Target::Abstract(b"sd-notify".to_vec()));
        assert_eq!(
            manager.watchdog_period(),
            Some(Duration::from_millis(1)),
            "no WATCHDOG_PID: meant for us"
        );

        let other = ServiceManager::from_vars(None, Some("30000000"), Some("41"), 42);
        assert!(other.channel.is_none());
        assert_eq!(other.watchdog_period(), None, "another process's watchdog");
        let invalid = ServiceManager::from_vars(Some("".into()), Some("soon"), None, 42);
        assert!(invalid.channel.is_none());
        assert_eq!(invalid.watchdog_period(), None);
    }

    #[test]
    fn messages_reach_a_path_and_an_abstract_socket_as_one_datagram_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let manager = ServiceManager::with_socket(&path, None);
        manager.reloading();
        manager.status("2 sources ok\nREADY=1");
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        let usec: u64 = text
            .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
            .unwrap()
            .parse()
            .unwrap();
        assert!(usec > 0);
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STATUS=2 sources ok READY=1");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("mentiond-test-{}", std::process::id());
        let address = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
        let listener = UnixDatagram::bind_addr(&address).unwrap();
        let manager = ServiceManager::from_vars(Some(format!("@{name}").into()), None, None, 1);
        manager.stopping();
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");

        // No socket: nothing is sent and nothing fails.
        ServiceManager::none().ready();
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_task_stays_fresh_and_a_task_stuck_in_work_goes_stale() {
        let pulses = Pulses::new(Some(Duration::from_secs(8)));
        let waiting = pulses.pulse("pipeline");
        let working = pulses.pulse("delivery:hook");
        let limit = Duration::from_secs(4);
        let waited = tokio::spawn(async move {
            waiting
                .waiting(tokio::time::sleep(Duration::from_secs(60)))
                .await
        });
        tokio::time::sleep(Duration::from_millis(6600)).await;
        assert_eq!(pulses.stale(limit), ["delivery:hook"]);
        working.beat();
        assert!(pulses.stale(limit).is_empty());
        waited.abort();
        // A task that stopped (its pulse dropped: the aborted waiter, a worker a reload
        // removed) is forgotten, not stale; one that still runs and never beats is.
        let silent = pulses.pulse("delivery:ops");
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(working);
        assert_eq!(pulses.stale(limit), ["delivery:ops"]);
        drop(silent);
        assert!(pulses.stale(limit).is_empty());

        let off = Pulses::new(None);
        let pulse = off.pulse("pipeline");
        pulse.beat();
        assert_eq!(pulse.waiting(async { 7 }).await, 7);
        assert!(off.stale(Duration::ZERO).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_pings_only_while_the_probe_answers_and_every_pulse_is_fresh() {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let received = || {
            let mut buf = [0u8; 256];
            let mut messages = Vec::new();
            while let Ok(n) = listener.recv(&mut buf) {
                messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            messages
        };
        let manager = Arc::new(ServiceManager::with_socket(
            &path,
            Some(Duration::from_secs(1)),
        ));
        let pulses = Pulses::new(manager.watchdog_period());
        let worker = pulses.pulse("pipeline");
        let store_answers = Arc::new(AtomicBool::new(true));
        let answers = Arc::clone(&store_answers);
        let stop = CancellationToken::new();
        let watchdog = tokio::spawn(
            Watchdog {
                manager: Arc::clone(&manager),
                pulses: Arc::clone(&pulses),
                probe_every: Duration::from_secs(10),
                status_every: Duration::from_secs(30),
                probe: move || {
                    let answers = answers.load(Ordering::Relaxed);
                    async move {
                        if !answers {
                            std::future::pending::<()>().await;
                        }
                        true
                    }
                },
                status: || async { Some("1 source ok".to_string()) },
                stop: stop.clone(),
            }
            .run(),
        );
        let idle = tokio::spawn(async move { worker.waiting(std::future::pending::<()>()).await });
        let pings = |messages: &[String]| messages.iter().filter(|m| *m == "WATCHDOG=1").count();

        tokio::time::sleep(Duration::from_millis(2100)).await;
        let first = received();
        assert_eq!(first.first().map(String::as_str), Some("WATCHDOG=1"));
        assert!(
            first.contains(&"STATUS=1 source ok".to_string()),
            "{first:?}"
        );
        assert!(
            pings(&first) >= 4,
            "an idle daemon pings every half period: {first:?}"
        );

        store_answers.store(false, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(600)).await;
        received();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(pings(&received()), 0, "the store thread does not answer");

        store_answers.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(1600)).await;
        assert!(pings(&received()) >= 2, "pings resume with the store");

        // A task stuck in its work: its pulse lives on but no longer beats. (A task that
        // ended drops its pulse and is forgotten.)
        let stuck = pulses.pulse("delivery:hook");
        tokio::time::sleep(Duration::from_millis(600)).await;
        received();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(pings(&received()), 0, "a task that stopped beating");
        idle.abort();
        let _ = idle.await;
        drop(stuck);

        manager.reloaded();
        stop.cancel();
        watchdog.await.unwrap();
    }
}
