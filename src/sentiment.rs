//! The tone of a post, `negative`, `neutral` or `positive`, with a score in [-1, 1],
//! so routes can send complaints one way and praise another and reports can average
//! it.
//!
//! A [`Lexicon`] is compiled once from data files (the built-in ones under
//! `config/sentiment/`, embedded, then the `[sentiment] extra` files of the
//! configuration, whose text `config` reads and hands in) and reads a post with
//! [`Lexicon::score`]: words are compared after the matcher's folding (case, `ı/İ`,
//! diacritics), letters repeated for emphasis are collapsed (`berbaaat`), stems match
//! their suffixed forms (`şikayet*` covers `şikayetimi`), and the rules are
//! - negation: a negator before a word (`not`, `never`, `no`, `can't`) or after it
//!   (`değil`, `yok`, the -mA- form of a light verb: `memnun kalmadım`) turns praise
//!   into complaint and leaves half of a complaint as praise (`sorun yok`);
//! - the Turkish negative verb (-mA-: `ulaşamıyorum`, `çalışmıyor`, `gelmedi`) and the
//!   negated English verb (`doesn't work`, `never answered`) of an expected service is
//!   a complaint;
//! - modifiers (`çok`, `very`, `biraz`), `!!`, shouting in capitals and repeated
//!   letters scale the words;
//! - a contrast (`ama`, `but`) weighs what follows more than what precedes;
//! - emoji and emoticons count like words;
//! - irony: praise in a post that also complains (`bravo`, `thanks for the outage`) or
//!   carries a sarcasm cue (`🙃`, `yeah right`) counts as complaint, unless the post
//!   says the problem was fixed (`arızayı giderdi`, `sorted`).
//!
//! Pure: no I/O, no clock.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};

use crate::settings::line_of_offset;
use crate::text::fold;

/// The tone of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    /// A complaint: the score is at most `-THRESHOLD`.
    Negative,
    /// Neither: a question, news, or as much praise as complaint.
    Neutral,
    /// Praise: the score is at least `THRESHOLD`.
    Positive,
}

impl Sentiment {
    /// The lowercase name used in configuration, storage and alerts.
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
            Sentiment::Positive => "positive",
        }
    }

    /// Parses a configured name.
    pub fn parse(name: &str) -> Option<Sentiment> {
        match name {
            "negative" => Some(Sentiment::Negative),
            "neutral" => Some(Sentiment::Neutral),
            "positive" => Some(Sentiment::Positive),
            _ => None,
        }
    }
}

/// One reading of a post's tone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// From -1 (complaint) to 1 (praise); 0 when nothing was recognised.
    pub score: f32,
    /// The label the score falls under.
    pub label: Sentiment,
}

/// Scores at or beyond this distance from 0 are labelled negative or positive.
pub const THRESHOLD: f32 = 0.2;
/// The raw sum of weights that makes a score of about 0.76 (`tanh(1)`).
const SCALE: f32 = 3.0;

/// The built-in lexicon files, in the order they are read.
pub const BUILTIN: [(&str, &str); 3] = [
    (
        "config/sentiment/tr.toml",
        include_str!("../config/sentiment/tr.toml"),
    ),
    (
        "config/sentiment/en.toml",
        include_str!("../config/sentiment/en.toml"),
    ),
    (
        "config/sentiment/emoji.toml",
        include_str!("../config/sentiment/emoji.toml"),
    ),
];

static BUILTIN_LEXICON: LazyLock<Arc<Lexicon>> = LazyLock::new(|| {
    Arc::new(Lexicon::compile(&[]).expect("the built-in lexicon files are valid"))
});

/// Reads the tone of `text` with the built-in lexicon.
pub fn classify(text: &str) -> Sentiment {
    Lexicon::builtin().score(text).label
}

/// `[sentiment]` of the configuration, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSentiment {
    /// Lexicon files read after the built-in ones, relative to the configuration file.
    pub extra: Vec<String>,
}

/// One lexicon file's text and the name its problems are reported under.
#[derive(Debug, Clone, Copy)]
pub struct LexiconSource<'a> {
    /// The file's path, as the configuration names it.
    pub name: &'a str,
    /// Its TOML text.
    pub text: &'a str,
}

/// A problem in a lexicon file, located by line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{}: {key}: {message}", line.map_or("?".to_string(), |l| l.to_string()))]
pub struct LexiconError {
    /// The file, as [`LexiconSource::name`] gave it.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The section and entry (`words."rezalet*"`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// What an entry does; the sections of a lexicon file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    Word,
    Ironic,
    Expect,
    Resolved,
    NegateBefore,
    NegateAfter,
    LightVerb,
    Modifier,
    Contrast,
    Sarcasm,
    Emoji,
}

impl Role {
    const ALL: [(&'static str, Role); 11] = [
        ("words", Role::Word),
        ("ironic", Role::Ironic),
        ("expect", Role::Expect),
        ("resolved", Role::Resolved),
        ("negate_before", Role::NegateBefore),
        ("negate_after", Role::NegateAfter),
        ("light_verbs", Role::LightVerb),
        ("modifiers", Role::Modifier),
        ("contrast", Role::Contrast),
        ("sarcasm", Role::Sarcasm),
        ("emoji", Role::Emoji),
    ];

    /// The values an entry of this section may take.
    fn range(self) -> (f32, f32) {
        match self {
            Role::Ironic | Role::Resolved => (0.0, 5.0),
            Role::Expect => (-5.0, 0.0),
            Role::Modifier => (0.0, 5.0),
            Role::Contrast => (1.0, 5.0),
            _ => (-5.0, 5.0),
        }
    }
}

/// One compiled entry: folded words in a row, the last a stem when `stem`.
#[derive(Debug, Clone)]
struct Entry {
    words: Vec<String>,
    stem: bool,
    role: Role,
    value: f32,
}

/// Compiled lexicon: entries indexed by their first word (exact) or its first two
/// letters (stems), emoji by character, emoticons by text.
pub struct Lexicon {
    entries: Vec<Entry>,
    exact: HashMap<String, Vec<usize>>,
    stems: HashMap<String, Vec<usize>>,
    emoji: HashMap<char, (Role, f32)>,
    emoticons: Vec<(String, Role, f32)>,
}

impl fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lexicon")
            .field("entries", &self.entries.len())
            .field("emoji", &(self.emoji.len() + self.emoticons.len()))
            .finish()
    }
}

impl Lexicon {
    /// The lexicon of the built-in files alone, compiled once.
    pub fn builtin() -> Arc<Lexicon> {
        BUILTIN_LEXICON.clone()
    }

    /// Compiles the built-in files followed by `extra`; a later file's entry replaces
    /// the same entry of the same section. Every problem of every file is returned.
    pub fn compile(extra: &[LexiconSource<'_>]) -> Result<Lexicon, Vec<LexiconError>> {
        let builtin = BUILTIN.map(|(name, text)| LexiconSource { name, text });
        let mut merged: Vec<((Role, String), f32)> = Vec::new();
        let mut position: HashMap<(Role, String), usize> = HashMap::new();
        let mut errors = Vec::new();
        for source in builtin.iter().chain(extra) {
            for (role, entry, value) in read_file(source, &mut errors) {
                let key = (role, entry);
                match position.get(&key) {
                    Some(&at) => merged[at].1 = value,
                    None => {
                        position.insert(key.clone(), merged.len());
                        merged.push((key, value));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut lexicon = Lexicon {
            entries: Vec::new(),
            exact: HashMap::new(),
            stems: HashMap::new(),
            emoji: HashMap::new(),
            emoticons: Vec::new(),
        };
        for ((role, text), value) in merged {
            lexicon.add(role, &text, value);
        }
        Ok(lexicon)
    }

    fn add(&mut self, role: Role, text: &str, value: f32) {
        if let Some(c) = single_emoji(text) {
            self.emoji.insert(c, (role, value));
            return;
        }
        if is_emoticon(text) {
            self.emoticons.push((text.to_string(), role, value));
            return;
        }
        let stem = text.ends_with('*');
        let words = words_of(text.trim_end_matches('*'));
        let Some(first) = words.first() else { return };
        let index = self.entries.len();
        if stem && words.len() == 1 {
            self.stems
                .entry(first.chars().take(2).collect())
                .or_default()
                .push(index);
        } else {
            self.exact.entry(first.clone()).or_default().push(index);
        }
        self.entries.push(Entry {
            words,
            stem,
            role,
            value,
        });
    }

    /// Reads the tone of `text`.
    pub fn score(&self, text: &str) -> Reading {
        let tokens = tokenize(text);
        let mut state = Scoring {
            questions: tokens.iter().map(|t| t.question).collect(),
            ..Scoring::default()
        };
        let mut at = 0;
        while at < tokens.len() {
            state.expire(&tokens, at);
            let Some(found) = self.longest_at(&tokens, at) else {
                at += 1;
                continue;
            };
            state.apply(self, &tokens, at, &found);
            at += found.width;
        }
        state.expire(&tokens, tokens.len());
        for c in text.chars() {
            if let Some(&(role, value)) = self.emoji.get(&c) {
                state.symbol(role, value);
            }
        }
        for piece in text.split_whitespace() {
            if piece.contains("://") {
                continue;
            }
            let found = self
                .emoticons
                .iter()
                .filter(|(emoticon, _, _)| piece == emoticon || piece.ends_with(emoticon.as_str()))
                .max_by_key(|(emoticon, _, _)| emoticon.len());
            if let Some(&(_, role, value)) = found {
                state.symbol(role, value);
            }
        }
        if scare_quotes(text) {
            state.sarcasm = true;
        }
        let mut raw = state.total();
        if text.matches('!').count() >= 2 || shouting(text) {
            raw *= 1.3;
        }
        let score = (raw / SCALE).tanh();
        let label = if score <= -THRESHOLD {
            Sentiment::Negative
        } else if score >= THRESHOLD {
            Sentiment::Positive
        } else {
            Sentiment::Neutral
        };
        Reading { score, label }
    }

    /// The entries of the longest width that match at token `at`.
    fn longest_at(&self, tokens: &[Token], at: usize) -> Option<Found> {
        let mut best: Option<Found> = None;
        for form in tokens[at].forms() {
            let stems = form
                .get(..form.char_indices().nth(2).map_or(form.len(), |(i, _)| i))
                .and_then(|prefix| self.stems.get(prefix));
            let candidates = self
                .exact
                .get(form)
                .into_iter()
                .flatten()
                .chain(stems.into_iter().flatten());
            for &index in candidates {
                let entry = &self.entries[index];
                let Some(suffix) = matches(entry, tokens, at) else {
                    continue;
                };
                let width = entry.words.len();
                match &mut best {
                    Some(found) if found.width > width => {}
                    Some(found) if found.width == width => {
                        found.entries.push((index, suffix));
                    }
                    _ => {
                        best = Some(Found {
                            width,
                            entries: vec![(index, suffix)],
                        })
                    }
                }
            }
        }
        // The most specific entry first: an exact word before a stem, a longer stem
        // before a shorter one (`sorunsuz*` before `sorun*`).
        if let Some(found) = &mut best {
            found.entries.sort_by_key(|(index, _)| {
                let entry = &self.entries[*index];
                let letters: usize = entry.words.iter().map(String::len).sum();
                std::cmp::Reverse((!entry.stem, letters))
            });
            found.entries.dedup_by_key(|(index, _)| *index);
        }
        best
    }
}

/// Entries matching at one position, all of the same width, each with what its last
/// word left after the stem.
struct Found {
    width: usize,
    entries: Vec<(usize, String)>,
}

/// Whether `entry` matches the tokens from `at`; the suffix its stem left if so.
fn matches(entry: &Entry, tokens: &[Token], at: usize) -> Option<String> {
    let window = tokens.get(at..at + entry.words.len())?;
    let last = entry.words.len() - 1;
    let mut suffix = String::new();
    for (i, (word, token)) in entry.words.iter().zip(window).enumerate() {
        if i > 0 && token.clause_break {
            return None;
        }
        let fits = token.forms().any(|form| {
            if i == last && entry.stem {
                match form.strip_prefix(word.as_str()) {
                    Some(rest) => {
                        suffix = rest.to_string();
                        true
                    }
                    None => false,
                }
            } else {
                form == word
            }
        });
        if !fits {
            return None;
        }
    }
    Some(suffix)
}

/// True when `suffix`, what follows a verb stem, is a negative form: an optional
/// passive, an optional ability (`-A-`), then `-mA-` and a tense or person (`-yor`,
/// `-dI`, `-z`, `-yAcAk`, `-yAn`, `-m`, `-sIn`), as in `ulaşamıyorum`, `açılmıyor`,
/// `gelmedi`, `çözemedi`, `olmaz`. The infinitive (`-mAk`), the verbal noun (`-mA`,
/// `-mAsI`, `-mAdA`), `-mAlI` (must) and `-mIş` (did, reportedly) are not negative.
pub fn is_negative_verb(suffix: &str) -> bool {
    const VOICE: [&str; 7] = ["", "il", "ul", "in", "un", "l", "n"];
    const ABILITY: [&str; 5] = ["", "a", "e", "ya", "ye"];
    const NEGATIVE: [&str; 4] = ["ma", "me", "mi", "mu"];
    // Past `-dI` only: `-mAdA`, `-mAdAn` are the verbal noun's cases (`taşınmada`).
    const AFTER: [&str; 9] = ["yor", "di", "du", "z", "y", "m", "sin", "siniz", "n"];
    VOICE.iter().any(|voice| {
        let Some(rest) = suffix.strip_prefix(voice) else {
            return false;
        };
        ABILITY.iter().any(|ability| {
            let Some(rest) = rest.strip_prefix(ability) else {
                return false;
            };
            NEGATIVE.iter().any(|negative| {
                rest.strip_prefix(negative)
                    .is_some_and(|tail| AFTER.iter().any(|after| tail.starts_with(after)))
            })
        })
    })
}

/// One word of a post, folded.
#[derive(Debug, Default)]
struct Token {
    text: String,
    /// The word before the apostrophe (`thy` of `thy'nin`), when there is one.
    base: Option<String>,
    /// The word with letters repeated three times or more written once and twice
    /// (`berbaaat` → `berbat`, `goooood` → `good`).
    collapsed: Vec<String>,
    /// A comma, full stop, `!`, `?`, `;` or `:` stands before it.
    clause_break: bool,
    /// Its clause ends with `?`.
    question: bool,
}

impl Token {
    fn forms(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.text.as_str())
            .chain(self.base.as_deref())
            .chain(self.collapsed.iter().map(String::as_str))
    }

    fn emphasised(&self) -> bool {
        !self.collapsed.is_empty()
    }
}

/// The folded words of an entry.
fn words_of(text: &str) -> Vec<String> {
    tokenize(text).into_iter().map(|token| token.text).collect()
}

/// Folds `text` and splits it into words (letters, digits and inner apostrophes),
/// noting clause breaks.
fn tokenize(text: &str) -> Vec<Token> {
    let folded = fold(text);
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut clause_break = false;
    let push = |tokens: &mut Vec<Token>, current: &mut String, clause_break: &mut bool| {
        let word = current.trim_matches('\'');
        if !word.is_empty() {
            tokens.push(token(word, *clause_break));
            *clause_break = false;
        }
        current.clear();
    };
    let mut clause_start = 0;
    for c in folded.chars() {
        if c.is_alphanumeric() || c == '\'' || (c == '-' && !current.is_empty()) {
            current.push(c);
        } else {
            push(&mut tokens, &mut current, &mut clause_break);
            if matches!(c, ',' | '.' | '!' | '?' | ';' | ':') {
                clause_break = true;
                if c == '?' {
                    for token in &mut tokens[clause_start..] {
                        token.question = true;
                    }
                }
                clause_start = tokens.len();
            }
        }
    }
    push(&mut tokens, &mut current, &mut clause_break);
    tokens
}

fn token(word: &str, clause_break: bool) -> Token {
    let word = word.trim_end_matches('-');
    let base = word
        .split_once('\'')
        .map(|(base, _)| base.to_string())
        .filter(|base| !base.is_empty());
    let mut collapsed = Vec::new();
    let chars: Vec<char> = word.chars().collect();
    if chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        for keep in [1, 2] {
            let mut out = String::new();
            let mut run = 0;
            let mut last = None;
            for &c in &chars {
                run = if Some(c) == last { run + 1 } else { 1 };
                last = Some(c);
                if run <= keep {
                    out.push(c);
                }
            }
            collapsed.push(out);
        }
    }
    Token {
        text: word.to_string(),
        base,
        collapsed,
        clause_break,
        question: false,
    }
}

/// One to three words in quotes inside a sentence (`the 'unlimited' plan`), the way
/// irony is marked in writing. An apostrophe inside a word (`THY'nin`, `it's`) opens
/// none.
fn scare_quotes(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let opens = |c: char| matches!(c, '\'' | '"' | '‘' | '“');
    let closes = |c: char| matches!(c, '\'' | '"' | '’' | '”');
    (0..chars.len()).any(|start| {
        let before_ok = start == 0 || chars[start - 1].is_whitespace();
        if !before_ok || !opens(chars[start]) {
            return false;
        }
        let Some(length) = chars[start + 1..].iter().position(|&c| closes(c)) else {
            return false;
        };
        let inner: String = chars[start + 1..start + 1 + length].iter().collect();
        let end = start + 1 + length;
        let after_ok = chars.get(end + 1).is_none_or(|c| !c.is_alphanumeric());
        let words = inner.split_whitespace().count();
        after_ok
            && (1..=3).contains(&words)
            && inner.chars().next().is_some_and(char::is_alphanumeric)
            && inner.chars().any(char::is_alphabetic)
    })
}

/// Most of the letters (eight or more) are capitals.
fn shouting(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic());
    let (upper, total) = letters.fold((0, 0), |(upper, total), c| {
        (upper + usize::from(c.is_uppercase()), total + 1)
    });
    total >= 8 && upper * 10 >= total * 7
}

/// The character of a one-character emoji entry (a variation selector or skin tone
/// after it is ignored).
fn single_emoji(text: &str) -> Option<char> {
    let mut chars = text
        .chars()
        .filter(|&c| c != '\u{fe0f}' && !('\u{1f3fb}'..='\u{1f3ff}').contains(&c));
    let first = chars.next()?;
    (chars.next().is_none() && !first.is_ascii() && !first.is_alphanumeric()).then_some(first)
}

/// ASCII written apart from words that starts with punctuation (`:(`, `<3`, `:D`).
fn is_emoticon(text: &str) -> bool {
    text.is_ascii()
        && text.starts_with(|c: char| c.is_ascii_punctuation())
        && !text.contains(char::is_whitespace)
}

/// A contribution to the score.
#[derive(Debug, Clone, Copy)]
struct Part {
    value: f32,
    /// After a contrast word.
    after_contrast: bool,
    /// Praise that reads as irony in a complaining post.
    ironic: bool,
    /// Token position, for a negator after it.
    at: usize,
    negated: bool,
    /// Said in a question: half weight.
    question: bool,
}

#[derive(Debug, Default)]
struct Scoring {
    parts: Vec<Part>,
    /// A negator before a word: where it stood and what it counts if it negates none.
    pending_negation: Option<(usize, f32)>,
    /// A modifier's factor and where it stood.
    pending_modifier: Option<(usize, f32)>,
    contrast: Option<f32>,
    sarcasm: bool,
    /// An ironic-praise word was seen.
    ironic_praise: bool,
    resolved: bool,
    /// Whether each token stands in a question.
    questions: Vec<bool>,
}

/// How far a negator before a word reaches, in words.
const NEGATION_REACH: usize = 3;

impl Scoring {
    /// Drops a negator or modifier that no longer reaches `at`; an unused negator
    /// counts its own weight.
    fn expire(&mut self, tokens: &[Token], at: usize) {
        let broken = |from: usize| {
            tokens
                .get(from + 1..=at.min(tokens.len() - 1))
                .is_some_and(|between| between.iter().any(|t| t.clause_break))
        };
        if let Some((from, _)) = self.pending_negation
            && (at >= tokens.len() || at > from + NEGATION_REACH || broken(from))
        {
            self.flush_negation();
        }
        if let Some((from, _)) = self.pending_modifier
            && (at > from + 2 || broken(from))
        {
            self.pending_modifier = None;
        }
    }

    fn push(&mut self, value: f32, ironic: bool, at: usize, negated: bool) {
        if value != 0.0 {
            self.parts.push(Part {
                value,
                after_contrast: self.contrast.is_some(),
                ironic,
                at,
                negated,
                question: self.questions.get(at).copied().unwrap_or(false),
            });
        }
    }

    /// Negates the last word if it stood right before `at` (one word may come
    /// between: `memnun da değilim`); true if it did.
    fn negate_previous(&mut self, at: usize) -> bool {
        match self.parts.last_mut() {
            Some(part) if !part.negated && part.at + 2 >= at && part.at < at => {
                part.value = negate(part.value);
                part.negated = true;
                part.ironic = false;
                true
            }
            _ => false,
        }
    }

    fn apply(&mut self, lexicon: &Lexicon, tokens: &[Token], at: usize, found: &Found) {
        let candidates: Vec<(&Entry, bool)> = found
            .entries
            .iter()
            .map(|(index, suffix)| {
                let entry = &lexicon.entries[*index];
                (entry, entry.stem && is_negative_verb(suffix))
            })
            .collect();
        let last = at + found.width - 1;
        let has = |role: Role| candidates.iter().find(|(entry, _)| entry.role == role);
        let emphasis = if tokens[at..=last].iter().any(Token::emphasised) {
            1.5
        } else {
            1.0
        };
        let negated_before = self.pending_negation.is_some();

        if let Some((entry, _)) = has(Role::Sarcasm) {
            self.sarcasm = true;
            self.push(entry.value, false, last, false);
            return;
        }
        if let Some((entry, _)) = has(Role::Contrast) {
            self.flush_negation();
            self.pending_modifier = None;
            self.contrast = Some(entry.value);
            return;
        }
        if let Some((entry, _)) = has(Role::NegateBefore) {
            self.flush_negation();
            self.pending_negation = Some((last, entry.value));
            return;
        }
        if let Some((entry, _)) = has(Role::NegateAfter) {
            if !self.negate_previous(at) {
                self.push(entry.value, false, last, false);
            }
            return;
        }
        if let Some((entry, _)) = has(Role::Modifier) {
            let factor = self.pending_modifier.map_or(1.0, |(_, f)| f) * entry.value;
            self.pending_modifier = Some((last, factor));
            return;
        }
        // A verb: its negative form either negates the word before it (light verbs) or
        // is a complaint of its own (expected services).
        let negative_form = candidates.iter().any(|(_, negative)| *negative);
        if let Some((entry, true)) = has(Role::LightVerb)
            && (self.negate_previous(at) || !candidates.iter().any(|(e, _)| e.role == Role::Expect))
        {
            if !self
                .parts
                .last()
                .is_some_and(|p| p.at + 2 >= at && p.negated)
            {
                self.push(entry.value, false, last, false);
            }
            return;
        }
        if let Some((entry, _)) = has(Role::Expect)
            && (negated_before || negative_form)
        {
            self.pending_negation = None;
            let factor = self.take_modifier();
            self.push(entry.value * factor * emphasis, false, last, true);
            return;
        }
        if let Some((entry, _)) = has(Role::Resolved)
            && !(negated_before || negative_form)
        {
            self.resolved = true;
            self.push(entry.value, false, last, false);
            return;
        }
        let word = has(Role::Word).or_else(|| has(Role::Ironic));
        let Some((entry, negative)) = word else {
            return;
        };
        let ironic = entry.role == Role::Ironic;
        let factor = self.take_modifier() * emphasis;
        let mut value = entry.value * factor;
        let negated = *negative || self.pending_negation.take().is_some();
        if negated {
            value = negate(value);
        } else if ironic {
            self.ironic_praise = true;
        }
        self.push(value, ironic || value > 0.0, last, negated);
    }

    /// Counts a pending negator that negated nothing.
    fn flush_negation(&mut self) {
        if let Some((from, orphan)) = self.pending_negation.take() {
            self.push(orphan, false, from, false);
        }
    }

    fn take_modifier(&mut self) -> f32 {
        self.pending_modifier
            .take()
            .map_or(1.0, |(_, factor)| factor)
    }

    /// An emoji or emoticon.
    fn symbol(&mut self, role: Role, value: f32) {
        if role == Role::Sarcasm {
            self.sarcasm = true;
        }
        self.parts.push(Part {
            value,
            after_contrast: false,
            ironic: value > 0.0,
            at: usize::MAX,
            negated: false,
            question: false,
        });
    }

    fn total(&self) -> f32 {
        let complaint: f32 = self.parts.iter().map(|p| p.value.min(0.0)).sum();
        // Praise followed by a complaint with no `but` between is read as irony.
        let praise_then_complaint = self.contrast.is_none()
            && self.parts.iter().any(|praise| {
                praise.value > 0.0
                    && praise.at != usize::MAX
                    && self
                        .parts
                        .iter()
                        .any(|c| c.value < 0.0 && c.at != usize::MAX && c.at > praise.at)
            });
        let ironic = !self.resolved
            && (self.sarcasm
                || ((self.ironic_praise || praise_then_complaint) && complaint <= -1.0));
        self.parts
            .iter()
            .map(|part| {
                let mut value = part.value;
                if part.question {
                    value *= 0.5;
                }
                if ironic && part.ironic && value > 0.0 && !part.after_contrast {
                    value = -value;
                }
                if self.resolved && value < 0.0 {
                    value *= 0.5;
                }
                match self.contrast {
                    Some(factor) if part.after_contrast => value * factor,
                    Some(factor) => value / factor,
                    None => value,
                }
            })
            .sum()
    }
}

/// A negated weight: praise turns into complaint, a complaint into half as much
/// praise (`sorun yok`, `no complaints`).
fn negate(value: f32) -> f32 {
    if value > 0.0 { -value } else { -value * 0.5 }
}

/// The entries of one lexicon file, every problem pushed to `errors`.
fn read_file(
    source: &LexiconSource<'_>,
    errors: &mut Vec<LexiconError>,
) -> Vec<(Role, String, f32)> {
    let error = |line: Option<usize>, key: String, message: String| LexiconError {
        file: source.name.to_string(),
        line,
        key,
        message,
    };
    let table: toml::Table = match source.text.parse() {
        Ok(table) => table,
        Err(err) => {
            errors.push(error(
                err.span()
                    .map(|span| line_of_offset(source.text, span.start)),
                "(syntax)".into(),
                err.message().to_string(),
            ));
            return Vec::new();
        }
    };
    let mut entries = Vec::new();
    for (section, value) in table {
        let header = format!("[{section}]");
        let section_at = source.text.find(&header);
        let line_of = |entry: Option<&str>| {
            let from = section_at?;
            let at = match entry {
                Some(entry) => source.text[from..]
                    .find(&format!("\"{entry}\""))
                    .or_else(|| source.text[from..].find(&format!("\n{entry} ")))?,
                None => 0,
            };
            Some(line_of_offset(source.text, from + at))
        };
        let Some(role) = Role::ALL
            .iter()
            .find(|(name, _)| *name == section)
            .map(|(_, role)| *role)
        else {
            let names: Vec<&str> = Role::ALL.iter().map(|(name, _)| *name).collect();
            errors.push(error(
                line_of(None),
                section.clone(),
                format!("unknown section, expected one of: {}", names.join(", ")),
            ));
            continue;
        };
        let toml::Value::Table(items) = value else {
            errors.push(error(
                line_of(None),
                section,
                "expected a table of entries".into(),
            ));
            continue;
        };
        for (entry, value) in items {
            let key = format!("{section}.\"{entry}\"");
            let number = match value {
                toml::Value::Integer(n) => Some(n as f32),
                toml::Value::Float(x) => Some(x as f32),
                _ => None,
            };
            let (low, high) = role.range();
            let problem = match number {
                None => Some("expected a number".to_string()),
                Some(n) if !(low..=high).contains(&n) => {
                    Some(format!("{n} is out of range, expected {low} to {high}"))
                }
                Some(_) => check_entry(role, &entry),
            };
            match (problem, number) {
                (Some(message), _) => errors.push(error(line_of(Some(&entry)), key, message)),
                (None, Some(n)) => entries.push((role, entry, n)),
                (None, None) => {}
            }
        }
    }
    entries
}

/// Why `entry` cannot be an entry of `role`'s section, if it cannot.
fn check_entry(role: Role, entry: &str) -> Option<String> {
    if single_emoji(entry).is_some() {
        return None;
    }
    if is_emoticon(entry) {
        return (!matches!(role, Role::Emoji | Role::Sarcasm))
            .then(|| "an emoticon belongs in [emoji] or [sarcasm]".to_string());
    }
    if role == Role::Emoji {
        return Some("expected one emoji character or an ASCII emoticon".into());
    }
    let stem = entry.ends_with('*');
    let words = words_of(entry.trim_end_matches('*'));
    if words.is_empty() {
        return Some("expected a word".into());
    }
    if words.join(" ")
        != fold(entry.trim_end_matches('*'))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    {
        return Some("expected words of letters and digits (and `'` or `-` inside a word)".into());
    }
    if stem && words.last().is_some_and(|w| w.chars().count() < 2) {
        return Some("a stem needs at least two letters before `*`".into());
    }
    None
}

#[cfg(test)]
mod tests;
