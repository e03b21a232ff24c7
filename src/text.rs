//! Text folding before matching, table-driven and Turkish-correct. A leaf: the
//! matcher, the keywords and sentiment all fold with this one table, and it imports
//! nothing from the crate.
//!
//! One pass per post, no allocation once the reusable buffers have grown:
//! - compatibility folding (fullwidth letters, ligatures, mathematical letters);
//! - case folding where İ, I, ı and i all become `i` (never leaving U+0307 behind);
//! - diacritics removed (ş→s, ğ→g, ü→u, ö→o, ç→c, â→a, ß→ss, ø→o, ł→l…);
//! - apostrophe variants (’ ‘ ʼ ´ ′ `) unified to `'`; zero-width characters,
//!   direction marks, variation selectors and soft hyphens dropped; every space
//!   becomes ` `;
//! - every other non-ASCII character that is not a letter or digit (punctuation such
//!   as « » “ ” —, symbols, emoji) becomes ` `: it separates words, and the folded
//!   text then holds no non-ASCII byte outside a word.
//!
//! Patterns are folded with the same table, so a folded pattern found in a folded
//! post is a candidate match. The map from folded bytes back to original offsets is
//! recorded in the same pass ([`Folded::fold_into`]): it notes only the characters
//! that do not fold into one character of their own length (none in ASCII text).

use std::ops::Range;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Code points below this bound are folded through the table; above it (rare
/// scripts, private use) they are copied unchanged.
const TABLE_END: usize = 0x2_0000;
/// Entry flag: copy the original character unchanged.
const IDENTITY: u32 = 1 << 31;
/// Entry flag: the character carries a diacritic that folding removed.
const ACCENTED: u32 = 1 << 30;
/// Entry bits holding the folded length in bytes (0 = dropped).
const LEN_MASK: u32 = 0xff;

/// Folded text of one post plus the map back to the original.
#[derive(Debug, Default, Clone)]
pub struct Folded {
    bytes: Vec<u8>,
    /// In text order, each character that does not fold into one character of its own
    /// length; between two of them (and before the first, after the last) folded and
    /// original bytes correspond one to one.
    shifts: Vec<Shift>,
}

/// A character whose fold is not one character of its length (`ş` → `s`, `ß` → `ss`,
/// a zero-width space → nothing), at byte `folded` of the folded text and `original`
/// of the original.
#[derive(Debug, Clone, Copy)]
struct Shift {
    folded: u32,
    original: u32,
    folded_len: u32,
    original_len: u32,
}

/// Where a fold notes its [`Shift`]s: a [`Folded`]'s map, or nowhere ([`fold`]).
trait ShiftLog {
    /// Whether shifts are noted at all (false: the check compiles away).
    const RECORDS: bool;
    fn note(&mut self, shift: Shift);
}

impl ShiftLog for Vec<Shift> {
    const RECORDS: bool = true;
    fn note(&mut self, shift: Shift) {
        self.push(shift);
    }
}

/// No offset map: folding patterns and words.
struct NoMap;

impl ShiftLog for NoMap {
    const RECORDS: bool = false;
    fn note(&mut self, _: Shift) {}
}

impl Folded {
    /// Folds `original` into `self`, reusing its buffers, and records the map back to
    /// its offsets in the same pass.
    pub fn fold_into(&mut self, original: &str) {
        self.bytes.clear();
        self.shifts.clear();
        fold_bytes(original, &mut self.bytes, &mut self.shifts);
    }

    /// The folded text as UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The original byte range of a folded range whose ends fall on folded character
    /// boundaries, in the text last folded.
    pub fn original_range(&self, folded: Range<usize>) -> Range<usize> {
        if self.shifts.is_empty() {
            return folded;
        }
        // One search for the start; the shifts up to the end are few (a term's own
        // letters), so they are walked.
        let mut before = self
            .shifts
            .partition_point(|shift| shift.folded as usize <= folded.start);
        let start = self.original_offset(before, folded.start);
        while self
            .shifts
            .get(before)
            .is_some_and(|shift| shift.folded as usize <= folded.end)
        {
            before += 1;
        }
        start..self.original_offset(before, folded.end)
    }

    /// The original offset of the character that produced folded byte `at` (the
    /// original length for the folded length), given the number of shifts at or
    /// before `at`.
    fn original_offset(&self, before: usize, at: usize) -> usize {
        let Some(shift) = before.checked_sub(1).map(|last| self.shifts[last]) else {
            return at;
        };
        let (folded, original) = (shift.folded as usize, shift.original as usize);
        let folded_end = folded + shift.folded_len as usize;
        if at < folded_end {
            original
        } else {
            original + shift.original_len as usize + (at - folded_end)
        }
    }
}

/// Folds a whole string (patterns are folded with the same table as posts).
pub fn fold(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    fold_bytes(text, &mut bytes, &mut NoMap);
    String::from_utf8(bytes).expect("the fold table emits only whole UTF-8 sequences")
}

/// True when folding `c` removed a diacritic or rewrote a special letter (ü, ş, ø, ß),
/// not counting the Turkish dotted and dotless i.
pub fn is_accented(c: char) -> bool {
    TABLE
        .entries
        .get(c as usize)
        .is_some_and(|entry| entry & ACCENTED != 0)
}

/// True for characters that make up words: letters, digits and `_`.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The character that starts at byte `at` of valid UTF-8 `text`.
pub fn char_at(text: &[u8], at: usize) -> Option<char> {
    let first = *text.get(at)?;
    let (len, bits) = match first {
        0x00..=0x7f => return Some(first as char),
        0xc0..=0xdf => (2, u32::from(first & 0x1f)),
        0xe0..=0xef => (3, u32::from(first & 0x0f)),
        _ => (4, u32::from(first & 0x07)),
    };
    let rest = text.get(at + 1..at + len)?;
    let code = rest
        .iter()
        .fold(bits, |code, &b| code << 6 | u32::from(b & 0x3f));
    char::from_u32(code)
}

static TABLE: LazyLock<FoldTable> = LazyLock::new(FoldTable::build);

/// Bytes tested per step when looking for the end of an ASCII run.
const WORD: usize = size_of::<u64>();

/// The top bit of each byte of a `u64`: set only in non-ASCII bytes.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Each byte of a `u64`.
const fn each_byte(byte: u8) -> u64 {
    u64::from_le_bytes([byte; WORD])
}

/// [`ascii_fold`] of eight ASCII bytes at once (none has its top bit set): carries
/// cannot cross bytes, since every byte plus 0x3f stays below 0x100.
fn ascii_fold_word(word: u64) -> u64 {
    // The top bit of each byte that is `A` or above, and of each above `Z`.
    let from_a = word + each_byte(0x80 - b'A');
    let past_z = word + each_byte(0x80 - b'Z' - 1);
    let upper = from_a & !past_z & HIGH_BITS;
    let lower = word | (upper >> 2);
    // The top bit of each byte equal to the backtick (zero after the xor).
    let other = lower ^ each_byte(b'`');
    let backtick = !(((other & !HIGH_BITS) + !HIGH_BITS) | other) & HIGH_BITS;
    lower ^ ((backtick >> 7) * u64::from(b'`' ^ b'\''))
}

/// Lower-case ASCII, with the backtick read as an apostrophe.
fn ascii_fold(byte: u8) -> u8 {
    let lower = byte | (u8::from(byte.wrapping_sub(b'A') < 26) << 5);
    if lower == b'`' { b'\'' } else { lower }
}

/// For each code point below [`TABLE_END`]: flags, and where its folded bytes sit in
/// `bytes` (`offset << 8 | len`).
struct FoldTable {
    entries: Vec<u32>,
    bytes: Vec<u8>,
    /// Two-byte characters (U+0080..U+07FF: Latin, Turkish, Greek, Cyrillic…), the
    /// bulk of non-ASCII text, in a cache-friendly copy: up to four folded bytes
    /// inline, or [`LONG`] to use `entries`.
    two_byte: Vec<([u8; 4], u8)>,
}

/// `two_byte` length marking a character whose fold is longer than four bytes.
const LONG: u8 = u8::MAX;

impl FoldTable {
    fn build() -> FoldTable {
        let mut entries = vec![IDENTITY; TABLE_END];
        let mut bytes = Vec::new();
        let mut folded = String::new();
        for code in 0x80..TABLE_END as u32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            folded.clear();
            let accented = fold_char_slowly(c, &mut folded);
            let mut utf8 = [0u8; 4];
            if folded.as_str() == &*c.encode_utf8(&mut utf8) {
                continue;
            }
            let offset = bytes.len() as u32;
            bytes.extend_from_slice(folded.as_bytes());
            let flag = if accented { ACCENTED } else { 0 };
            entries[code as usize] = flag | offset << 8 | folded.len() as u32;
        }
        let two_byte = (0..0x800u32)
            .map(|code| {
                let mut inline = [0u8; 4];
                let folded: &[u8] = match entries[code as usize] {
                    entry if entry & IDENTITY != 0 => char::from_u32(code)
                        .map_or(&[][..], |c| c.encode_utf8(&mut inline).as_bytes()),
                    entry => {
                        let start = (entry & !(IDENTITY | ACCENTED)) as usize >> 8;
                        &bytes[start..start + (entry & LEN_MASK) as usize]
                    }
                };
                if folded.len() > 4 {
                    return ([0; 4], LONG);
                }
                let len = folded.len() as u8;
                let mut copy = [0u8; 4];
                copy[..folded.len()].copy_from_slice(folded);
                (copy, len)
            })
            .collect();
        FoldTable {
            entries,
            bytes,
            two_byte,
        }
    }
}

/// Folds one character from first principles (used to build the table); returns
/// whether a diacritic or special letter was folded away.
fn fold_char_slowly(c: char, out: &mut String) -> bool {
    if fold_directly(c, out) {
        return false;
    }
    let mut accented = false;
    for decomposed in std::iter::once(c).nfkd() {
        if is_combining_mark(decomposed) {
            accented = true;
            continue;
        }
        for lower in decomposed.to_lowercase() {
            if is_combining_mark(lower) {
                accented = true;
                continue;
            }
            // A compatibility decomposition can yield characters with rules of their
            // own (″ becomes two ′, each an apostrophe), so folding stays idempotent.
            if fold_directly(lower, out) {
                continue;
            }
            let special = match lower {
                // Symbols, punctuation and emoji separate words like a space does, and
                // leave only letters and digits outside ASCII (the scanner relies on it).
                c if !c.is_ascii() && !is_word_char(c) => {
                    out.push(' ');
                    continue;
                }
                'ß' => "ss",
                'æ' => "ae",
                'œ' => "oe",
                'ø' => "o",
                'ł' => "l",
                'đ' | 'ð' => "d",
                'þ' => "th",
                'ħ' => "h",
                'ı' => "i",
                // ASCII out of a decomposition (fullwidth ｀) follows the ASCII rules.
                c if c.is_ascii() => {
                    out.push(char::from(ascii_fold(c as u8)));
                    continue;
                }
                _ => {
                    out.push(lower);
                    continue;
                }
            };
            accented = true;
            out.push_str(special);
        }
    }
    accented
}

/// The characters with a fixed replacement, before and after decomposition: Turkish
/// dotted and dotless i, apostrophe variants, invisible characters, white space.
/// Returns whether `c` was one of them.
fn fold_directly(c: char, out: &mut String) -> bool {
    match c {
        'İ' | 'ı' => out.push('i'),
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{00B4}' | '\u{2032}' | '\u{FF07}' => {
            out.push('\'')
        }
        // Zero-width space/non-joiner/joiner, word joiner, BOM, soft hyphen and
        // variation selectors are invisible: people and bots use them to dodge filters.
        '\u{200B}'
        | '\u{200C}'
        | '\u{200D}'
        | '\u{2060}'
        | '\u{FEFF}'
        | '\u{00AD}'
        | '\u{FE00}'..='\u{FE0F}'
        // Direction marks and other invisible format characters.
        | '\u{061C}'
        | '\u{180E}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2061}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' => {}
        c if c.is_whitespace() => out.push(' '),
        _ => return false,
    }
    true
}

/// Folds `text` onto `out`, noting in `shifts` each character that does not fold into
/// one character of its own length.
fn fold_bytes<S: ShiftLog>(text: &str, out: &mut Vec<u8>, shifts: &mut S) {
    let table = &*TABLE;
    let bytes = text.as_bytes();
    out.reserve(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        // An ASCII run: eight bytes at a time while they are all ASCII, lowered in one
        // `u64` without a branch per byte, then byte by byte up to the next non-ASCII
        // character.
        while let Some(chunk) = bytes.get(at..at + WORD) {
            let mut word = [0u8; WORD];
            word.copy_from_slice(chunk);
            let word = u64::from_le_bytes(word);
            if word & HIGH_BITS != 0 {
                break;
            }
            out.extend_from_slice(&ascii_fold_word(word).to_le_bytes());
            at += WORD;
        }
        while let Some(&byte) = bytes.get(at).filter(|&&b| b < 0x80) {
            out.push(ascii_fold(byte));
            at += 1;
        }
        if at == bytes.len() {
            break;
        }
        let folded = out.len();
        let len = fold_char(table, text, at, out);
        if S::RECORDS {
            // A fold into one character as long as the original maps byte for byte; any
            // other (`ş` → `s`, `ß` → `ss`, an invisible character → nothing) is noted.
            let folded_len = out.len() - folded;
            let lead = out.get(folded).map_or(0, |&b| match b {
                0x00..0x80 => 1,
                0xf0.. => 4,
                0xe0.. => 3,
                _ => 2,
            });
            if folded_len != len || lead != len {
                shifts.note(Shift {
                    folded: folded as u32,
                    original: at as u32,
                    folded_len: folded_len as u32,
                    original_len: len as u32,
                });
            }
        }
        at += len;
    }
}

/// Folds the non-ASCII character at byte `at` of `text` onto `out`; returns its length
/// in `text`.
#[inline(always)]
fn fold_char(table: &FoldTable, text: &str, at: usize, out: &mut Vec<u8>) -> usize {
    let bytes = text.as_bytes();
    let byte = bytes[at];
    if byte & 0xe0 == 0xc0 {
        let code = usize::from(byte & 0x1f) << 6 | usize::from(bytes[at + 1] & 0x3f);
        let (folded, len) = table.two_byte[code];
        if len != LONG {
            // A fixed four-byte copy then a truncate beats a variable-length copy.
            out.extend_from_slice(&folded);
            out.truncate(out.len() - 4 + usize::from(len));
            return 2;
        }
    }
    if (0xe5..=0xe9).contains(&byte) {
        // U+5000..U+9FFF (CJK ideographs) fold to themselves: copy without touching
        // the large table.
        out.extend_from_slice(&bytes[at..at + 3]);
        return 3;
    }
    let c = text[at..].chars().next().unwrap_or_default();
    let len = c.len_utf8();
    match table.entries.get(c as usize) {
        Some(&entry) if entry & IDENTITY == 0 => {
            let start = (entry & !(IDENTITY | ACCENTED)) as usize >> 8;
            let folded_len = (entry & LEN_MASK) as usize;
            out.extend_from_slice(&table.bytes[start..start + folded_len]);
        }
        Some(_) => out.extend_from_slice(&bytes[at..at + len]),
        // Beyond the table: CJK extensions are letters; tags and variation
        // selectors are invisible; private-use characters are symbols.
        None if is_combining_mark(c) || ('\u{E0000}'..='\u{E007F}').contains(&c) => {}
        None if is_word_char(c) => out.extend_from_slice(&bytes[at..at + len]),
        None => out.push(b' '),
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fuzzed_text_folds_as_whole_strings_do_and_maps_back_onto_character_boundaries() {
        let seeds: [&[u8]; 3] = [
            "Türk Hava Yolları'na İSTANBUL ıŞık Ｔｕｒｋｃｅｌｌ ﬁnans Straße".as_bytes(),
            "Turk\u{200B}cell’e i\u{0307}stanbul Hâlâ kâr 🚀 ÇAĞRI".as_bytes(),
            "@TurkcellHizmet #thy https://www.thy.com/tr?x=1 Ørsted Łódź".as_bytes(),
        ];
        crate::fuzz::run("normaliser", &seeds, |input| {
            let text = String::from_utf8_lossy(input);
            let mut folded = Folded::default();
            folded.fold_into(&text);
            let bytes = folded.as_bytes();
            let whole = std::str::from_utf8(bytes).expect("folded text is UTF-8");
            assert_eq!(whole, fold(&text), "one fold for posts and patterns");
            let starts: Vec<usize> = whole
                .char_indices()
                .map(|(at, _)| at)
                .chain([whole.len()])
                .collect();
            let mut last_start = 0;
            for pair in starts.windows(2) {
                let range = folded.original_range(pair[0]..pair[1]);
                assert!(
                    range.start <= range.end && range.end <= text.len(),
                    "{range:?}"
                );
                assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
                assert!(
                    range.start >= last_start,
                    "ranges follow the text: {range:?}"
                );
                last_start = range.start;
            }
        });
    }

    #[test]
    fn folds_turkish_case_diacritics_and_compatibility_forms() {
        let cases = [
            ("TÜRK TELEKOM", "turk telekom"),
            ("Türk Hava Yolları", "turk hava yollari"),
            ("İSTANBUL ıŞık", "istanbul isik"),
            ("YAPI KREDİ", "yapi kredi"),
            ("i\u{0307}stanbul", "istanbul"),
            ("I\u{0307}", "i"),
            ("ÇAĞRI ŞÜKRÜ ÖĞÜT", "cagri sukru ogut"),
            ("Hâlâ kâr", "hala kar"),
            ("Ｔｕｒｋｃｅｌｌ", "turkcell"),
            ("ﬁnans ﬂy", "finans fly"),
            ("Straße Ørsted Łódź", "strasse orsted lodz"),
            (
                "Turkcell’e Turkcell‘e Turkcell`e Turkcell´e",
                "turkcell'e turkcell'e turkcell'e turkcell'e",
            ),
            (
                "Turk\u{200B}cell Turk\u{00AD}cell Turk\u{200D}cell",
                "turkcell turkcell turkcell",
            ),
            ("a\u{00A0}b", "a b"),
            // Compatibility forms that decompose into characters with rules of their own.
            ("6\u{2033} x\u{2034}", "6'' x'''"),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{ abcdefghijklmnopqrstuvwxyz",
                "abcdefghijklmnopqrstuvwxyz@['{ abcdefghijklmnopqrstuvwxyz",
            ),
            // Symbols, punctuation and emoji become spaces; letters of every script stay.
            ("❤\u{FE0F} 😡", "   "),
            ("«Turkcell» “THY”—iyi", " turkcell   thy  iyi"),
            ("ПРИВЕТ Ёлка", "привет елка"),
            ("中文 測試 ䷀", "中文 測試  "),
            ("\u{20000}\u{E0067}\u{E0100}\u{F0000}", "\u{20000} "),
            ("Turk\u{200E}cell\u{202B}", "turkcell"),
            ("𝐓𝐮𝐫𝐤𝐜𝐞𝐥𝐥", "turkcell"),
        ];
        for (input, expected) in cases {
            assert_eq!(fold(input), expected, "{input}");
        }
    }

    /// The scanner reads every byte >= 0x80 as part of a word; this holds folding to
    /// that, for every code point.
    #[test]
    fn only_letters_and_digits_stay_outside_ascii() {
        let mut buffer = String::new();
        for c in (0x80..=0x10_FFFF).filter_map(char::from_u32) {
            buffer.clear();
            buffer.push(c);
            for kept in fold(&buffer).chars().filter(|c| !c.is_ascii()) {
                assert!(
                    is_word_char(kept),
                    "U+{:04X} leaves U+{:04X}",
                    c as u32,
                    kept as u32
                );
            }
        }
    }

    #[test]
    fn fast_paths_agree_with_the_slow_fold() {
        for code in (0x80..0x800).chain(0x4000..0xa000) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let mut slow = String::new();
            fold_char_slowly(c, &mut slow);
            assert_eq!(fold(&c.to_string()), slow, "U+{code:04X}");
        }
    }

    #[test]
    fn accents_are_flagged_but_turkish_i_is_not() {
        for c in ['ü', 'Ü', 'ş', 'ç', 'ğ', 'ö', 'é', 'ß', 'ø'] {
            assert!(is_accented(c), "{c}");
        }
        for c in ['İ', 'ı', 'i', 'I', 'Ｕ', 'a', '’', '😡'] {
            assert!(!is_accented(c), "{c}");
        }
    }

    #[test]
    fn offsets_point_into_the_original() {
        let original = "Ah ＹＡＰＩ KREDİ’ye ﬁ";
        let mut folded = Folded::default();
        folded.fold_into(original);
        let text = std::str::from_utf8(folded.as_bytes()).unwrap();
        let start = text.find("yapi kredi").unwrap();
        let range = folded.original_range(start..start + "yapi kredi".len());
        assert_eq!(&original[range], "ＹＡＰＩ KREDİ");
        assert_eq!(&original[folded.original_range(0..text.len())], original);
    }

    #[test]
    fn chars_are_decoded_at_byte_offsets() {
        let text = "aş€😡b".as_bytes();
        assert_eq!(char_at(text, 1), Some('ş'));
        assert_eq!(char_at(text, 3), Some('€'));
        assert_eq!(char_at(text, 6), Some('😡'));
        assert_eq!(char_at(text, text.len()), None);
    }

    #[test]
    fn eight_ascii_bytes_fold_as_each_byte_does() {
        for byte in 0..0x80u8 {
            for at in 0..WORD {
                let mut word = *b"aZ`@[{ 7";
                word[at] = byte;
                let expected = word.map(ascii_fold);
                let folded = ascii_fold_word(u64::from_le_bytes(word)).to_le_bytes();
                assert_eq!(folded, expected, "byte {byte:#x} at {at}");
            }
        }
    }

    proptest! {
        #[test]
        fn ascii_words_fold_as_their_bytes(word in proptest::array::uniform8(0..0x80u8)) {
            let folded = ascii_fold_word(u64::from_le_bytes(word)).to_le_bytes();
            prop_assert_eq!(folded, word.map(ascii_fold));
        }

        #[test]
        fn folding_is_idempotent(text in "\\PC{0,40}") {
            let once = fold(&text);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn mapped_offsets_equal_a_map_of_every_folded_byte(
            text in "([a-zA-Z '’]|[şŞıİğĞüÜöÖçÇâ]|ß|ﬁ|Ｔ|\u{200B}|\u{00AD}|😡|П|中|\u{E0067}|\u{F0000}){0,30}"
        ) {
            // Every folded byte mapped to the character that produced it, one extra
            // entry for the end: folding is character by character.
            let mut reference = Vec::new();
            for (at, c) in text.char_indices() {
                reference.extend(std::iter::repeat_n(at, fold(c.encode_utf8(&mut [0; 4])).len()));
            }
            reference.push(text.len());
            let mut folded = Folded::default();
            folded.fold_into(&text);
            let bytes = folded.as_bytes();
            prop_assert_eq!(bytes.len() + 1, reference.len());
            // Spans of folded text start and end on its character boundaries.
            let boundaries: Vec<usize> = (0..=bytes.len())
                .filter(|&at| at == bytes.len() || bytes[at] & 0xc0 != 0x80)
                .collect();
            for (i, &start) in boundaries.iter().enumerate() {
                for &end in &boundaries[i..] {
                    prop_assert_eq!(
                        folded.original_range(start..end),
                        reference[start]..reference[end]
                    );
                }
            }
        }

        #[test]
        fn mapped_offsets_fall_on_char_boundaries(text in "\\PC{0,40}") {
            let mut folded = Folded::default();
            folded.fold_into(&text);
            let whole = fold(&text);
            prop_assert_eq!(folded.as_bytes(), whole.as_bytes());
            let len = folded.as_bytes().len();
            for at in 0..=len {
                if at == len || folded.as_bytes()[at] & 0xc0 != 0x80 {
                    let range = folded.original_range(at..len);
                    prop_assert!(text.is_char_boundary(range.start));
                }
            }
        }
    }
}
