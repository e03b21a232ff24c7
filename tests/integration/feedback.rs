//! Feedback from people (`mentiond feedback`) beside a running daemon: a generated typo
//! marked not relevant often enough stops matching from the daemon's next batch,
//! without a restart, stays off after one, shows in `check --variants`, and `relevant`
//! switches it on again; the noisy switch spares a real typo whose hits carry the
//! brand's context.

use crate::reload::{append_and_settle, brands_of, ticket, workspace};
use crate::support::{KEYWORDS, Workspace};

/// The ids of the hits on `post_id`.
fn hit_ids(workspace: &Workspace, post_id: &str) -> Vec<i64> {
    workspace
        .hits()
        .iter()
        .filter(|hit| hit["post"]["id"] == post_id)
        .map(|hit| hit["id"].as_i64().unwrap())
        .collect()
}

/// Runs `mentiond feedback` and returns its exit code and stdout (stderr on failure).
fn feedback(workspace: &Workspace, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["feedback"];
    all.extend_from_slice(args);
    let output = workspace.command(&all);
    let text = if output.status.success() {
        &output.stdout
    } else {
        &output.stderr
    };
    (
        output.status.code(),
        String::from_utf8_lossy(text).into_owned(),
    )
}

/// The `check --variants Turkcell` line of variant `tukrcell`.
fn tukrcell_line(workspace: &Workspace) -> String {
    let check = workspace.command(&["check", "--variants", "Turkcell"]);
    assert!(check.status.success());
    let listing = String::from_utf8_lossy(&check.stdout).into_owned();
    let lines: Vec<&str> = listing
        .lines()
        .filter(|line| line.contains(" tukrcell "))
        .collect();
    assert_eq!(lines.len(), 1, "{listing}");
    lines[0].to_string()
}

#[test]
fn three_not_relevant_verdicts_switch_a_typo_off_in_the_running_daemon_and_after_a_restart() {
    let workspace = workspace();
    let daemon = workspace.start();
    let slips: Vec<String> = (1..=3)
        .map(|n| ticket(&format!("t{n}"), "tukrcell hattım yine gitti"))
        .collect();
    append_and_settle(&workspace, &slips, "m1");
    let ids: Vec<i64> = (1..=3)
        .flat_map(|n| hit_ids(&workspace, &format!("t{n}")))
        .collect();
    assert_eq!(ids.len(), 3, "each slip is a Turkcell hit");

    let outputs: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let by = format!("agent{}", n % 2);
            let (code, out) = feedback(&workspace, &[&id.to_string(), "not-relevant", "--by", &by]);
            assert_eq!(code, Some(0), "{out}");
            out
        })
        .collect();
    assert!(
        outputs[0].contains("against typo `tukrcell` of `Turkcell`") && outputs[0].contains("; on"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[2].contains("3 not relevant, 0 relevant"),
        "{}",
        outputs[2]
    );
    assert!(outputs[2].contains("switched off"), "{}", outputs[2]);
    // The same verdict by the same person again counts once.
    let (_, again) = feedback(
        &workspace,
        &[&ids[2].to_string(), "not-relevant", "--by", "agent0"],
    );
    assert!(
        again.contains("already recorded") && again.contains("3 not relevant"),
        "{again}"
    );

    // The daemon, still running, no longer matches the typo; the brand still matches.
    append_and_settle(&workspace, &[ticket("t4", "tukrcell yine gitti")], "m2");
    assert_eq!(brands_of(&workspace, "t4"), Vec::<String>::new());
    let line = tukrcell_line(&workspace);
    assert!(line.contains("dropped: feedback"), "{line}");
    assert!(
        line.contains("feedback: 3 not relevant, 0 relevant"),
        "{line}"
    );
    daemon.stop();

    let daemon = workspace.start();
    append_and_settle(&workspace, &[ticket("t5", "tukrcell yine gitti")], "m3");
    assert_eq!(
        brands_of(&workspace, "t5"),
        Vec::<String>::new(),
        "still off"
    );
    // `relevant` cancels it, again without a restart.
    let (code, out) = feedback(
        &workspace,
        &[&ids[0].to_string(), "relevant", "--by", "agent0"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 not relevant, 1 relevant; on"), "{out}");
    append_and_settle(&workspace, &[ticket("t6", "tukrcell yine gitti")], "m4");
    assert_eq!(brands_of(&workspace, "t6"), ["Turkcell"]);
    daemon.stop();

    // The brand's own term is never switched off: an exclusion is needed.
    let marker = hit_ids(&workspace, "m1")[0].to_string();
    let (code, out) = feedback(&workspace, &[&marker, "not-relevant"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("an exclusion is needed"), "{out}");
    let (code, out) = feedback(&workspace, &["999999", "not-relevant"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("no hit #999999"), "{out}");
    let (code, _) = feedback(&workspace, &[&marker, "maybe"]);
    assert_eq!(
        code,
        Some(2),
        "a verdict other than the two is a usage error"
    );
}

#[test]
fn a_real_typo_with_twelve_contextual_hits_stays_on() {
    let workspace = workspace();
    std::fs::write(
        workspace.path("keywords.toml"),
        format!(
            "{KEYWORDS}\n[[topic]]\nname = \"Turkcell outage\"\nall = [\"Turkcell\"]\nany = [\"çekmiyor\", \"kesinti\"]\n"
        ),
    )
    .unwrap();
    let daemon = workspace.start();
    // More than the ten hits that switched `tukrcell` off before, every one with a word
    // of the brand's outage topic and hardly any written mention around.
    let slips: Vec<String> = (1..=12)
        .map(|n| ticket(&format!("c{n}"), "tukrcell yine çekmiyor"))
        .collect();
    append_and_settle(&workspace, &slips, "m1");
    append_and_settle(&workspace, &[ticket("c13", "tukrcell kesinti var")], "m2");
    for n in 1..=13 {
        assert_eq!(
            brands_of(&workspace, &format!("c{n}")),
            ["Turkcell"],
            "c{n}"
        );
    }
    assert!(!daemon.log_text().contains("generated typo switched off"));
    daemon.stop();
    let line = tukrcell_line(&workspace);
    assert!(!line.contains("dropped"), "{line}");
}
