//! SIGHUP reloads the configuration in the running daemon: a valid watch list, routes,
//! receivers and sources swap in (a changed source resumes from its cursor, unchanged
//! parts keep running), an invalid configuration is refused with every problem
//! located, typos switched off as noisy stay off, and the daemon keeps running and
//! still stops cleanly.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::{Daemon, KEYWORDS, TICKETS_SOURCE, Workspace, wait_for};

const WAIT: Duration = Duration::from_secs(20);

/// The test keywords plus a third brand with its own team.
fn keywords_with_vodafone() -> String {
    format!(
        "{KEYWORDS}\n[[brand]]\nname = \"Vodafone\"\nteam = \"vodafone-care\"\nterms = [\"Vodafone\"]\n"
    )
}

pub(crate) fn workspace() -> Workspace {
    Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ))
}

pub(crate) fn ticket(id: &str, text: &str) -> String {
    format!(r#"{{"source":"mail","id":"{id}","text":"{text}"}}"#)
}

/// Appends `lines` followed by a Turkcell post and waits until that one is stored, so
/// every line before it has been matched.
pub(crate) fn append_and_settle(workspace: &Workspace, lines: &[String], marker: &str) {
    let mut all: Vec<String> = lines.to_vec();
    all.push(ticket(marker, "Turkcell marker"));
    workspace.append_tickets(&all.iter().map(String::as_str).collect::<Vec<_>>());
    wait_for(&format!("post {marker} stored"), WAIT, || {
        workspace
            .hits()
            .iter()
            .any(|hit| hit["post"]["id"] == marker)
    });
}

/// Sends SIGHUP and waits until the daemon logged `outcome` once more than before.
pub(crate) fn reload(daemon: &Daemon, outcome: &str) {
    let before = daemon.log_text().matches(outcome).count();
    kill(Pid::from_raw(daemon.pid() as i32), Signal::SIGHUP).expect("sending SIGHUP");
    wait_for(outcome, WAIT, || {
        daemon.log_text().matches(outcome).count() > before
    });
}

/// Asserts that `mentiond check` refuses the workspace's configuration and that each
/// problem it prints, every one located in `file`, is in the daemon's `log`.
pub(crate) fn assert_problems_logged_like_check(workspace: &Workspace, log: &str, file: &str) {
    let check = workspace.command(&["check"]);
    assert_eq!(check.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&check.stderr);
    let problems: Vec<&str> = stderr.lines().skip(1).collect();
    assert!(!problems.is_empty(), "{stderr}");
    for problem in problems {
        assert!(problem.contains(&format!("{file}:")), "{problem}");
        assert!(log.contains(problem), "`{problem}` not in the log:\n{log}");
    }
}

pub(crate) fn brands_of(workspace: &Workspace, post_id: &str) -> Vec<String> {
    workspace
        .hits()
        .iter()
        .filter(|hit| hit["post"]["id"] == post_id)
        .map(|hit| hit["brand"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_brand_added_before_sighup_matches_the_posts_after_it_with_its_team() {
    let workspace = workspace();
    let daemon = workspace.start();
    append_and_settle(&workspace, &[ticket("v1", "Vodafone çekmiyor")], "m1");

    std::fs::write(workspace.path("keywords.toml"), keywords_with_vodafone()).unwrap();
    reload(&daemon, "configuration reloaded");
    assert!(
        daemon.log_text().contains("brands=3 topics=0"),
        "{}",
        daemon.log_text()
    );
    append_and_settle(&workspace, &[ticket("v2", "Vodafone çekmiyor")], "m2");

    assert_eq!(brands_of(&workspace, "v1"), Vec::<String>::new());
    assert_eq!(brands_of(&workspace, "v2"), ["Vodafone"]);
    // The route labels come from the new snapshot too: the alert carries the new team.
    let alerts_path = workspace.path("alerts.jsonl");
    wait_for("the Vodafone alert", WAIT, || {
        std::fs::read_to_string(&alerts_path).is_ok_and(|text| text.contains("vodafone-care"))
    });
    let alerts: Vec<Value> = std::fs::read_to_string(&alerts_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let vodafone = alerts.iter().find(|a| a["brand"] == "Vodafone").unwrap();
    assert_eq!(vodafone["team"], "vodafone-care");
    assert!(!daemon.log_text().contains("take effect at restart"));
    daemon.stop();
}

#[test]
fn an_invalid_watch_list_at_sighup_is_refused_with_its_located_problem_and_the_old_one_stays() {
    let workspace = workspace();
    let daemon = workspace.start();
    let invalid = format!(
        "{}\n[[brand]]\nname = \"Vodafone\"\ntrems = [\"Vodafone\"]\n",
        keywords_with_vodafone()
    );
    std::fs::write(workspace.path("keywords.toml"), &invalid).unwrap();
    reload(&daemon, "reload refused, the running configuration stays");

    let log = daemon.log_text();
    assert_problems_logged_like_check(&workspace, &log, "keywords.toml");
    assert!(!log.contains("configuration reloaded"), "{log}");

    // A valid file (so `mentiond hits` can read the configuration) but no SIGHUP: the
    // daemon still runs the watch list it started with.
    std::fs::write(workspace.path("keywords.toml"), keywords_with_vodafone()).unwrap();
    append_and_settle(
        &workspace,
        &[ticket("t1", "THY rötar"), ticket("v1", "Vodafone çekmiyor")],
        "m1",
    );
    assert_eq!(brands_of(&workspace, "t1"), ["THY"]);
    assert_eq!(brands_of(&workspace, "v1"), Vec::<String>::new());
    daemon.stop();
}

#[test]
fn sigterm_after_reloads_exits_0_and_settings_other_than_keywords_wait_for_a_restart() {
    let workspace = workspace();
    let daemon = workspace.start();
    reload(&daemon, "configuration reloaded");
    assert!(!daemon.log_text().contains("take effect at restart"));

    let config = std::fs::read_to_string(workspace.config_path()).unwrap();
    std::fs::write(
        workspace.config_path(),
        format!("{config}\n[poll]\nbackfill = \"2h\"\n"),
    )
    .unwrap();
    reload(&daemon, "configuration reloaded");
    let log = daemon.log_text();
    assert!(
        log.contains("sections=\"poll\"") || log.contains("sections=poll"),
        "{log}"
    );
    assert!(log.contains("take effect at restart"), "{log}");
    daemon.stop();
}

/// Waits until `file` of the workspace holds an alert about post `id`.
fn wait_for_alert(workspace: &Workspace, file: &str, id: &str) {
    let path = workspace.path(file);
    let quoted = format!("\"{id}\"");
    wait_for(&format!("the alert about {id} in {file}"), WAIT, || {
        std::fs::read_to_string(&path).is_ok_and(|text| text.contains(&quoted))
    });
}

/// The base of the tests below: the tickets source, the file receiver `f` taking every
/// hit, and `extra` (more tables) in between.
fn config_with(extra: &str) -> String {
    format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n{extra}\n[[routes]]\nreceivers = [\"f\"]\n"
    )
}

/// Log lines containing every one of `parts`.
fn lines_with(log: &str, parts: &[&str]) -> usize {
    log.lines()
        .filter(|line| parts.iter().all(|part| line.contains(part)))
        .count()
}

/// An `[api]` table on a free loopback port, for `/metrics`.
const API: &str = "[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"api-t0ken-secret\"\n";

/// `/metrics` of the daemon, read over a plain loopback connection.
fn metrics_text(daemon: &Daemon) -> String {
    use std::io::{Read, Write};
    let address = crate::api::api_address(&daemon.log_text());
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn a_route_and_file_receiver_added_at_sighup_get_the_hits_after_it() {
    let workspace = Workspace::new(&format!("{API}{}", config_with("")));
    let daemon = workspace.start();
    append_and_settle(&workspace, &[ticket("t1", "THY rötar")], "m1");
    let thy_outbox = "mentiond_outbox_pending{receiver=\"thy\"}";
    assert!(!metrics_text(&daemon).contains(thy_outbox));

    workspace.write_config(&format!(
        "{API}{}",
        config_with(
            "[[receivers]]\nkind = \"file\"\nname = \"thy\"\npath = \"{dir}/thy.jsonl\"\n[[routes]]\nbrand = \"THY\"\nreceivers = [\"thy\"]\ncontinue = true\n",
        )
    ));
    reload(&daemon, "configuration reloaded");
    // The metrics follow the running receivers.
    assert!(metrics_text(&daemon).contains(thy_outbox));
    let log = daemon.log_text();
    assert_eq!(
        lines_with(&log, &["receiver started", "receiver=thy"]),
        1,
        "{log}"
    );
    // `f` is unchanged: its worker keeps running.
    assert_eq!(lines_with(&log, &["receiver restarting"]), 0, "{log}");
    assert_eq!(lines_with(&log, &["receiver removed"]), 0, "{log}");
    assert!(!log.contains("take effect at restart"), "{log}");
    append_and_settle(&workspace, &[ticket("t2", "THY rötar")], "m2");

    wait_for_alert(&workspace, "thy.jsonl", "t2");
    let text = std::fs::read_to_string(workspace.path("thy.jsonl")).unwrap();
    assert!(!text.contains("\"t1\""), "routed before the reload: {text}");
    assert!(
        !text.contains("\"m2\""),
        "a Turkcell hit is not THY's: {text}"
    );
    // `continue = true`: the catch-all route still gets it.
    wait_for_alert(&workspace, "alerts.jsonl", "t2");
    daemon.stop();
}

#[test]
fn a_receiver_removed_at_sighup_stops_and_its_pending_deliveries_stay_listed() {
    // A port nobody listens on: every attempt is refused and retried.
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", refused.local_addr().unwrap());
    drop(refused);
    let hook = format!("[[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"{url}\"\n");
    workspace_and_hook(&hook, |workspace, daemon| {
        append_and_settle(workspace, &[], "m1");
        let pending = |workspace: &Workspace| -> Vec<Value> {
            workspace
                .json_lines(&["deliveries", "--status", "pending", "--json"])
                .into_iter()
                .filter(|row| row["receiver"] == "hook")
                .collect()
        };
        wait_for("a failed attempt to the hook", WAIT, || {
            pending(workspace)
                .first()
                .is_some_and(|row| row["attempts"].as_u64() >= Some(1))
        });

        workspace.write_config(&config_with(""));
        reload(daemon, "configuration reloaded");
        let log = daemon.log_text();
        assert_eq!(
            lines_with(&log, &["receiver removed", "receiver=hook"]),
            1,
            "{log}"
        );
        let rows = pending(workspace);
        assert_eq!(rows.len(), 1, "{rows:?}");
        // Its worker is gone: no attempt after the reload, where retries came every
        // 100-200 ms before.
        let attempts = rows[0]["attempts"].clone();
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(pending(workspace)[0]["attempts"], attempts);
    });
}

/// Starts the daemon on [`config_with`] `extra`, runs `test`, and stops it.
fn workspace_and_hook(extra: &str, test: impl FnOnce(&Workspace, &Daemon)) {
    let workspace = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n{extra}\n[[routes]]\nreceivers = [\"f\", \"hook\"]\n"
    ));
    let daemon = workspace.start();
    test(&workspace, &daemon);
    daemon.stop();
}

/// The posts of source `tickets` committed in pages, from the daemon's debug lines.
fn committed_ticket_posts(log: &str) -> u64 {
    log.lines()
        .filter(|line| line.contains("page committed") && line.contains("source=tickets"))
        .filter_map(|line| {
            let value = line.split("n_posts=").nth(1)?;
            value
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[test]
fn a_source_whose_settings_changed_restarts_from_its_cursor_and_an_unchanged_one_runs_on() {
    let other = "[[sources]]\nkind = \"jsonl\"\nname = \"other\"\npath = \"{dir}/other.jsonl\"\ninterval = \"200ms\"\n";
    let workspace = Workspace::new(&config_with(other));
    let daemon = workspace.start();
    append_and_settle(
        &workspace,
        &[ticket("t1", "THY rötar"), ticket("t2", "THY iptal")],
        "m1",
    );
    // Appended just before the reload: committed by the old loop or read by the new one.
    workspace.append_tickets(&[&ticket("t3", "THY bagaj")]);

    let slower = config_with(other).replace(
        "interval = \"200ms\"\n\n[[receivers]]",
        "interval = \"300ms\"\n\n[[receivers]]",
    );
    assert_ne!(
        slower,
        config_with(other),
        "only the tickets source changes"
    );
    workspace.write_config(&slower);
    reload(&daemon, "configuration reloaded");
    append_and_settle(&workspace, &[ticket("t4", "THY rötar")], "m2");

    let log = daemon.log_text();
    assert_eq!(
        lines_with(
            &log,
            &["source restarting with new settings", "source=tickets"]
        ),
        1,
        "{log}"
    );
    assert_eq!(
        lines_with(&log, &["poll loop stopped", "source=tickets"]),
        1,
        "{log}"
    );
    assert_eq!(
        lines_with(&log, &["poll loop stopped", "source=other"]),
        0,
        "{log}"
    );
    assert_eq!(
        lines_with(&log, &["source restarting", "source=other"]),
        0,
        "{log}"
    );
    // Every line was read once: six lines, six posts committed, whatever the restart.
    assert_eq!(committed_ticket_posts(&log), 6, "{log}");
    for id in ["t1", "t2", "t3", "t4"] {
        assert_eq!(brands_of(&workspace, id), ["THY"], "{id}");
    }
    // The unchanged source still polls.
    std::fs::write(
        workspace.path("other.jsonl"),
        format!("{}\n", ticket("o1", "THY rötar")),
    )
    .unwrap();
    wait_for("the other source's post", WAIT, || {
        workspace.hits().iter().any(|hit| hit["post"]["id"] == "o1")
    });
    daemon.stop();
}

#[test]
fn an_invalid_configuration_at_sighup_keeps_every_part_running_and_logs_its_located_problems() {
    let workspace = workspace();
    let daemon = workspace.start();
    workspace.write_config(&config_with(
        "[[receivers]]\nkind = \"pager\"\nname = \"p\"\n[[routes]]\nbrand = \"THY\"\nreceivers = [\"p\"]\n",
    ));
    reload(&daemon, "reload refused, the running configuration stays");

    let log = daemon.log_text();
    let check = workspace.command(&["check"]);
    assert_eq!(check.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&check.stderr);
    let problems: Vec<&str> = stderr.lines().skip(1).collect();
    assert!(
        problems
            .iter()
            .any(|problem| problem.contains("mentiond.toml:") && problem.contains("pager")),
        "{stderr}"
    );
    for problem in problems {
        assert!(log.contains(problem), "`{problem}` not in the log:\n{log}");
    }
    assert!(!log.contains("configuration reloaded"), "{log}");
    assert_eq!(lines_with(&log, &["receiver started"]), 0, "{log}");

    // Valid again for `mentiond hits`, but no SIGHUP: the old routes still run.
    workspace.write_config(&config_with(""));
    append_and_settle(&workspace, &[ticket("t1", "THY rötar")], "m1");
    // The old routes still run.
    wait_for_alert(&workspace, "alerts.jsonl", "t1");
    daemon.stop();
}

#[test]
fn a_typo_switched_off_as_noisy_stays_off_after_sighup_and_after_a_restart() {
    let workspace = workspace();
    std::fs::write(
        workspace.path("keywords.toml"),
        format!("{KEYWORDS}\n[[brand]]\nname = \"Tesla\"\nterms = [\"Tesla\"]\n"),
    )
    .unwrap();
    let daemon = workspace.start();
    // A name one slip away from the brand, in lower case (capitalised next to another
    // name it would not match at all), with no real mention around: the tenth hit
    // switches the generated typo off.
    let names: Vec<String> = (1..=10)
        .map(|n| ticket(&format!("n{n}"), "as telsa said"))
        .collect();
    append_and_settle(&workspace, &names, "m1");
    assert_eq!(brands_of(&workspace, "n1"), ["Tesla"]);
    wait_for("the typo switched off", WAIT, || {
        daemon.log_text().contains("generated typo switched off")
    });

    reload(&daemon, "configuration reloaded");
    append_and_settle(&workspace, &[ticket("n11", "Telsa arızalı")], "m2");
    assert_eq!(brands_of(&workspace, "n11"), Vec::<String>::new());
    daemon.stop();

    let daemon = workspace.start();
    append_and_settle(
        &workspace,
        &[
            ticket("n12", "Telsa arızalı"),
            ticket("n13", "Tesla arızalı"),
        ],
        "m3",
    );
    assert_eq!(brands_of(&workspace, "n12"), Vec::<String>::new());
    assert_eq!(brands_of(&workspace, "n13"), ["Tesla"]);
    daemon.stop();
    let check = workspace.command(&["check", "--variants", "Tesla"]);
    let listing = String::from_utf8_lossy(&check.stdout);
    let telsa: Vec<&str> = listing
        .lines()
        .filter(|line| line.contains(" telsa "))
        .collect();
    assert_eq!(telsa.len(), 1, "{listing}");
    assert!(telsa[0].contains("dropped: noisy"), "{listing}");
}

#[test]
fn a_search_source_asks_for_a_brand_added_at_sighup() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .respond_with(
                wiremock::ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"hits": [], "page": 0, "nbPages": 1})),
            )
            .mount(&server)
            .await;
        server
    });
    let queries = || -> Vec<String> {
        runtime
            .block_on(server.received_requests())
            .unwrap_or_default()
            .iter()
            .flat_map(|request| {
                request
                    .url
                    .query_pairs()
                    .filter(|(key, _)| key == "query")
                    .map(|(_, value)| value.into_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let workspace = Workspace::new(&format!(
        "[[sources]]\nkind = \"hackernews\"\nname = \"hn\"\nbase_url = \"{}\"\ninterval = \"200ms\"\n",
        server.uri()
    ));
    let daemon = workspace.start();
    wait_for("a search for Turkcell", WAIT, || {
        queries().iter().any(|query| query == "Turkcell")
    });
    assert!(!queries().iter().any(|query| query == "Vodafone"));

    std::fs::write(workspace.path("keywords.toml"), keywords_with_vodafone()).unwrap();
    reload(&daemon, "configuration reloaded");
    wait_for("a search for Vodafone", WAIT, || {
        queries().iter().any(|query| query == "Vodafone")
    });
    let log = daemon.log_text();
    assert_eq!(
        lines_with(&log, &["streams rebuilt", "source=hn"]),
        1,
        "{log}"
    );
    assert_eq!(lines_with(&log, &["source restarting"]), 0, "{log}");
    daemon.stop();
}
