//! Configuration loading: layering, validation, and problems that name file, key and line.
//!
//! Environment variables are given to `load_with_env` (and the integration tests run the
//! binary as a child process), so these tests never mutate the process environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const KEYWORDS: &str = "[[brand]]\nname = \"Turkcell\"\nteam = \"care\"\nterms = [\"Turkcell\"]\n";

/// Writes `config` and a small keywords file into a fresh directory.
fn write_config(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keywords.toml"), KEYWORDS).unwrap();
    let path = dir.path().join("mentiond.toml");
    std::fs::write(&path, config).unwrap();
    (dir, path)
}

fn problems(config: &str) -> Vec<Problem> {
    let (_dir, path) = write_config(config);
    load(Some(&path)).unwrap_err().problems
}

fn keys(problems: &[Problem]) -> Vec<&str> {
    problems.iter().map(|p| p.key.as_str()).collect()
}

#[test]
fn embedded_defaults_are_valid_and_documented() {
    let config = load(None).unwrap();
    assert!(config.file.is_none());
    assert_eq!(config.keywords_path, Path::new("keywords.toml"));
    assert_eq!(config.poll.interval, Duration::from_secs(600));
    assert_eq!(config.delivery.max_age, Duration::from_secs(24 * 3600));
    assert_eq!(config.sources[0].kind.kind_name(), "feed");
    assert!(
        config
            .sources
            .iter()
            .any(|source| source.kind.kind_name() == "bluesky_jetstream"),
        "a fresh install sees live Bluesky posts"
    );
    assert_eq!(config.receivers[0].kind.kind_name(), "file");
    assert!(config.routes.iter().any(RouteConfig::is_catch_all));
    if std::env::var_os("STATE_DIRECTORY").is_none() {
        assert_eq!(config.storage_path, Path::new("./data/mentiond.db"));
    }
    // Every key in the shipped file carries a comment on the line above it.
    let lines: Vec<&str> = DEFAULT_CONFIG.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        let is_key = line.contains(" = ") && !line.trim_start().starts_with('#');
        if is_key && !line.starts_with(' ') {
            assert!(
                lines[index - 1].trim_start().starts_with('#'),
                "config/mentiond.toml line {} has no comment: {line}",
                index + 1
            );
        }
    }
}

#[test]
fn user_file_overrides_defaults_and_keywords_are_relative_to_it() {
    let (dir, path) = write_config(
        "[storage]\npath = \"/tmp/elsewhere.db\"\n[poll]\ninterval = \"90s\"\n\
         [[sources]]\nkind = \"jsonl\"\nname = \"tickets\"\npath = \"in.jsonl\"\ninterval = 5\n",
    );
    let config = load(Some(&path)).unwrap();
    assert_eq!(config.storage_path, Path::new("/tmp/elsewhere.db"));
    assert_eq!(config.poll.interval, Duration::from_secs(90));
    assert_eq!(config.keywords_path, dir.path().join("keywords.toml"));
    assert_eq!(config.keywords.brands[0].name, "Turkcell");
    assert_eq!(
        config.sources.len(),
        1,
        "a [[sources]] list replaces the default one"
    );
    assert_eq!(config.sources[0].interval, Duration::from_secs(5));
    // Untouched defaults survive.
    assert_eq!(config.delivery.timeout, Duration::from_secs(15));
}

#[test]
fn each_problem_names_file_key_and_line() {
    let found = problems("[poll]\ninterval = \"soon\"\njitter = 3.0\n");
    assert_eq!(keys(&found), ["poll.interval", "poll.jitter"]);
    assert!(found.iter().all(|p| p.file.ends_with("mentiond.toml")));
    assert_eq!(found[0].line, Some(2));
    assert_eq!(found[1].line, Some(3));
    assert!(
        found[0]
            .to_string()
            .contains("mentiond.toml:2: poll.interval: invalid duration")
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let found = problems(
        "[[sources]]\nkind = \"rsss\"\nname = \"a\"\n\
         [[sources]]\nkind = \"feed\"\nname = \"a\"\nurl = \"ftp://x\"\ninterval = \"0s\"\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"https://hooks.example/x\"\nsecret = \"plain\"\n\
         [[routes]]\nteam = \"nobody\"\nreceivers = [\"hook\", \"missing\"]\n",
    );
    assert_eq!(
        keys(&found),
        [
            "sources[0].kind",
            "sources[1].name",
            "sources[1].interval",
            "sources[1].url",
            "receivers[0].secret",
            "routes[0].receivers",
            "routes[0].team",
            "routes",
        ]
    );
    let lines: Vec<_> = found.iter().map(|p| p.line).collect();
    assert_eq!(&lines[..5], [Some(2), Some(6), Some(8), Some(7), Some(13)]);
}

#[test]
fn unknown_keys_are_rejected_with_their_line() {
    let found = problems("[poll]\nintervall = \"5m\"\n");
    assert_eq!(keys(&found), ["poll.intervall"]);
    assert_eq!(found[0].line, Some(2));
    assert_eq!(found[0].message, "unknown key");

    let found = problems(
        "[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"a\"\nmode = 1\n[[routes]]\nreceivers = [\"f\"]\n",
    );
    assert_eq!(keys(&found), ["receivers[0].mode"]);
    assert_eq!(found[0].line, Some(5));
}

#[test]
fn syntax_errors_and_missing_files_are_located() {
    let found = problems("[poll\ninterval = 1\n");
    assert_eq!(found[0].key, "(syntax)");
    assert_eq!(found[0].line, Some(1));

    let err = load(Some(Path::new("/nonexistent/mentiond.toml"))).unwrap_err();
    assert_eq!(err.problems[0].key, "--config");

    let found = problems("keywords = \"nope.toml\"\n");
    assert_eq!(keys(&found), ["keywords"]);
    assert_eq!(found[0].line, Some(1));
    assert!(found[0].message.contains("nope.toml"));
}

#[test]
fn keyword_problems_surface_through_load() {
    let (dir, path) = write_config("");
    std::fs::write(
        dir.path().join("keywords.toml"),
        "[[brand]]\nname = \"X\"\n",
    )
    .unwrap();
    let found = load(Some(&path)).unwrap_err().problems;
    assert_eq!(keys(&found), ["brand[0].terms"]);
    assert!(found[0].file.ends_with("keywords.toml"));
    assert_eq!(found[0].line, Some(1));
}

#[test]
fn a_default_route_is_required() {
    let found = problems("[[routes]]\nteam = \"care\"\nreceivers = [\"alerts-file\"]\n");
    assert_eq!(keys(&found), ["routes"]);
    assert!(found[0].message.contains("default route"));
}

#[test]
fn routes_inherit_route_defaults_and_bad_grouping_keys_are_located() {
    let (_dir, path) = write_config(
        "[route_defaults]\ngroup_wait = \"10s\"\n[[routes]]\nsource = \"x\"\nquiet_hours = \"23:00-07:00\"\nmax_hits = 3\nreceivers = [\"alerts-file\"]\n[[routes]]\nreceivers = [\"alerts-file\"]\n",
    );
    let config = load(Some(&path)).unwrap();
    let route = &config.routes[0];
    assert_eq!(route.group_wait, Duration::from_secs(10));
    assert_eq!(route.group_interval, Duration::from_secs(300));
    assert_eq!(route.max_hits, 3);
    assert_eq!(route.group_by, [crate::routing::GroupLabel::Brand]);
    let quiet = route.quiet_hours.unwrap();
    assert_eq!(quiet.time_zone, chrono_tz::Europe::Istanbul);
    assert!(!route.is_catch_all() && config.routes[1].is_catch_all());

    let found = problems(
        "[[routes]]\nseverity = \"loud\"\ngroup_by = [\"colour\"]\ntime_zone = \"Mars/Olympus\"\nquiet_hours = \"late\"\nmax_hits = 0\ngroup_wait = \"soon\"\nreceivers = [\"alerts-file\"]\n[[routes]]\nreceivers = [\"alerts-file\"]\n",
    );
    let mut found_keys = keys(&found);
    found_keys.sort();
    assert_eq!(
        found_keys,
        [
            "routes[0].group_by",
            "routes[0].group_wait",
            "routes[0].max_hits",
            "routes[0].severity",
            "routes[0].time_zone"
        ]
    );
    assert!(found.iter().all(|p| p.line.is_some()), "{found:?}");
}

#[test]
fn the_api_is_off_by_default_and_needs_a_token_when_on() {
    assert!(load(None).unwrap().api.is_none());
    let found = problems("[api]\nlisten = \"127.0.0.1:8080\"\ntokn = \"x\"\n");
    let mut found_keys = keys(&found);
    found_keys.sort();
    assert_eq!(found_keys, ["api.token", "api.tokn"]);
    let found = problems("[api]\nlisten = \"everywhere\"\ntoken = \"x\"\n");
    assert_eq!(keys(&found), ["api.listen"]);
    let (_dir, path) = write_config("[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"s3cret\"\n");
    let config = load(Some(&path)).unwrap();
    let api = config.api.as_ref().unwrap();
    assert_eq!(api.listen.to_string(), "127.0.0.1:0");
    assert!(!format!("{config:?}").contains("s3cret"));
}

#[test]
fn secrets_come_from_files_and_never_print() {
    let (dir, path) = write_config("");
    std::fs::write(
        dir.path().join("secret"),
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n",
    )
    .unwrap();
    let config = format!(
        "[[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"https://hooks.example/T0/token-123\"\nsecret_file = \"{}\"\n[[routes]]\nreceivers = [\"hook\"]\n",
        dir.path().join("secret").display()
    );
    std::fs::write(&path, config).unwrap();
    let config = load(Some(&path)).unwrap();
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("token-123") && !debug.contains("C2FVsBQ"),
        "{debug}"
    );
}

#[test]
fn env_var_names_follow_the_key_path() {
    assert_eq!(env_var_for("storage.path"), "MENTIOND__STORAGE__PATH");
    assert_eq!(
        env_var_for("sources[0].interval"),
        "MENTIOND__SOURCES__0__INTERVAL"
    );
}

#[test]
fn routes_name_existing_topics_and_known_sentiments() {
    let found = problems(
        "[[routes]]\ntopic = \"Nope\"\nsentiment = \"angry\"\nreceivers = [\"alerts-file\"]\n[[routes]]\nreceivers = [\"alerts-file\"]\n",
    );
    assert_eq!(keys(&found), ["routes[0].topic", "routes[0].sentiment"]);
    assert_eq!(found[0].line, Some(2));
    assert!(
        found[1]
            .message
            .contains("`negative`, `neutral` or `positive`")
    );
}

#[test]
fn an_empty_storage_path_is_refused_not_a_temporary_database() {
    let found = problems("[storage]\npath = \"\"\n");
    assert_eq!(keys(&found), ["storage.path"]);
    assert_eq!(found[0].line, Some(2));
    assert!(found[0].message.contains("must not be empty"), "{found:?}");
    // The same through `MENTIOND__STORAGE__PATH=`.
    let (_dir, path) = write_config("");
    let env = [("MENTIOND__STORAGE__PATH".to_string(), String::new())];
    let found = load_with_env(Some(&path), env).unwrap_err().problems;
    assert_eq!(keys(&found), ["storage.path"]);
    assert_eq!(
        found[0].file,
        "environment variable MENTIOND__STORAGE__PATH"
    );
}

#[test]
fn retention_defaults_to_180_days_can_be_off_and_a_bad_value_is_located() {
    assert_eq!(
        load(None).unwrap().retention,
        Some(Duration::from_secs(180 * 24 * 3600))
    );
    for off in ["\"off\"", "\"0\"", "0"] {
        let (_dir, path) = write_config(&format!("[storage]\nretention = {off}\n"));
        assert_eq!(load(Some(&path)).unwrap().retention, None, "{off}");
    }
    let (_dir, path) = write_config("[storage]\nretention = \"12h\"\n");
    assert_eq!(
        load(Some(&path)).unwrap().retention,
        Some(Duration::from_secs(12 * 3600))
    );
    let found = problems("[storage]\npath = \"x.db\"\nretention = \"half a year\"\n");
    assert_eq!(keys(&found), ["storage.retention"]);
    assert_eq!(found[0].line, Some(3));
    assert!(found[0].message.contains("\"off\""), "{found:?}");
}

#[test]
fn a_problem_set_by_an_environment_variable_names_the_variable_even_when_the_file_sets_it() {
    let (_dir, path) = write_config("[poll]\ninterval = \"5m\"\n");
    let env = [("MENTIOND__POLL__INTERVAL".to_string(), "banana".to_string())];
    let found = load_with_env(Some(&path), env).unwrap_err().problems;
    assert_eq!(keys(&found), ["poll.interval"]);
    assert_eq!(
        found[0].file,
        "environment variable MENTIOND__POLL__INTERVAL"
    );
    assert_eq!(found[0].line, None);
    // A type error set by a variable is blamed on it too, and the file's own
    // problems are still located in the file.
    let (_dir, path) = write_config("[poll]\njitter = 0.2\n[log]\nformat = \"xml\"\n");
    let env = [("MENTIOND__POLL__JITTER".to_string(), "banana".to_string())];
    let found = load_with_env(Some(&path), env).unwrap_err().problems;
    assert_eq!(keys(&found), ["poll.jitter", "log.format"]);
    assert_eq!(found[0].file, "environment variable MENTIOND__POLL__JITTER");
    assert_eq!(found[1].line, Some(4));
}

#[test]
fn a_float_where_an_integer_is_expected_is_refused_with_key_and_line() {
    let found = problems("[poll]\nuser_agent = \"x\"\nmax_body_bytes = 1e30\n");
    assert_eq!(keys(&found), ["poll.max_body_bytes"]);
    assert_eq!(found[0].line, Some(3));
    assert!(found[0].message.contains("floating point"), "{found:?}");
    let found = problems("[api]\nmax_connections = 2.0\n");
    assert_eq!(keys(&found), ["api.max_connections"]);
    assert_eq!(found[0].line, Some(2));
}

#[test]
fn type_errors_in_three_sections_do_not_hide_each_other_or_the_rest() {
    let found = problems(
        "[poll]\nmax_body_bytes = \"big\"\ninterval = \"soon\"\n\
         [delivery]\ntimeout = 1.5\n\
         [[sources]]\nkind = 5\nname = \"a\"\n\
         [[sources]]\nkind = \"feed\"\nname = \"b\"\nurl = \"ftp://x\"\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"hook\"\n\
         [[routes]]\nreceivers = [\"hook\", \"missing\"]\nmax_hits = 2.5\n\
         [[routes]]\nreceivers = [\"hook\"]\n",
    );
    assert_eq!(
        keys(&found),
        [
            "poll.max_body_bytes",
            "delivery.timeout",
            "sources[0].kind",
            "routes[0].max_hits",
            "poll.interval",
            "sources[1].url",
            "receivers[0].url",
            "routes[0].receivers",
        ]
    );
    assert!(found.iter().all(|p| p.line.is_some()), "{found:?}");
}

#[test]
fn a_missing_key_of_a_list_entry_points_at_its_table() {
    let found = problems(
        "[[receivers]]\nkind = \"webhook\"\nname = \"hook\"\n[[routes]]\nreceivers = [\"hook\"]\n",
    );
    assert_eq!(keys(&found), ["receivers[0].url"]);
    assert_eq!(found[0].line, Some(1));
    // Not the default receiver's `path` line: the user's list replaced the default one.
    let found =
        problems("[[receivers]]\nkind = \"file\"\nname = \"f\"\n[[routes]]\nreceivers = [\"f\"]\n");
    assert_eq!(keys(&found), ["receivers[0].path"]);
    assert!(found[0].file.ends_with("mentiond.toml"), "{found:?}");
    assert_eq!(found[0].line, Some(1));
    let found = problems(
        "receivers = [{ kind = \"webhook\", name = \"h\", url = \"ftp://x\" }]\n[[routes]]\nreceivers = [\"h\"]\n",
    );
    assert_eq!(keys(&found), ["receivers[0].url"]);
    assert_eq!(found[0].line, Some(1));
}

#[test]
fn an_unreadable_keywords_file_gives_the_os_reason_and_its_path() {
    let found = problems("keywords = \"nope.toml\"\n");
    assert_eq!(keys(&found), ["keywords"]);
    assert_eq!(found[0].line, Some(1));
    assert!(
        found[0]
            .message
            .contains("nope.toml: No such file or directory"),
        "{found:?}"
    );
    // A directory cannot be read as a file, whoever runs the tests (root included).
    let found = problems("keywords = \".\"\n");
    assert_eq!(keys(&found), ["keywords"]);
    assert!(found[0].message.contains("Is a directory"), "{found:?}");
}

#[test]
fn section_digests_name_what_changed_besides_the_keywords_path_and_never_print_values() {
    let (dir, path) = write_config(
        "keywords = \"keywords.toml\"\n[[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"https://hooks.example/T0/token-123\"\n[[routes]]\nreceivers = [\"hook\"]\n",
    );
    let before = load(Some(&path)).unwrap().sections;
    assert_eq!(
        before.changed_besides_keywords(&load(Some(&path)).unwrap().sections),
        Vec::<&str>::new()
    );
    std::fs::copy(
        dir.path().join("keywords.toml"),
        dir.path().join("other.toml"),
    )
    .unwrap();
    std::fs::write(
        &path,
        "keywords = \"other.toml\"\n[poll]\ninterval = \"5m\"\n[[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"https://hooks.example/T0/token-456\"\n[[routes]]\nreceivers = [\"hook\"]\n",
    )
    .unwrap();
    let after = load(Some(&path)).unwrap().sections;
    assert_eq!(
        before.changed_besides_keywords(&after),
        ["poll", "receivers"]
    );
    // Each receiver and source entry has its own fingerprint, under its name.
    let (old_hook, new_hook) = (
        before.entry("receivers", "hook"),
        after.entry("receivers", "hook"),
    );
    assert!(old_hook.is_some() && new_hook.is_some() && old_hook != new_hook);
    assert_eq!(after.entry("receivers", "nobody"), None);
    assert_eq!(after.entry("sources", "hook"), None);
    let debug = format!("{after:?}");
    assert!(
        debug.contains("receivers") && !debug.contains("token-456"),
        "{debug}"
    );
}

#[test]
fn ready_failing_intervals_must_be_at_least_one_and_is_located() {
    let found = problems(
        "[api]\nlisten = \"127.0.0.1:8080\"\ntoken = \"t\"\nready_failing_intervals = 0\n",
    );
    assert_eq!(keys(&found), ["api.ready_failing_intervals"]);
    assert_eq!(found[0].line, Some(4));
    assert!(found[0].message.contains("at least 1"), "{found:?}");
}

#[test]
fn intake_channels_are_located_and_need_the_api() {
    assert!(load(None).unwrap().intake.channels.is_empty());
    let channel = "[[intake]]\nname = \"email\"\ntoken = \"in-t0ken\"\n";
    let found = problems(channel);
    assert_eq!(keys(&found), ["intake"]);
    let api = "[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"api-t0ken\"\nintake_max_posts = 0\n";
    let found = problems(&format!(
        "{api}\n{channel}\n[[intake]]\nname = \"email\"\ntoken = \"other\"\n\n[[intake]]\nname = \"crm\"\ntoken = \"api-t0ken\"\n"
    ));
    assert_eq!(
        keys(&found),
        ["api.intake_max_posts", "intake[1].name", "intake[2].token"]
    );
    // Each names the line of its key in the user's file.
    assert_eq!(found[1].line, Some(11));
    assert_eq!(found[2].line, Some(16));
    let (_dir, path) = write_config(&format!("{}{channel}", api.replace("0\n", "5\n")));
    let config = load(Some(&path)).unwrap();
    assert_eq!(config.intake.channels[0].name, "email");
    assert_eq!(config.intake.limits.max_posts, 5);
    assert!(!format!("{config:?}").contains("in-t0ken"));
}

#[test]
fn sentiment_extra_lexicons_load_relative_to_the_config_and_their_problems_are_located() {
    let (dir, path) = write_config("[sentiment]\nextra = [\"ours.toml\"]\n");
    std::fs::write(dir.path().join("ours.toml"), "[words]\n\"zort\" = -3\n").unwrap();
    let config = load(Some(&path)).unwrap();
    assert_eq!(
        config.sentiment.score("zort").label,
        crate::sentiment::Sentiment::Negative
    );
    // Without `extra` the built-in lexicon is used as it is.
    let (_plain, plain) = write_config("");
    let config = load(Some(&plain)).unwrap();
    assert_eq!(
        config.sentiment.score("zort").label,
        crate::sentiment::Sentiment::Neutral
    );

    std::fs::write(
        dir.path().join("ours.toml"),
        "[words]\n\"iyi\" = 1\n\"zort\" = \"x\"\n",
    )
    .unwrap();
    let found = load(Some(&path)).unwrap_err().problems;
    assert_eq!(keys(&found), ["words.\"zort\""]);
    assert_eq!(found[0].line, Some(3));
    assert_eq!(
        found[0].file,
        dir.path().join("ours.toml").display().to_string()
    );

    let found = problems("[sentiment]\nextra = [\"missing.toml\"]\n");
    assert_eq!(keys(&found), ["sentiment.extra"]);
    assert_eq!(found[0].line, Some(2));
    assert!(found[0].message.contains("missing.toml"), "{found:?}");
}

#[test]
fn surge_settings_default_from_the_file_and_bad_values_are_located() {
    let config = load(None).unwrap();
    assert_eq!(config.surge.window, Duration::from_secs(600));
    assert_eq!(config.surge.history, Duration::from_secs(4 * 7 * 24 * 3600));
    assert_eq!((config.surge.min_volume, config.surge.factor), (20, 3.0));
    let found = problems("[surge]\nwindow = \"7m\"\n\nfactor = 0.5\n");
    assert_eq!(keys(&found), ["surge.window", "surge.factor"]);
    assert_eq!((found[0].line, found[1].line), (Some(2), Some(4)));
}

#[test]
fn routes_take_a_kind_and_priorities_are_scores_not_follower_counts() {
    let found = problems(
        "[[routes]]\nkind = \"fire\"\nmin_priority = 10000\nreceivers = [\"alerts-file\"]\n[[routes]]\nkind = \"surge\"\nurgent_priority = 101\nreceivers = [\"alerts-file\"]\n[[routes]]\nreceivers = [\"alerts-file\"]\n",
    );
    assert_eq!(
        keys(&found),
        [
            "routes[0].kind",
            "routes[0].min_priority",
            "routes[1].urgent_priority"
        ]
    );
    assert!(found[1].message.contains("not a follower count"));
    // A surge-only route is not the default route.
    let found = problems("[[routes]]\nkind = \"surge\"\nreceivers = [\"alerts-file\"]\n");
    assert_eq!(keys(&found), ["routes"]);
}

#[test]
fn report_problems_are_located_and_send_to_names_receivers() {
    let found = problems(
        "[report]\nat = \"25:00\"\nlanguage = \"de\"\nformats = [\"md\", \"pdf\"]\nsend_to = [\"care-mail\"]\n",
    );
    assert_eq!(
        keys(&found),
        [
            "report.send_to[0]",
            "report.at",
            "report.language",
            "report.formats[1]"
        ]
    );
    let lines: Vec<_> = found.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(5), Some(2), Some(3), Some(4)]);
}

/// A config with a section of every kind, the fuzzer's second seed.
const EVERY_SECTION: &str = r#"
[poll]
interval = "30s"
backoff_max = "5m"

[api]
listen = "127.0.0.1:0"
token = "t0ken-for-the-fuzzer"

[[sources]]
kind = "jsonl"
name = "tickets"
path = "tickets.jsonl"

[[sources]]
kind = "feed"
name = "news"
urls = ["http://127.0.0.1:9/feed.xml"]

[[sources]]
kind = "mastodon"
name = "toots"
base_url = "http://127.0.0.1:9"

[[intake]]
name = "mail"
token = "intake-t0ken"

[[receivers]]
kind = "webhook"
name = "hook"
url = "http://127.0.0.1:9/hook"

[[receivers]]
kind = "file"
name = "care-file"
path = "alerts.jsonl"

[route_defaults]
group_wait = "0s"

[[routes]]
brand = "Turkcell"
receivers = ["hook", "care-file"]
sla = "1h"

[[routes]]
receivers = ["care-file"]
"#;

#[test]
fn fuzzed_config_files_load_or_fail_with_located_problems_without_panicking() {
    let (_dir, path) = write_config(EVERY_SECTION);
    load_with_env(Some(&path), Vec::new()).expect("the second seed is valid");
    let seeds: [&[u8]; 2] = [DEFAULT_CONFIG.as_bytes(), EVERY_SECTION.as_bytes()];
    crate::fuzz::run("mentiond.toml", &seeds, |input| {
        std::fs::write(&path, input).unwrap();
        if let Err(err) = load_with_env(Some(&path), Vec::new()) {
            assert!(!err.problems.is_empty(), "an error names its problems");
            assert!(!err.to_string().is_empty());
        }
    });
}
