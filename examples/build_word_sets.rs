//! Builds the typo guard's word sets from raw word lists (run by
//! `tools/build_word_lists.py`, which fetches the sources; see
//! `src/matcher/words/README.md`).
//!
//! Usage: `cargo run --example build_word_sets -- RAW_DIR OUT_DIR`: every
//! `RAW_DIR/<language>.txt` (one word a line, any case and accents) becomes
//! `OUT_DIR/<language>.fst`: the words folded by the matcher's own `text::fold`, of 3 to
//! 24 ASCII letters (2 to 24 for Turkish roots: `ol`, `aç` and `uç` are stems of
//! countless forms), sorted by bytes and unique, as an `fst` set.

use std::error::Error;
use std::path::Path;

use mentiond::text::fold;

/// Shortest and longest word kept, in letters.
const LETTERS: std::ops::RangeInclusive<usize> = 3..=24;

/// The same for Turkish roots, which the typo guard reads as stems only (the matcher's
/// `MIN_WORD`).
const ROOT_LETTERS: std::ops::RangeInclusive<usize> = 2..=24;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, raw, out] = args.as_slice() else {
        return Err("usage: build_word_sets RAW_DIR OUT_DIR".into());
    };
    let mut lists: Vec<_> = std::fs::read_dir(raw)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    lists.retain(|path| path.extension().is_some_and(|e| e == "txt"));
    lists.sort();
    for list in lists {
        let text = std::fs::read_to_string(&list)?;
        let name = list.file_stem().ok_or("a list without a name")?;
        let letters = if name == "turkish_verbs" || name == "turkish" {
            ROOT_LETTERS
        } else {
            LETTERS
        };
        let mut words: Vec<String> = text
            .lines()
            .map(|line| fold(line.trim()))
            .filter(|word| {
                letters.contains(&word.len()) && word.bytes().all(|b| b.is_ascii_lowercase())
            })
            .collect();
        words.sort_unstable();
        words.dedup();
        let set = fst::Set::from_iter(&words)?;
        let target = Path::new(out).join(name).with_extension("fst");
        std::fs::write(&target, set.as_fst().as_bytes())?;
        println!(
            "{}: {} words, {} bytes",
            target.display(),
            words.len(),
            set.as_fst().as_bytes().len()
        );
    }
    Ok(())
}
