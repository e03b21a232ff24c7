//! The noisy switch's decision: whether a generated typo fires like a word of its own
//! and is switched off, or reads like a real slip people type about the brand and
//! stays on. Pure: it looks only at counts the matcher keeps per variant.

/// A generated typo is switched off once it has at least this many hits…
pub(super) const NOISY_MIN_HITS: u64 = 10;
/// …and more than 1/`NOISY_SHARE` as many as its brand's hits by written spellings:
/// people mistype a name in a few percent of mentions, so a variant firing that often
/// is a word of its own (`telsa` the given name, `karti` Turkish for "its card")…
pub(super) const NOISY_SHARE: u64 = 4;

/// What the matcher knows of one generated typo when it counts a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TypoTally {
    /// Hits the typo contributed to.
    pub hits: u64,
    /// …of which the post carried evidence of the brand that the matcher found in the
    /// same scan: another of its terms, handles, hashtags or domains, one of its
    /// `require_any` context words, or an `any`/`all` word of a topic built on its term.
    pub with_evidence: u64,
    /// The brand's hits by written spellings.
    pub written_hits: u64,
}

/// …unless most of its hits read like mentions of the brand: a real, frequently typed
/// slip (`tukrcell çekmiyor`) keeps its brand's context around it, while an ordinary
/// word of some language (`telsa`, `karti`) stands in unrelated text.
pub(super) fn switch_off_as_noisy(tally: TypoTally) -> bool {
    tally.hits >= NOISY_MIN_HITS
        && tally.hits * NOISY_SHARE > tally.written_hits
        && tally.with_evidence * 2 <= tally.hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_noisy_decision_spares_typos_whose_hits_carry_the_brands_evidence() {
        let tally = |hits, with_evidence, written_hits| TypoTally {
            hits,
            with_evidence,
            written_hits,
        };
        let table = [
            // (what, tally, switched off)
            ("too few hits to judge", tally(9, 0, 0), false),
            (
                "`telsa` signed under quotes: no evidence",
                tally(10, 0, 0),
                true,
            ),
            (
                "Italian `carta` for Garanti's typo, unrelated text",
                tally(40, 1, 3),
                true,
            ),
            (
                "`tukrcell çekmiyor`, `tukrcell faturası`: all contextual",
                tally(12, 12, 0),
                false,
            ),
            (
                "`tukrcell` mostly with context words",
                tally(30, 20, 5),
                false,
            ),
            ("half with evidence is not most", tally(20, 10, 0), true),
            (
                "a slip among many written mentions",
                tally(15, 0, 100),
                false,
            ),
            (
                "share reached exactly: not more than a quarter",
                tally(10, 0, 40),
                false,
            ),
            ("share passed", tally(11, 0, 40), true),
        ];
        for (what, tally, off) in table {
            assert_eq!(switch_off_as_noisy(tally), off, "{what}: {tally:?}");
        }
    }
}

#[cfg(test)]
mod matcher_tests {
    use std::path::Path;

    use crate::keywords::parse_keywords;
    use crate::matcher::{Matcher, NOISY};

    const KEYWORDS: &str = r#"
[[brand]]
name = "Turkcell"
terms = ["Turkcell"]
handles = ["@TurkcellHizmet"]

[[topic]]
name = "Turkcell outage"
all = ["Turkcell"]
any = ["çekmiyor", "fatura", "kesinti"]

[[brand]]
name = "Vodafone"
terms = ["Vodafone"]

[[topic]]
name = "Vodafone network"
all = ["Vodafone"]
any = ["signal", "outage"]

[[brand]]
name = "Tesla"
terms = ["Tesla"]

[[brand]]
name = "Garanti"
terms = ["Garanti"]
context = ["şube", "kart"]

[[brand]]
name = "Penti"
terms = ["Penti"]

[[brand]]
name = "Akbank"
terms = ["Akbank"]
require_any = ["kredi", "hesap"]
"#;

    #[test]
    fn a_typo_whose_hits_carry_its_brands_context_stays_on_and_a_word_in_unrelated_text_goes_off() {
        let table: &[(&str, &str, &str, &[&str], bool)] = &[
            // (what, brand, variant, posts repeated past the threshold, switched off)
            (
                "Turkish: a real slip with the outage topic's words",
                "Turkcell",
                "tukrcell",
                &["tukrcell yine çekmiyor", "tukrcell fatura yanlış geldi"],
                false,
            ),
            (
                "Turkish: a real slip beside the brand's handle",
                "Turkcell",
                "tukrcell",
                &["@TurkcellHizmet tukrcell hattım gitti"],
                false,
            ),
            (
                "Turkish: a slip of a brand whose hits need context words",
                "Akbank",
                "akbnak",
                &["akbnak hesap açtım", "akbnak kredi vermedi"],
                false,
            ),
            (
                "Turkish: a real slip beside one of the brand's context words",
                "Garanti",
                "garatni",
                &["garatni şube kuyruğu bitmiyor", "garatni kart aidatı iade"],
                false,
            ),
            (
                "English: a real slip with the network topic's words",
                "Vodafone",
                "vodafne",
                &["vodafne has no signal again", "another vodafne outage"],
                false,
            ),
            (
                "Turkish: the same slip with nothing of the brand around",
                "Turkcell",
                "tukrcell",
                &["tukrcell diye bir şey yazdım"],
                true,
            ),
            (
                "English: a given name under quotes",
                "Tesla",
                "telsa",
                &["as telsa said", "ask telsa, she knows"],
                true,
            ),
            (
                "Finnish (no bundled list): another name in unrelated text",
                "Penti",
                "pentik",
                &["ostin pentik mukin", "pentik myymälä on kiinni"],
                true,
            ),
        ];
        let rules = parse_keywords(Path::new("k.toml"), KEYWORDS).unwrap();
        for &(what, brand, variant, posts, off) in table {
            let matcher = Matcher::new(&rules).unwrap();
            let compiled = matcher
                .variant_report(brand)
                .unwrap()
                .into_iter()
                .any(|v| v.variant == variant && v.source == "typo" && v.dropped.is_none());
            assert!(
                compiled,
                "{what}: `{variant}` is a compiled typo of {brand}"
            );
            for post in posts.iter().cycle().take(12) {
                let hits = matcher.find(post);
                assert!(
                    hits.iter().any(|hit| &*hit.brand == brand) || off,
                    "{what}: {post:?} is a hit while on"
                );
            }
            let switched = matcher.take_noisy();
            assert_eq!(
                switched
                    .iter()
                    .any(|v| v.variant == variant && v.dropped == Some(NOISY)),
                off,
                "{what}: {switched:?}"
            );
            let still_hit = matcher
                .find(posts[0])
                .iter()
                .any(|hit| &*hit.brand == brand);
            assert_eq!(still_hit, !off, "{what}: after 12 hits");
        }
    }
}
