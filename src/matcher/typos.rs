//! Automatic typo variants of a folded term: edit distance 1 the way people mistype on
//! US QWERTY and Turkish-Q keyboards (adjacent transposition, deletion, doubled letter,
//! keyboard-neighbour substitution and insertion).
//!
//! Precision guards live here too: no variants for terms under [`MIN_LETTERS`] letters,
//! no variant shorter than that except a four-letter deletion of a five-letter term
//! (`Getir` → `getr`), and variants that are frequent tokens (`frequent.txt`), real
//! words of a bundled list (`words.rs`: eleven languages, inflected forms included) or
//! the term with another vowel typed after it (an ending, `kingu`) are dropped.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::text::fold;

use super::{suffix, words};

/// Terms with fewer letters get no automatic typos, and no variant is shorter, except a
/// deletion from a term of exactly this many letters ([`is_frequent`] guards those).
pub const MIN_LETTERS: usize = 5;

/// Frequent tokens of the languages the streams carry that the word lists miss
/// (function words, chat spellings, abbreviations), folded, built at first use.
static FREQUENT: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("frequent.txt")
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(str::split_whitespace)
        .map(fold)
        .collect()
});

/// True when folded `token` is in the bundled list of frequent tokens: people type it
/// far more often than a slip of a brand, so it is no typo variant either.
pub fn is_frequent(token: &str) -> bool {
    FREQUENT.contains(token)
}

/// The tokens of `frequent.txt`'s Turkish section, folded: a sign that a post is
/// Turkish.
static TURKISH: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("frequent.txt")
        .lines()
        .skip_while(|line| !line.starts_with("# Turkish"))
        .skip(1)
        .take_while(|line| !line.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(fold)
        .collect()
});

/// True when post `text`, as written, reads as Turkish: it has a letter of the Turkish
/// alphabet that the other languages of the streams do not write (`ı`, `ğ`, `ş`, `İ`),
/// or at least one Turkish word and no more words of the other lists than Turkish
/// ones. A Turkish word is one of its frequent tokens (`gibi`, `için`, `tmm`), a word
/// of the Turkish lists or an inflection of one (`cevap`, `yazdim`) that no other list
/// holds as written; words of both (`program`, `kart`) count for neither, so a Polish
/// or German post with a few such words is not Turkish.
pub fn looks_turkish(text: &str) -> bool {
    let (turkish, other) = language_evidence(text);
    turkish > 0 && turkish >= other
}

/// True when post `text` reads as another language than Turkish: at least two words
/// only the other lists hold (`Familiada: co zapuszczamy`, `Thyde Monnier … ist`), and
/// more than three times as many as Turkish words (see [`looks_turkish`]): a long Polish
/// or German line may hold a word the Turkish lists explain too. A post with no
/// evidence either way (`turkcellden kart`) is not.
pub fn reads_foreign(text: &str) -> bool {
    let (turkish, other) = language_evidence(text);
    other >= 2 && other > 3 * turkish
}

/// The Turkish words of post `text` and the words only the other lists hold; a letter
/// only Turkish writes counts as any number of Turkish words.
fn language_evidence(text: &str) -> (usize, usize) {
    if text.contains(['ı', 'ğ', 'ş', 'İ', 'Ğ', 'Ş']) {
        return (usize::MAX, 0);
    }
    let (mut turkish, mut other) = (0usize, 0usize);
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| (2..=20).contains(&word.len()))
    {
        match word_evidence(word) {
            Evidence::Turkish => turkish += 1,
            Evidence::Other => other += 1,
            Evidence::Neither => {}
        }
    }
    (turkish, other)
}

/// What one word tells of its post's language ([`language_evidence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// A frequent Turkish token or a word of the Turkish lists no other list holds.
    Turkish,
    /// A word only the other lists hold.
    Other,
    /// Both, or none.
    Neither,
}

/// Distinct words whose [`Evidence`] a thread keeps; the memo is emptied when full.
const EVIDENCE_MEMO: usize = 1 << 14;

/// The [`Evidence`] of `word` as written, worked out once per thread: reading a word
/// asks every list and the suffix engine (tens of thousands of instructions), and the
/// words of a stream repeat. Bounded by [`EVIDENCE_MEMO`] words a thread (under 1 MB).
fn word_evidence(word: &str) -> Evidence {
    thread_local! {
        static MEMO: std::cell::RefCell<std::collections::HashMap<Box<str>, Evidence>> =
            Default::default();
    }
    if let Some(known) = MEMO.with_borrow(|memo| memo.get(word).copied()) {
        return known;
    }
    let folded = fold(word);
    let evidence = if words::is_listed_other(&folded) {
        if words::is_listed_turkish(&folded) {
            Evidence::Neither
        } else {
            Evidence::Other
        }
    } else if TURKISH.contains(&folded)
        || matches!(words::language_of(&folded), Some(words::Language::Turkish))
    {
        Evidence::Turkish
    } else {
        Evidence::Neither
    };
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= EVIDENCE_MEMO {
            memo.clear();
        }
        memo.insert(word.into(), evidence);
    });
    evidence
}

/// True when `word` as written is capitalised: an upper-case letter, then at least one
/// more letter, all lower case (`Telsa`, `#Gwynne`; not `TELSA`, `telsa`, `Mr.`).
pub fn is_capitalised(word: &str) -> bool {
    let word = word.strip_prefix('#').unwrap_or(word);
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase)
        && word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && chars.all(char::is_lowercase)
}

/// Whether a generated typo found at `range` of post `text` (as written) is rather
/// another name than a slip of the brand: part of a handle or chat nick or written as
/// one elsewhere in the post (`<@martii>`, `martii: …`: accounts are matched by the
/// brand's own handles), part of a longer token ([`in_longer_token`]), or a capitalised
/// word next to another capitalised word (`Telsa Gwynne`, `Francois Pinard`,
/// `#Telsa #Gwynne`): a person's or a title's name.
/// People who slip on a brand's name type it in lower case far more often than in a
/// name-like run of capitals.
pub fn reads_as_other_name(text: &str, range: std::ops::Range<usize>) -> bool {
    PostFacts::new(text).reads_as_other_name(range)
}

/// What the typo and suffix rules ask of a whole post, each worked out at most once
/// per post, so that a post with thousands of candidates (hostile or not) costs time
/// linear in its length.
#[derive(Debug)]
pub struct PostFacts<'a> {
    text: &'a str,
    turkish: Option<bool>,
    foreign: Option<bool>,
    votes: Option<words::Votes>,
    /// The handles written in the post (`@martii`), lower case.
    handles: Option<HashSet<String>>,
}

impl<'a> PostFacts<'a> {
    /// Nothing worked out yet about post `text` (as written).
    pub fn new(text: &'a str) -> PostFacts<'a> {
        PostFacts {
            text,
            turkish: None,
            foreign: None,
            votes: None,
            handles: None,
        }
    }

    /// [`looks_turkish`] of the post.
    pub fn looks_turkish(&mut self) -> bool {
        let text = self.text;
        *self.turkish.get_or_insert_with(|| looks_turkish(text))
    }

    /// [`reads_foreign`] of the post.
    pub fn reads_foreign(&mut self) -> bool {
        let text = self.text;
        *self.foreign.get_or_insert_with(|| reads_foreign(text))
    }

    /// `words::Votes::reads_as` of the post.
    pub fn reads_as(&mut self, mask: u16, word: &str) -> bool {
        let text = self.text;
        self.votes
            .get_or_insert_with(|| words::Votes::of(text))
            .reads_as(mask, word)
    }

    /// [`reads_as_other_name`] of the typo at `range` of the post.
    pub fn reads_as_other_name(&mut self, range: std::ops::Range<usize>) -> bool {
        let text = self.text;
        let typed = &text[range.clone()];
        if text[..range.start].ends_with('@') || in_longer_token(text, range.clone()) {
            return true;
        }
        // The same letters as someone's handle or chat nick in the post (`<@martii>` …
        // `martii: …`, `<skyper> hi` … `skyper :)`): a nick.
        let handles = self.handles.get_or_insert_with(|| {
            /// The name at the start of `rest`, as written.
            fn name(rest: &str) -> &str {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            }
            let handles = text
                .match_indices('@')
                .map(|(at, _)| name(&text[at + 1..]).to_lowercase());
            let nicks = text.match_indices('<').filter_map(|(at, _)| {
                let rest = text[at + 1..].trim_start_matches([' ', '@', '+']);
                let nick = name(rest);
                let after = rest[nick.len()..].trim_start_matches(['^', '`', '|']);
                after.starts_with('>').then(|| nick.to_lowercase())
            });
            handles
                .chain(nicks)
                .filter(|handle| !handle.is_empty())
                .collect()
        });
        handles.contains(&typed.to_lowercase()) || in_name_run(text, range)
    }
}

/// Whether the word at `range` of post `text` (as written) is part of a longer token: a
/// chat log's nick (`<skyper>`, `< tuka^>`), or a word joined to another by `-` or `_`
/// or marked as a nick (`#idle-opers`, `user_skyper`, `tuka^`). A slip of a brand's name
/// is typed as a word of its own.
pub fn in_longer_token(text: &str, range: std::ops::Range<usize>) -> bool {
    let before = &text[..range.start];
    let after = &text[range.end..];
    let joined_before = before
        .strip_suffix(['-', '_'])
        .is_some_and(|rest| rest.ends_with(char::is_alphanumeric));
    let joined_after = after
        .strip_prefix(['-', '_'])
        .is_some_and(|rest| rest.starts_with(char::is_alphanumeric));
    let nick_mark = after.starts_with(['^', '`', '|']);
    let opened = before.trim_end_matches([' ', '@', '+']).ends_with('<');
    let closed = after
        .trim_start_matches(['^', '`', '_', '|'])
        .starts_with('>');
    joined_before || joined_after || nick_mark || opened && closed
}

/// Whether the word at `range` of post `text` (as written) is capitalised next to
/// another capitalised word (`Telsa Gwynne`, `Thyde Monnier`, `#Telsa #Gwynne`): part
/// of a person's or a title's name.
pub fn in_name_run(text: &str, range: std::ops::Range<usize>) -> bool {
    let before = &text[..range.start];
    let typed = &text[range.clone()];
    let capitalised = is_capitalised;
    if !capitalised(typed) {
        return false;
    }
    let word_before = before
        .strip_suffix(' ')
        .and_then(|rest| rest.rsplit(' ').next());
    let word_after = text[range.end..]
        .strip_prefix(' ')
        .and_then(|rest| rest.split(' ').next())
        .map(|word| word.trim_end_matches(|c: char| !c.is_alphanumeric()));
    word_before.is_some_and(capitalised) || word_after.is_some_and(capitalised)
}

/// Whether a name glued to letters without an apostrophe is the name with a Turkish
/// suffix (`turkcellden`, `akbanktan`) and not a longer word (`martini`, `telegrama`,
/// `niveau`, `kalyoncu`): folded `word` is the name's last word and the letters after
/// it, `term_len` the name's bytes in it, `post` the post as written. The letters must
/// be a chain of nominal suffixes, with the buffer letters a vowel-final name needs
/// (`martila` is a derivation, not `martiyla`); the whole word must be no word of a
/// bundled list other than the name's own inflections; and the post must not read as
/// another language ([`reads_foreign`]: Polish `Familiada`), a one-letter suffix even
/// needs a post that reads as Turkish ([`looks_turkish`]), since other languages glue
/// their own one-letter endings to names (Polish `Microsoftu`, `Samsunga`, German
/// `Googlen`). What the brand's name is as a word asks more ([`name_takes_glued_suffix`]).
/// The matcher also refuses a glued word that [`in_name_run`] (`Thyde Monnier`).
/// An apostrophe suffix (`Martı'nın`) does not ask.
pub fn accepts_glued_suffix(word: &[u8], term_len: usize, post: &str) -> bool {
    match glued_word(word, term_len) {
        None => false,
        Some(PostTest::LooksTurkish) => looks_turkish(post),
        Some(PostTest::NotForeign) => !reads_foreign(post),
    }
}

/// What [`accepts_glued_suffix`] still asks of the post once the glued word passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostTest {
    /// A one-letter suffix: the post must look Turkish ([`looks_turkish`]).
    LooksTurkish,
    /// A longer one: the post must not read as another language ([`reads_foreign`]).
    NotForeign,
}

/// The part of [`accepts_glued_suffix`] that does not read the post: `None` when the
/// glued word is refused whatever the post, else the test the post must pass. A pure
/// function of the word and the bundled tables, so its answers can be cached.
pub fn glued_word(word: &[u8], term_len: usize) -> Option<PostTest> {
    let (term, letters) = word.split_at_checked(term_len)?;
    // Of a name of several words only the last is glued to the letters.
    let start = term
        .iter()
        .rposition(|b| b.is_ascii() && !b.is_ascii_alphanumeric())
        .map_or(0, |at| at + 1);
    let (word, term) = (&word[start..], &term[start..]);
    let (Ok(word), Ok(term)) = (std::str::from_utf8(word), std::str::from_utf8(term)) else {
        return None;
    };
    let accepted = suffix::is_suffix_after(term.as_bytes(), letters)
        && words::language_of_except(word, Some(term)).is_none();
    accepted.then_some(if letters.len() > 1 {
        PostTest::NotForeign
    } else {
        PostTest::LooksTurkish
    })
}

/// What a brand's folded term is as a name a suffix is glued to: a term of one word is
/// looked up (`words::name_word`); a term of several words (`yapi kredi`,
/// `turk hava yollari`) is a name whatever its last word is.
pub fn glued_name(term: &str) -> words::NameWord {
    if term.contains(|c: char| !c.is_alphanumeric()) {
        words::NameWord::Name
    } else {
        words::name_word(term)
    }
}

/// Whether a Turkish suffix glued to a brand's name without an apostrophe may count,
/// given what the name is as a word ([`glued_name`]), beyond [`accepts_glued_suffix`]:
/// never after a common Turkish word (`sanasi`, `fakirle`, `martidan` are the words
/// inflected as often as the brands `Sana`, `Fakir`, `Martı`: only `Fakir'le` marks the
/// brand); after a word of another language only in a post that `looks_turkish`
/// (`amazondan aldim`; `Familiada` is Polish). Topic and context words take their
/// suffixes freely: they are words by design.
pub fn name_takes_glued_suffix(
    name: words::NameWord,
    looks_turkish: impl FnOnce() -> bool,
) -> bool {
    match name {
        words::NameWord::CommonTurkish => false,
        words::NameWord::Other => looks_turkish(),
        words::NameWord::Name => true,
    }
}

/// The lines of `frequent.txt` with an accent, lower-case as written (`über`, `grátis`).
static ACCENTED: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("frequent.txt")
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(str::split_whitespace)
        .filter(|token| !token.is_ascii())
        .collect()
});

/// True when lower-case `word`, not folded, is a frequent token written with its accents
/// (`über` is, `türkcell` is not): an accent typed on an ASCII name that makes such a
/// word is that word, not the name.
pub fn is_listed_as_written(word: &str) -> bool {
    ACCENTED.contains(word)
}

/// The most variants generated for one term (real words included), in generation
/// order: transpositions, deletions and doublings, substitutions, insertions. A term
/// of up to `keywords::MAX_TERM_CHARS` (100) letters has fewer, so every term the
/// keywords accept keeps all its variants; the cap only bounds the work on input that
/// reaches the generator some other way.
pub const MAX_VARIANTS: usize = 1_500;

/// Generation also stops after this many candidates per allowed variant (refused ones
/// included): far more than a term of up to 100 letters needs.
const MAX_TRIES_PER_VARIANT: usize = 8;

/// Keyboard rows, folded (the Turkish-Q keys ğ ü ş i ö ç fold to g u s i o c).
const KEYBOARDS: &[[&str; 3]] = &[
    ["qwertyuiop", "asdfghjkl", "zxcvbnm"],
    ["qwertyuiopgu", "asdfghjklsi", "zxcvbnmoc"],
];

/// How a variant differs from its term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Two neighbouring letters swapped.
    Transposition,
    /// One letter left out.
    Deletion,
    /// One letter typed twice.
    Doubling,
    /// One letter replaced by a keyboard neighbour.
    Substitution,
    /// A keyboard neighbour of a letter typed after it.
    Insertion,
}

/// One generated variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The folded variant text.
    pub text: String,
    /// How it was made.
    pub edit: Edit,
    /// Dropped because it is a real word of English, Turkish or Azerbaijani or a
    /// frequent token (or contains one where the term had none), or the term with
    /// another vowel typed after it.
    pub real_word: bool,
    /// When it is not dropped but is a word of other lists: their languages
    /// (`words::Guard::Foreign`); the matcher refuses it in posts of those languages.
    pub foreign: u16,
}

/// Every distinct variant of folded `term`, real words included but flagged, at most
/// [`MAX_VARIANTS`]. Terms with fewer than [`MIN_LETTERS`] letters or with non-ASCII
/// letters get none; a one-word variant of [`MIN_LETTERS`] − 1 letters is only a
/// deletion.
pub fn variants(term: &str) -> Vec<Variant> {
    variants_up_to(term, MAX_VARIANTS)
}

/// [`variants`], at most `limit` of them: generation stops there, so the work is
/// linear in the term's length (`limit` candidates of its length at most).
pub fn variants_up_to(term: &str, limit: usize) -> Vec<Variant> {
    let bytes = term.as_bytes();
    let letters = bytes.iter().filter(|b| b.is_ascii_lowercase()).count();
    if letters < MIN_LETTERS || !term.is_ascii() {
        return Vec::new();
    }
    let original_words: HashSet<&str> = term.split(' ').collect();
    let mut seen = HashSet::from([term.to_string()]);
    let mut out = Vec::new();
    // Candidates refused (duplicates, empty words) count too, so a term that yields
    // few variants cannot make the generator try all of its positions.
    let mut tries = limit.saturating_mul(MAX_TRIES_PER_VARIANT);
    // Returns false once `limit` variants are out or the tries are used up.
    let mut add = |candidate: Vec<u8>, edit: Edit| {
        tries -= 1;
        let more = |out: &Vec<Variant>| out.len() < limit && tries > 0;
        let Ok(text) = String::from_utf8(candidate) else {
            return more(&out);
        };
        // Short variants collide with real words in some language far too often; a
        // letter left out of a five-letter name (`getr`) is a slip people really make,
        // kept when it is neither a listed word nor a frequent token.
        let words = text.split(' ');
        let letters = text.bytes().filter(u8::is_ascii_lowercase).count();
        let four = letters == MIN_LETTERS - 1 && edit == Edit::Deletion && !text.contains(' ');
        if (letters < MIN_LETTERS && !four)
            || words.clone().count() != original_words.len()
            || words.clone().any(str::is_empty)
            || !seen.insert(text.clone())
        {
            return more(&out);
        }
        // Another vowel added after the name reads as the name with an ending of some
        // language (`burger kingu`), not as a slip; a doubled last letter is a slip
        // (`applee`).
        let inflected = edit == Edit::Insertion
            && text.len() == bytes.len() + 1
            && text.as_bytes().starts_with(bytes)
            && text.ends_with(['a', 'e', 'i', 'o', 'u']);
        let mut real_word = inflected;
        let mut foreign = 0;
        for word in text
            .split(' ')
            .filter(|word| !original_words.contains(word))
        {
            match words::guard(word) {
                _ if is_frequent(word) => real_word = true,
                words::Guard::Word => real_word = true,
                words::Guard::Foreign(languages) => foreign |= languages,
                words::Guard::None => {}
            }
        }
        out.push(Variant {
            text,
            edit,
            real_word,
            foreign: if real_word { 0 } else { foreign },
        });
        more(&out)
    };
    let letter = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_lowercase);
    // A key of the name: a letter or a digit (`a101`, `n11`); punctuation and spaces
    // are not slipped on like letters.
    let key = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphanumeric);
    let edited = |at: usize, remove: usize, insert: &[u8]| {
        let mut candidate = Vec::with_capacity(bytes.len() + 1);
        candidate.extend_from_slice(&bytes[..at]);
        candidate.extend_from_slice(insert);
        candidate.extend_from_slice(&bytes[at + remove..]);
        candidate
    };
    if limit == 0 {
        return out;
    }
    'generate: {
        for at in 0..bytes.len() {
            if key(at)
                && key(at + 1)
                && (letter(at) || letter(at + 1))
                && bytes[at] != bytes[at + 1]
                && !add(
                    edited(at, 2, &[bytes[at + 1], bytes[at]]),
                    Edit::Transposition,
                )
            {
                break 'generate;
            }
        }
        // An apostrophe, hyphen or other mark typed a key early or late (`mcdonal'ds`,
        // `mercede-sbenz`, `bookin.gcom`), never onto the edge of the name.
        for at in 1..bytes.len().saturating_sub(2) {
            let (a, b) = (bytes[at], bytes[at + 1]);
            let moved = |p: u8, l: u8| p.is_ascii_punctuation() && l.is_ascii_alphanumeric();
            if (moved(a, b) || moved(b, a)) && !add(edited(at, 2, &[b, a]), Edit::Transposition) {
                break 'generate;
            }
        }
        // A mark typed twice (`coca--cola`, `booking..com`), never at the edge.
        for at in 1..bytes.len().saturating_sub(1) {
            if bytes[at].is_ascii_punctuation()
                && bytes[at] != bytes[at + 1]
                && !add(edited(at, 0, &[bytes[at]]), Edit::Doubling)
            {
                break 'generate;
            }
        }
        // The first letter is the one people get right: no deletion, doubling or
        // insertion before it.
        for at in (1..bytes.len()).filter(|&at| key(at)) {
            if !add(edited(at, 1, &[]), Edit::Deletion)
                || !add(edited(at, 0, &[bytes[at]]), Edit::Doubling)
            {
                break 'generate;
            }
        }
        for at in (0..bytes.len()).filter(|&at| letter(at)) {
            for neighbour in neighbours(bytes[at]) {
                if !add(edited(at, 1, &[neighbour]), Edit::Substitution) {
                    break 'generate;
                }
            }
        }
        for at in (1..=bytes.len()).filter(|&at| letter(at - 1)) {
            for neighbour in neighbours(bytes[at - 1]) {
                if !add(edited(at, 0, &[neighbour]), Edit::Insertion) {
                    break 'generate;
                }
            }
        }
    }
    out
}

/// The keyboard neighbours of ASCII letter `letter` on any supported layout.
fn neighbours(letter: u8) -> impl Iterator<Item = u8> {
    static TABLE: LazyLock<[u32; 26]> = LazyLock::new(|| {
        let mut table = [0u32; 26];
        for rows in KEYBOARDS {
            let rows: Vec<&[u8]> = rows.iter().map(|row| row.as_bytes()).collect();
            for (row, keys) in rows.iter().enumerate() {
                for (column, &key) in keys.iter().enumerate() {
                    // Rows are staggered: a key touches the keys at the same column and
                    // the one to the right above it, and the same column and the one to
                    // the left below it.
                    let mut near = vec![(row, column.wrapping_sub(1)), (row, column + 1)];
                    if row > 0 {
                        near.extend([(row - 1, column), (row - 1, column + 1)]);
                    }
                    near.extend([(row + 1, column), (row + 1, column.wrapping_sub(1))]);
                    for (r, c) in near {
                        if let Some(&other) = rows.get(r).and_then(|k| k.get(c)) {
                            table[(key - b'a') as usize] |= 1 << (other - b'a');
                        }
                    }
                }
            }
        }
        table
    });
    let mask = if letter.is_ascii_lowercase() {
        TABLE[(letter - b'a') as usize]
    } else {
        0
    };
    (b'a'..=b'z').filter(move |other| mask & 1 << (other - b'a') != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(term: &str) -> Vec<String> {
        variants(term)
            .into_iter()
            .filter(|v| !v.real_word)
            .map(|v| v.text)
            .collect()
    }

    #[test]
    fn generates_each_edit_family() {
        let generated = texts("turkcell");
        for expected in [
            "tukrcell",
            "turkcel",
            "turkcelll",
            "tyrkcell",
            "turkcvell",
            "turrkcell",
        ] {
            assert!(generated.contains(&expected.to_string()), "{expected}");
        }
        assert!(!generated.contains(&"turkcell".to_string()));
        assert!(
            !generated.contains(&"urkcell".to_string()),
            "first letter kept"
        );
    }

    #[test]
    fn short_and_non_ascii_terms_get_none() {
        assert!(variants("thy").is_empty());
        assert!(variants("akbk").is_empty());
        assert!(variants("привет").is_empty());
        assert!(!variants("akbank").is_empty());
    }

    #[test]
    fn real_words_are_flagged() {
        let marti = variants("marti");
        let karti = marti.iter().find(|v| v.text == "karti").unwrap();
        assert!(karti.real_word, "Turkish kartı = kart + ı");
        let phrase = variants("yapi kredi");
        assert!(phrase.iter().any(|v| v.text == "yali kredi" && v.real_word));
        assert!(
            phrase
                .iter()
                .any(|v| v.text == "yapi krefi" && !v.real_word)
        );
        use words::Guard;
        assert_eq!(words::guard("house"), Guard::Word);
        assert_eq!(words::guard("kitap"), Guard::Word);
        assert_eq!(words::guard("bakar"), Guard::Word, "Turkish bak + ar");
        assert!(
            matches!(words::guard("todas"), Guard::Foreign(_)),
            "Spanish only"
        );
        assert!(
            variants("kanal d")
                .iter()
                .all(|v| v.text.split(' ').count() == 2),
            "no edit removes a whole word"
        );
        assert_eq!(words::guard("turkcel"), Guard::None);
    }

    #[test]
    fn every_term_the_keywords_accept_keeps_all_its_variants() {
        // The longest accepted term, of the letters with the most keyboard neighbours.
        let term: String = "ghjkl".repeat(20);
        assert_eq!(term.len(), 100);
        let all = variants_up_to(&term, usize::MAX);
        assert!(all.len() < MAX_VARIANTS, "{} variants", all.len());
        assert_eq!(variants(&term).len(), all.len());
    }

    #[test]
    fn a_long_input_yields_at_most_the_cap_from_its_start() {
        // 3,000 letters (what a 1 MB term used to feed the generator, in miniature):
        // without the cap about 13 variants per letter, each 3,000 bytes long.
        let letters = b"qwertyuiopasdfghjklzxcvbnm";
        let term: String = (0..3_000)
            .map(|at| char::from(letters[at * 7 % letters.len()]))
            .collect();
        let generated = variants(&term);
        assert_eq!(generated.len(), MAX_VARIANTS);
        assert!(
            generated
                .iter()
                .all(|v| v.text.len().abs_diff(term.len()) <= 1)
        );
        assert!(generated.iter().all(|v| v.edit == Edit::Transposition));
        // Candidates that are all refused still end the generation.
        let spaced = "a ".repeat(1_500);
        assert!(variants_up_to(spaced.trim(), 5).len() <= 5);
        assert_eq!(variants_up_to("turkcell", 0), []);
        assert_eq!(variants_up_to("turkcell", 3).len(), 3);
    }

    #[test]
    fn a_post_reads_foreign_when_other_words_far_outnumber_turkish_ones() {
        // One word the Turkish lists explain does not make a long Polish line Turkish.
        assert!(reads_foreign(
            "dzisiaj wieczorem pytanie pierwsze, kitap, odpowiedz prosze"
        ));
        assert!(!reads_foreign("kitap okudum dzisiaj wieczorem"));
        assert!(!reads_foreign("turkcellden kart"));
    }

    #[test]
    fn a_glued_suffix_counts_only_as_a_turkish_case_ending() {
        let glued = |word: &str, term: &str, post: &str| {
            accepts_glued_suffix(fold(word).as_bytes(), term.len(), post)
        };
        // Real mentions: a case chain, the whole word no word of its own, a Turkish post.
        for (word, term, post) in [
            ("turkcellden", "turkcell", "turkcellden yine fatura geldi"),
            ("martıdan", "marti", "martıdan indim"),
            ("thyye", "thy", "thyye bilet aldım"),
            ("yapı krediden", "yapi kredi", "yapı krediden kredi çektim"),
        ] {
            assert!(glued(word, term, post), "{word}");
        }
        // A longer word of some language, in a Turkish post or not.
        for (word, term, post) in [
            ("martini", "marti", "bir martini lütfen, şimdi"),
            ("martina", "marti", "Martina ile konuştum"),
            ("martin", "marti", "Martin için geldi"),
            ("telegrama", "telegram", "mandé un telegrama"),
            ("niveau", "nivea", "das Niveau ist hoch"),
            ("tebe", "teb", "kak u tebe dela"),
            ("thyme", "thy", "thyme and rosemary"),
        ] {
            assert!(!glued(word, term, post), "{word}");
        }
        // Turkish derivations are not case endings.
        for (word, term) in [
            ("kalyoncu", "kalyon"),
            ("sözcücü", "sozcu"),
            ("hürriyetçi", "hurriyet"),
            ("pınarcı", "pinar"),
            ("pınarsı", "pinar"),
            ("martıla", "marti"),
        ] {
            assert!(!glued(word, term, "şimdi gördüm"), "{word}");
        }
        // Other languages glue their own endings: no Turkish sign, no suffix.
        for (word, term, post) in [
            ("microsoftu", "microsoft", "nie ufam Microsoftu"),
            ("samsunga", "samsung", "nie lubię Samsunga"),
        ] {
            assert!(!glued(word, term, post), "{word}");
        }
        assert!(looks_turkish("bu ne yaa") && looks_turkish("ışık"));
        assert!(!looks_turkish("what a day") && !looks_turkish("das ist über"));
    }

    #[test]
    fn names_frequent_tokens_and_endings_are_no_typos() {
        let refused = |term: &str, variant: &str| {
            variants(term)
                .iter()
                .any(|v| v.text == variant && v.real_word)
        };
        // Names no word list holds, and frequent tokens, refuse a variant of any length.
        assert!(refused("pepsi", "pessi") && refused("easyjet", "easynet"));
        // Another vowel after the name is an ending (Polish `Burger Kingu`); a doubled
        // last letter is a slip people make (`applee`).
        assert!(refused("burger king", "burger kingu"));
        assert!(texts("apple").contains(&"applee".to_string()));
        assert!(texts("cimsa").contains(&"cimsaa".to_string()));
    }

    #[test]
    fn an_apostrophe_or_hyphen_typed_early_or_late_is_a_slip() {
        assert!(texts("mcdonald's").contains(&"mcdonal'ds".to_string()));
        assert!(texts("mercedes-benz").contains(&"mercede-sbenz".to_string()));
        assert!(texts("coca-colaicecek").contains(&"cocac-olaicecek".to_string()));
        // Never onto the edge of the name.
        assert!(!texts("mcdonald's").contains(&"mcdonalds'".to_string()));
        assert!(!texts("a-ok-corp").iter().any(|t| t.starts_with('-')));
    }

    #[test]
    fn keyboard_neighbours_cover_both_layouts() {
        let of = |c: u8| neighbours(c).map(char::from).collect::<String>();
        assert_eq!(of(b'a'), "qswz");
        assert!(of(b'p').contains('g'), "Turkish-Q ğ sits right of p");
        assert!(of(b'l').contains('s'), "Turkish-Q ş sits right of l");
    }
}
