//! The shape of the crate, held by tests: modules import only modules of a lower
//! layer (the picture in ARCHITECTURE.md), only `app` and `cli` import `config`, and
//! every module of `src/` is named in ARCHITECTURE.md's code map.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may import modules of a lower layer only; the
/// same list is drawn in ARCHITECTURE.md ("Layers").
const LAYERS: &[&[&str]] = &[
    &[
        "backoff",
        "escape",
        "fuzz",
        "http",
        "metrics",
        "model",
        "service",
        "settings",
        "shutdown",
        "telemetry",
        "text",
    ],
    &["keywords", "supervise"],
    &["sources", "matcher", "sentiment"],
    &["routing"],
    &["store"],
    &["alerts", "report"],
    &["pipeline"],
    &["api", "console", "intake"],
    &["config"],
    &["app"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, with its top-level module (`sources/feed.rs` →
/// `sources`; `main.rs` and `lib.rs` → `None`).
fn source_files() -> Vec<(PathBuf, Option<String>)> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("reading src") {
            let path = entry.expect("reading src").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let src = src_dir();
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&src).expect("under src");
            let first = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .expect("a path component")
                .trim_end_matches(".rs")
                .to_string();
            let module = (first != "main" && first != "lib").then_some(first);
            (path, module)
        })
        .collect()
}

/// The production part of a file: test modules (a `tests.rs` file, or everything
/// from the first `#[cfg(test)]` on) may reach upward for fixtures.
fn production_text(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    Some(match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text,
    })
}

/// The top-level modules a text names through `crate::name`.
fn imported_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
            rest = after;
        }
        // `use crate::{a, b}` lists several modules in one line.
        if let Some(at) = code.find("crate::{") {
            let list = &code[at + "crate::{".len()..];
            for item in list.split([',', '}']) {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

#[test]
fn modules_import_only_lower_layers() {
    let mut violations = Vec::new();
    for (path, module) in source_files() {
        let Some(module) = module else { continue };
        let Some(own) = layer_of(&module) else {
            violations.push(format!(
                "{}: module `{module}` is in no layer",
                path.display()
            ));
            continue;
        };
        let Some(text) = production_text(&path) else {
            continue;
        };
        for imported in imported_modules(&text) {
            if imported == module {
                continue;
            }
            match layer_of(&imported) {
                Some(layer) if layer < own => {}
                Some(_) => violations.push(format!(
                    "{}: `{module}` imports `{imported}`, which is not below it",
                    path.display()
                )),
                None => violations.push(format!(
                    "{}: imports `crate::{imported}`, which is in no layer",
                    path.display()
                )),
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn only_app_and_cli_import_config() {
    for (path, module) in source_files() {
        let (Some(module), Some(text)) = (module, production_text(&path)) else {
            continue;
        };
        if ["app", "cli", "config"].contains(&module.as_str()) {
            continue;
        }
        assert!(
            !imported_modules(&text).contains("config"),
            "{} imports config",
            path.display()
        );
    }
}

#[test]
fn the_import_check_sees_what_it_must() {
    let text = "use crate::store::Store;\nuse crate::{alerts, model::Post};\n\
                // use crate::config;\nlet x = crate::routing::plan();";
    let found: Vec<_> = imported_modules(text).into_iter().collect();
    assert_eq!(found, ["alerts", "model", "routing", "store"]);
}

#[test]
fn every_module_is_in_the_code_map() {
    let architecture =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    let map_start = architecture
        .find("## Code map")
        .expect("a `## Code map` section");
    // The code map runs from its heading to the end: the folders with many files
    // (`sources`, `matcher`) have their own detailed maps after the invariants.
    assert!(
        architecture.contains("## Invariants"),
        "an `## Invariants` section"
    );
    let code_map = &architecture[map_start..];
    let mut missing = Vec::new();
    for (path, _) in source_files() {
        let relative = path.strip_prefix(src_dir()).expect("under src");
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("a stem");
        let name = match stem {
            "mod" => relative
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .expect("a folder"),
            other => other,
        };
        let named = code_map.contains(&format!("`{name}"))
            || code_map.contains(&format!("/{name}.rs`"))
            || code_map.contains(&format!("/{name}/"));
        if !named {
            missing.push(relative.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name: {}",
        missing.join(", ")
    );
    for layer in LAYERS {
        for module in *layer {
            assert!(
                architecture.contains(&format!("`{module}`")),
                "ARCHITECTURE.md's layer picture lacks `{module}`"
            );
        }
    }
}

#[test]
fn only_store_speaks_sql_and_the_pure_stages_do_no_io_and_read_no_clock() {
    let pure = ["model", "text", "matcher", "sentiment", "routing"];
    let io_or_clock = [
        "std::fs",
        "tokio::",
        "reqwest",
        "Utc::now",
        "Instant::now",
        "SystemTime",
    ];
    let mut violations = Vec::new();
    for (path, module) in source_files() {
        let (Some(module), Some(text)) = (module, production_text(&path)) else {
            continue;
        };
        if module != "store" && text.contains("rusqlite") {
            violations.push(format!("{}: speaks SQL outside `store`", path.display()));
        }
        // `mentiond bench` is the matcher's one measurement and the only clock in it.
        let is_bench = path.ends_with("matcher/bench.rs");
        if pure.contains(&module.as_str()) && !is_bench {
            for needle in io_or_clock {
                if text.contains(needle) {
                    violations.push(format!("{}: `{needle}` in a pure stage", path.display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn every_invariant_names_tests_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("read");
    let start = architecture
        .find("## Invariants")
        .expect("an `## Invariants` section");
    let end = architecture[start..]
        .find("\n## ")
        .map_or(architecture.len(), |at| start + at);
    let mut code = String::new();
    for (path, _) in source_files() {
        code.push_str(&std::fs::read_to_string(path).expect("read"));
    }
    for entry in std::fs::read_dir(root.join("tests/integration")).expect("tests") {
        code.push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("read"));
    }
    let mut missing = Vec::new();
    for line in architecture[start..end]
        .lines()
        .filter(|l| l.starts_with("- "))
    {
        let named: Vec<&str> = line
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| name.contains("::"))
            .collect();
        assert!(!named.is_empty(), "an invariant without a test: {line}");
        for name in named {
            let function = name.rsplit("::").next().expect("a last segment");
            if !code.contains(&format!("fn {function}(")) {
                missing.push(name.to_string());
            }
        }
    }
    assert!(missing.is_empty(), "no such test: {}", missing.join(", "));
}
