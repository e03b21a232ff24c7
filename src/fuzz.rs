//! A small mutation fuzzer for the unit tests of every parser of untrusted input
//! (tests only). Seeded with real payloads, it flips, inserts, deletes, repeats and
//! splices bytes, adds tokens that break JSON, XML and TOML, and runs the parser on
//! each mutant; the first panic is reported with the target, the run's seed and the
//! input. `MENTIOND_FUZZ_CASES` sets the cases per target (default 2,000: CI's short
//! run; BENCHMARKS.md records a long one) and `MENTIOND_FUZZ_SEED` replays a run.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Cases per target unless `MENTIOND_FUZZ_CASES` says otherwise.
const DEFAULT_CASES: usize = 2_000;

/// Byte strings that often matter to parsers of posts, feeds and configuration.
const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "<",
    ">",
    "&",
    "'",
    "=",
    "\n",
    "\0",
    "null",
    "true",
    "-1",
    "1e999",
    "18446744073709551616",
    "\\u0000",
    "\\ud800",
    "İ",
    "ı",
    "ş",
    "\u{202e}",
    "\u{feff}",
    "😡",
    "&amp;",
    "&#0;",
    "<![CDATA[",
    "]]>",
    "<!ENTITY x \"y\">",
    "[[brand]]",
    "terms = [",
    "\"\"\"",
    "#",
    "@",
    "'",
    "0x",
    "%",
];

/// Runs `check` on `cases` mutants of `seeds` (and on the seeds themselves).
pub fn run(target: &str, seeds: &[&[u8]], check: impl Fn(&[u8])) {
    assert!(!seeds.is_empty(), "{target}: no seeds");
    let cases = std::env::var("MENTIOND_FUZZ_CASES")
        .ok()
        .map_or(DEFAULT_CASES, |n| n.parse().expect("MENTIOND_FUZZ_CASES"));
    let seed = std::env::var("MENTIOND_FUZZ_SEED")
        .ok()
        .map_or_else(rand::random::<u64>, |seed| {
            seed.parse().expect("MENTIOND_FUZZ_SEED")
        });
    let mut rng = StdRng::seed_from_u64(seed);
    let inputs = seeds
        .iter()
        .map(|seed| seed.to_vec())
        .chain((0..cases).map(|_| mutant(&mut rng, seeds)));
    for input in inputs {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input))) {
            eprintln!(
                "fuzz target {target} panicked (MENTIOND_FUZZ_SEED={seed}) on {} bytes: {:?}",
                input.len(),
                String::from_utf8_lossy(&input[..input.len().min(2_000)])
            );
            resume_unwind(panic);
        }
    }
}

/// One seed changed by one to eight mutations.
fn mutant(rng: &mut StdRng, seeds: &[&[u8]]) -> Vec<u8> {
    let mut bytes = seeds[rng.gen_range(0..seeds.len())].to_vec();
    for _ in 0..rng.gen_range(1..=8) {
        let at = rng.gen_range(0..=bytes.len());
        match rng.gen_range(0..7) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.gen_range(0..8),
            1 => bytes.insert(at, rng.r#gen()),
            2 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.gen_range(1..64)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => {
                let end = (at + rng.gen_range(1..64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                for _ in 0..rng.gen_range(1..16) {
                    bytes.splice(at..at, copy.iter().copied());
                }
            }
            5 => {
                let other = seeds[rng.gen_range(0..seeds.len())];
                let from = rng.gen_range(0..=other.len());
                let end = (from + rng.gen_range(1..256)).min(other.len());
                bytes.splice(at..at, other[from..end].iter().copied());
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_target_is_reported_and_fails() {
        let caught = catch_unwind(|| {
            run("demo", &[b"{\"a\": 1}"], |input| {
                assert!(!input.contains(&b'}'), "found a brace");
            })
        });
        assert!(caught.is_err(), "the seed itself holds a brace");
    }

    #[test]
    fn mutants_differ_from_their_seed() {
        let mut rng = StdRng::seed_from_u64(7);
        let seed: &[u8] = b"{\"source\":\"x\",\"id\":\"1\",\"text\":\"Turkcell\"}";
        let changed = (0..100)
            .filter(|_| mutant(&mut rng, &[seed]) != seed)
            .count();
        assert!(changed > 90, "{changed}");
    }
}
