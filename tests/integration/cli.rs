//! The one-shot commands: `check`, `match`, `--version`, and how bad configuration is
//! reported (exit 2, every problem with its file, key and line).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{BIN, TICKETS_SOURCE, Workspace};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn check_summarises_a_valid_configuration() {
    let workspace = Workspace::new(
        "[[sources]]\nkind = \"jsonl\"\nname = \"tickets\"\npath = \"t.jsonl\"\n\
         [[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"a.jsonl\"\n[[routes]]\nteam = \"thy-care\"\nreceivers = [\"f\"]\n[[routes]]\nreceivers = [\"f\"]\n",
    );
    let output = workspace.command(&["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "configuration OK",
        "sources (1):",
        "tickets [jsonl] every 10m",
        "brands (2)",
        "Turkcell (team turkcell-care): 1 terms, 1 handles, 0 hashtags, 1 misspellings",
        "receivers (1):",
        "routes (2):",
        "0: team=thy-care -> f",
        "1: default -> f",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
}

#[test]
fn bad_configuration_exits_2_listing_every_problem() {
    let workspace = Workspace::new(
        "[poll]\ninterval = \"often\"\n[[sources]]\nkind = \"feed\"\nname = \"news\"\nurl = \"not a url\"\n[[routes]]\nreceivers = [\"nobody\"]\n",
    );
    for command in ["check", "run"] {
        let output = workspace.command(&[command]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        let text = stderr(&output);
        let file = workspace.config_path().display().to_string();
        for expected in [
            // The workspace writes 6 lines of [storage] and [delivery] before the body.
            format!("{file}:8: poll.interval: invalid duration `often`"),
            format!("{file}:12: sources[0].url: invalid URL `not a url`"),
            format!("{file}:14: routes[0].receivers: no receiver named `nobody`"),
        ] {
            assert!(
                text.contains(&expected),
                "{command}: missing `{expected}` in:\n{text}"
            );
        }
    }
}

#[test]
fn check_lists_type_errors_and_every_other_problem_in_one_run() {
    let workspace = Workspace::new(
        "[poll]\nmax_body_bytes = 1e30\n[[sources]]\nkind = \"feed\"\nname = \"news\"\nurl = \"not a url\"\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"hook\"\n[[routes]]\nreceivers = [\"hook\", \"nobody\"]\nmax_hits = 2.5\n",
    );
    let output = Command::new(BIN)
        .args([
            "--config",
            workspace.config_path().to_str().unwrap(),
            "check",
        ])
        .env("MENTIOND__DELIVERY__TIMEOUT", "banana")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    let file = workspace.config_path().display().to_string();
    for expected in [
        // The workspace writes 6 lines of [storage] and [delivery] before the body.
        format!("{file}:8: poll.max_body_bytes: invalid type: floating point"),
        format!("{file}:18: routes[0].max_hits: invalid type: floating point `2.5`"),
        "environment variable MENTIOND__DELIVERY__TIMEOUT: delivery.timeout: invalid duration `banana`".to_string(),
        format!("{file}:12: sources[0].url: invalid URL `not a url`"),
        format!("{file}:13: receivers[0].url: set `url`, `url_env` or `url_file`"),
        format!("{file}:17: routes[0].receivers: no receiver named `nobody`"),
    ] {
        assert!(text.contains(&expected), "missing `{expected}` in:\n{text}");
    }
    assert_eq!(text.lines().count(), 7, "{text}");
}

#[test]
fn environment_overrides_are_layered_and_located() {
    let workspace = Workspace::new("");
    let run = |var: &str, value: &str| {
        Command::new(BIN)
            .args([
                "--config",
                workspace.config_path().to_str().unwrap(),
                "check",
            ])
            .env(var, value)
            .output()
            .unwrap()
    };
    let output = run("MENTIOND__POLL__INTERVAL", "2m");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("every 15m"),
        "the news feed keeps its own interval"
    );

    let output = run("MENTIOND__POLL__INTERVAL", "sometimes");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "environment variable MENTIOND__POLL__INTERVAL: poll.interval: invalid duration"
        ),
        "{}",
        stderr(&output)
    );

    let output = run("MENTIOND__LOG__FORMAT", "xml");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("MENTIOND__LOG__FORMAT: log.format: unknown format `xml`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn invalid_keywords_exit_2_naming_file_key_and_line() {
    let workspace = Workspace::new("");
    std::fs::write(
        workspace.path("keywords.toml"),
        "[[brand]]\nname = \"A\"\nterms = [\"a\"]\nhandles = [\"two words\"]\n",
    )
    .unwrap();
    let output = workspace.command(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    let expected = format!(
        "{}:4: brand[0].handles",
        workspace.path("keywords.toml").display()
    );
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
}

fn run_match(args: &[&str], stdin: &str) -> (Option<i32>, String) {
    let keywords = std::env::temp_dir().join(format!("mentiond-match-{}.toml", std::process::id()));
    std::fs::write(&keywords, crate::support::KEYWORDS).unwrap();
    let mut child = Command::new(BIN)
        .args(["match", "--keywords", keywords.to_str().unwrap()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn match_behaves_like_grep_with_byte_spans_into_the_original() {
    let input = "Bugün TÜRK HAVA YOLLARI'ndan ses yok\nhava güzel\n{\"source\":\"x\",\"id\":\"1\",\"text\":\"@turkcellhizmet cevap verin\"}\n";
    let (code, out) = run_match(&["--json"], input);
    assert_eq!(code, Some(0));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one object per input line");
    assert_eq!(lines[1], serde_json::json!({"line": 2, "hits": []}));
    let term = &lines[0]["hits"][0]["terms"][0];
    assert_eq!(lines[0]["hits"][0]["brand"], "THY");
    let original = "Bugün TÜRK HAVA YOLLARI'ndan ses yok";
    let (start, end) = (
        term["start"].as_u64().unwrap() as usize,
        term["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&original[start..end], "TÜRK HAVA YOLLARI");
    assert_eq!(term["matched"], "TÜRK HAVA YOLLARI");
    assert_eq!(term["term"], "Türk Hava Yolları");
    assert_eq!(
        lines[2]["hits"][0]["brand"], "Turkcell",
        "a post JSON line is matched on its text"
    );

    let (code, out) = run_match(&[], "nothing here\nthy kingdom come, THY\n");
    assert_eq!(
        (code, out.as_str()),
        (Some(1), ""),
        "no match: exit 1, like grep"
    );
    let (code, out) = run_match(&["Turkcell’e", "yok"], "");
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("1: Turkcell [Turkcell’e]") || out.starts_with("1: Turkcell [Turkcell]"),
        "{out}"
    );

    let output = Command::new(BIN)
        .args(["match", "--keywords", "/nonexistent.toml", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn version_is_printed() {
    let output = Command::new(BIN).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        format!("mentiond {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_hits_command_shows_people_a_screenful_and_programs_everything() {
    let workspace = Workspace::new(&format!(
        "{}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n",
        crate::support::TICKETS_SOURCE
    ));
    let lines: Vec<String> = (1..=25)
        .map(|n| format!(r#"{{"source":"mail","id":"m{n}","text":"Turkcell şikayet {n}"}}"#))
        .collect();
    workspace.append_tickets(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let daemon = workspace.start();
    crate::support::wait_for("25 hits", std::time::Duration::from_secs(20), || {
        workspace
            .command(&["hits", "--json"])
            .stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            == 25
    });
    daemon.stop();
    let text = String::from_utf8(workspace.command(&["hits"]).stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with('#')).count(), 20);
    assert!(text.contains("--limit N shows more, --json all"), "{text}");
    let all = String::from_utf8(workspace.command(&["hits", "--limit", "30"]).stdout).unwrap();
    assert_eq!(all.lines().filter(|l| l.starts_with('#')).count(), 25);
    assert!(!all.contains("shows more"));
}

#[test]
fn bench_pipeline_runs_the_daemon_on_generated_posts_and_reports_json() {
    let workspace = Workspace::new(TICKETS_SOURCE);
    let keywords = workspace.path("keywords.toml").display().to_string();
    for rate in ["0", "1000"] {
        let output = workspace.command(&[
            "bench",
            "pipeline",
            "--keywords",
            &keywords,
            "--posts",
            "2000",
            "--hit-percent",
            "10",
            "--sources",
            "2",
            "--rate",
            rate,
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "rate {rate}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["posts"], 2000);
        assert_eq!(report["sources"], 2);
        let hits = report["hits"].as_u64().unwrap();
        // 10% of 2,000 posts, each naming one brand of the test keywords.
        assert!((120..=280).contains(&hits), "{report}");
        assert_eq!(report["hits_delivered"].as_u64(), Some(hits), "{report}");
        let latency = &report["latency_ms"];
        let (p50, p99, max) = (
            latency["p50"].as_f64().unwrap(),
            latency["p99"].as_f64().unwrap(),
            latency["max"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report}");
        assert!(report["posts_per_s"].as_f64().unwrap() > 0.0);
        if cfg!(target_os = "linux") {
            assert!(report["peak_rss_mib"].as_f64().unwrap() > 1.0, "{report}");
        }
    }
}
