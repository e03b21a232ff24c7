//! A full disk, end to end: the daemon (`app::run`, in this process) on a real SQLite
//! file opened through a fault-injecting VFS that fails every write under the
//! workspace with `SQLITE_FULL` while the "disk" is full. Nothing committed is lost,
//! the jsonl cursor does not move past what was not committed, the failure shows in
//! the log, `mentiond status` and `/metrics`, and the daemon heals by itself when the
//! space returns.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mentiond::model::SourceName;
use mentiond::store::Store;
use prometheus_parse::{Scrape, Value};
use tokio_util::sync::CancellationToken;

use crate::api::api_address;
use crate::support::{BIN, TICKETS_SOURCE, Workspace, wait_for_async};

const WAIT: Duration = Duration::from_secs(30);

/// A VFS that wraps the platform's default one and is made the default: it passes
/// every call through, except writes to files under a directory marked full, which
/// fail with `SQLITE_FULL` as a file system without free blocks makes them fail.
/// The only unsafe code of the project: SQLite's VFS is a C interface.
#[allow(unsafe_code)]
mod faulty_vfs {
    use std::alloc::{Layout, alloc_zeroed, dealloc};
    use std::ffi::{CStr, c_char, c_int, c_void};
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, Once};

    use rusqlite::ffi;

    /// Directories whose files cannot be written now.
    static FULL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    /// An open file: SQLite's header, then the wrapped VFS's own file.
    #[repr(C)]
    struct File {
        base: ffi::sqlite3_file,
        real: *mut ffi::sqlite3_file,
        real_layout: Layout,
        path: *mut Option<PathBuf>,
    }

    /// Registers the VFS as the process's default, once.
    pub fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| unsafe {
            let parent = ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!parent.is_null(), "no default SQLite VFS");
            let mut vfs: ffi::sqlite3_vfs = *parent;
            vfs.szOsFile = c_int::try_from(size_of::<File>()).unwrap();
            vfs.pNext = std::ptr::null_mut();
            vfs.zName = c"mentiond-test-faulty".as_ptr();
            vfs.pAppData = parent.cast::<c_void>();
            vfs.xOpen = Some(open);
            let rc = ffi::sqlite3_vfs_register(Box::into_raw(Box::new(vfs)), 1);
            assert_eq!(rc, ffi::SQLITE_OK);
        });
    }

    /// Marks `dir` full (every write below it fails) or gives its space back.
    pub fn set_full(dir: &Path, full: bool) {
        let mut dirs = FULL.lock().unwrap();
        dirs.retain(|marked| marked != dir);
        if full {
            dirs.push(dir.to_path_buf());
        }
    }

    unsafe fn real(
        file: *mut ffi::sqlite3_file,
    ) -> (*mut ffi::sqlite3_file, ffi::sqlite3_io_methods) {
        unsafe {
            let real = (*file.cast::<File>()).real;
            (real, *(*real).pMethods)
        }
    }

    unsafe extern "C" fn open(
        vfs: *mut ffi::sqlite3_vfs,
        name: *const c_char,
        file: *mut ffi::sqlite3_file,
        flags: c_int,
        out_flags: *mut c_int,
    ) -> c_int {
        unsafe {
            let parent = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
            let layout =
                Layout::from_size_align(usize::try_from((*parent).szOsFile).unwrap().max(8), 16)
                    .unwrap();
            let real = alloc_zeroed(layout).cast::<ffi::sqlite3_file>();
            let ours = file.cast::<File>();
            (*ours).base.pMethods = std::ptr::null();
            let rc = ((*parent).xOpen.unwrap())(parent, name, real, flags, out_flags);
            if rc != ffi::SQLITE_OK || (*real).pMethods.is_null() {
                dealloc(real.cast::<u8>(), layout);
                return if rc == ffi::SQLITE_OK {
                    ffi::SQLITE_CANTOPEN
                } else {
                    rc
                };
            }
            let path = (!name.is_null())
                .then(|| CStr::from_ptr(name).to_str().ok().map(PathBuf::from))
                .flatten();
            (*ours).real = real;
            (*ours).real_layout = layout;
            (*ours).path = Box::into_raw(Box::new(path));
            (*ours).base.pMethods = &METHODS;
            ffi::SQLITE_OK
        }
    }

    unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
        unsafe {
            let (real, methods) = real(file);
            let rc = (methods.xClose.unwrap())(real);
            let ours = file.cast::<File>();
            dealloc(real.cast::<u8>(), (*ours).real_layout);
            drop(Box::from_raw((*ours).path));
            rc
        }
    }

    unsafe extern "C" fn write(
        file: *mut ffi::sqlite3_file,
        buffer: *const c_void,
        amount: c_int,
        offset: ffi::sqlite3_int64,
    ) -> c_int {
        unsafe {
            let full = (*(*file.cast::<File>()).path)
                .as_ref()
                .is_some_and(|path| FULL.lock().unwrap().iter().any(|dir| path.starts_with(dir)));
            if full {
                return ffi::SQLITE_FULL;
            }
            let (real, methods) = real(file);
            (methods.xWrite.unwrap())(real, buffer, amount, offset)
        }
    }

    /// Defines a method that passes its call to the wrapped file's.
    macro_rules! pass {
        ($name:ident, $field:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty, $missing:expr) => {
            unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> $ret {
                unsafe {
                    let (real, methods) = real(file);
                    match methods.$field {
                        Some(method) => method(real, $($arg),*),
                        None => $missing,
                    }
                }
            }
        };
    }

    pass!(read, xRead, (buffer: *mut c_void, amount: c_int, offset: ffi::sqlite3_int64) -> c_int, ffi::SQLITE_IOERR);
    pass!(truncate, xTruncate, (size: ffi::sqlite3_int64) -> c_int, ffi::SQLITE_IOERR);
    pass!(sync, xSync, (flags: c_int) -> c_int, ffi::SQLITE_IOERR);
    pass!(file_size, xFileSize, (size: *mut ffi::sqlite3_int64) -> c_int, ffi::SQLITE_IOERR);
    pass!(lock, xLock, (level: c_int) -> c_int, ffi::SQLITE_IOERR);
    pass!(unlock, xUnlock, (level: c_int) -> c_int, ffi::SQLITE_IOERR);
    pass!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int) -> c_int, ffi::SQLITE_IOERR);
    pass!(file_control, xFileControl, (op: c_int, arg: *mut c_void) -> c_int, ffi::SQLITE_NOTFOUND);
    pass!(sector_size, xSectorSize, () -> c_int, 4096);
    pass!(device_characteristics, xDeviceCharacteristics, () -> c_int, 0);
    pass!(shm_map, xShmMap, (page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int, ffi::SQLITE_IOERR);
    pass!(shm_lock, xShmLock, (offset: c_int, n: c_int, flags: c_int) -> c_int, ffi::SQLITE_IOERR);
    pass!(shm_barrier, xShmBarrier, () -> (), ());
    pass!(shm_unmap, xShmUnmap, (delete: c_int) -> c_int, ffi::SQLITE_OK);
    pass!(fetch, xFetch, (offset: ffi::sqlite3_int64, amount: c_int, out: *mut *mut c_void) -> c_int, {
        *out = std::ptr::null_mut();
        ffi::SQLITE_OK
    });
    pass!(unfetch, xUnfetch, (offset: ffi::sqlite3_int64, page: *mut c_void) -> c_int, ffi::SQLITE_OK);

    static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
        iVersion: 3,
        xClose: Some(close),
        xRead: Some(read),
        xWrite: Some(write),
        xTruncate: Some(truncate),
        xSync: Some(sync),
        xFileSize: Some(file_size),
        xLock: Some(lock),
        xUnlock: Some(unlock),
        xCheckReservedLock: Some(check_reserved_lock),
        xFileControl: Some(file_control),
        xSectorSize: Some(sector_size),
        xDeviceCharacteristics: Some(device_characteristics),
        xShmMap: Some(shm_map),
        xShmLock: Some(shm_lock),
        xShmBarrier: Some(shm_barrier),
        xShmUnmap: Some(shm_unmap),
        xFetch: Some(fetch),
        xUnfetch: Some(unfetch),
    };
}

/// The daemon's log, captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// `mentiond <args>` with the workspace's config, run off the daemon's thread.
async fn command(config: PathBuf, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("running mentiond")
}

/// A complaint line for `tickets.jsonl`.
fn ticket(n: usize) -> String {
    format!(
        r#"{{"source":"mail","id":"ticket-{n}","text":"Turkcell faturam {n}. kez yanlış geldi"}}"#
    )
}

fn append(path: &std::path::Path, from: usize, to: usize) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for n in from..to {
        writeln!(file, "{}", ticket(n)).unwrap();
    }
}

/// The value of series `name` with the label `write`, if it is there.
fn write_series(scrape: &Scrape, name: &str, write: &str) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|sample| sample.metric == name && sample.labels.get("write") == Some(write))
        .and_then(|sample| match sample.value {
            Value::Counter(value) | Value::Gauge(value) => Some(value),
            _ => None,
        })
}

async fn scrape(address: &str) -> Scrape {
    let text = reqwest::get(format!("http://{address}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).unwrap()
}

/// The posts stored and the tickets cursor, read through a connection of this process
/// (reads pass the full disk).
fn stored(database: &std::path::Path) -> (Vec<String>, Option<String>) {
    let store = Store::open_read_only(database).unwrap();
    let cursor = store.cursor(&SourceName::from("tickets")).unwrap();
    let conn =
        rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut ids: Vec<String> = conn
        .prepare("SELECT post_id FROM posts")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids.sort();
    (ids, cursor)
}

#[tokio::test]
async fn a_full_disk_loses_nothing_is_reported_everywhere_and_heals_when_space_returns() {
    faulty_vfs::install();
    let workspace = Workspace::new(&format!(
        r#"{TICKETS_SOURCE}
[poll]
backoff_initial = "50ms"
backoff_max = "200ms"

[api]
listen = "127.0.0.1:0"
token = "api-t0ken-secret"

[route_defaults]
group_wait = "0s"
group_interval = "0s"

[[receivers]]
kind = "file"
name = "care-file"
path = "{{dir}}/alerts.jsonl"

[[routes]]
receivers = ["care-file"]
"#
    ));
    let tickets = workspace.path("tickets.jsonl");
    let database = workspace.path("mentiond.db");
    let dir = database.parent().unwrap().to_path_buf();
    append(&tickets, 0, 3);

    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // A current-thread runtime: every daemon task logs through this thread's default.
    let _logging = tracing::subscriber::set_default(subscriber);
    let config = mentiond::config::load(Some(&workspace.config_path())).unwrap();
    let shutdown = CancellationToken::new();
    let daemon = tokio::spawn(mentiond::app::run(config, shutdown.clone()));

    let posts = |n: usize| {
        let database = database.clone();
        move || {
            let database = database.clone();
            async move { database.exists() && stored(&database).0.len() >= n }
        }
    };
    wait_for_async("the first posts stored", WAIT, posts(3)).await;
    let address = api_address(&log.text());
    let (before, committed) = stored(&database);
    assert!(committed.is_some());

    faulty_vfs::set_full(&dir, true);
    append(&tickets, 3, 8);
    let config_path = workspace.config_path();
    wait_for_async("the failure in the log, status and metrics", WAIT, || {
        let (log, address, config_path) = (log.text(), address.clone(), config_path.clone());
        async move {
            let in_log =
                log.contains("batch not stored") && log.contains("database or disk is full");
            let metrics = scrape(&address).await;
            let in_metrics = write_series(&metrics, "mentiond_store_write_failing", "commit")
                == Some(1.0)
                && write_series(&metrics, "mentiond_store_write_errors_total", "commit")
                    .is_some_and(|errors| errors >= 1.0);
            let status = command(config_path, &["status"]).await;
            let status = String::from_utf8_lossy(&status.stdout).into_owned();
            in_log
                && in_metrics
                && status.contains("daemon: running")
                && status.contains("CANNOT WRITE THE DATABASE (commit failing for")
                && status.contains("database or disk is full")
        }
    })
    .await;
    let status = command(workspace.config_path(), &["status", "--json"]).await;
    let status: serde_json::Value =
        serde_json::from_slice(status.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(status["daemon"]["running"], true, "{status}");
    assert_eq!(
        status["daemon"]["failing_writes"][0]["write"], "commit",
        "{status}"
    );
    // Retried many times while full: nothing committed, the cursor stays put.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(stored(&database), (before.clone(), committed.clone()));

    faulty_vfs::set_full(&dir, false);
    wait_for_async("every post stored once space returned", WAIT, posts(8)).await;
    let (after, cursor) = stored(&database);
    let expected: Vec<String> = {
        let mut ids: Vec<String> = (0..8).map(|n| format!("ticket-{n}")).collect();
        ids.sort();
        ids
    };
    assert_eq!(after, expected, "each post stored once");
    assert!(
        before.iter().all(|id| after.contains(id)),
        "nothing committed was lost"
    );
    assert_ne!(
        cursor, committed,
        "the cursor moved on once the posts were committed"
    );
    wait_for_async("the failure cleared from status and metrics", WAIT, || {
        let (address, config_path) = (address.clone(), config_path.clone());
        async move {
            let metrics = scrape(&address).await;
            let status = command(config_path, &["status"]).await;
            let status = String::from_utf8_lossy(&status.stdout).into_owned();
            write_series(&metrics, "mentiond_store_write_failing", "commit") == Some(0.0)
                && status.contains("daemon: running")
                && !status.contains("CANNOT WRITE")
        }
    })
    .await;
    // Every hit reached the receiver, under one delivery id each.
    let alerts = workspace.path("alerts.jsonl");
    let delivered = || {
        let text = std::fs::read_to_string(&alerts).unwrap_or_default();
        let mut seen: Vec<(String, String)> = text
            .lines()
            .flat_map(|line| {
                let alert: serde_json::Value = serde_json::from_str(line).unwrap();
                let id = alert["delivery_id"].as_str().unwrap().to_string();
                alert["hits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|hit| (hit["post"]["id"].as_str().unwrap().to_string(), id.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        seen.sort();
        seen.dedup();
        seen
    };
    let deadline = std::time::Instant::now() + WAIT;
    while delivered().len() < 8 {
        assert!(
            std::time::Instant::now() < deadline,
            "not every alert delivered: {:?}\n{}",
            delivered(),
            log.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = delivered();
    let posts: Vec<&String> = seen.iter().map(|(post, _)| post).collect();
    assert_eq!(
        posts,
        expected.iter().collect::<Vec<_>>(),
        "one delivery id per hit: {seen:?}"
    );

    shutdown.cancel();
    tokio::time::timeout(WAIT, daemon)
        .await
        .expect("the daemon stops")
        .unwrap()
        .expect("a clean stop");
    let conn = rusqlite::Connection::open(&database).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
