//! The bundled word lists (sources and licences in `words/README.md`) and the question
//! the typo guard asks of them: is a folded word a real word of some language, as
//! listed or inflected?
//!
//! Each list is an `fst` set written by `tools/build_word_lists.py`, embedded in the
//! binary and searched where it lies: nothing is parsed or copied at start-up and no
//! word is held on the heap, so a list costs resident memory only for the pages a
//! keyword compile reads, which the kernel may drop again.

use std::cell::Cell;
use std::sync::LazyLock;

use fst::Set;

use super::suffix;

/// A language with a bundled word list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// SCOWL's American English, with proper names.
    English,
    /// Turkish nominal stems (nouns, adjectives, adverbs, pronouns), inflected by the
    /// suffix engine; a root that is only a verb is only in [`Language::TurkishVerbs`].
    Turkish,
    /// Turkish verb stems, a list apart: only they take verb suffixes (`bakar`).
    TurkishVerbs,
    /// Turkish proper names (places, people, companies: `akbank`, `galatasaray`),
    /// inflected like the stems; a list apart from the common words (see [`name_word`]).
    TurkishNames,
    /// Common Azerbaijani words, inflected by the same suffix engine.
    Azerbaijani,
    /// The most frequent Spanish words.
    Spanish,
    /// The most frequent Portuguese words.
    Portuguese,
    /// The most frequent French words.
    French,
    /// The most frequent Italian words.
    Italian,
    /// The most frequent German words.
    German,
    /// The most frequent Dutch words.
    Dutch,
    /// The most frequent Polish words.
    Polish,
    /// Russian dictionary forms in two Latin transliterations.
    Russian,
    /// Inflected Turkish forms that occur in a large corpus, beyond what the suffix
    /// engine reads from the stems (`sanatcilarimiz`, `yogaya`).
    /// Searched last: the list also quotes foreign words, which the other lists claim.
    TurkishForms,
}

impl Language {
    /// Every list, in the order they are searched.
    pub const ALL: [Language; 14] = [
        Language::English,
        Language::Turkish,
        Language::TurkishVerbs,
        Language::TurkishNames,
        Language::Azerbaijani,
        Language::Spanish,
        Language::Portuguese,
        Language::French,
        Language::Italian,
        Language::German,
        Language::Dutch,
        Language::Polish,
        Language::Russian,
        Language::TurkishForms,
    ];

    /// The list's file in `src/matcher/words/`.
    #[cfg(test)]
    fn file(self) -> &'static str {
        match self {
            Language::English => "english.fst",
            Language::Turkish => "turkish.fst",
            Language::TurkishVerbs => "turkish_verbs.fst",
            Language::TurkishNames => "turkish_names.fst",
            Language::TurkishForms => "turkish_forms.fst",
            Language::Azerbaijani => "azerbaijani.fst",
            Language::Spanish => "spanish.fst",
            Language::Portuguese => "portuguese.fst",
            Language::French => "french.fst",
            Language::Italian => "italian.fst",
            Language::German => "german.fst",
            Language::Dutch => "dutch.fst",
            Language::Polish => "polish.fst",
            Language::Russian => "russian.fst",
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Language::English => include_bytes!("words/english.fst"),
            Language::Turkish => include_bytes!("words/turkish.fst"),
            Language::TurkishVerbs => include_bytes!("words/turkish_verbs.fst"),
            Language::TurkishNames => include_bytes!("words/turkish_names.fst"),
            Language::TurkishForms => include_bytes!("words/turkish_forms.fst"),
            Language::Azerbaijani => include_bytes!("words/azerbaijani.fst"),
            Language::Spanish => include_bytes!("words/spanish.fst"),
            Language::Portuguese => include_bytes!("words/portuguese.fst"),
            Language::French => include_bytes!("words/french.fst"),
            Language::Italian => include_bytes!("words/italian.fst"),
            Language::German => include_bytes!("words/german.fst"),
            Language::Dutch => include_bytes!("words/dutch.fst"),
            Language::Polish => include_bytes!("words/polish.fst"),
            Language::Russian => include_bytes!("words/russian.fst"),
        }
    }

    /// Whether Turkish noun suffixes make inflected words of this list's words:
    /// Turkish's (names included) and Azerbaijani's own. Not English ones: short English
    /// stems plus a suffix read most slips of a brand as words (`get` + `i`, `vest` +
    /// `le`, `race` + `lik`), and an English word inflected in a Turkish post is rarely
    /// one slip from a brand.
    fn takes_turkish_suffixes(self) -> bool {
        matches!(
            self,
            Language::Turkish | Language::TurkishNames | Language::Azerbaijani
        )
    }

    /// Whether `word` may be this list's `stem` inflected: a list that
    /// [takes Turkish suffixes](Self::takes_turkish_suffixes), and for names only as
    /// written (`erdemir` + `i`), never with a stem change read into them (`erdemri` is
    /// no `erdemir` that dropped its vowel: names do not, and the reading refused real
    /// slips of `Erdemir`). The common words' changed stems are listed from their
    /// dictionary tags.
    fn inflects(self, word: &str, stem: &str) -> bool {
        self.takes_turkish_suffixes() && (self != Language::TurkishNames || word.starts_with(stem))
    }

    /// Inflections a list leaves out, as (ending of the word, ending of the listed
    /// form): Spanish and Portuguese plurals and feminines (`armas`, `todas`), Italian
    /// number and gender (`belli`, `belle` of `bello`; the list holds frequent forms
    /// only), French plurals.
    fn endings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Language::Spanish | Language::Portuguese => {
                &[("s", ""), ("es", ""), ("a", "o"), ("as", "o")]
            }
            Language::Italian => &[("i", "o"), ("i", "e"), ("e", "a"), ("a", "o"), ("e", "o")],
            Language::French => &[("s", ""), ("x", "")],
            _ => &[],
        }
    }
}

/// A list opened in place over the binary's bytes.
type WordSet = Set<&'static [u8]>;

/// The lists, opened in place at first use (opening reads only their headers).
static SETS: LazyLock<Vec<(Language, WordSet)>> = LazyLock::new(|| {
    Language::ALL
        .into_iter()
        .filter_map(|language| Some((language, Set::new(language.bytes()).ok()?)))
        .collect()
});

/// Shortest stem an ending is taken from.
const MIN_STEM: usize = 4;

/// Shortest word the lists answer for as it stands. The two-letter Turkish roots (`ol`,
/// `uç`, `es`) are stems only: as words they are a Spanish `es` or a French `de` as
/// often as anything.
const MIN_WORD: usize = 3;

/// The language of the first list that holds folded `word`: as listed, with an ending
/// of that language, or (Turkish and Azerbaijani stems) as a stem plus a
/// chain of Turkish suffixes (`arkadaslarimizdan`, `kitabi`, `burnu`).
pub fn language_of(word: &str) -> Option<Language> {
    language_of_except(word, None)
}

/// [`language_of`], not counting a reading of `word` as `stem` (or as a two-letter
/// root) plus Turkish suffixes: whether a name with letters glued to it (`martidan`,
/// `martini`) is a word of its own, the name's own inflections aside.
pub fn language_of_except(word: &str, stem: Option<&str>) -> Option<Language> {
    if word.len() < MIN_WORD {
        return None;
    }
    let sets = &*SETS;
    let turkish = turkish_slot;
    // A name with letters glued to it that form a frequent Turkish word is that name
    // inflected as often as anything else (the corpus of `TurkishForms` holds
    // `twitterdan`): the corpus cannot tell the two apart, the stems can.
    let searched = |language: Language| stem.is_none() || language != Language::TurkishForms;
    let as_listed = sets
        .iter()
        .find(|(language, set)| searched(*language) && set.contains(word));
    if let Some((language, _)) = as_listed {
        return Some(turkish(*language));
    }
    let mut form = String::with_capacity(word.len() + 2);
    let by_ending = sets
        .iter()
        .find(|(language, set)| with_ending(*language, set, word, &mut form));
    if let Some((language, _)) = by_ending {
        return Some(*language);
    }
    let found = Cell::new(None);
    let except = stem;
    let stem_of = |wanted: &dyn Fn(Language) -> bool, stem: &str| {
        // Beside a name, a two-letter root reads the name's own family more often than a
        // word of its own (`ucusu` is `uc` + `us` + `u`: the topic `uçuş` inflected).
        let own = except.is_some_and(|name| name == stem || stem.len() < MIN_WORD);
        let holder = sets
            .iter()
            .find(|(language, set)| !own && wanted(*language) && set.contains(stem));
        found.set(holder.map(|(language, _)| turkish(*language)));
        holder.is_some()
    };
    let is_noun = |stem: &str| stem_of(&|language| language.inflects(word, stem), stem);
    let is_verb = |stem: &str| stem_of(&|language| language == Language::TurkishVerbs, stem);
    if suffix::is_inflection_of(word, is_noun, is_verb) {
        return found.get();
    }
    None
}

/// How the typo guard treats a variant that is a word ([`guard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// No word of any list: a typo.
    None,
    /// A word of English, Turkish or Azerbaijani (listed, or a Turkish inflection): the
    /// languages of a Turkish brand's audience, refused everywhere.
    Word,
    /// A word only of the other lists (bit `1 << index` in [`Language::ALL`] for each):
    /// refused in posts that read as one of them ([`Votes::reads_as`]), a typo elsewhere
    /// (`casi` is Spanish for *almost*, and one slip from Casio in a Turkish post).
    Foreign(u16),
}

impl Language {
    /// This language's bit in a [`Guard::Foreign`] mask.
    fn bit(self) -> u16 {
        // The variants are declared in the order of `ALL` (a test holds it).
        1 << self as u16
    }

    /// The languages whose words are refused everywhere.
    fn everywhere(self) -> bool {
        self == Language::English
            || self == Language::Azerbaijani
            || turkish_slot(self) == Language::Turkish
    }
}

/// The typo guard's verdict on folded `word`: [`Guard::Word`] when [`language_of`] finds
/// it in English, Turkish or Azerbaijani, or reads a Turkish inflection; else
/// [`Guard::Foreign`] with every other list that holds it, as listed or with an ending
/// of its language; else [`Guard::None`].
pub fn guard(word: &str) -> Guard {
    if word.len() < MIN_WORD {
        return Guard::None;
    }
    let mut foreign = 0u16;
    let mut form = String::with_capacity(word.len() + 2);
    // The corpus forms speak only where no other list claims the word (`is_turkish_form`).
    for (language, set) in SETS.iter().filter(|(l, _)| *l != Language::TurkishForms) {
        let listed = set.contains(word) || with_ending(*language, set, word, &mut form);
        if listed && language.everywhere() {
            return Guard::Word;
        }
        if listed {
            foreign |= language.bit();
        }
    }
    match language_of(word) {
        _ if foreign == 0 && is_turkish_form(word) => Guard::Word,
        Some(language) if language.everywhere() => Guard::Word,
        // A word listed elsewhere may still be a Turkish inflection (`nesle`, `tadi`).
        _ if foreign != 0 && turkish_inflection(word) => Guard::Word,
        _ if foreign != 0 => Guard::Foreign(foreign),
        _ => Guard::None,
    }
}

/// Whether folded `word` reads as a Turkish or Azerbaijani stem plus suffixes.
fn turkish_inflection(word: &str) -> bool {
    suffix::is_inflection_of(
        word,
        |stem| listed(stem, |language| language.inflects(word, stem)),
        |stem| listed(stem, |language| language == Language::TurkishVerbs),
    )
}

/// Whether folded `word`, as it stands, is a word of a list of a language `wanted`
/// accepts (not a two-letter stem, [`MIN_WORD`]).
fn listed_word(word: &str, wanted: impl Fn(Language) -> bool) -> bool {
    word.len() >= MIN_WORD && listed(word, wanted)
}

/// Whether folded `word`, as it stands, is in a list of a language `wanted` accepts
/// (also as a stem).
fn listed(word: &str, wanted: impl Fn(Language) -> bool) -> bool {
    SETS.iter()
        .any(|(language, set)| wanted(*language) && set.contains(word))
}

/// A whole vote, divisible by any number of languages that can share it (1 to 11).
const WHOLE_VOTE: u32 = 27_720;

/// The language votes of one post ([`Votes::reads_as`]), counted once so that every typo
/// found in it asks in constant time (a post may hold thousands).
#[derive(Debug, Default)]
pub struct Votes {
    /// Per language of [`Language::ALL`] (Turkish verbs under Turkish), in
    /// [`WHOLE_VOTE`]s.
    votes: [u32; Language::ALL.len()],
    /// How often each word that voted occurs, to take a typo's own votes out.
    counts: std::collections::HashMap<String, u32>,
}

impl Votes {
    /// Counts the votes of post `text`.
    pub fn of(text: &str) -> Votes {
        let mut votes = Votes::default();
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| (3..=24).contains(&word.chars().count()))
        {
            let word = crate::text::fold(word);
            let holders = holders(&word);
            if holders != 0 {
                votes.add(holders, 1, true);
                *votes.counts.entry(word).or_default() += 1;
            }
        }
        votes
    }

    /// Adds (or takes away) `times` votes split among the languages of `holders`.
    fn add(&mut self, holders: u16, times: u32, add: bool) {
        let share = WHOLE_VOTE / holders.count_ones() * times;
        for (at, language) in Language::ALL.iter().enumerate() {
            if holders & language.bit() != 0 {
                self.votes[at] = if add {
                    self.votes[at] + share
                } else {
                    self.votes[at] - share
                };
            }
        }
    }

    /// Whether the post reads as one of the languages of `mask` (a [`Guard::Foreign`]
    /// mask), leaving out folded `word` (the typo itself). Each other word of three letters
    /// or more is a vote split among the languages whose lists hold it (Turkish nouns and
    /// verbs are one language): a word only Dutch holds (`bestel`) counts whole, one that
    /// eight lists hold (`the`, `shop`: Wikipedia frequency lists hold many English words)
    /// an eighth. The post reads as a language of `mask` when one of them gets votes and
    /// no other language gets more (`ik bestel het morgen` is as Dutch as it is German).
    pub fn reads_as(&self, mask: u16, word: &str) -> bool {
        let mut votes = self.votes;
        if let Some(&times) = self.counts.get(word) {
            let mut without = Votes {
                votes,
                counts: Default::default(),
            };
            without.add(holders(word), times, false);
            votes = without.votes;
        }
        let (mut of_mask, mut elsewhere) = (0, 0);
        for (language, votes) in Language::ALL.iter().zip(votes) {
            if mask & turkish_slot(*language).bit() != 0 {
                of_mask = of_mask.max(votes);
            } else {
                elsewhere = elsewhere.max(votes);
            }
        }
        of_mask > 0 && of_mask >= elsewhere
    }
}

/// The Turkish lists (stems, verbs, names, forms) are one language when a post votes.
fn turkish_slot(language: Language) -> Language {
    match language {
        Language::TurkishVerbs | Language::TurkishNames | Language::TurkishForms => {
            Language::Turkish
        }
        other => other,
    }
}

/// The languages (bits of [`Language::bit`], Turkish verbs under Turkish) whose lists
/// hold folded `word` as it stands.
fn holders(word: &str) -> u16 {
    if word.len() < MIN_WORD {
        return 0;
    }
    let mask = SETS
        .iter()
        .filter(|(language, set)| *language != Language::TurkishForms && set.contains(word))
        .fold(0, |mask, (language, _)| {
            mask | turkish_slot(*language).bit()
        });
    if mask == 0 && is_turkish_form(word) {
        Language::Turkish.bit()
    } else {
        mask
    }
}

/// Whether folded `word` is in the corpus list of Turkish forms. That list also holds
/// the foreign words Turkish news quote (`find`, `the`), so it speaks for Turkish only
/// where no other list claims the word.
fn is_turkish_form(word: &str) -> bool {
    listed_word(word, |language| language == Language::TurkishForms)
}

/// True when folded `word` is, as it stands, in a list of a language other than Turkish
/// and Azerbaijani (no ending or inflection read).
pub fn is_listed_other(word: &str) -> bool {
    listed_word(word, |language| {
        turkish_slot(language) != Language::Turkish && language != Language::Azerbaijani
    })
}

/// Whether folded `word` is a listed word of `set` with an ending `language`'s list
/// leaves out (`armas` of `arma`); `form` is scratch space.
fn with_ending(language: Language, set: &WordSet, word: &str, form: &mut String) -> bool {
    language.endings().iter().any(|(ending, listed)| {
        word.strip_suffix(ending).is_some_and(|stem| {
            // `tuass` is no plural of `tuas`: a plural does not double its `s`.
            if ending.starts_with('s') && stem.ends_with('s') {
                return false;
            }
            form.clear();
            form.push_str(stem);
            form.push_str(listed);
            stem.len() >= MIN_STEM && set.contains(&*form)
        })
    })
}

/// What the name a glued suffix follows is as a word ([`name_word`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameWord {
    /// A common Turkish nominal (`sana`, `fakir`, `mavi`, `garanti`): letters glued to
    /// it read as that word inflected (`sanasi`, `fakirle`) far more often than as the
    /// brand, so only an apostrophe (`Fakir'le`) marks the brand. A verb is not one:
    /// noun suffixes glued to a verb (`getirden`) make no word.
    CommonTurkish,
    /// A word of another list (`familia`, `amazon`): an ending glued to it is Turkish
    /// only in a Turkish post (`amazondan aldim`), else it is that language's own
    /// (`Familiada`).
    Other,
    /// No word, a Turkish proper name or a verb (`turkcell`, `akbank`, `getir`).
    Name,
}

/// What folded `name` (the last word of a brand's term) is as a word: a common Turkish
/// nominal (listed as a nominal stem), a word of another list as listed, or a name.
pub fn name_word(name: &str) -> NameWord {
    if listed_word(name, |language| language == Language::Turkish) {
        NameWord::CommonTurkish
    } else if listed_word(name, |language| turkish_slot(language) != Language::Turkish) {
        NameWord::Other
    } else {
        NameWord::Name
    }
}

/// True when folded `word` is in the Turkish dictionary lists as it stands (no
/// inflection read; not the corpus forms, which quote foreign words too).
pub fn is_listed_turkish(word: &str) -> bool {
    listed_word(word, |language| {
        turkish_slot(language) == Language::Turkish && language != Language::TurkishForms
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fold;

    /// The shortest word a list holds: Turkish roots go down to two letters (`ol`, `uc`).
    fn shortest(language: Language) -> usize {
        if matches!(language, Language::Turkish | Language::TurkishVerbs) {
            2
        } else {
            3
        }
    }

    #[test]
    fn every_list_opens_and_is_sorted_unique_and_folded() {
        use fst::Streamer;
        assert_eq!(SETS.len(), Language::ALL.len(), "every list opens");
        for (language, set) in SETS.iter() {
            let mut stream = set.stream();
            let mut previous: Vec<u8> = Vec::new();
            let mut count = 0;
            while let Some(word) = stream.next() {
                assert!(
                    previous.as_slice() < word,
                    "{language:?}: sorted and unique"
                );
                let text = std::str::from_utf8(word).expect("UTF-8");
                assert!(
                    (shortest(*language)..=24).contains(&text.len())
                        && text.bytes().all(|b| b.is_ascii_lowercase()),
                    "{language:?}: {text}"
                );
                assert_eq!(fold(text), text, "{language:?}: folded");
                previous = word.to_vec();
                count += 1;
            }
            assert!(count >= 300, "{language:?}: {count} words");
        }
    }

    #[test]
    fn the_readme_lists_every_file_with_a_permissive_licence() {
        let readme = include_str!("words/README.md");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/matcher/words");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("words dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name != "README.md")
            .collect();
        files.sort();
        let mut bundled: Vec<String> = Language::ALL.iter().map(|l| l.file().to_string()).collect();
        bundled.sort();
        assert_eq!(files, bundled, "every file in words/ is a bundled list");
        let permissive = [
            "MIT",
            "ISC",
            "BSD-3-Clause",
            "Apache-2.0",
            "CC0-1.0",
            "SCOWL",
        ];
        for file in files {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{file}` |")))
                .unwrap_or_else(|| panic!("{file} has no row in words/README.md"));
            let licence = row.trim_end_matches('|').rsplit('|').next().unwrap_or("");
            assert!(
                permissive.iter().any(|name| licence.contains(name)),
                "{file}: licence {licence}"
            );
            assert!(
                row.matches('|').count() >= 5,
                "{file}: source, version and licence"
            );
        }
    }

    /// `variant` is generated from `brand` and refused as a real word: everywhere
    /// (English, Turkish, Azerbaijani) or in posts of its language (the others).
    fn refused(brand: &str, variant: &str) {
        let generated = crate::matcher::typos::variants(&fold(brand));
        let found = generated.iter().find(|v| v.text == variant);
        assert!(found.is_some(), "{variant} is a variant of {brand}");
        let language = language_of(variant);
        assert!(
            found.is_some_and(|v| v.real_word
                || !language.is_some_and(Language::everywhere)
                    && language.is_some_and(|l| v.foreign & l.bit() != 0)),
            "{variant} ({brand}) refused"
        );
    }

    #[test]
    fn each_language_has_its_own_bit_in_the_order_of_all() {
        for (at, language) in Language::ALL.iter().enumerate() {
            assert_eq!(language.bit(), 1 << at, "{language:?}");
        }
    }

    #[test]
    fn a_post_reads_as_the_language_whose_list_explains_most_of_it() {
        let spanish = Language::Spanish.bit();
        for (post, reads) in [
            ("No encuentro la tecla en el teclado, casi lo logro", true),
            ("my tecla watch stopped again and the shop is closed", false),
            (
                "Troque o usuário e pressione qualquer tecla para continuar",
                false,
            ),
            ("my casi watch stopped again and the shop is closed", false),
            ("tecla saatim yine durdu, servis cevap vermiyor", false),
            ("tecla", false),
        ] {
            assert_eq!(Votes::of(post).reads_as(spanish, "tecla"), reads, "{post}");
        }
        let portuguese = Language::Portuguese.bit();
        assert!(
            Votes::of("Troque o usuário e pressione qualquer tecla para continuar")
                .reads_as(portuguese | spanish, "tecla")
        );
        assert_eq!(guard("tecla"), Guard::Foreign(guard_mask("tecla")));
        assert_eq!(guard("kitabi"), Guard::Word, "a Turkish inflection");
        assert_eq!(
            guard("nesle"),
            Guard::Word,
            "listed elsewhere, and nesil + e"
        );
        assert_eq!(guard("tukrcell"), Guard::None);
    }

    /// The languages whose lists hold `word`, as [`guard`] reports them.
    fn guard_mask(word: &str) -> u16 {
        SETS.iter()
            .filter(|(language, set)| !language.everywhere() && set.contains(word))
            .fold(0, |mask, (language, _)| mask | language.bit())
    }

    #[test]
    fn ordinary_words_one_slip_from_real_brands_are_refused_in_each_language() {
        use Language::*;
        // Brands of the generator's list and of bench/quality/brands-tuning.txt, and
        // variants that the former guard (English, Turkish, Spanish and Portuguese
        // lists) let through as typos.
        let table = [
            ("Letgo", "letto", Italian),
            ("Letgo", "leggo", Italian),
            ("Farmasi", "farmaci", Italian),
            ("BluTV", "blut", German),
            ("Pepsi", "lepsi", Polish),
            ("Koton", "koron", Polish),
            ("Orange", "orage", French),
            ("Apple", "appel", French),
            ("Casper", "caser", French),
            ("Emirates", "emirats", French),
            ("Vestel", "bestel", Dutch),
            ("Vestel", "gestel", Dutch),
            ("Tekfen", "teken", Dutch),
            ("Corona", "vorona", Russian),
            ("Vestel", "vesel", Russian),
        ];
        for (brand, variant, language) in table {
            refused(brand, variant);
            assert_eq!(language_of(variant), Some(language), "{variant}");
        }
        // Azerbaijani: no brand of those lists is one slip from a listed word; its
        // words and their inflections are refused, in chat spelling too (`ə` as `e`).
        for word in ["hemcinin", "texminen", "yaxsi", "yaxsidir", "baxmayaraq"] {
            assert_eq!(language_of(word), Some(Azerbaijani), "{word}");
        }
    }

    #[test]
    fn turkish_inflections_are_refused() {
        // Variants of real brands that are inflected Turkish words.
        refused("Martı", "karti");
        refused("Baykar", "bakar");
        let turkish_stem = |stem: &str| SETS[1].1.contains(stem);
        let turkish_verb = |stem: &str| SETS[2].1.contains(stem);
        assert!(suffix::is_inflection_of(
            "karti",
            turkish_stem,
            turkish_verb
        ));
        assert!(suffix::is_inflection_of(
            "bakar",
            turkish_stem,
            turkish_verb
        ));
        for word in [
            "kitabi",
            "rengi",
            "agaci",
            "agzi",
            "burnu",
            "arabasinda",
            "arabayla",
            "arkadaslarimizdan",
            "gelemiyormussunuz",
            "bekliyor",
            "geldigimiz",
            "kartlarimizdaki",
        ] {
            assert!(language_of(word).is_some(), "{word}");
            assert!(
                suffix::is_inflection_of(word, turkish_stem, turkish_verb),
                "{word}: a Turkish stem and suffixes"
            );
        }
        // Derivations and compound verbs (`-lIk` and `-CIk` softened, `-sAl`, `-(I)msI`,
        // `-(y)IcI`, `-(y)Iver`), a softening verb listed softened (`gidiyor`), and
        // forms of the corpus list beyond the engine.
        for word in [
            "kentligi",
            "bombacik",
            "kosecigi",
            "bilimsel",
            "mavimsi",
            "avlayici",
            "kosuver",
            "gidiyor",
            "dayanacaga",
            "seyredebilir",
        ] {
            assert!(language_of(word).is_some(), "{word}");
        }
        // Fifth session: two-letter roots as stems (`ol`, `ac`, `uc`), the raised `ye`
        // and `de` (`yiyemedi`, `diyebilir`), front `o` in verb stems (`gommedi`,
        // `gocecek`), negated ability and compound verbs (`kanmayabilir`,
        // `almayagor`), `-lA` before `-Iyor` (`aynaliyor`), participles as nouns
        // (`kalmislik`, `bilmezlik`), the diminutive `-CAgIz` and the near miss
        // `-(y)Ayaz` (`kazcagiz`, `dusayazdi`).
        for word in [
            "olamadikca",
            "acabildik",
            "ucumdan",
            "yiyemedigi",
            "diyebilir",
            "gommedi",
            "gocecek",
            "kanmayabilir",
            "almayagor",
            "aynaliyor",
            "kalmislik",
            "bilmezlik",
            "kazcagiz",
            "dusayazdi",
        ] {
            assert!(language_of(word).is_some(), "{word}");
            assert_eq!(guard(word), Guard::Word, "{word}");
        }
        // A two-letter root is a stem only: as a word it says nothing (`es`, `de`).
        for word in ["es", "de", "ol"] {
            assert_eq!(language_of(word), None, "{word}");
            assert_eq!(guard(word), Guard::None, "{word}");
            assert!(!is_listed_turkish(word), "{word}");
        }
        // Noun suffixes on a verb make no word; names take suffixes but no stem change.
        for word in ["getirden", "erdemri"] {
            assert_eq!(language_of(word), None, "{word}");
        }
        // A form only the corpus list holds, which no stem of the dictionary reads.
        for word in ["yogaya", "programlarimizda"] {
            assert!(
                !suffix::is_inflection_of(word, turkish_stem, turkish_verb),
                "{word}"
            );
            assert_eq!(guard(word), Guard::Word, "{word}");
        }
    }

    #[test]
    fn a_name_glued_to_letters_is_a_word_of_its_own_through_longer_stems() {
        // `ucusu` reads as `uc` + `us` + `u` only through a two-letter root: the topic
        // `uçuş` inflected. `arkasindakiler` reads as `arka` + suffixes: a word, not the
        // brand Arkas.
        assert_eq!(language_of_except("ucusu", Some("ucus")), None);
        assert_eq!(language_of_except("turkcellden", Some("turkcell")), None);
        assert_eq!(
            language_of_except("arkasindakiler", Some("arkas")),
            Some(Language::Turkish)
        );
        assert_eq!(
            language_of_except("martidan", Some("mart")),
            Some(Language::Turkish)
        );
    }

    #[test]
    fn real_typos_of_brands_pass() {
        let passes = |brand: &str, typo: &str| {
            let generated = crate::matcher::typos::variants(&fold(brand));
            let found = generated.iter().find(|v| v.text == typo);
            assert!(
                found.is_some_and(|v| !v.real_word),
                "{typo} ({brand}) passes"
            );
        };
        for (brand, typo) in [
            ("Turkcell", "turkcel"),
            ("Turkcell", "tukrcell"),
            ("Akbank", "akbnak"),
            ("Garanti", "garamti"),
            ("Migros", "migors"),
            ("Pegasus", "pegaus"),
            // Once refused by an English stem plus a Turkish suffix (`get` + `i`,
            // `vest` + `le`), or as rare words of full-form lists (German `nestel`,
            // `traget`, Portuguese `spotfy`, Dutch `tofs`) before the frequency lists.
            ("Getir", "geti"),
            ("Nestlé", "nestel"),
            ("Target", "traget"),
            ("Spotify", "spotfy"),
            ("Tofaş", "tofs"),
            ("TUSAŞ", "tuass"),
            ("Vestel", "vestle"),
            ("Toyota", "toota"),
            ("Arçelik", "racelik"),
            // Once read as a name that dropped a vowel (`erdemir` + `i`), or as a
            // verb softened like `git` → `gid` (`getirt` → `getird` + `en`).
            ("Erdemir", "erdemri"),
            ("Kardemir", "kardemri"),
            ("Doğadan", "dogdan"),
            // The causative `-t` follows only a vowel, `l` or `r`: `dog` + `t` + `a` is no
            // form of `doğ` (Doğtaş slipped); a noun's `o` keeps its back harmony
            // (`boyne` is no dative of `boyun`).
            ("Doğtaş", "dogta"),
            ("Doğtaş", "dogtsa"),
            ("Boyner", "boyne"),
            ("Google", "gogle"),
        ] {
            assert_eq!(language_of(typo), None, "{typo}");
            passes(brand, typo);
        }
    }

    #[test]
    fn the_matcher_finds_real_typos_and_skips_refused_words() {
        let keywords = r#"
[[brand]]
name = "Turkcell"
terms = ["Turkcell"]

[[brand]]
name = "Garanti"
terms = ["Garanti"]

[[brand]]
name = "Akbank"
terms = ["Akbank"]

[[brand]]
name = "Vestel"
terms = ["Vestel"]

[[brand]]
name = "Martı"
terms = ["Martı"]
"#;
        let rules =
            crate::keywords::parse_keywords(std::path::Path::new("k.toml"), keywords).unwrap();
        let matcher = crate::matcher::Matcher::new(&rules).unwrap();
        let brands = |text: &str| -> Vec<String> {
            matcher
                .find(text)
                .into_iter()
                .map(|hit| hit.brand.to_string())
                .collect()
        };
        for (text, brand) in [
            ("turkcel cekmiyor", "Turkcell"),
            ("tukrcell faturasi", "Turkcell"),
            ("garantı bankası", "Garanti"),
            ("akbnak subesi", "Akbank"),
        ] {
            assert_eq!(brands(text), [brand], "{text}");
        }
        for text in ["ik bestel het morgen", "kartı kayboldu", "geen gestel"] {
            assert!(brands(text).is_empty(), "{text}");
        }
    }
}
