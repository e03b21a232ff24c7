//! Supervised tasks: every task and thread the daemon starts runs under a name and a
//! policy, so none can die unnoticed.
//!
//! - A *restarting* task (a source's poll loop) that panics, fails or returns before
//!   its stop token is logged with its name and started again after
//!   [`Backoff::delay`]; a run longer than [`RestartPolicy::healthy_after`] resets the
//!   schedule. One broken source never stops the others.
//! - A *critical* task (pipeline, delivery worker, escalation loop, API) or thread
//!   (the store writer) that panics or fails at any time, or returns before its stop
//!   token, is logged with its name and reported as a [`TaskFailure`]: the daemon then
//!   stops and exits 1, so the service manager restarts it.
//!
//! A task's stop token may be its own child of the daemon's: cancelling it ends that
//! task alone, quietly, as a shutdown would (a reload stopping a source whose settings
//! changed). [`Spawner`], a clone of the supervisor's spawning half, starts tasks later.
//!
//! Panics are caught at the task boundary (the task runs as its own tokio task), and a
//! thread's end is noticed by a guard it drops when it ends or unwinds; no job is
//! wrapped in `catch_unwind`, so a panic mid-transaction is never swallowed.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::error;

use crate::backoff::Backoff;
use crate::escape;

/// How a supervised task died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Death {
    /// It panicked with this message.
    Panicked(String),
    /// It returned an error with this message.
    Failed(String),
    /// It returned before it was asked to stop.
    Returned,
}

impl fmt::Display for Death {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Death::Panicked(message) => write!(f, "panicked: {message}"),
            Death::Failed(message) => write!(f, "failed: {message}"),
            Death::Returned => f.write_str("ended before shutdown"),
        }
    }
}

/// A critical task died: the daemon must stop with an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task {task} {death}")]
pub struct TaskFailure {
    /// The task's name (`pipeline`, `store`, `delivery:<receiver>`, …).
    pub task: String,
    /// How it died.
    pub death: Death,
}

/// Every critical task that died during one run, first reported first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct TaskFailures(pub Vec<TaskFailure>);

/// What the handle of a supervised task yields once it has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The task's name.
    pub task: String,
    /// How many times it was started again (restarting tasks only).
    pub restarts: u32,
    /// Set when a critical task died.
    pub failure: Option<TaskFailure>,
}

/// When a restarting task is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The wait before each restart, growing with consecutive failures.
    pub backoff: Backoff,
    /// A run at least this long was healthy: the next failure waits the first delay again.
    pub healthy_after: Duration,
}

/// What a task may return: nothing, or a result whose error is a failure.
pub trait TaskEnd {
    /// The error message, if the task failed.
    fn error(self) -> Option<String>;
}

impl TaskEnd for () {
    fn error(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display> TaskEnd for Result<(), E> {
    fn error(self) -> Option<String> {
        self.err().map(|err| err.to_string())
    }
}

/// Starts named tasks under a policy and collects the failures of critical ones. It
/// derefs to its [`Spawner`], so tasks are spawned on it directly.
pub struct Supervisor {
    spawner: Spawner,
    failures: mpsc::UnboundedReceiver<TaskFailure>,
}

/// Spawns supervised tasks whose failures reach one [`Supervisor`]; cloned into a task
/// that starts other tasks later (the reload starting a source or a delivery worker).
///
/// Each task has its own stop token: a child of the daemon's stop token ends one task
/// (a source whose settings changed) without it counting as a failure or a restart.
#[derive(Clone)]
pub struct Spawner {
    failed: mpsc::UnboundedSender<TaskFailure>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl std::ops::Deref for Supervisor {
    type Target = Spawner;

    fn deref(&self) -> &Spawner {
        &self.spawner
    }
}

impl Supervisor {
    /// A supervisor with no tasks yet.
    pub fn new() -> Supervisor {
        let (failed, failures) = mpsc::unbounded_channel();
        Supervisor {
            spawner: Spawner { failed },
            failures,
        }
    }

    /// Waits for the next critical task to die; pending while none does.
    pub async fn failure(&mut self) -> TaskFailure {
        match self.failures.recv().await {
            Some(failure) => failure,
            // Unreachable while `self` holds a sender; never report a failure that was not.
            None => std::future::pending().await,
        }
    }

    /// The failures reported so far and not yet taken.
    pub fn take_failures(&mut self) -> Vec<TaskFailure> {
        let mut failures = Vec::new();
        while let Ok(failure) = self.failures.try_recv() {
            failures.push(failure);
        }
        failures
    }
}

impl Spawner {
    /// Spawns a critical task on `group`. It may end quietly once `stop` is cancelled;
    /// a panic or an error at any time, or a return before `stop`, is a failure.
    pub fn spawn_critical<F>(
        &self,
        group: &TaskTracker,
        name: impl Into<String>,
        stop: CancellationToken,
        task: F,
    ) -> JoinHandle<Outcome>
    where
        F: Future + Send + 'static,
        F::Output: TaskEnd + Send + 'static,
    {
        let name = name.into();
        let failed = self.failed.clone();
        group.spawn(async move {
            let death = death_of(run_caught(task).await, &stop);
            let failure = death.map(|death| report(&failed, name.clone(), death));
            Outcome {
                task: name,
                restarts: 0,
                failure,
            }
        })
    }

    /// Spawns a critical thread running `body`, watched by a task on `group`: the
    /// thread ending with a panic, or at all before `stop` is cancelled, is a failure.
    /// The watcher joins the thread, so waiting for `group` waits for the thread.
    pub fn spawn_critical_thread<F>(
        &self,
        group: &TaskTracker,
        name: impl Into<String>,
        stop: CancellationToken,
        body: F,
    ) -> std::io::Result<JoinHandle<Outcome>>
    where
        F: FnOnce() + Send + 'static,
    {
        let name = name.into();
        let (ended_guard, ended) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("mentiond-{name}"))
            .spawn(move || {
                // Dropped when the body returns or unwinds: the watcher wakes either way.
                let _ended_guard = ended_guard;
                body();
            })?;
        let failed = self.failed.clone();
        Ok(group.spawn(async move {
            let _ = ended.await;
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            let result = match joined {
                Ok(Ok(())) => Ok(()),
                Ok(Err(payload)) => Err(Death::Panicked(panic_message(payload))),
                Err(err) => Err(Death::Failed(format!("joining the thread: {err}"))),
            };
            let death = death_of(result, &stop);
            let failure = death.map(|death| report(&failed, name.clone(), death));
            Outcome {
                task: name,
                restarts: 0,
                failure,
            }
        }))
    }

    /// Spawns a restarting task on `group`: `make` builds a fresh run each time. A run
    /// that panics, fails or returns before `stop` is logged and started again after
    /// the policy's backoff; once `stop` is cancelled it is not started again.
    pub fn spawn_restarting<M, F>(
        &self,
        group: &TaskTracker,
        name: impl Into<String>,
        stop: CancellationToken,
        policy: RestartPolicy,
        mut make: M,
    ) -> JoinHandle<Outcome>
    where
        M: FnMut() -> F + Send + 'static,
        F: Future + Send + 'static,
        F::Output: TaskEnd + Send + 'static,
    {
        let name = name.into();
        group.spawn(async move {
            let mut failures = 0u32;
            let mut restarts = 0u32;
            loop {
                let started = Instant::now();
                let Some(death) = death_of(run_caught(make()).await, &stop) else {
                    break;
                };
                if stop.is_cancelled() {
                    log_death(&name, &death, None);
                    break;
                }
                if started.elapsed() >= policy.healthy_after {
                    failures = 0;
                }
                failures += 1;
                let wait = policy.backoff.delay(failures);
                log_death(&name, &death, Some(wait));
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
                restarts += 1;
            }
            Outcome {
                task: name,
                restarts,
                failure: None,
            }
        })
    }
}

/// Runs `task` as its own tokio task, so a panic ends only it.
async fn run_caught<F>(task: F) -> Result<(), Death>
where
    F: Future + Send + 'static,
    F::Output: TaskEnd + Send + 'static,
{
    match tokio::spawn(task).await {
        Ok(end) => end
            .error()
            .map_or(Ok(()), |message| Err(Death::Failed(message))),
        Err(err) => match err.try_into_panic() {
            Ok(payload) => Err(Death::Panicked(panic_message(payload))),
            Err(err) => Err(Death::Failed(err.to_string())),
        },
    }
}

/// How a run ended, given its result and whether it was asked to stop: a panic or an
/// error always counts, a return only before `stop`.
fn death_of(result: Result<(), Death>, stop: &CancellationToken) -> Option<Death> {
    match result {
        Ok(()) if stop.is_cancelled() => None,
        Ok(()) => Some(Death::Returned),
        Err(death) => Some(death),
    }
}

fn report(failed: &mpsc::UnboundedSender<TaskFailure>, task: String, death: Death) -> TaskFailure {
    log_death(&task, &death, None);
    let failure = TaskFailure { task, death };
    // The receiver lives as long as the supervisor; after it, nobody is left to tell.
    let _ = failed.send(failure.clone());
    failure
}

fn log_death(task: &str, death: &Death, restart_in: Option<Duration>) {
    // Recorded only for a task that will be started again.
    let restart_in_secs = restart_in.map(|wait| wait.as_secs_f64());
    match death {
        Death::Panicked(message) => {
            error!(task = %task, panic = %escape::log(message), restart_in_secs, "task panicked")
        }
        Death::Failed(message) => {
            error!(task = %task, error = %escape::log(message), restart_in_secs, "task failed")
        }
        Death::Returned => error!(task = %task, restart_in_secs, "task ended before shutdown"),
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(message) => (*message).to_string(),
            Err(_) => "non-string panic payload".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::store::{Store, StoreError, StoreHandle};

    const POLICY: RestartPolicy = RestartPolicy {
        backoff: Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        },
        healthy_after: Duration::from_secs(30),
    };

    /// Bound on every wait for something that happens at once in real time.
    const BOUND: Duration = Duration::from_secs(10);

    type Script =
        fn(usize, CancellationToken) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

    /// Runs a restarting task whose run number `n` (from 1) does `script(n, stop)` for
    /// `run_for` of (paused) time, then stops it; returns its outcome and the waits
    /// between the starts of its runs.
    async fn run_flaky(run_for: Duration, script: Script) -> (Outcome, Vec<Duration>) {
        let supervisor = Supervisor::new();
        let group = TaskTracker::new();
        let stop = CancellationToken::new();
        let starts = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&starts);
        let stop_run = stop.clone();
        let handle =
            supervisor.spawn_restarting(&group, "source:flaky", stop.clone(), POLICY, move || {
                let run = {
                    let mut starts = recorded.lock().unwrap();
                    starts.push(Instant::now());
                    starts.len()
                };
                script(run, stop_run.clone())
            });
        tokio::time::sleep(run_for).await;
        stop.cancel();
        let outcome = tokio::time::timeout(BOUND, handle).await.unwrap().unwrap();
        let starts = starts.lock().unwrap();
        let waits = starts.windows(2).map(|pair| pair[1] - pair[0]).collect();
        (outcome, waits)
    }

    /// A panic typed as a normal end, as a task that breaks half-way looks to the compiler.
    fn explode(message: &str) {
        panic!("{message}")
    }

    #[tokio::test(start_paused = true)]
    async fn a_restarting_task_that_panics_and_fails_is_started_again_after_backoff() {
        let (outcome, waits) = run_flaky(Duration::from_secs(20), |run, stop| {
            Box::pin(async move {
                match run {
                    1 => panic!("fetch {run} broke"),
                    2 => Err("malformed page".to_string()),
                    _ => {
                        stop.cancelled().await;
                        Ok(())
                    }
                }
            })
        })
        .await;
        assert_eq!(
            outcome,
            Outcome {
                task: "source:flaky".to_string(),
                restarts: 2,
                failure: None,
            }
        );
        assert_eq!(waits.len(), 2, "{waits:?}");
        // Equal jitter: the first restart waits 0.5–1 s, the second 1–2 s.
        assert!(waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1));
        assert!(waits[1] >= Duration::from_secs(1) && waits[1] <= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_longer_than_healthy_after_resets_the_backoff() {
        let (outcome, waits) = run_flaky(Duration::from_secs(60), |run, stop| {
            Box::pin(async move {
                match run {
                    1 | 2 => panic!("broke"),
                    3 => {
                        tokio::time::sleep(Duration::from_secs(40)).await;
                        panic!("broke after a healthy run")
                    }
                    _ => {
                        stop.cancelled().await;
                        Ok(())
                    }
                }
            })
        })
        .await;
        assert_eq!(outcome.restarts, 3);
        assert_eq!(waits.len(), 3, "{waits:?}");
        // Without the reset this third failure in a row would wait 2–4 s.
        let after_healthy = waits[2] - Duration::from_secs(40);
        assert!(
            after_healthy >= Duration::from_millis(500) && after_healthy <= Duration::from_secs(1),
            "{after_healthy:?}"
        );
    }

    #[tokio::test]
    async fn a_critical_task_that_panics_is_a_failure_naming_it() {
        let mut supervisor = Supervisor::new();
        let group = TaskTracker::new();
        let stop = CancellationToken::new();
        let handle = supervisor.spawn_critical(&group, "delivery:care", stop.clone(), async {
            explode("boom")
        });
        let failure = tokio::time::timeout(BOUND, supervisor.failure())
            .await
            .unwrap();
        let expected = TaskFailure {
            task: "delivery:care".to_string(),
            death: Death::Panicked("boom".to_string()),
        };
        assert_eq!(failure, expected);
        assert_eq!(failure.to_string(), "task delivery:care panicked: boom");
        assert_eq!(handle.await.unwrap().failure, Some(expected));
    }

    #[tokio::test]
    async fn a_critical_task_that_returns_early_or_fails_is_a_failure() {
        let mut supervisor = Supervisor::new();
        let group = TaskTracker::new();
        let stop = CancellationToken::new();
        supervisor.spawn_critical(&group, "pipeline", stop.clone(), async {});
        supervisor.spawn_critical(&group, "api", stop.clone(), async {
            Err::<(), _>("address in use")
        });
        group.close();
        tokio::time::timeout(BOUND, group.wait()).await.unwrap();
        let mut failures = supervisor.take_failures();
        failures.sort_by(|a, b| a.task.cmp(&b.task));
        assert_eq!(
            TaskFailures(failures).to_string(),
            "task api failed: address in use; task pipeline ended before shutdown"
        );
    }

    #[tokio::test]
    async fn a_store_thread_whose_job_panics_is_a_failure_and_callers_see_it_closed() {
        let dir = tempfile::tempdir().unwrap();
        let (store, writer) = StoreHandle::new(Store::open(&dir.path().join("m.db")).unwrap());
        let mut supervisor = Supervisor::new();
        let group = TaskTracker::new();
        let stop = CancellationToken::new();
        supervisor
            .spawn_critical_thread(&group, "store", stop.clone(), move || writer.run())
            .unwrap();
        let answer = store.call(|_| explode("job broke")).await;
        assert!(matches!(answer, Err(StoreError::Closed)), "{answer:?}");
        let failure = tokio::time::timeout(BOUND, supervisor.failure())
            .await
            .unwrap();
        assert_eq!(failure.to_string(), "task store panicked: job broke");
        assert!(matches!(store.call(|_| ()).await, Err(StoreError::Closed)));
    }

    #[tokio::test]
    async fn a_normal_stop_is_not_a_failure() {
        let mut supervisor = Supervisor::new();
        let group = TaskTracker::new();
        let stop = CancellationToken::new();
        let until_stopped = {
            let stop = stop.clone();
            move || {
                let stop = stop.clone();
                async move { stop.cancelled().await }
            }
        };
        supervisor.spawn_critical(&group, "pipeline", stop.clone(), until_stopped());
        let source =
            supervisor.spawn_restarting(&group, "source:news", stop.clone(), POLICY, until_stopped);
        let dir = tempfile::tempdir().unwrap();
        let (store, writer) = StoreHandle::new(Store::open(&dir.path().join("m.db")).unwrap());
        let store_stop = CancellationToken::new();
        supervisor
            .spawn_critical_thread(&group, "store", store_stop.clone(), move || writer.run())
            .unwrap();
        group.close();
        stop.cancel();
        store_stop.cancel();
        drop(store);
        tokio::time::timeout(BOUND, group.wait()).await.unwrap();
        assert_eq!(supervisor.take_failures(), Vec::new());
        assert_eq!(source.await.unwrap().restarts, 0);
    }

    #[tokio::test]
    async fn a_restarting_task_stopped_by_its_own_token_ends_quietly_and_its_sibling_runs_on() {
        let mut supervisor = Supervisor::new();
        let group = TaskTracker::new();
        let stop = CancellationToken::new();
        let runs = Arc::new(Mutex::new(Vec::new()));
        let spawn = |name: &'static str, own: CancellationToken| {
            let runs = Arc::clone(&runs);
            // Started through a clone, as the reload task does.
            supervisor.spawner.clone().spawn_restarting(
                &group,
                name,
                own.clone(),
                POLICY,
                move || {
                    runs.lock().unwrap().push(name);
                    let own = own.clone();
                    async move { own.cancelled().await }
                },
            )
        };
        let (changed, unchanged) = (stop.child_token(), stop.child_token());
        let changed_task = spawn("source:changed", changed.clone());
        let unchanged_task = spawn("source:unchanged", unchanged.clone());
        tokio::time::timeout(BOUND, async {
            while runs.lock().unwrap().len() < 2 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        changed.cancel();
        let outcome = tokio::time::timeout(BOUND, changed_task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((outcome.restarts, outcome.failure), (0, None));
        assert!(!unchanged_task.is_finished(), "the sibling keeps running");
        assert!(!unchanged.is_cancelled());
        stop.cancel();
        let outcome = tokio::time::timeout(BOUND, unchanged_task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((outcome.restarts, outcome.failure), (0, None));
        assert_eq!(supervisor.take_failures(), Vec::new());
        assert_eq!(runs.lock().unwrap().len(), 2, "neither was started again");
    }

    /// Every `.rs` file under `dir`, recursively.
    fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn only_app_and_supervise_spawn_tasks_or_threads() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut offenders = Vec::new();
        for file in files {
            let name = file
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if matches!(name.as_str(), "app.rs" | "supervise.rs")
                || name.starts_with("app/")
                || name.ends_with("tests.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for needle in [
                "tokio::spawn",
                "task::spawn",
                "thread::spawn",
                "thread::Builder",
                "TaskTracker",
                "JoinSet",
            ] {
                // `StoreHandle::spawn`: the unsupervised writer thread of tests and tools.
                // The API's per-connection tasks: owned and awaited by the supervised
                // `api` task, so a panicking connection drops only that connection.
                let allowed = (name == "store/mod.rs" && needle == "thread::Builder")
                    || (name == "api.rs" && matches!(needle, "TaskTracker" | "JoinSet"));
                if code.contains(needle) && !allowed {
                    offenders.push(format!("{name}: {needle}"));
                }
            }
        }
        assert_eq!(offenders, Vec::<String>::new());
    }
}
