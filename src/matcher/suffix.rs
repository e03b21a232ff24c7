//! Turkish suffixes, folded (`ı`→`i`, `ü`→`u`, `ö`→`o`, `ş`→`s`, `ç`→`c`, `ğ`→`g`): one
//! engine for the two questions the matcher asks.
//!
//! - After a brand name: Turkish attaches suffixes to brand names, with an apostrophe
//!   for proper names (`Turkcell'e`), often without one in chat (`turkcellden`,
//!   `thyye`). A term glued to letters only counts when those letters are a chain of
//!   nominal suffixes ([`is_suffix`]).
//! - In the typo guard: a generated variant that is a listed word plus a chain of
//!   suffixes is a real word, not a typo ([`is_inflection_of`]: `arkadaslarimizdan`,
//!   `gelemiyormussunuz`, `kitabi`, `burnu`).
//!
//! Suffixes are written as templates over archiphonemes, realised by the rules of
//! Turkish phonology as they survive folding: `A` is `a` or `e` and `I` is `i` or `u`
//! by vowel harmony with the last vowel before them (folding keeps what decides: `I`
//! after `a`, `e`, `i` is `i`, after `o`, `u` it is `u`; `A` after `a`, `o` is `a`,
//! after `e` it is `e`, after `i`, `u`, which fold front and back vowels together,
//! either); `D` is `t` after a voiceless consonant and `d` otherwise; `K` is `k` or the
//! softened `g` (from `ğ`). A buffer letter in parentheses (`(y)I`, `(s)I`, `(n)In`) is
//! there after a vowel, a vowel in parentheses (`(I)m`) after a consonant.
//! Morphotactics are a small state machine: noun stem → derivation → plural →
//! possessive → case → `ki` → copula and person; verb stem → voice → negation or
//! ability → tense, aspect or mood → copula → person; nominalisers lead from the verb
//! chain back to the noun chain (`geldigimiz`).
//!
//! Stem changes that suffixes cause are tried on the stem: the softened final
//! consonant (`kitab` + `i` from `kitap`, `reng` + `i` from `renk`), the high vowel
//! dropped from the last syllable (`burn` + `u` from `burun`, `agz` + `i` from `agiz`)
//! and the final vowel that `-Iyor` takes over (`bekl` + `iyor` from `bekle`).

/// A state of the morphotactic machine: what may follow the letters read so far.
type State = u8;

/// A noun stem, or a noun made by a derivation or a nominaliser.
const NOUN: State = 0;
/// After the plural.
const PLURAL: State = 1;
/// After a first or second person possessive.
const POSSESSED: State = 2;
/// After a third person possessive (or `ki`): case suffixes take the pronominal `n`.
const POSSESSED_3: State = 3;
/// After a case suffix.
const CASE: State = 4;
/// After a past or conditional copula or tense: the short person endings follow.
const PAST: State = 5;
/// After any other tense or copula: the long person endings follow.
const TENSE: State = 6;
/// After a person ending.
const PERSON: State = 7;
/// A verb stem (also after a voice suffix or a verb-making derivation).
const VERB: State = 8;
/// After negation or ability.
const NEGATED: State = 9;
/// Nothing more may follow.
const END: State = 10;
/// After the softened `-DIg` or `-(y)AcAg`: a possessive follows.
const SOFTENED: State = 11;
/// A noun whose derivation softened before a vowel (`kentlig` + `e`, `kosecig` + `i`):
/// a vowel-initial possessive or case follows.
const SOFT_NOUN: State = 12;

const fn states(list: &[State]) -> u16 {
    let mut mask = 0;
    let mut at = 0;
    while at < list.len() {
        mask |= 1 << list[at];
        at += 1;
    }
    mask
}

const NOMINAL: u16 = states(&[NOUN, PLURAL, POSSESSED, POSSESSED_3]);
const BEFORE_CASE: u16 = states(&[NOUN, PLURAL, POSSESSED]);
const BEFORE_COPULA: u16 = states(&[NOUN, PLURAL, POSSESSED, POSSESSED_3, CASE]);
const VERBAL: u16 = states(&[VERB, NEGATED]);

/// One suffix: its template, the states it may follow, the state it leads to, and
/// whether it may follow a brand name.
struct Morpheme {
    template: &'static str,
    from: u16,
    to: State,
    after_brand: bool,
}

const fn m(template: &'static str, from: u16, to: State, after_brand: bool) -> Morpheme {
    Morpheme {
        template,
        from,
        to,
        after_brand,
    }
}

/// The suffixes, by slot.
const MORPHEMES: &[Morpheme] = &[
    // Derivations of nouns (`simcilik`, `arabali`, `sessiz`, the distributive `ikiser`
    // with its buffer `s` after a vowel), and nouns made
    // verbs (`temizle`, `guzellesti`).
    m("CI", states(&[NOUN]), NOUN, false),
    m("lIk", states(&[NOUN]), NOUN, false),
    m("lI", states(&[NOUN]), NOUN, false),
    m("sIz", states(&[NOUN]), NOUN, false),
    m("sAr", states(&[NOUN]), NOUN, false),
    m("lA", states(&[NOUN]), VERB, false),
    m("lAs", states(&[NOUN]), VERB, false),
    m("lAn", states(&[NOUN]), VERB, false),
    // `-lA` takes `-Iyor` without its vowel (`aynaliyor`, `limitliyor`).
    m("lIyor", states(&[NOUN]), TENSE, false),
    // Adjectives and likenesses (`bilimsel`, `kentsi`, `mavimsi`), diminutives
    // (`bombacik`); `-lIk` and `-CIk` soften before a vowel (`kentligi`, `kosecigi`).
    m("sAl", states(&[NOUN]), NOUN, false),
    m("sI", states(&[NOUN]), NOUN, false),
    m("(I)msI", states(&[NOUN]), NOUN, false),
    m("CIk", states(&[NOUN]), NOUN, false),
    m("CAgIz", states(&[NOUN]), NOUN, false),
    m("CIg", states(&[NOUN]), SOFT_NOUN, false),
    m("lIg", states(&[NOUN]), SOFT_NOUN, false),
    m("I", states(&[SOFT_NOUN]), POSSESSED_3, false),
    m("A", states(&[SOFT_NOUN]), CASE, false),
    m("In", states(&[SOFT_NOUN]), CASE, false),
    m("Im", states(&[SOFT_NOUN]), POSSESSED, false),
    m("ImIz", states(&[SOFT_NOUN]), POSSESSED, false),
    m("InIz", states(&[SOFT_NOUN]), POSSESSED, false),
    // Plural.
    m("lAr", states(&[NOUN]), PLURAL, true),
    // Possessives.
    m("(I)m", states(&[NOUN, PLURAL]), POSSESSED, true),
    m("(I)n", states(&[NOUN, PLURAL]), POSSESSED, true),
    m("(I)mIz", states(&[NOUN, PLURAL]), POSSESSED, true),
    m("(I)nIz", states(&[NOUN, PLURAL]), POSSESSED, true),
    m("(s)I", states(&[NOUN, PLURAL]), POSSESSED_3, true),
    m("lArI", states(&[NOUN]), POSSESSED_3, true),
    // Cases.
    m("(y)I", BEFORE_CASE, CASE, true),
    m("(y)A", BEFORE_CASE, CASE, true),
    m("DA", BEFORE_CASE, CASE, true),
    m("DAn", BEFORE_CASE, CASE, true),
    m("(n)In", BEFORE_CASE, CASE, true),
    m("(y)lA", NOMINAL, CASE, true),
    m("CA", BEFORE_CASE, CASE, false),
    m("nI", states(&[POSSESSED_3]), CASE, true),
    m("nA", states(&[POSSESSED_3]), CASE, true),
    m("nDA", states(&[POSSESSED_3]), CASE, true),
    m("nDAn", states(&[POSSESSED_3]), CASE, true),
    m("nIn", states(&[POSSESSED_3]), CASE, true),
    m("ncA", states(&[POSSESSED_3]), CASE, false),
    // `ki` after a locative or genitive (`evdeki`, `evdekiler`, `evdekini`).
    m("ki", states(&[CASE]), POSSESSED_3, true),
    m("kiler", states(&[CASE]), PLURAL, true),
    // Copula and person on nouns (`ogrenciyim`, `evdeydi`, `hastaymis`).
    m("DIr", BEFORE_COPULA, END, true),
    m("(y)Im", BEFORE_COPULA, PERSON, false),
    m("sIn", BEFORE_COPULA, PERSON, false),
    m("(y)Iz", BEFORE_COPULA, PERSON, false),
    m("sInIz", BEFORE_COPULA, PERSON, false),
    m("(y)DI", BEFORE_COPULA, PAST, false),
    m("(y)sA", BEFORE_COPULA, PAST, false),
    m("(y)mIs", BEFORE_COPULA, TENSE, false),
    m("(y)ken", BEFORE_COPULA, END, false),
    // Voice (`yaptir`, `yapil`, `yikan`, `goruskusu`).
    m("DIr", states(&[VERB]), VERB, false),
    m("T", states(&[VERB]), VERB, false),
    m("(I)l", states(&[VERB]), VERB, false),
    m("(I)n", states(&[VERB]), VERB, false),
    m("(I)s", states(&[VERB]), VERB, false),
    // Compound verbs of manner, also negated (`kosuver`, `gelegel`, `yazadur`,
    // `bakakal`, `almayagor`), and the near miss (`dusayaz`).
    m("(y)Iver", VERBAL, VERB, false),
    m("(y)Agel", VERBAL, VERB, false),
    m("(y)Adur", VERBAL, VERB, false),
    m("(y)Akal", VERBAL, VERB, false),
    m("(y)Agor", VERBAL, VERB, false),
    m("(y)Ayaz", states(&[VERB]), VERB, false),
    // Negation and ability (`gelme`, `geleme`, `gelebil`, `gelmeyebil`: ability makes a
    // verb again, `gelebilir`).
    m("mA", states(&[VERB]), NEGATED, false),
    m("(y)AmA", states(&[VERB]), NEGATED, false),
    m("(y)Abil", VERBAL, VERB, false),
    // Tense, aspect and mood; `-Iyor` takes over a negation's vowel (`gelmiyor`).
    m("Iyor", states(&[VERB]), TENSE, false),
    m("mIyor", states(&[VERB]), TENSE, false),
    m("(y)AmIyor", states(&[VERB]), TENSE, false),
    m("DI", VERBAL, PAST, false),
    m("sA", VERBAL, PAST, false),
    m("mIs", VERBAL, TENSE, false),
    m("(y)AcAk", VERBAL, TENSE, false),
    m("(y)AcAg", VERBAL, SOFTENED, false),
    m("(A)r", states(&[VERB]), TENSE, false),
    m("(I)r", states(&[VERB]), TENSE, false),
    m("mAz", VERBAL, TENSE, false),
    m("z", states(&[NEGATED]), TENSE, false),
    m("mAm", states(&[VERB]), END, false),
    m("mAyIz", states(&[VERB]), END, false),
    m("mAlI", VERBAL, TENSE, false),
    m("(y)A", VERBAL, TENSE, false),
    // Imperatives.
    m("sIn", VERBAL, END, false),
    m("(y)In", VERBAL, END, false),
    m("(y)InIz", VERBAL, END, false),
    m("sInlAr", VERBAL, END, false),
    // Nominalisers and converbs (`gelmek`, `gelis`, `geldik`, `geldigim`, `gelen`,
    // `gelip`, `gelince`, `gelerek`, `gelmeden`).
    m("mAk", VERBAL, NOUN, false),
    // Participles that are adjectives too (`gecmisi`, `bilmezlik`, `kalmislik`).
    m("mIs", VERBAL, NOUN, false),
    m("mAz", VERBAL, NOUN, false),
    m("(y)IcI", VERBAL, NOUN, false),
    m("(y)AsI", VERBAL, NOUN, false),
    m("mA", VERBAL, NOUN, false),
    m("(y)Is", VERBAL, NOUN, false),
    m("DIk", VERBAL, NOUN, false),
    m("DIg", VERBAL, SOFTENED, false),
    m("(y)An", VERBAL, NOUN, false),
    m("(y)Ip", VERBAL, END, false),
    m("(y)IncA", VERBAL, END, false),
    m("(y)ArAk", VERBAL, END, false),
    m("mAdAn", VERBAL, END, false),
    m("(y)AlI", VERBAL, END, false),
    m("DIkcA", VERBAL, END, false),
    m("ken", states(&[TENSE]), END, false),
    // A softened stem takes a vowel-initial possessive (`geldigim`, `gelecegimiz`), a
    // future participle also the dative (`dayanacaga`).
    m("Im", states(&[SOFTENED]), POSSESSED, false),
    m("In", states(&[SOFTENED]), POSSESSED, false),
    m("ImIz", states(&[SOFTENED]), POSSESSED, false),
    m("InIz", states(&[SOFTENED]), POSSESSED, false),
    m("I", states(&[SOFTENED]), POSSESSED_3, false),
    m("A", states(&[SOFTENED]), CASE, false),
    // Person after a past or conditional (`geldim`, `gelseniz`).
    m("m", states(&[PAST]), PERSON, false),
    m("n", states(&[PAST]), PERSON, false),
    m("k", states(&[PAST]), PERSON, false),
    m("nIz", states(&[PAST]), PERSON, false),
    m("lAr", states(&[PAST, TENSE]), PERSON, false),
    // Person after other tenses (`geliyorum`, `gelmissiniz`).
    m("(y)Im", states(&[TENSE]), PERSON, false),
    m("sIn", states(&[TENSE]), PERSON, false),
    m("(y)Iz", states(&[TENSE]), PERSON, false),
    m("sInIz", states(&[TENSE]), PERSON, false),
    // A copula after a tense (`geliyordu`, `gelecekmis`, `gelirse`, `gelmistir`).
    m("DI", states(&[TENSE]), PAST, false),
    m("mIs", states(&[TENSE]), TENSE, false),
    m("sA", states(&[TENSE]), PAST, false),
    m("DIr", states(&[TENSE, PERSON]), END, false),
];

/// Most suffixes read after one brand name, and after one stem.
const MAX_AFTER_BRAND: usize = 4;
const MAX_AFTER_STEM: usize = 6;

/// A verb stem's last vowel folded `o`, which is as often `ö` (`gömme`, `dönecek`) as `o`
/// (`koşma`): both harmonies are read. A noun stem's `o` stays back, so that `boyne` is
/// not `boyun` with a front dative.
const FRONT_OR_BACK_O: u8 = b'O';

/// What the letters before a position tell the next suffix.
#[derive(Clone, Copy)]
struct Context {
    /// The last vowel, when known.
    vowel: Option<u8>,
    /// The last letter, when known.
    last: Option<u8>,
}

impl Context {
    /// Nothing known (the start of the letters after a brand name).
    const UNKNOWN: Context = Context {
        vowel: None,
        last: None,
    };

    fn after(letters: &[u8]) -> Context {
        Context {
            vowel: letters.iter().rev().copied().find(|&b| is_vowel(b)),
            last: letters.last().copied(),
        }
    }

    /// The context after verb stem `letters` ([`FRONT_OR_BACK_O`]).
    fn after_verb(letters: &[u8]) -> Context {
        let context = Context::after(letters);
        Context {
            vowel: context
                .vowel
                .map(|v| if v == b'o' { FRONT_OR_BACK_O } else { v }),
            ..context
        }
    }

    fn then(self, letter: u8) -> Context {
        Context {
            vowel: if is_vowel(letter) {
                Some(letter)
            } else {
                self.vowel
            },
            last: Some(letter),
        }
    }
}

fn is_vowel(letter: u8) -> bool {
    matches!(letter, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// The letters archiphoneme `symbol` may be in `context`.
fn realisations(symbol: u8, context: Context) -> &'static [u8] {
    match symbol {
        b'A' => match context.vowel {
            Some(b'a' | b'o') => b"a",
            Some(b'e') => b"e",
            _ => b"ae",
        },
        b'I' => match context.vowel {
            Some(b'a' | b'e' | b'i') => b"i",
            Some(b'o' | b'u' | FRONT_OR_BACK_O) => b"u",
            _ => b"iu",
        },
        b'D' => match context.last {
            Some(b'f' | b's' | b't' | b'k' | b'h' | b'p') => b"t",
            // Folded `c` is both the voiced `c` and the voiceless `ç`.
            Some(b'c') | None => b"dt",
            Some(_) => b"d",
        },
        // The causative `-t` follows a vowel, `l` or `r` (`bekletti`, `kaldirt`), never
        // another consonant (`dogta` is no form of `dog`).
        b'T' => match context.last {
            Some(b'l' | b'r') => b"t",
            Some(letter) if is_vowel(letter) => b"t",
            _ => &[],
        },
        b'C' => b"c",
        b'K' => b"kg",
        _ => &[],
    }
}

/// True when `letter` may stand for template symbol `symbol` in `context`.
fn fits(symbol: u8, letter: u8, context: Context) -> bool {
    if symbol.is_ascii_uppercase() {
        realisations(symbol, context).contains(&letter)
    } else {
        symbol == letter
    }
}

/// Calls `next` with every end and context at which `template` can be read in `word`
/// from `at`; stops at the first `true`.
fn read(
    template: &[u8],
    word: &[u8],
    at: usize,
    context: Context,
    next: &mut dyn FnMut(usize, Context) -> bool,
) -> bool {
    let Some(&symbol) = template.first() else {
        return next(at, context);
    };
    if let [b'(', optional, b')', rest @ ..] = template {
        // A buffer consonant stands after a vowel, a buffer vowel after a consonant;
        // with the letter before unknown (after a brand name) both ways are tried.
        let vowel = matches!(optional, b'A' | b'I') || is_vowel(*optional);
        let present = context.last.map(|last| is_vowel(last) != vowel);
        let with = present != Some(false)
            && word
                .get(at)
                .is_some_and(|&letter| fits(*optional, letter, context))
            && read(rest, word, at + 1, context.then(word[at]), next);
        return with || (present != Some(true) && read(rest, word, at, context, next));
    }
    word.get(at)
        .is_some_and(|&letter| fits(symbol, letter, context))
        && read(&template[1..], word, at + 1, context.then(word[at]), next)
}

/// True when `word[at..]` is a chain of at most `left` suffixes that may follow
/// `state` (any state may end a word).
fn chain(word: &[u8], at: usize, state: State, context: Context, left: usize, brand: bool) -> bool {
    if at == word.len() {
        return true;
    }
    left > 0
        && MORPHEMES.iter().any(|morpheme| {
            morpheme.from & 1 << state != 0
                && (!brand || morpheme.after_brand)
                && read(
                    morpheme.template.as_bytes(),
                    word,
                    at,
                    context,
                    &mut |end, context| chain(word, end, morpheme.to, context, left - 1, brand),
                )
        })
}

/// True when folded `letters` are a chain of nominal suffixes that may follow a brand
/// name (`e`, `den`, `nin`, `lerimizden`, `sinin`, `dir`): plural,
/// possessive, case, `ki` and the copula `-DIr`, at most [`MAX_AFTER_BRAND`], with vowel
/// harmony among themselves (a foreign name's own vowels do not decide it).
pub fn is_suffix(letters: &[u8]) -> bool {
    !letters.is_empty()
        && [NOUN, POSSESSED_3]
            .into_iter()
            .any(|state| chain(letters, 0, state, Context::UNKNOWN, MAX_AFTER_BRAND, true))
}

/// [`is_suffix`] after the folded name `name`, read as Turkish reads it: after a vowel
/// the buffer letters are required (`martiyla`, `martiya`, not the derivation `martila`
/// or `martia`), after a consonant they are refused (`pinari`, not `pinarsi`); a name
/// without a vowel is an acronym read by its letters' names, which all end in a vowel
/// (`thyye`, `thyden`, not `thyla`).
pub fn is_suffix_after(name: &[u8], letters: &[u8]) -> bool {
    let last = match name.last() {
        Some(&letter) if !name.iter().any(|&b| is_vowel(b)) && letter.is_ascii_lowercase() => {
            Some(b'e')
        }
        // A consonant stands as folded `c`, which takes `d` and `t` alike: people
        // write either after a name (`denizbankdan`).
        Some(&letter) if !is_vowel(letter) => Some(b'c'),
        last => last.copied(),
    };
    // The name's own vowels do not decide the harmony of a foreign name's suffixes.
    let context = Context { vowel: None, last };
    // A name may end in a third person possessive itself (`Türk Hava Yolları'na`).
    !letters.is_empty()
        && [NOUN, POSSESSED_3]
            .into_iter()
            .any(|state| chain(letters, 0, state, context, MAX_AFTER_BRAND, true))
}

/// True when `word` is a noun stem accepted by `is_noun` or a verb stem accepted by
/// `is_verb` plus a chain of suffixes, with the stem's changes undone (`karti` =
/// `kart` + `i`, `bakar` = `bak` + `ar`, `sahibimden` = `sahip` + `im` + `den`,
/// `burnu` = `burun` + `u`, `bekliyor` = `bekle` + `iyor`, `arkadaslarimizdan`,
/// `gelemiyormussunuz`).
pub fn is_inflection_of(
    word: &str,
    is_noun: impl Fn(&str) -> bool,
    is_verb: impl Fn(&str) -> bool,
) -> bool {
    let bytes = word.as_bytes();
    (1..bytes.len()).any(|split| {
        let (stem, rest) = bytes.split_at(split);
        let Ok(stem_text) = std::str::from_utf8(stem) else {
            return false;
        };
        let parses = |state: State| {
            let context = if state == VERB {
                Context::after_verb(stem)
            } else {
                Context::after(stem)
            };
            chain(bytes, split, state, context, MAX_AFTER_STEM, false)
        };
        let listed = |is_stem: &dyn Fn(&str) -> bool, verb: bool| {
            is_stem(stem_text) || alternations(stem, rest, verb).any(|stem| is_stem(&stem))
        };
        (parses(NOUN) && listed(&is_noun, false)) || (parses(VERB) && listed(&is_verb, true))
    })
}

/// The dictionary forms a stem may have lost before `rest`: a hardened final consonant
/// (`kitab` → `kitap`), a dropped high vowel (`burn` → `burun`), a final vowel taken
/// over by `-Iyor` (`bekl` → `bekle`). A `verb` stem only loses the vowel: the few verbs
/// that soften (`git` → `gid`) are listed softened, and no verb drops a vowel.
fn alternations<'a>(
    stem: &'a [u8],
    rest: &'a [u8],
    verb: bool,
) -> impl Iterator<Item = String> + 'a {
    let before_vowel = rest.first().is_some_and(|&b| is_vowel(b));
    let last = stem.last().copied().unwrap_or(b'a');
    let text = String::from_utf8_lossy(stem).into_owned();
    let mut forms = Vec::new();
    // Folded Turkish ends in an ASCII letter; a stem ending in another script's letter
    // has no Turkish alternation (and cutting its last byte would split the letter).
    if !last.is_ascii() {
        return forms.into_iter();
    }
    let base = &text[..text.len() - 1];
    if before_vowel && !verb {
        if let Some(hard) = match last {
            b'b' => Some('p'),
            b'd' => Some('t'),
            b'g' => Some('k'),
            _ => None,
        } {
            forms.push(format!("{base}{hard}"));
        }
        let ends_in_two_consonants =
            stem.len() >= 3 && !is_vowel(last) && !is_vowel(stem[stem.len() - 2]);
        if ends_in_two_consonants {
            let inner = &text[..text.len() - 1];
            let high = match Context::after(inner.as_bytes()).vowel {
                Some(b'o' | b'u') => 'u',
                _ => 'i',
            };
            forms.push(format!("{inner}{high}{}", char::from(last)));
        }
    }
    if rest.starts_with(b"iyor") || rest.starts_with(b"uyor") {
        forms.push(format!("{text}a"));
        forms.push(format!("{text}e"));
    }
    forms.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the brand-suffix list held before the engine: every entry still follows a
    /// brand.
    const FORMER_SUFFIXES: &[&str] = &[
        "a", "da", "daki", "dan", "de", "deki", "den", "dir", "dur", "e", "i", "im", "imiz", "in",
        "iniz", "la", "lar", "lara", "larda", "lardan", "lari", "larin", "larla", "le", "ler",
        "lerde", "lerden", "lere", "leri", "lerin", "lerle", "na", "nda", "ndan", "nde", "nden",
        "ne", "ni", "nin", "nu", "nun", "si", "sina", "sinda", "sindan", "sinde", "sinden", "sine",
        "sini", "sinin", "siyla", "siyle", "su", "suna", "sunda", "sundan", "sunu", "sunun",
        "suyla", "ta", "taki", "tan", "te", "teki", "ten", "tir", "tur", "u", "um", "umuz", "un",
        "unuz", "ya", "ye", "yi", "yla", "yle", "yu",
    ];

    #[test]
    fn every_former_brand_suffix_still_follows_a_brand() {
        for suffix in FORMER_SUFFIXES {
            assert!(is_suffix(suffix.as_bytes()), "{suffix}");
        }
    }

    #[test]
    fn brand_suffixes_are_nominal_chains_in_harmony() {
        for suffix in ["lerimizden", "larimizdan", "sindeki", "lerdir"] {
            assert!(is_suffix(suffix.as_bytes()), "{suffix}");
        }
        // Not suffixes, verb endings, broken harmony, too long a chain.
        for other in [
            "",
            "x",
            "cell",
            "dens",
            "lerdan",
            "larden",
            "iyor",
            "mis",
            "ar",
            "lerimizdekilerden",
        ] {
            assert!(!is_suffix(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn derivations_are_no_brand_suffixes() {
        // `-CI` (`kalyoncu`, `sozcucu`, `hurriyetci`), `-lIk`, `-lA`, `-sIz` make new
        // words; the former list held `ci`, `ciler`, `cu`, `cular`.
        for derivation in ["ci", "cu", "ciler", "cular", "cilerin", "lik", "luk", "siz"] {
            assert!(!is_suffix(derivation.as_bytes()), "{derivation}");
        }
    }

    #[test]
    fn buffer_letters_follow_the_name_as_turkish_reads_it() {
        let after =
            |name: &str, letters: &str| is_suffix_after(name.as_bytes(), letters.as_bytes());
        // After a vowel: the buffer is required (`martila` is the verb `-lA`).
        for (name, letters) in [
            ("marti", "yla"),
            ("marti", "ya"),
            ("marti", "dan"),
            ("marti", "nin"),
            ("marti", "yi"),
        ] {
            assert!(after(name, letters), "{name}{letters}");
        }
        for (name, letters) in [
            ("marti", "la"),
            ("marti", "a"),
            ("marti", "in"),
            ("marti", "ta"),
        ] {
            assert!(!after(name, letters), "{name}{letters}");
        }
        // After a consonant: no buffer consonant (`pinarsi` is no form of Pınar).
        for (name, letters) in [
            ("turkcell", "den"),
            ("turkcell", "e"),
            ("pinar", "i"),
            ("pinar", "la"),
            ("turkcell", "in"),
        ] {
            assert!(after(name, letters), "{name}{letters}");
        }
        for (name, letters) in [("pinar", "si"), ("turkcell", "ye")] {
            assert!(!after(name, letters), "{name}{letters}");
        }
        // An acronym ends in its last letter's name, a vowel (`THY'ye`, not `Thyla`).
        for letters in ["ye", "nin", "den", "yle"] {
            assert!(after("thy", letters), "thy{letters}");
        }
        for letters in ["la", "in", "e"] {
            assert!(!after("thy", letters), "thy{letters}");
        }
    }

    #[test]
    fn inflections_follow_harmony_buffers_and_suffix_chains() {
        let of = |word: &str, stem: &str| is_inflection_of(word, |s| s == stem, |s| s == stem);
        let noun = |word: &str, stem: &str| is_inflection_of(word, |s| s == stem, |_| false);
        assert!(of("karti", "kart"));
        assert!(!of("karti", "ka"));
        assert!(of("bakar", "bak"));
        assert!(of("sahibimden", "sahip"), "softening undone");
        assert!(of("kitabi", "kitap") && of("rengi", "renk") && of("agaci", "agac"));
        assert!(
            of("agzi", "agiz") && of("burnu", "burun"),
            "vowel drop undone"
        );
        assert!(of("arabayi", "araba") && of("arabasi", "araba") && of("arabanin", "araba"));
        assert!(of("arabasinda", "araba"), "pronominal n");
        assert!(of("arkadaslarimizdan", "arkadas"));
        assert!(of("gelemiyormussunuz", "gel"));
        assert!(of("bekliyor", "bekle"), "-Iyor takes the final vowel");
        assert!(of("geldigimiz", "gel") && of("gelecegim", "gel"));
        // Harmony decides: `kitap` takes `-lar`, not `-ler`; `gul` takes `-u`, not `-i`.
        assert!(!of("kitapler", "kitap"));
        assert!(!of("gulim", "gul"));
        // Only verbs take verb suffixes: `turkce` + `l` is no passive.
        assert!(!noun("turkcel", "turkce") && !noun("bakar", "bak"));
        assert!(noun("karti", "kart") && noun("kitabi", "kitap"));
        // A buffer letter stands only after a vowel.
        assert!(!of("kartyi", "kart"));
        assert!(!of("sahibimdenxyz", "sahip"));
    }
}
