//! A first, lexicon-based reading of a post's tone: `negative`, `neutral` or
//! `positive`, so routes can send complaints one way and praise another.
//!
//! Words are compared after the matcher's folding (Turkish-correct case, diacritics
//! removed), and Turkish stems match their suffixed forms (`şikayet` covers
//! `şikayetimi`). A negator right after a Turkish positive word (`memnun değilim`) or
//! right before an English one (`not happy`) turns it negative; a negated complaint
//! (`sorun yok`) counts as neither. Pure: no I/O, no clock.

use serde::{Deserialize, Serialize};

use crate::text::fold;

/// The tone of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    /// More complaint words than praise.
    Negative,
    /// Neither, or as many of each.
    Neutral,
    /// More praise than complaint words.
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

// Folded stems. Turkish entries match as prefixes of a word (agglutination); English
// entries of four letters or fewer must match the whole word, so `bad` is not `badge`.
const NEGATIVE: &[&str] = &[
    // Turkish: outages, failures, delays, anger, money trouble.
    "cekmiyor",
    "kesinti",
    "kesildi",
    "rezalet",
    "berbat",
    "sikayet",
    "ulasamiyor",
    "ulasilamiyor",
    "yanit vermiyor",
    "cevap vermiyor",
    "calismiyor",
    "acilmiyor",
    "bozuk",
    "ariza",
    "magdur",
    "dolandir",
    "bloke",
    "rotar",
    "iptal",
    "gecik",
    "kotu",
    "felaket",
    "sacma",
    "yavas",
    "hata",
    "sorun",
    "problem",
    "kayip",
    "kayboldu",
    "iade edilmedi",
    "utanc",
    "skandal",
    "kizgin",
    "bikt",
    "yazik",
    "maalesef",
    "kandir",
    "fahis",
    "haksiz",
    "perisan",
    "isyan",
    // English.
    "worst",
    "terrible",
    "awful",
    "horrible",
    "broken",
    "scam",
    "refund",
    "delayed",
    "cancelled",
    "canceled",
    "outage",
    "not working",
    "useless",
    "angry",
    "disappointed",
    "unacceptable",
    "ripoff",
    "rip-off",
    "fraud",
    "bad",
    "lost",
    "down",
    "fail",
    "failed",
    "never again",
    "ridiculous",
    "shame",
];

const POSITIVE: &[&str] = &[
    // Turkish.
    "tesekkur",
    "harika",
    "super",
    "mukemmel",
    "memnun",
    "guzel",
    "basarili",
    "hizli",
    "sagol",
    "bravo",
    "tebrik",
    "cok iyi",
    "efsane",
    "kusursuz",
    // English.
    "thanks",
    "thank you",
    "great",
    "love",
    "awesome",
    "excellent",
    "happy",
    "amazing",
    "perfect",
    "fast",
    "helpful",
    "good",
    "best",
    "kudos",
];

const TURKISH_NEGATORS: &[&str] = &["degil", "yok"];
const ENGLISH_NEGATORS: &[&str] = &["not", "no", "never", "isn't", "wasn't", "don't", "didn't"];

/// Reads the tone of `text`.
pub fn classify(text: &str) -> Sentiment {
    let folded = fold(text);
    let words: Vec<&str> = folded
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut score = 0i32;
    let mut index = 0;
    while index < words.len() {
        let (polarity, width) = match lexicon_at(&words, index) {
            Some(found) => found,
            None => {
                index += 1;
                continue;
            }
        };
        let after = words.get(index + width).copied();
        let before = index.checked_sub(1).map(|i| words[i]);
        let negated = after.is_some_and(|w| TURKISH_NEGATORS.iter().any(|n| w.starts_with(n)))
            || before.is_some_and(|w| ENGLISH_NEGATORS.contains(&w));
        // "memnun değilim" is a complaint; "sorun yok" is no complaint, but no praise.
        score += match (negated, polarity > 0) {
            (false, _) => polarity,
            (true, true) => -1,
            (true, false) => 0,
        };
        index += width;
    }
    match score {
        s if s < 0 => Sentiment::Negative,
        0 => Sentiment::Neutral,
        _ => Sentiment::Positive,
    }
}

/// The polarity (+1 / -1) and word count of the lexicon entry starting at `index`.
fn lexicon_at(words: &[&str], index: usize) -> Option<(i32, usize)> {
    let lists = [(NEGATIVE, -1), (POSITIVE, 1)];
    let mut best: Option<(i32, usize)> = None;
    for (list, polarity) in lists {
        for entry in list {
            let parts: Vec<&str> = entry.split(' ').collect();
            let Some(window) = words.get(index..index + parts.len()) else {
                continue;
            };
            let last = parts.len() - 1;
            let fits = parts
                .iter()
                .zip(window)
                .enumerate()
                .all(|(i, (part, word))| {
                    if i == last && part.len() > 4 {
                        word.starts_with(part)
                    } else {
                        word == part
                    }
                });
            if fits && best.is_none_or(|(_, width)| parts.len() > width) {
                best = Some((polarity, parts.len()));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaints_praise_and_plain_mentions() {
        let cases = [
            (
                "Turkcell iki gündür ÇEKMİYOR, rezalet!",
                Sentiment::Negative,
            ),
            ("THY'nin uçuşu 3 saat rötar yaptı", Sentiment::Negative),
            (
                "@DenizDinliyor kartım bloke oldu, kimse yanıt vermiyor",
                Sentiment::Negative,
            ),
            ("Yapı Kredi mobil açılmıyor", Sentiment::Negative),
            (
                "my flight was cancelled and nobody helps, worst airline",
                Sentiment::Negative,
            ),
            (
                "Turkcell'e teşekkürler, çok hızlı çözdüler",
                Sentiment::Positive,
            ),
            ("DenizBank'ta hiç sorun yok", Sentiment::Neutral),
            ("THY ekibi harika, çok teşekkür ederim", Sentiment::Positive),
            (
                "thank you Turkish Airlines, great crew",
                Sentiment::Positive,
            ),
            ("Turkcell hizmetinden memnun değilim", Sentiment::Negative),
            ("I am not happy with DenizBank", Sentiment::Negative),
            ("Turkcell yeni tarifeleri açıkladı", Sentiment::Neutral),
            ("", Sentiment::Neutral),
        ];
        for (text, expected) in cases {
            assert_eq!(classify(text), expected, "{text}");
        }
    }

    #[test]
    fn short_english_words_match_whole_words_only() {
        assert_eq!(classify("new badge for the team"), Sentiment::Neutral);
        assert_eq!(classify("service is bad"), Sentiment::Negative);
        assert_eq!(classify("the downtown office"), Sentiment::Neutral);
    }

    #[test]
    fn names_round_trip() {
        for sentiment in [Sentiment::Negative, Sentiment::Neutral, Sentiment::Positive] {
            assert_eq!(Sentiment::parse(sentiment.as_str()), Some(sentiment));
        }
        assert_eq!(Sentiment::parse("angry"), None);
    }
}
