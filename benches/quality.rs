//! The match-quality evaluation: runs the full matcher, compiled from the keywords a
//! new user writes for a brand list, over a corpus of the shared generator and scores
//! it against the generator's labels (`bench/quality/README.md`).
//!
//! ```sh
//! cargo bench --bench quality -- --corpus DIR [--brands FILE] [--json] [--list N] [--keywords-out FILE]
//! ```
//!
//! `--brands` is the list the corpus was generated with (default: the brands of the
//! corpus's `patterns_1k.tsv`, i.e. the generator's own list); `--list` caps the misses
//! and false hits printed (default 40; `--json` prints them all); `--keywords-out`
//! writes the keywords.toml the evaluation compiled.

use std::path::PathBuf;
use std::process::ExitCode;

#[path = "../bench/quality/score.rs"]
mod score;

struct Args {
    corpus: PathBuf,
    brands: Option<PathBuf>,
    json: bool,
    list: usize,
    keywords_out: Option<PathBuf>,
}

const USAGE: &str = "usage: cargo bench --bench quality -- --corpus DIR [--brands FILE] [--json] [--list N] [--keywords-out FILE]";

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut corpus, mut brands, mut json, mut list, mut keywords_out) =
        (None, None, false, 40, None);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--corpus" => corpus = Some(PathBuf::from(value()?)),
            "--brands" => brands = Some(PathBuf::from(value()?)),
            "--keywords-out" => keywords_out = Some(PathBuf::from(value()?)),
            "--list" => {
                list = value()?
                    .parse()
                    .map_err(|_| "--list needs a number".to_string())?
            }
            "--json" => json = true,
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        corpus: corpus.ok_or("--corpus DIR is required")?,
        brands,
        json,
        list,
        keywords_out,
    })
}

fn run(args: &Args) -> Result<(), String> {
    let brands = match &args.brands {
        Some(file) => score::read_brand_list(file)?,
        None => score::corpus_brands(&args.corpus)?,
    };
    if let Some(path) = &args.keywords_out {
        std::fs::write(path, score::keywords_toml(&brands))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let report = score::evaluate(&args.corpus, &brands)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report.text(args.list));
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("quality: {message}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}
