//! `mentiond match`, `check --variants` and `bench` driven through the real binary.

use std::path::Path;
use std::process::{Command, Output};

const KEYWORDS: &str = r##"
[[brand]]
name = "Turkcell"
terms = ["Turkcell"]
hashtags = ["#turkcell"]
own_handles = ["@Turkcell"]

[[brand]]
name = "THY"
terms = ["Türk Hava Yolları", { term = "THY", case = "exact" }]

[[topic]]
name = "Outage"
all = ["Turkcell"]
any = ["kesinti"]
"##;

fn mentiond(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mentiond"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("running mentiond")
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.toml"), KEYWORDS).unwrap();
    std::fs::write(dir.path().join("c.toml"), "keywords = \"k.toml\"\n").unwrap();
    dir
}

#[test]
fn match_json_explains_variants_and_keeps_exit_codes() {
    let dir = workspace();
    let out = mentiond(
        dir.path(),
        &[
            "match",
            "--keywords",
            "k.toml",
            "--json",
            "TURKCELL'e kesinti",
            "thy kingdom",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = &lines[0]["hits"];
    assert_eq!(first[0]["brand"], "Turkcell");
    assert_eq!(first[0]["kind"], "brand");
    let term = &first[0]["terms"][0];
    assert_eq!(
        (
            &term["kind"],
            &term["variant"],
            &term["matched"],
            &term["start"],
            &term["end"]
        ),
        (
            &"suffix".into(),
            &"turkcell".into(),
            &"TURKCELL".into(),
            &0.into(),
            &8.into()
        )
    );
    assert_eq!(first[1]["brand"], "Outage");
    assert_eq!(first[1]["kind"], "topic");
    assert_eq!(lines[1]["hits"], serde_json::json!([]));

    let none = mentiond(
        dir.path(),
        &["match", "--keywords", "k.toml", "thy will be done"],
    );
    assert_eq!(none.status.code(), Some(1));
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[brand]]\nname = \"A\"\nterms = [\"a\"]\ncase = \"loud\"\n",
    )
    .unwrap();
    let bad = mentiond(dir.path(), &["match", "--keywords", "bad.toml", "a"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad.toml:4"));
}

#[test]
fn check_lists_generated_variants() {
    let dir = workspace();
    let out = mentiond(
        dir.path(),
        &["--config", "c.toml", "check", "--variants", "Turkcell"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("typo") && text.contains("turkcel "), "{text}");
    assert!(text.contains("#turkcell"));
    std::fs::write(
        dir.path().join("posts.txt"),
        "turkcel\nturkcel yine\nTurkcell\n",
    )
    .unwrap();
    let counted = mentiond(
        dir.path(),
        &[
            "--config",
            "c.toml",
            "check",
            "--variants",
            "Turkcell",
            "--corpus",
            "posts.txt",
        ],
    );
    let counted = String::from_utf8(counted.stdout).unwrap();
    let typo_line = counted.lines().find(|l| l.contains(" turkcel ")).unwrap();
    assert!(typo_line.ends_with("hits 2"), "{typo_line}");
    let unknown = mentiond(
        dir.path(),
        &["--config", "c.toml", "check", "--variants", "Nobody"],
    );
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn bench_reports_throughput_and_hits() {
    let dir = workspace();
    std::fs::write(
        dir.path().join("corpus.txt"),
        "Turkcell kesinti var\nhiç marka yok\nTHY'ye yazdım\nthy kingdom come\n",
    )
    .unwrap();
    let out = mentiond(
        dir.path(),
        &[
            "bench",
            "--keywords",
            "k.toml",
            "--corpus",
            "corpus.txt",
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["posts"], 4);
    assert_eq!(report["posts_with_hits"], 2);
    assert_eq!(report["hits"], 3);
    for field in ["mb_per_s", "posts_per_s", "seconds"] {
        assert!(report["matcher"][field].as_f64().unwrap() > 0.0, "{field}");
        assert!(report["raw_dfa"][field].as_f64().unwrap() > 0.0, "{field}");
    }
    assert!(report["ratio"].as_f64().unwrap() > 0.0);
    let text = mentiond(
        dir.path(),
        &["bench", "--keywords", "k.toml", "--corpus", "corpus.txt"],
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("posts/s") && text.contains("ratio matcher/raw DFA"),
        "{text}"
    );
}

/// Runs `match` on `lines` of stdin, reads `keep` lines of its output and closes the
/// pipe; returns the exit status and stderr.
fn match_into_closed_pipe(
    dir: &Path,
    lines: &'static str,
    repeat: usize,
    keep: usize,
) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mentiond"))
        .current_dir(dir)
        .args(["match", "--keywords", "k.toml"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for _ in 0..repeat {
            // The reader may be gone already: a failed write just ends the feed.
            if stdin.write_all(lines.as_bytes()).is_err() {
                break;
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..keep {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
    }
    drop(stdout);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "match did not stop on a closed pipe"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    feeder.join().unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn match_into_a_pipe_closed_early_exits_quietly_like_grep() {
    let dir = workspace();
    // Far more output than a pipe buffer holds, so the write after `head` leaves fails.
    let (code, stderr) =
        match_into_closed_pipe(dir.path(), "Turkcell faturam yine yanlış\n", 100_000, 1);
    assert_eq!(code, Some(0), "a line had matched: {stderr}");
    assert_eq!(stderr, "", "no error message on a closed pipe");
}
