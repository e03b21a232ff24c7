//! SIGHUP reloads the keywords in the running daemon: a valid watch list swaps in
//! whole, an invalid one is refused with every problem located, and the daemon keeps
//! running and still stops cleanly.

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

fn workspace() -> Workspace {
    Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ))
}

fn ticket(id: &str, text: &str) -> String {
    format!(r#"{{"source":"mail","id":"{id}","text":"{text}"}}"#)
}

/// Appends `lines` followed by a Turkcell post and waits until that one is stored, so
/// every line before it has been matched.
fn append_and_settle(workspace: &Workspace, lines: &[String], marker: &str) {
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
fn reload(daemon: &Daemon, outcome: &str) {
    let before = daemon.log_text().matches(outcome).count();
    kill(Pid::from_raw(daemon.pid() as i32), Signal::SIGHUP).expect("sending SIGHUP");
    wait_for(outcome, WAIT, || {
        daemon.log_text().matches(outcome).count() > before
    });
}

fn brands_of(workspace: &Workspace, post_id: &str) -> Vec<String> {
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
    reload(&daemon, "keywords reloaded");
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
    reload(&daemon, "reload refused, the running keywords stay");

    let log = daemon.log_text();
    let check = workspace.command(&["check"]);
    assert_eq!(check.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&check.stderr);
    let problems: Vec<&str> = stderr.lines().skip(1).collect();
    assert!(!problems.is_empty(), "{stderr}");
    for problem in problems {
        assert!(problem.contains("keywords.toml:"), "{problem}");
        assert!(log.contains(problem), "`{problem}` not in the log:\n{log}");
    }
    assert!(!log.contains("keywords reloaded"), "{log}");

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
    reload(&daemon, "keywords reloaded");
    assert!(!daemon.log_text().contains("take effect at restart"));

    let config = std::fs::read_to_string(workspace.config_path()).unwrap();
    std::fs::write(
        workspace.config_path(),
        format!("{config}\n[poll]\nbackfill = \"2h\"\n"),
    )
    .unwrap();
    reload(&daemon, "keywords reloaded");
    let log = daemon.log_text();
    assert!(
        log.contains("sections=\"poll\"") || log.contains("sections=poll"),
        "{log}"
    );
    assert!(log.contains("take effect at restart"), "{log}");
    daemon.stop();
}
