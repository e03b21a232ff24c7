//! The match-quality run of `cargo test`: a small corpus of the shared generator with a
//! held-out seed and the held-out brand list (`bench/quality/README.md`), scored by the
//! same code as `cargo bench --bench quality`, must meet issue 16's targets. And the
//! scoring itself, on a hand-written corpus.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../bench/quality/score.rs"]
mod score;

/// A held-out seed: never used while tuning.
const SEED: &str = "8128";
/// 5 MB: about 26,000 posts and 540 labelled mentions, generated in seconds and matched
/// in a debug build well within the test budget.
const MEGABYTES: &str = "5";
/// What the generator reads; the Debian packages that hold them.
const GENERATOR_INPUTS: &[(&str, &str)] = &[
    ("/usr/share/games/fortunes/fortunes", "fortunes"),
    ("/usr/share/games/fortunes/de", "fortunes-de"),
    ("/usr/share/games/fortunes/es", "fortunes-es"),
    ("/usr/share/games/fortunes/it", "fortunes-it"),
    ("/usr/share/games/fortunes/pl", "fortunes-pl"),
    ("/usr/share/games/fortunes/ru", "fortunes-ru"),
    ("/usr/share/games/fortunes/brasil", "fortunes-br"),
    ("/usr/share/man/tr", "manpages-tr"),
    ("/usr/share/hunspell/tr_TR.dic", "hunspell-tr"),
    ("/usr/share/dict/american-english", "wamerican"),
];

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What is missing to run the generator: its script, python3, or the packages.
fn missing_prerequisites(generator: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !generator.is_file() {
        missing.push(format!("the generator {}", generator.display()));
    }
    let python = Command::new("python3").arg("--version").output();
    if !python.is_ok_and(|out| out.status.success()) {
        missing.push("python3".to_string());
    }
    missing.extend(
        GENERATOR_INPUTS
            .iter()
            .filter(|(path, _)| !Path::new(path).exists())
            .map(|(path, package)| format!("{package} ({path})")),
    );
    missing
}

#[test]
#[ignore = "targets not met yet: see BENCHMARKS.md"]
fn the_matcher_meets_the_quality_targets_on_a_held_out_seed_and_brand_list() {
    let generator = manifest().join("../shared/bench/gen_corpus.py");
    let missing = missing_prerequisites(&generator);
    if !missing.is_empty() {
        let message = format!(
            "the quality run needs {}: apt-get install -y python3 fortunes fortunes-de fortunes-es \
             fortunes-it fortunes-pl fortunes-ru fortunes-br manpages-tr hunspell-tr wamerican, and \
             the shared generator at ../shared/bench/gen_corpus.py",
            missing.join(", ")
        );
        if std::env::var_os("MENTIOND_QUALITY_TESTS").is_some() {
            panic!("MENTIOND_QUALITY_TESTS is set but {message}");
        }
        eprintln!(
            "\n*** SKIPPED the match-quality run: {message} (set MENTIOND_QUALITY_TESTS=1 to require it) ***\n"
        );
        return;
    }
    let brand_list = manifest().join("bench/quality/brands-heldout.txt");
    let corpus = tempfile::tempdir().unwrap();
    let generated = Command::new("python3")
        .arg(&generator)
        .args(["--out"])
        .arg(corpus.path())
        .args(["--mb", MEGABYTES, "--seed", SEED, "--brands"])
        .arg(&brand_list)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "the generator failed: {}",
        String::from_utf8_lossy(&generated.stderr)
    );

    let brands = score::read_brand_list(&brand_list).unwrap();
    let mut report = score::evaluate(corpus.path(), &brands).unwrap();
    // Held-out names and the posts that show them stay unread by whoever runs the tests.
    report.anonymize();
    eprintln!("{}", report.text(60));
    assert!(
        report.posts > 20_000 && report.total.labels > 400,
        "{} posts, {} labels",
        report.posts,
        report.total.labels
    );
    let failed: Vec<String> = report
        .targets
        .iter()
        .filter(|t| !t.met)
        .map(|t| format!("{}: {} (target {})", t.name, t.value, t.bound))
        .collect();
    assert!(failed.is_empty(), "targets not met:\n{}", failed.join("\n"));
}

#[test]
fn the_scoring_counts_misses_typo_false_hits_and_background_hits() {
    let dir = tempfile::tempdir().unwrap();
    let posts = [
        "Turkcell'e iki gündür ulaşamıyorum",
        "an apple a day keeps the doctor away",
        "bugün hava çok güzel",
        "turkcel yine çekmiyor",
        "Apple kuyruğu uzun, #apple",
        "Ellerine sağlık, Türkcell",
        "Apple'ın yeni telefonu çıkmış",
    ];
    std::fs::write(dir.path().join("corpus.txt"), posts.join("\n") + "\n").unwrap();
    // Post 2 carries a label whose mention is not in its text: a miss. Post 5 has no
    // label: whether the matcher takes `Türkcell` or not, it adds no true hit.
    std::fs::write(
        dir.path().join("labels.tsv"),
        "0\t0\tTurkcell\tTurkcell'e\n2\t0\tTurkcell\tTurkcell\n4\t1\tApple\tApple\n",
    )
    .unwrap();
    let brands = vec!["Turkcell".to_string(), "Apple".to_string()];
    let report = score::evaluate(dir.path(), &brands).unwrap();

    assert_eq!(report.posts, 7);
    assert_eq!((report.total.labels, report.total.found), (3, 2));
    assert_eq!(report.misses.len(), 1);
    assert_eq!(
        (report.misses[0].line, report.misses[0].kind),
        (3, "written")
    );
    // `turkcel` on an unlabelled post: a generated typo, the matcher's own error.
    assert_eq!(report.typo_false_hits, 1, "{:?}", report.false_hits);
    assert!(
        report
            .false_hits
            .iter()
            .any(|f| f.line == 4 && f.variant == "turkcel" && f.generated)
    );
    // `apple` as a word, and `Apple'ın` with its suffix after an apostrophe, spell the
    // name: background, not the matcher's error.
    let apple = &report.per_brand[1];
    assert_eq!((apple.true_hits, apple.background_hits), (1, 2));
    assert_eq!(apple.precision(), 1.0);
    assert_eq!(apple.strict_precision(), 1.0 / 3.0);
    assert_eq!(report.typo_false_hits_allowed(), 0);
    assert!(!report.targets[1].met, "{:?}", report.targets);
    assert!(!report.targets[0].met, "recall 2/3 is below the target");
}

#[test]
fn the_keywords_are_what_a_new_user_writes_and_labels_and_languages_are_read_back() {
    let keywords = score::keywords_toml(&["Türk Telekom".to_string(), "McDonald's".to_string()]);
    assert!(keywords.contains(
        "name = \"Türk Telekom\"\nterms = [\"Türk Telekom\"]\nhandles = [\"@turktelekom\"]\nhashtags = [\"#turktelekom\"]"
    ));
    assert!(keywords.contains("handles = [\"@mcdonalds\"]"));
    assert!(!keywords.contains("typos =") && !keywords.contains("case ="));

    for (surface, kind) in [
        ("Türk Telekom", "written"),
        ("TÜRK TELEKOM", "upper"),
        ("türk telekom", "lower"),
        ("Turk Telekom", "folded"),
        ("#TürkTelekom", "hashtag"),
        ("@turktelekom", "handle"),
        ("Türk Telekom'dan", "suffix"),
        ("turktelekm", "typo"),
    ] {
        assert_eq!(
            score::label_kind("Türk Telekom", surface),
            kind,
            "{surface}"
        );
    }
    for (text, language) in [
        (
            "Kargo hâlâ gelmedi, müşteri hizmetleri çok kötü ve bu iş böyle olmaz",
            "tr",
        ),
        ("Привет, как дела? Давно не виделись.", "ru"),
        ("我们明天去北京", "zh"),
        ("Ich habe heute keine Zeit und das ist nicht gut", "de"),
        (
            "Quando lo statement quit viene letto, il processore non è finito",
            "it",
        ),
        ("the weather is nice and I like it", "en"),
    ] {
        assert_eq!(score::guess_language(text), language, "{text}");
    }
}
