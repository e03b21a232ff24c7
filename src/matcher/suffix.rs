//! Turkish case, possessive and plural suffixes, folded (`ı`→`i`, `ü`→`u`, `ö`→`o`).
//!
//! Turkish attaches them to brand names: with an apostrophe for proper names
//! (`Turkcell'e`), often without one in chat (`turkcellden`, `thyye`). A term glued to
//! letters only counts when those letters are one of these suffixes.

use std::sync::LazyLock;

/// Known suffixes, sorted by bytes for binary search.
const SUFFIXES: &[&str] = &[
    "a", "ci", "ciler", "cu", "cular", "da", "daki", "dan", "de", "deki", "den", "dir", "dur", "e",
    "i", "im", "imiz", "in", "iniz", "la", "lar", "lara", "larda", "lardan", "lari", "larin",
    "larla", "le", "ler", "lerde", "lerden", "lere", "leri", "lerin", "lerle", "na", "nda", "ndan",
    "nde", "nden", "ne", "ni", "nin", "nu", "nun", "si", "sina", "sinda", "sindan", "sinde",
    "sinden", "sine", "sini", "sinin", "siyla", "siyle", "su", "suna", "sunda", "sundan", "sunu",
    "sunun", "suyla", "ta", "taki", "tan", "te", "teki", "ten", "tir", "tur", "u", "um", "umuz",
    "un", "unuz", "ya", "ye", "yi", "yla", "yle", "yu",
];

/// True when folded `letters` are one known Turkish suffix.
pub fn is_suffix(letters: &[u8]) -> bool {
    SUFFIXES
        .binary_search_by(|suffix| suffix.as_bytes().cmp(letters))
        .is_ok()
}

/// Verb and derivational endings, folded and sorted: not accepted after brand names,
/// but a word list of stems needs them to recognise words like `bakar` (`bak` + `ar`).
const WORD_ENDINGS: &[&str] = &[
    "acak", "ar", "ca", "ce", "di", "du", "ecek", "er", "ir", "iyor", "li", "lik", "lu", "luk",
    "ma", "mak", "me", "mek", "mis", "mus", "siz", "suz", "ti", "tu", "ur", "uyor",
];

/// Most suffixes and endings [`is_inflection_of`] peels off one word (`sahib` + `im` +
/// `den`).
const MAX_SUFFIXES: usize = 3;

/// True when `word` is a stem accepted by `is_stem` plus up to [`MAX_SUFFIXES`]
/// suffixes or word endings (`karti` = `kart` + `i`, `bakar` = `bak` + `ar`,
/// `sahibimden` = `sahib` + `im` + `den`).
pub fn is_inflection_of(word: &str, is_stem: impl Fn(&str) -> bool) -> bool {
    peel(word, &is_stem, MAX_SUFFIXES)
}

/// The longest suffix or word ending, in bytes: no split leaves a longer ending.
const MAX_ENDING: usize = 6;

/// [`SUFFIXES`] and [`WORD_ENDINGS`] as sorted [`ending_key`]s: peeling tries every
/// split of every candidate word, so it compares integers, not strings.
static ENDING_KEYS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut keys: Vec<u64> = SUFFIXES
        .iter()
        .chain(WORD_ENDINGS)
        .map(|e| ending_key(e.as_bytes()))
        .collect();
    keys.sort_unstable();
    keys
});

/// `letters` (at most [`MAX_ENDING`] bytes) packed into one integer with its length.
fn ending_key(letters: &[u8]) -> u64 {
    letters.iter().fold(0u64, |key, &b| key << 8 | u64::from(b)) << 8 | letters.len() as u64
}

fn peel(word: &str, is_stem: &impl Fn(&str) -> bool, suffixes: usize) -> bool {
    let keys = &*ENDING_KEYS;
    suffixes > 0
        && (word.len().saturating_sub(MAX_ENDING).max(1)..word.len()).any(|split| {
            word.is_char_boundary(split)
                && keys
                    .binary_search(&ending_key(&word.as_bytes()[split..]))
                    .is_ok()
                && (is_stem(&word[..split]) || peel(&word[..split], is_stem, suffixes - 1))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_list_is_sorted_and_unique() {
        assert!(SUFFIXES.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(WORD_ENDINGS.windows(2).all(|pair| pair[0] < pair[1]));
        let longest = SUFFIXES.iter().chain(WORD_ENDINGS).map(|e| e.len()).max();
        assert_eq!(longest, Some(MAX_ENDING));
    }

    #[test]
    fn recognises_suffixes_and_inflections() {
        for suffix in ["den", "ye", "nin", "e", "larin"] {
            assert!(is_suffix(suffix.as_bytes()), "{suffix}");
        }
        for other in ["", "x", "ular", "cell", "dens"] {
            assert!(!is_suffix(other.as_bytes()), "{other}");
        }
        assert!(is_inflection_of("karti", |stem| stem == "kart"));
        assert!(!is_inflection_of("karti", |stem| stem == "ka"));
        assert!(is_inflection_of("bakar", |stem| stem == "bak"));
        assert!(is_inflection_of("sahibimden", |stem| stem == "sahib"));
        assert!(is_inflection_of("sahibinde", |stem| stem == "sahib"));
        assert!(!is_inflection_of("sahibimdenxyz", |stem| stem == "sahib"));
        // At most three: `ev` + `e` four times is one too many.
        assert!(is_inflection_of("eveee", |stem| stem == "ev"));
        assert!(!is_inflection_of("eveeee", |stem| stem == "ev"));
    }
}
