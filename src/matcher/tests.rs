use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::keywords::parse_keywords;
use crate::model::Author;

const KEYWORDS: &str = r##"
[[brand]]
name = "Turkcell"
team = "care"
terms = ["Turkcell", "Turkcell Superonline"]
handles = ["@TurkcellHizmet"]
hashtags = ["#turkcell"]
domains = ["turkcell.com.tr"]
misspellings = ["trkcell"]
exclude = ["Turkcell Süper Lig"]
own_handles = ["@Turkcell", "TurkcellHizmet"]

[[brand]]
name = "Türk Telekom"
terms = ["Türk Telekom"]
skip_reposts = true

[[brand]]
name = "Yapı Kredi"
terms = ["Yapı Kredi"]
lang = ["tr"]
min_followers = 10

[[brand]]
name = "THY"
terms = ["Türk Hava Yolları", { term = "THY", case = "exact" }]

[[brand]]
name = "Coca-Cola"
terms = ["Coca-Cola İçecek"]

[[brand]]
name = "Uber"
terms = ["Uber"]
typos = "off"

[[brand]]
name = "Visa"
terms = ["Visa"]
require_any = ["kart", "card", "ödeme"]
sources = ["x"]

[[topic]]
name = "Turkcell outage"
team = "noc"
all = ["Turkcell"]
any = ["çekmiyor", "kesinti"]
none = ["kampanya"]

[[topic]]
name = "THY delay"
all = ["uçuş"]
any = ["rötar", "iptal"]
near = 3
"##;

fn matcher() -> Matcher {
    Matcher::new(&parse_keywords(Path::new("k.toml"), KEYWORDS).unwrap()).unwrap()
}

/// The matcher of the shipped `keywords.toml`.
fn shipped_matcher() -> Matcher {
    let rules = parse_keywords(
        Path::new("keywords.toml"),
        include_str!("../../keywords.toml"),
    )
    .unwrap();
    Matcher::new(&rules).unwrap()
}

fn names(hits: &[BrandHit]) -> Vec<&str> {
    hits.iter().map(|h| &*h.brand).collect()
}

/// Asserts which brands and topics each text mentions.
fn expect_brands(matcher: &Matcher, cases: &[(&str, &[&str])]) {
    for (text, expected) in cases {
        assert_eq!(names(&matcher.find(text)), *expected, "{text}");
    }
}

#[test]
fn brands_in_turkish_case_diacritic_and_boundary_forms() {
    let matcher = matcher();
    let cases: &[(&str, &[&str])] = &[
        ("TURKCELL çekmiyor", &["Turkcell", "Turkcell outage"]),
        ("turkcell'e ulaşamıyorum", &["Turkcell"]),
        ("Turkcell’den cevap yok", &["Turkcell"]),
        ("turkcellden cevap yok", &["Turkcell"]),
        ("TURKCELLİN hatları", &["Turkcell"]),
        ("turkcellular phone", &[]),
        ("myturkcell", &[]),
        ("trkcell berbat", &["Turkcell"]),
        ("@TurkcellHizmet yardım", &["Turkcell"]),
        ("#Turkcell kesinti", &["Turkcell", "Turkcell outage"]),
        ("#turkcellhizmet", &[]),
        ("bkz. https://www.turkcell.com.tr/destek", &["Turkcell"]),
        ("TÜRK TELEKOM faturası", &["Türk Telekom"]),
        ("TürkTelekom ve turk-telekom", &["Türk Telekom"]),
        ("coca cola icecek", &["Coca-Cola"]),
        ("COCACOLA İÇECEK", &[]),
        (
            "Coca-Cola İçecek ve cocacolaicecek ve coca-cola-içecek",
            &["Coca-Cola"],
        ),
        ("Türk Telekom'dan ses yok", &["Türk Telekom"]),
        ("yapi kredi kartım ve YAPI KREDİ", &["Yapı Kredi"]),
        ("Turkcell Süper Lig maçı", &[]),
        ("THY'nin uçağı", &["THY"]),
        ("THYye yazdım", &["THY"]),
        ("thy kingdom come", &[]),
        ("TÜRK HAVA YOLLARI", &["THY"]),
        ("Uber çağırdım", &["Uber"]),
        ("über alles", &[]),
        ("TÜRKCELL", &["Turkcell"]),
        ("Visa harika", &[]),
        ("Visa kartım", &["Visa"]),
        ("hiçbir marka yok", &[]),
        ("", &[]),
        // Punctuation, symbols and emoji outside ASCII separate words.
        ("«Turkcell» “THY”", &["Turkcell", "THY"]),
        ("😡Turkcell😡", &["Turkcell"]),
        ("Türk—Telekom", &["Türk Telekom"]),
        // Letters of any script do not.
        ("жturkcell", &[]),
        ("turkcellж", &[]),
        ("Turk\u{200E}cell", &["Turkcell"]),
    ];
    expect_brands(&matcher, cases);
}

#[test]
fn every_hit_explains_kind_variant_and_span() {
    let matcher = matcher();
    let cases: &[(&str, &str, TermKind, &str, &str)] = &[
        (
            "Turkcell iyi",
            "Turkcell",
            TermKind::Exact,
            "turkcell",
            "Turkcell",
        ),
        (
            "TURK TELEKOM",
            "Türk Telekom",
            TermKind::Folded,
            "turk telekom",
            "TURK TELEKOM",
        ),
        (
            "Turkcell'e yazdım",
            "Turkcell",
            TermKind::Suffix,
            "turkcell",
            "Turkcell",
        ),
        (
            "turkcellden",
            "Turkcell",
            TermKind::Suffix,
            "turkcell",
            "turkcell",
        ),
        (
            "#TURKCELL",
            "#turkcell",
            TermKind::Hashtag,
            "#turkcell",
            "#TURKCELL",
        ),
        (
            "@turkcellhizmet",
            "@TurkcellHizmet",
            TermKind::Handle,
            "@turkcellhizmet",
            "@turkcellhizmet",
        ),
        (
            "turkcell.com.tr",
            "turkcell.com.tr",
            TermKind::Domain,
            "turkcell.com.tr",
            "turkcell.com.tr",
        ),
        (
            "trkcell",
            "trkcell",
            TermKind::Misspelling,
            "trkcell",
            "trkcell",
        ),
        (
            "turkcel",
            "Turkcell",
            TermKind::Misspelling,
            "turkcel",
            "turkcel",
        ),
        (
            "TurkTelekom",
            "Türk Telekom",
            TermKind::Folded,
            "turktelekom",
            "TurkTelekom",
        ),
    ];
    for (text, term, kind, variant, matched) in cases {
        let hits = matcher.find(text);
        let found = &hits[0].terms[0];
        assert_eq!(
            (
                &*found.term,
                found.kind,
                &*found.variant,
                found.matched.as_str()
            ),
            (*term, *kind, *variant, *matched),
            "{text}"
        );
        assert_eq!(&text[found.start..found.end], found.matched);
        assert_eq!(found.generated, *text == "turkcel", "{text}");
    }
}

#[test]
fn spans_point_into_multibyte_original_text() {
    let text = "Şikayet: ＹＡＰＩ KREDİ’ye ve Turkcell Superonline’a 😡 ulaşılamıyor";
    let hits = matcher().find(text);
    for term in hits.iter().flat_map(|h| &h.terms) {
        assert_eq!(&text[term.start..term.end], term.matched);
    }
    let turkcell = hits.iter().find(|h| &*h.brand == "Turkcell").unwrap();
    assert_eq!(
        turkcell.terms.len(),
        1,
        "the longer phrase wins: {turkcell:?}"
    );
    assert_eq!(turkcell.terms[0].matched, "Turkcell Superonline");
    assert_eq!(turkcell.terms[0].kind, TermKind::Suffix);
    assert_eq!(turkcell.team.as_deref(), Some("care"));
    let yapi = hits.iter().find(|h| &*h.brand == "Yapı Kredi").unwrap();
    assert_eq!(yapi.terms[0].matched, "ＹＡＰＩ KREDİ");
}

#[test]
fn topics_combine_all_any_none_and_near() {
    let matcher = matcher();
    let topics = |text: &str| -> Vec<String> {
        matcher
            .find(text)
            .into_iter()
            .filter(|h| h.kind == HitKind::Topic)
            .map(|h| h.brand.to_string())
            .collect()
    };
    let cases: &[(&str, &[&str])] = &[
        ("Turkcell çekmiyor", &["Turkcell outage"]),
        ("turkcell'de KESİNTİ var", &["Turkcell outage"]),
        ("Turkcell harika", &[]),
        ("kesinti var", &[]),
        ("Turkcell kesinti kampanya", &[]),
        ("uçuş rötar yaptı", &["THY delay"]),
        ("uçuş yine çok rötar", &["THY delay"]),
        ("uçuş bugün sabah yine çok fena rötar", &[]),
    ];
    for (text, expected) in cases {
        assert_eq!(topics(text), *expected, "{text}");
    }
}

#[test]
fn filters_use_post_properties() {
    let matcher = matcher();
    let post = |text: &str,
                source: &str,
                lang: Option<&str>,
                handle: Option<&str>,
                followers: Option<u64>,
                kind: Option<&str>| Post {
        source: source.into(),
        id: "1".into(),
        url: None,
        author: Some(Author {
            id: None,
            handle: handle.map(Into::into),
            name: None,
            followers,
        }),
        text: text.into(),
        lang: lang.map(Into::into),
        created_at: None,
        kind: kind.map(Into::into),
        in_reply_to: None,
        engagement: None,
    };
    let cases: &[(Post, &[&str])] = &[
        (
            post("Turkcell iyi", "x", None, Some("ayse"), None, None),
            &["Turkcell"],
        ),
        (
            post("Turkcell iyi", "x", None, Some("turkcell"), None, None),
            &[],
        ),
        (
            post(
                "Turkcell iyi",
                "x",
                None,
                Some("@TurkcellHizmet"),
                None,
                None,
            ),
            &[],
        ),
        (
            post("Türk Telekom iyi", "x", None, None, None, Some("repost")),
            &[],
        ),
        (
            post("RT @ali: Türk Telekom iyi", "x", None, None, None, None),
            &[],
        ),
        (
            post("Türk Telekom iyi", "x", None, None, None, Some("post")),
            &["Türk Telekom"],
        ),
        (
            post("Yapı Kredi iyi", "x", Some("tr"), None, Some(50), None),
            &["Yapı Kredi"],
        ),
        (
            post("Yapı Kredi iyi", "x", Some("en"), None, Some(50), None),
            &[],
        ),
        (
            post("Yapı Kredi iyi", "x", Some("TR"), None, Some(5), None),
            &[],
        ),
        (
            post("Yapı Kredi iyi", "x", None, None, None, None),
            &["Yapı Kredi"],
        ),
        (post("Visa kart", "x", None, None, None, None), &["Visa"]),
        (post("Visa kart", "mastodon", None, None, None, None), &[]),
    ];
    for (post, expected) in cases {
        assert_eq!(names(&matcher.match_post(post)), *expected, "{post:?}");
    }
}

#[test]
fn variants_are_reported_and_counted() {
    let matcher = matcher();
    let report = matcher.variant_report("Turkcell").unwrap();
    let typo = report.iter().find(|v| v.variant == "turkcel").unwrap();
    assert_eq!((typo.source, typo.hits, typo.dropped), ("typo", 0, None));
    assert!(report.iter().any(|v| v.source == "exclude"));
    let marti = Matcher::new(
        &parse_keywords(
            Path::new("k.toml"),
            "[[brand]]\nname = \"Martı\"\nterms = [\"Martı\"]\n",
        )
        .unwrap(),
    )
    .unwrap();
    let report = marti.variant_report("Martı").unwrap();
    assert!(
        report
            .iter()
            .any(|v| v.variant == "karti" && v.dropped == Some("real word"))
    );
    assert!(marti.find("kredi kartı").is_empty());
    matcher.find("turkcel turkcel");
    matcher.find("turkcel");
    let busiest = matcher.busiest_variants(1);
    assert_eq!(
        (busiest[0].variant.as_str(), busiest[0].hits),
        ("turkcel", 3)
    );
    assert!(matcher.variant_report("Nobody").is_none());
}

#[test]
fn a_generated_typo_that_fires_like_a_word_is_switched_off() {
    let tesla = || {
        Matcher::new(
            &parse_keywords(
                Path::new("k.toml"),
                "[[brand]]\nname = \"Tesla\"\nterms = [\"Tesla\"]\n",
            )
            .unwrap(),
        )
        .unwrap()
    };
    // A name that happens to be one slip away, with no real mention around.
    let matcher = tesla();
    for _ in 0..NOISY_MIN_HITS {
        assert_eq!(names(&matcher.find("as telsa said")), ["Tesla"]);
    }
    assert!(matcher.find("as telsa said").is_empty());
    assert_eq!(names(&matcher.find("Tesla")), ["Tesla"]);
    let noisy = matcher.take_noisy();
    assert_eq!(noisy.len(), 1);
    assert_eq!(
        (noisy[0].variant.as_str(), noisy[0].hits, noisy[0].dropped),
        ("telsa", NOISY_MIN_HITS, Some(NOISY))
    );
    assert!(matcher.take_noisy().is_empty(), "reported once");
    let report = matcher.variant_report("Tesla").unwrap();
    assert!(
        report
            .iter()
            .any(|v| v.variant == "telsa" && v.dropped == Some(NOISY))
    );
    // The same slips among many written mentions are ordinary typos and stay.
    let matcher = tesla();
    for _ in 0..2 * NOISY_MIN_HITS * NOISY_SHARE {
        matcher.find("Tesla");
    }
    for _ in 0..NOISY_MIN_HITS + 5 {
        assert_eq!(names(&matcher.find("telsa arızalı")), ["Tesla"]);
    }
    assert!(matcher.take_noisy().is_empty());
}

#[test]
fn typos_switched_off_before_matching_stay_off_and_written_variants_cannot_be() {
    let rules = parse_keywords(
        Path::new("k.toml"),
        "[[brand]]\nname = \"Tesla\"\nterms = [\"Tesla\"]\nmisspellings = [\"Teslaa\"]\n",
    )
    .unwrap();
    let (lookup, automaton) = (
        Matcher::with_typos_looked_up(&rules).unwrap(),
        Matcher::with_typos_in_automaton(&rules).unwrap(),
    );
    for matcher in [&lookup, &automaton] {
        assert_eq!(names(&matcher.find("Telsa arızalı")), ["Tesla"]);
        let switched = matcher.switch_off_typos([
            ("Tesla", "telsa"),
            // A written misspelling, another brand's name, and no variant at all.
            ("Tesla", "teslaa"),
            ("Other", "tesal"),
            ("Tesla", "nothing"),
        ]);
        assert_eq!(switched, 1);
        assert!(matcher.find("Telsa arızalı").is_empty());
        assert_eq!(names(&matcher.find("Teslaa arızalı")), ["Tesla"]);
        assert!(
            matcher.take_noisy().is_empty(),
            "known already: not reported again"
        );
        let report = matcher.variant_report("Tesla").unwrap();
        assert!(
            report
                .iter()
                .any(|v| v.variant == "telsa" && v.dropped == Some(NOISY))
        );
        assert!(
            report
                .iter()
                .any(|v| v.source == "typo" && v.dropped.is_none()),
            "the other typos stay on"
        );
    }
}

#[test]
fn typos_are_off_for_short_terms_and_on_request() {
    let matcher = matcher();
    assert!(matcher.find("THX").is_empty());
    assert!(matcher.find("Ubre").is_empty(), "typos = off");
    assert_eq!(names(&matcher.find("Turkcrll")), ["Turkcell"]);
    assert_eq!(names(&matcher.find("turkcellll")), Vec::<&str>::new());
}

static TURKCELL_ONLY: std::sync::LazyLock<Matcher> = std::sync::LazyLock::new(|| {
    let keywords = "[[brand]]\nname = \"T\"\nterms = [\"Türkcell\"]\ntypos = \"off\"\n";
    Matcher::new(&parse_keywords(Path::new("k.toml"), keywords).unwrap()).unwrap()
});

static FULL: std::sync::LazyLock<Matcher> = std::sync::LazyLock::new(matcher);

fn spellings() -> impl Strategy<Value = String> {
    let per_letter = |c: char| -> Vec<&'static str> {
        match c {
            't' => vec!["t", "T"],
            'u' => vec!["u", "U", "ü", "Ü", "ú"],
            'r' => vec!["r", "R"],
            'k' => vec!["k", "K", "Ｋ"],
            'c' => vec!["c", "C", "ç", "Ç"],
            'e' => vec!["e", "E", "é"],
            'l' => vec!["l", "L"],
            _ => vec!["?"],
        }
    };
    let letters: Vec<BoxedStrategy<&'static str>> = "turkcell"
        .chars()
        .map(|c| proptest::sample::select(per_letter(c)).boxed())
        .collect();
    letters.prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn a_term_matches_itself_in_any_case_or_diacritic_form(
        spelling in spellings(),
        before in "[a-zçğıöşü .,!?😡]{0,12}",
        after in "[a-zçğıöşü .,!?😡]{0,12}",
    ) {
        let text = format!("{before} {spelling} {after}");
        let hits = TURKCELL_ONLY.find(&text);
        prop_assert_eq!(hits.len(), 1, "{}", text);
        for term in &hits[0].terms {
            prop_assert!(text.is_char_boundary(term.start) && text.is_char_boundary(term.end));
            prop_assert_eq!(&text[term.start..term.end], term.matched.as_str());
        }
    }

    #[test]
    fn spans_always_fall_on_char_boundaries(text in "\\PC{0,60}") {
        for term in FULL.find(&text).iter().flat_map(|h| &h.terms) {
            prop_assert!(text.is_char_boundary(term.start) && text.is_char_boundary(term.end));
            prop_assert!(term.start < term.end);
        }
    }
}

/// Brands whose generated typos exercise the lookup: phrases (spaced and joined), an
/// exact-case term, an `ascii_strict` brand, a term ending in a non-word byte (its typos
/// stay in the automaton), a typo two brands have in common (`koravl`), a typo another
/// brand writes (`kroavel`) and one an exclusion takes (`turkcel`).
const TYPO_KEYWORDS: &str = r##"
[[brand]]
name = "Turkcell"
terms = ["Turkcell"]
misspellings = ["trkcell"]
exclude = ["turkcel lig"]

[[brand]]
name = "Türk Telekom"
terms = ["Türk Telekom", "Telekom Plus"]

[[brand]]
name = "Paribu"
terms = [{ term = "Paribu", case = "exact" }]

[[brand]]
name = "Koravel"
terms = ["Koravel"]
ascii_strict = true

[[brand]]
name = "Koravol"
terms = ["Koravol"]

[[brand]]
name = "Kroavel"
terms = ["Kroavel"]
typos = "off"

[[brand]]
name = "Disney+"
terms = ["Disney+"]

[[topic]]
name = "Turkcell outage"
all = ["Turkcell"]
any = ["kesinti"]
"##;

fn typo_matchers() -> (Matcher, Matcher) {
    let rules = parse_keywords(Path::new("k.toml"), TYPO_KEYWORDS).unwrap();
    (
        Matcher::with_typos_looked_up(&rules).unwrap(),
        Matcher::with_typos_in_automaton(&rules).unwrap(),
    )
}

/// Both matchers agree on `text`, explanations and spans included.
fn assert_same_hits(lookup: &Matcher, automaton: &Matcher, text: &str) -> Vec<BrandHit> {
    let hits = lookup.find(text);
    assert_eq!(hits, automaton.find(text), "{text:?}");
    hits
}

#[test]
fn typo_lookup_finds_what_the_automaton_found() {
    let (lookup, automaton) = typo_matchers();
    let cases: &[(&str, &[&str])] = &[
        ("turkcel", &["Turkcell"]),
        ("TURKCEL!", &["Turkcell"]),
        ("(turkcel) ve turkcel-x", &["Turkcell"]),
        ("turkcel'", &["Turkcell"]),
        // A typo takes no suffix, glued or after an apostrophe, and starts no word
        // inside another.
        ("turkcelde", &[]),
        ("Turkcel'e", &[]),
        ("turkcel's", &[]),
        ("xturkcel turkcel2 turkcel_x мтсturkcel", &[]),
        ("🙂turkcel🙂", &["Turkcell"]),
        ("turkcel lig", &[]),
        ("turkcel kesinti", &["Turkcell"]),
        ("turk telekmo", &["Türk Telekom"]),
        ("TÜRK TELEKMO'YA", &[]),
        ("turktelekmo", &["Türk Telekom"]),
        ("türk  telekmo", &[]),
        ("telekom plsu", &["Türk Telekom"]),
        ("Parbiu PARBIU", &["Paribu"]),
        ("koravle", &["Koravel"]),
        ("kóravle", &[]),
        ("koravl", &["Koravel"]),
        ("kroavel", &["Kroavel"]),
        ("koravlo", &["Koravol"]),
        ("dinsey+", &["Disney+"]),
        ("dinsey+x", &["Disney+"]),
        (
            "a turkcel b turk telekmo c koravle turkcell",
            &["Turkcell", "Türk Telekom", "Koravel"],
        ),
    ];
    for (text, expected) in cases {
        let hits = assert_same_hits(&lookup, &automaton, text);
        assert_eq!(names(&hits), *expected, "{text:?}");
    }
    assert_eq!(lookup.pattern_count(), automaton.pattern_count());
    for brand in [
        "Turkcell",
        "Türk Telekom",
        "Paribu",
        "Koravel",
        "Koravol",
        "Disney+",
    ] {
        assert_eq!(
            lookup.variant_report(brand),
            automaton.variant_report(brand)
        );
    }
    let koravol = lookup.variant_report("Koravol").unwrap();
    assert!(
        koravol
            .iter()
            .any(|v| v.variant == "koravl" && v.dropped == Some("taken by another term")),
        "a typo of an earlier brand is not generated again"
    );
    assert_eq!(lookup.busiest_variants(20), automaton.busiest_variants(20));
}

#[test]
fn typo_lookup_switches_noisy_typos_off_like_the_automaton() {
    let (lookup, automaton) = typo_matchers();
    for _ in 0..NOISY_MIN_HITS + 2 {
        assert_same_hits(&lookup, &automaton, "koravle koravle parbiu");
    }
    let noisy = lookup.take_noisy();
    assert_eq!(noisy.len(), 2);
    assert_eq!(noisy, automaton.take_noisy());
    assert!(assert_same_hits(&lookup, &automaton, "koravle").is_empty());
    assert_eq!(lookup.busiest_variants(5), automaton.busiest_variants(5));
}

#[test]
fn generated_typos_add_no_automaton_states() {
    // Before typos were looked up, each cost a dense automaton row per byte after its
    // edit: hundreds of bytes per typo, gigabytes for 10,000 brands.
    let syllables = ["ko", "ra", "vel", "tek", "mun", "sa", "dor", "pli", "zen"];
    let brands = |typos: &str| -> String {
        (0..150)
            .map(|i: usize| {
                let name: String = (0..4)
                    .map(|at| syllables[(i / 9usize.pow(at) + at as usize) % 9])
                    .collect();
                format!("[[brand]]\nname = \"{name}{i}\"\nterms = [\"{name}\", \"{name} Lojistik\"]\ntypos = \"{typos}\"\n")
            })
            .collect()
    };
    let compile = |typos| {
        let rules = parse_keywords(Path::new("k.toml"), &brands(typos)).unwrap();
        Matcher::new(&rules).unwrap()
    };
    let (on, off) = (compile("auto"), compile("off"));
    let typos = on.pattern_count() - off.pattern_count();
    assert!(typos > SCANNED_TYPOS, "{typos} typos");
    let few = Matcher::new(&parse_keywords(Path::new("k.toml"), TYPO_KEYWORDS).unwrap()).unwrap();
    assert!(few.typos.is_empty(), "a few typos are scanned for");
    assert_eq!(on.scanner.memory_usage(), off.scanner.memory_usage());
    let per_typo = (on.memory_usage() - off.memory_usage()) / typos;
    assert!(per_typo < 100, "{per_typo} bytes per typo");
}

fn typo_texts() -> impl Strategy<Value = String> {
    let words = proptest::sample::select(vec![
        "turkcel",
        "turkcell",
        "Turkcel",
        "tukrcell",
        "trkcell",
        "turk",
        "telekmo",
        "telekom",
        "türk",
        "turktelekmo",
        "plsu",
        "plus",
        "Parbiu",
        "PARBIU",
        "paribu",
        "koravle",
        "koravl",
        "kóravle",
        "koravlo",
        "kroavel",
        "dinsey",
        "lig",
        "kesinti",
        "de",
        "e",
        "ya",
        "мтс",
        "🙂",
        "x",
    ]);
    let glue = proptest::sample::select(vec![" ", " ", "", "'", "-", ".", "+", "_", "  "]);
    proptest::collection::vec((words, glue), 0..8).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(word, glue)| [word, glue])
            .collect()
    })
}

static TYPO_MATCHERS: std::sync::LazyLock<(Matcher, Matcher)> =
    std::sync::LazyLock::new(typo_matchers);

proptest! {
    #[test]
    fn typo_lookup_equals_the_automaton_on_any_text(text in typo_texts()) {
        let (lookup, automaton) = &*TYPO_MATCHERS;
        prop_assert_eq!(lookup.find(&text), automaton.find(&text), "{:?}", text);
    }
}

#[test]
fn each_term_kind_names_itself_as_in_its_json_form() {
    for kind in [
        TermKind::Exact,
        TermKind::Folded,
        TermKind::Misspelling,
        TermKind::Suffix,
        TermKind::Hashtag,
        TermKind::Handle,
        TermKind::Domain,
    ] {
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::Value::from(kind.as_str())
        );
    }
}

#[test]
fn feedback_switches_off_typos_and_folded_forms_never_written_terms_and_switches_back_on() {
    let matcher = Matcher::new(&parse_keywords(Path::new("k.toml"), KEYWORDS).unwrap()).unwrap();
    let off = |list: &[(&str, &str)]| {
        matcher.set_feedback_off(
            list.iter()
                .map(|(brand, variant)| (brand.to_string(), variant.to_string()))
                .collect(),
        )
    };
    assert_eq!(names(&matcher.find("tukrcell çekmiyor")), ["Turkcell"]);
    assert_eq!(names(&matcher.find("turktelekom arıza")), ["Türk Telekom"]);
    let switched = off(&[
        ("Turkcell", "tukrcell"),
        ("Türk Telekom", "turktelekom"),
        // The brand's own term, a listed misspelling, and a variant of another brand.
        ("Turkcell", "turkcell"),
        ("Turkcell", "trkcell"),
        ("Turkcell", "turktelekom"),
    ]);
    assert_eq!(switched, 2);
    assert!(matcher.find("tukrcell çekmiyor").is_empty());
    assert!(matcher.find("turktelekom arıza").is_empty());
    assert_eq!(names(&matcher.find("Türk Telekom arıza")), ["Türk Telekom"]);
    assert_eq!(names(&matcher.find("Turkcell trkcell")), ["Turkcell"]);
    let report = matcher.variant_report("Turkcell").unwrap();
    assert!(
        report
            .iter()
            .any(|v| v.variant == "tukrcell" && v.dropped == Some(FEEDBACK_OFF))
    );
    // `relevant` feedback took it below the threshold: the store lists it no more.
    assert_eq!(off(&[("Türk Telekom", "turktelekom")]), 1);
    assert_eq!(names(&matcher.find("tukrcell çekmiyor")), ["Turkcell"]);
    assert!(matcher.find("turktelekom arıza").is_empty());
}

/// Brands for the slips people really make (issue 16): five-letter names, names with an
/// apostrophe or a space, ASCII names typed with Turkish letters, case-exact acronyms.
/// Each plain name is a brand whose one term is its name.
const SLIP_NAMES: &[&str] = &[
    "Letgo",
    "Mercedes-Benz",
    "Tesla",
    "Hobby",
    "Metro",
    "Intel",
    "Martı",
    "Microsoft",
    "Samsung",
    "Google",
    "Spotify",
    "Target",
    "Getir",
    "Koton",
    "Arkas",
    "Pepsi",
    "Tesco",
    "Donut",
    "Exxen",
    "McDonald's",
    "Arby's",
    "Türk Telekom",
    "Yapı Kredi",
    "DenizBank",
    "Uber",
    "Zalando",
    "Fakir",
    "Amazon",
    "Instagram",
    "Booking.com",
    "Procter & Gamble",
    "Coca-Cola",
    "H&M",
];

const SLIP_RULES: &str = r##"
[[brand]]
name = "Turkcell"
terms = ["Turkcell"]
misspellings = ["turkcel"]

[[brand]]
name = "THY"
terms = ["Türk Hava Yolları", { term = "THY", case = "exact" }]
context = ["rötar", "berbat", "uçuş"]

[[brand]]
name = "ING"
terms = [{ term = "ING", case = "exact" }]
require_any = ["banka", "bank", "kredi", "hesap"]
"##;

fn slips() -> Matcher {
    let mut keywords: String = SLIP_NAMES
        .iter()
        .map(|name| format!("[[brand]]\nname = \"{name}\"\nterms = [\"{name}\"]\n\n"))
        .collect();
    keywords.push_str(SLIP_RULES);
    Matcher::new(&parse_keywords(Path::new("k.toml"), &keywords).unwrap()).unwrap()
}

#[test]
fn slips_people_really_make_are_found() {
    let matcher = slips();
    let cases: &[(&str, &[&str])] = &[
        // A slip next to marks that do not join it to another word.
        ("(spotfy) yine çöktü", &["Spotify"]),
        // Another nick in the post, one whose lower case is longer than itself (`İ`).
        ("<İSTANBUL> spotfy yine çöktü", &["Spotify"]),
        ("spotfy - premium iptal", &["Spotify"]),
        // A letter left out of a five-letter name.
        ("gtir siparişim gelmedi", &["Getir"]),
        ("kotn mağazası kapalı", &["Koton"]),
        ("exxn dizileri donuyor", &["Exxen"]),
        ("my tsco delivery was late", &["Tesco"]),
        ("lidl statt tesc", &["Tesco"]),
        // Joined and without the apostrophe, with Turkish suffixes, with a slip.
        ("arbys was closed", &["Arby's"]),
        ("mcdonalds fries", &["McDonald's"]),
        ("mcdonaldstan aldım", &["McDonald's"]),
        ("mcdonlds again", &["McDonald's"]),
        // An apostrophe or hyphen typed a key late.
        ("mcdonal'ds again", &["McDonald's"]),
        ("mercede-sbenz servisi kapalı", &["Mercedes-Benz"]),
        ("McDonald's'ta kuyruk", &["McDonald's"]),
        ("turkcellin çekimi yok", &["Turkcell"]),
        ("yapikredi şubesi", &["Yapı Kredi"]),
        ("yapıkrediden aradılar", &["Yapı Kredi"]),
        ("yapıkredı mobil", &["Yapı Kredi"]),
        ("yapikrdi uygulaması", &["Yapı Kredi"]),
        ("denizbankdan kart", &["DenizBank"]),
        // Without a name's marks, or with one typed twice.
        ("bookingcom rezervasyonum iptal", &["Booking.com"]),
        ("proctergamble ürünleri", &["Procter & Gamble"]),
        ("coca--cola içtim", &["Coca-Cola"]),
        ("booking..com çöktü", &["Booking.com"]),
        ("hm, bilmiyorum", &[]),
        ("türktelekomdan cevap yok", &["Türk Telekom"]),
        // An ASCII name typed with Turkish letters.
        ("Türkcell faturası", &["Turkcell"]),
        ("TÜRKCELL'e yazdım", &["Turkcell"]),
        ("Zalândo siparişi", &["Zalando"]),
        // Case-exact acronyms in the forms people type.
        ("thy'nin uçağı rötar yaptı", &["THY"]),
        ("THY'ye yazdım", &["THY"]),
        ("#thy neden cevap vermiyor", &["THY"]),
        ("@thy bagajım nerede", &["THY"]),
        ("Thy berbat", &["THY"]),
        ("thy rötar", &["THY"]),
        ("ing'den kredi", &["ING"]),
        // Slips that full-form word lists once refused as rare words of some language
        // (German `traget`, Portuguese `spotfy`): the lists are frequency lists now.
        ("my traget order never came", &["Target"]),
        ("spotfy keeps crashing", &["Spotify"]),
        // A slip written in lower case, or capitalised in Turkish or on its own.
        ("my telsa will not charge", &["Tesla"]),
        ("Telsa servisi cevap vermiyor", &["Tesla"]),
        ("Telsa", &["Tesla"]),
        // With evidence of the brand, capitalised in another language too.
        (
            "my Telsa will not charge, tesla support is slow",
            &["Tesla"],
        ),
        // A glued suffix in a Turkish post, capitalised before a name.
        ("Microsoftdan Ahmet Bey aradı", &["Microsoft"]),
    ];
    expect_brands(&matcher, cases);
}

#[test]
fn a_word_of_another_language_is_a_slip_only_outside_posts_of_that_language() {
    let matcher = slips();
    // `tecla` (Spanish and Portuguese "key") is one slip from Tesla, `letto` (Italian
    // "bed") one from Letgo.
    for (text, brands) in [
        ("tecla servisi yine cevap vermiyor", &["Tesla"][..]),
        (
            "my tecla will not charge, the battery is dead and nobody answers",
            &["Tesla"][..],
        ),
        ("No encuentro la tecla en el teclado", &[][..]),
        (
            "Troque o usuário e pressione qualquer tecla para continuar",
            &[][..],
        ),
        ("letto siparişim iptal oldu", &["Letgo"][..]),
        ("sono andato a letto presto questa sera", &[][..]),
    ] {
        assert_eq!(names(&matcher.find(text)), brands, "{text}");
    }
}

#[test]
fn a_suffix_glued_to_a_common_word_is_the_word_not_the_brand() {
    let matcher = slips();
    for (text, brands) in [
        // A common Turkish nominal inflected: only the apostrophe marks the brand.
        ("fakirle zenginin farkı yok", &[][..]),
        ("Fakir'le görüştüm, süpürge geldi", &["Fakir"][..]),
        ("martıdan simit kaptı", &[][..]),
        ("Martı'dan scooter kiraladım", &["Martı"][..]),
        // A verb takes no noun suffix: glued to one, the suffix is the brand's.
        ("getirden sipariş verdim", &["Getir"][..]),
        // A name that is a word of other languages: glued in Turkish posts only.
        ("amazondan sipariş verdim, kargo gelmedi", &["Amazon"][..]),
        ("instagramda paylaştım", &["Instagram"][..]),
        ("we sailed the amazonda river all week", &[][..]),
        // A proper name takes glued suffixes as before.
        ("turkcellden yine fatura geldi", &["Turkcell"][..]),
    ] {
        assert_eq!(names(&matcher.find(text)), brands, "{text}");
    }
}

#[test]
fn slips_that_read_as_other_names_or_words_stay_out() {
    let matcher = slips();
    let cases: &[&str] = &[
        // A capitalised slip in a run of capitalised words is a person's name.
        "-- Telsa Gwynne",
        "privileges that only a partner can grant. -- Telsa Gwynne #up #Telsa #Gwynne",
        "Two Paycheck Marri",
        // Capitalised in a post of another language: a name or a noun, unless the
        // brand has evidence in the post.
        "poskarżył się Nobby, i mydło kąpielowe",
        "Now, Mr. Merto may find that bizarre",
        "my Telsa will not charge again and the battery is dead",
        // Part of a handle, or written as a handle elsewhere in the post: a nick.
        "21:58 <@martii> misie kto ma idea",
        "22:00 <@Socrat> martii: to musisz komus kupic <@martii> ok",
        // Part of a longer token: a chat log's nick, a word joined by `-` or `_`.
        "<spotfy> hi all",
        "* <spotfy> hi <stealth_> spotfy :) how are you",
        "[02:51:44] < spotfy^> windows mi pokazal",
        "power2peo has joined #idle-spotfy",
        "user_spotfy wrote this",
        // An accent on a slip of an ASCII name makes another word (Portuguese `Inté`).
        "Inté, o processador esquentou",
        // A Swedish function word is no deletion of Intel.
        "det är inte så",
        // Endings other languages glue to a name, in posts that are not Turkish.
        "reklama Microsoftu w telewizji",
        "Nie kupuj Samsunga i Seagata",
        "Denken ist wie Googlen nur noch krasser",
        // A name that goes on past the brand, in a post that is not Turkish.
        "-- Thyde Monnier",
    ];
    for text in cases {
        assert_eq!(names(&matcher.find(text)), Vec::<&str>::new(), "{text}");
    }
}

#[test]
fn false_hits_that_must_stay_out() {
    let matcher = slips();
    let cases: &[&str] = &[
        // The English word of an acronym brand, without evidence of the name.
        "thy kingdom come, thy will be done",
        "Thy name is written",
        "going shopping and ING nothing",
        "the ing form of a verb",
        // An accented spelling that is a word (`über`, German; `uber` is listed).
        "über alles",
        "das ist über meinem Budget",
        // A deletion that is a word (`arka`: Turkish "back", `peps`: English) or a
        // frequent token (`dont`).
        "arka kapıdan girdim",
        "pep talk and peps",
        "i dont know",
        // Deletions leave four letters only from five-letter names, only as one word.
        "kredi yapi",
    ];
    for text in cases {
        assert_eq!(names(&matcher.find(text)), Vec::<&str>::new(), "{text}");
    }
    let donut = matcher.variant_report("Donut").unwrap();
    let dont = donut.iter().find(|v| v.variant == "dont").unwrap();
    assert_eq!(
        dont.dropped,
        Some("real word"),
        "a frequent token is no typo"
    );
}

#[test]
fn explicit_ascii_strict_refuses_accents_and_off_allows_them() {
    let keywords = |strict: &str| {
        format!(
            "[[brand]]\nname = \"Uber\"\nterms = [\"Uber\"]\nascii_strict = {strict}\n[[brand]]\nname = \"Turkcell\"\nterms = [\"Turkcell\"]\nascii_strict = {strict}\n"
        )
    };
    let strict =
        Matcher::new(&parse_keywords(Path::new("k.toml"), &keywords("true")).unwrap()).unwrap();
    assert_eq!(names(&strict.find("Türkcell über")), Vec::<&str>::new());
    assert_eq!(names(&strict.find("Turkcell Uber")), ["Uber", "Turkcell"]);
    let loose =
        Matcher::new(&parse_keywords(Path::new("k.toml"), &keywords("false")).unwrap()).unwrap();
    assert_eq!(names(&loose.find("Türkcell über")), ["Uber", "Turkcell"]);
}

#[test]
fn case_exact_terms_list_the_evidence_that_let_them_through() {
    let matcher = slips();
    let cases: &[(&str, &str, &[&str])] = &[
        ("thy'nin uçağı", "thy", &["suffix:'nin"]),
        ("#thy", "thy", &["hashtag:#thy"]),
        ("@thy", "thy", &["handle:@thy"]),
        ("thy rötar yaptı", "thy", &["context:rötar"]),
        ("Thy BERBAT", "Thy", &["context:BERBAT"]),
        (
            "thy ve Türk Hava Yolları",
            "thy",
            &["term:Türk Hava Yolları"],
        ),
        ("THY rötar", "THY", &[]),
    ];
    for (text, matched, evidence) in cases {
        let hits = matcher.find(text);
        let term = hits[0]
            .terms
            .iter()
            .find(|t| t.matched == *matched)
            .unwrap_or_else(|| panic!("{text}: {hits:?}"));
        assert_eq!(term.evidence, *evidence, "{text}");
    }
    let json = serde_json::to_value(&matcher.find("thy'nin")[0].terms[0]).unwrap();
    assert_eq!(json["evidence"], serde_json::json!(["suffix:'nin"]));
    let plain = serde_json::to_value(&matcher.find("THY")[0].terms[0]).unwrap();
    assert!(plain.get("evidence").is_none() && plain.get("suffix").is_none());
}

#[test]
fn labels_tell_the_case_the_slip_and_the_suffix() {
    let matcher = slips();
    let cases: &[(&str, TermKind, &[TermKind], Option<&str>)] = &[
        ("Türk Telekom", TermKind::Exact, &[TermKind::Exact], None),
        ("TÜRK TELEKOM", TermKind::Folded, &[TermKind::Folded], None),
        ("turkcell", TermKind::Folded, &[TermKind::Folded], None),
        (
            "Turkcell'e",
            TermKind::Suffix,
            &[TermKind::Exact, TermKind::Suffix],
            Some("'e"),
        ),
        (
            "TÜRKCELL'e",
            TermKind::Suffix,
            &[TermKind::Folded, TermKind::Suffix],
            Some("'e"),
        ),
        (
            "turkcelden",
            TermKind::Misspelling,
            &[TermKind::Misspelling, TermKind::Suffix],
            Some("den"),
        ),
        ("mcdonalds", TermKind::Folded, &[TermKind::Folded], None),
        (
            "gtir",
            TermKind::Misspelling,
            &[TermKind::Misspelling],
            None,
        ),
    ];
    for (text, kind, kinds, suffix) in cases {
        let hits = matcher.find(text);
        let term = &hits[0].terms[0];
        assert_eq!(
            (term.kind, term.kinds.as_slice(), term.suffix.as_deref()),
            (*kind, *kinds, *suffix),
            "{text}"
        );
    }
    // The JSON keeps `kind` as it was and adds `kinds` and `suffix`.
    let json = serde_json::to_value(&matcher.find("turkcelden")[0].terms[0]).unwrap();
    assert_eq!(json["kind"], "misspelling");
    assert_eq!(json["kinds"], serde_json::json!(["misspelling", "suffix"]));
    assert_eq!(json["suffix"], "den");
}

/// What the matcher must find in `text`, computed the straightforward way over the
/// tables of `m` (compiled with every typo in its automaton): the text folded one
/// character at a time with the original offset of every folded byte, every span of it
/// looked up among the patterns, and an explanation built for every accepted
/// occurrence before the rules and the overlap choice.
fn reference_find(m: &Matcher, text: &str) -> Vec<BrandHit> {
    let mut folded = String::new();
    let mut map = Vec::new();
    for (at, c) in text.char_indices() {
        let one = fold(c.encode_utf8(&mut [0; 4]));
        map.extend(std::iter::repeat_n(at, one.len()));
        folded.push_str(&one);
    }
    map.push(text.len());
    let bytes = folded.as_bytes();
    let ids: HashMap<&[u8], u32> = m
        .patterns
        .iter()
        .enumerate()
        .map(|(id, p)| (p.text.as_bytes(), id as u32))
        .collect();
    let mut candidates = Vec::new();
    for end in 1..=bytes.len() {
        for start in 0..end {
            let glued = start > 0
                && scan::is_word_byte(bytes[start])
                && scan::is_word_byte(bytes[start - 1]);
            if let Some(&id) = ids.get(&bytes[start..end]).filter(|_| !glued) {
                // Every glued word read as a suffix chain, whoever owns the pattern.
                let pattern = &m.patterns[id as usize];
                candidates.extend(candidate(bytes, pattern, id, start, end, |word_end| {
                    suffix::is_suffix(&bytes[end..word_end])
                }));
            }
        }
    }
    // Every accepted occurrence: entity, role and the number of words before it.
    let mut seen: Vec<(u32, Role, u32)> = Vec::new();
    // Accepted terms with their evidence (entity, owner, candidate, evidence).
    let mut terms: Vec<(u32, u32, Candidate, Vec<String>)> = Vec::new();
    // Context words found, in text order (entity, original text).
    let mut hints: Vec<(u32, &str)> = Vec::new();
    // Case-exact terms in another case with no evidence at their place.
    let mut waiting: Vec<(u32, u32, Candidate)> = Vec::new();
    for c in &candidates {
        let (start, end) = (map[c.start], map[c.end]);
        let original = &text[start..end];
        for &owner_id in &m.patterns[c.pattern as usize].owners {
            let owner = m.owner(owner_id);
            let accented = original.chars().any(is_accented);
            let accents =
                if owner.ascii_strict || owner.source == Source::Typo && owner.written.is_ascii() {
                    !accented
                } else {
                    !(m.entities[owner.entity as usize].accent_guard
                        && owner.written.is_ascii()
                        && accented
                        && accented_word(original))
                };
            let accepted = (!c.glued
                || owner.accepts_suffix()
                    && typos::accepts_glued_suffix(
                        &bytes[c.start..c.suffix_end],
                        c.end - c.start,
                        text,
                    )
                    && (!owner.is_name()
                        || typos::name_takes_glued_suffix(
                            typos::glued_name(&m.patterns[c.pattern as usize].text),
                            || typos::looks_turkish(text),
                        ))
                    && (!typos::in_name_run(text, start..map[c.suffix_end])
                        || typos::looks_turkish(text)))
                && !(owner.source == Source::Typo
                    && (c.suffix_end > c.end
                        || typos::reads_as_other_name(text, start..end)
                        || owner.foreign != 0
                            && super::words::Votes::of(text)
                                .reads_as(owner.foreign, owner.variant)))
                && accents;
            if !accepted {
                continue;
            }
            let mut evidence = Vec::new();
            let name_like = owner.source == Source::Typo
                && typos::is_capitalised(original)
                && typos::reads_foreign(text);
            if name_like || owner.case_exact && !same_case(original, owner.written) {
                match text[..start].chars().next_back() {
                    Some('#') => evidence.push(format!("hashtag:#{original}")),
                    Some('@') => evidence.push(format!("handle:@{original}")),
                    _ => {}
                }
                if c.suffix_end > c.end && !c.glued {
                    evidence.push(format!("suffix:{}", &text[end..map[c.suffix_end]]));
                }
                if evidence.is_empty() {
                    waiting.push((owner.entity, owner_id, *c));
                    continue;
                }
            }
            let words = folded[..c.start]
                .split(|c: char| !is_word_char(c))
                .filter(|word| !word.is_empty())
                .count();
            seen.push((owner.entity, owner.role, words as u32));
            if matches!(owner.role, Role::Context | Role::Hint) {
                hints.push((owner.entity, original));
            }
            if matches!(owner.role, Role::Find | Role::All(_) | Role::Any) {
                terms.push((owner.entity, owner_id, *c, evidence));
            }
        }
    }
    // A waiting term counts with a context word of its brand anywhere in the post, else
    // with another of its brand's terms that needed no evidence.
    let settled = terms.len();
    for (entity, owner_id, c) in waiting {
        let context = hints.iter().find(|(e, _)| *e == entity);
        let other = terms[..settled]
            .iter()
            .find(|(e, _, _, evidence)| *e == entity && evidence.is_empty());
        let evidence = match (context, other) {
            (Some((_, word)), _) => format!("context:{word}"),
            (None, Some((_, _, other, _))) => {
                format!("term:{}", &text[map[other.start]..map[other.end]])
            }
            (None, None) => continue,
        };
        seen.push((entity, Role::Find, 0));
        terms.push((entity, owner_id, c, vec![evidence]));
    }
    let terms: Vec<(u32, TermMatch)> = terms
        .into_iter()
        .map(|(entity, owner_id, c, evidence)| {
            let owner = m.owner(owner_id);
            let (start, end) = (map[c.start], map[c.end]);
            let matched = &text[start..end];
            let suffix = (c.suffix_end > c.end).then(|| text[end..map[c.suffix_end]].to_string());
            let base = match owner.source {
                Source::Handle => TermKind::Handle,
                Source::Hashtag => TermKind::Hashtag,
                Source::Domain => TermKind::Domain,
                Source::Misspelling | Source::Typo => TermKind::Misspelling,
                Source::Term | Source::Rule if matched == &**owner.written => TermKind::Exact,
                Source::Term | Source::Rule => TermKind::Folded,
            };
            let kind = match (owner.source, &suffix) {
                (Source::Term | Source::Rule, Some(_)) => TermKind::Suffix,
                _ => base,
            };
            let kinds = TermKinds::new(base, suffix.is_some());
            let term = TermMatch {
                term: owner.written.clone(),
                matched: matched.to_string(),
                kind,
                variant: owner.variant.into(),
                generated: owner.source == Source::Typo,
                start,
                end,
                kinds,
                suffix,
                evidence,
            };
            (entity, term)
        })
        .collect();
    let mut entities: Vec<u32> = seen.iter().map(|&(entity, _, _)| entity).collect();
    entities.sort_unstable();
    entities.dedup();
    let mut hits = Vec::new();
    for id in entities {
        let entity = &m.entities[id as usize];
        let has = |wanted: &dyn Fn(Role) -> bool| {
            seen.iter().any(|&(e, role, _)| e == id && wanted(role))
        };
        let fires = match entity.kind {
            HitKind::Brand => {
                !has(&|role| role == Role::Exclude)
                    && (!entity.requires_context || has(&|role| role == Role::Context))
            }
            HitKind::Topic => {
                // `near` groups: each `all` term its own, then the `any` terms.
                let positions: Vec<(u32, u32, u32)> = seen
                    .iter()
                    .filter(|&&(e, _, _)| e == id)
                    .filter_map(|&(e, role, words)| match role {
                        Role::All(group) => Some((e, u32::from(group), words)),
                        Role::Any => Some((e, u32::from(entity.all_count), words)),
                        _ => None,
                    })
                    .collect();
                (0..entity.all_count).all(|group| has(&|role| role == Role::All(group)))
                    && (!entity.has_any || has(&|role| role == Role::Any))
                    && !has(&|role| role == Role::None)
                    && entity
                        .near
                        .is_none_or(|near| within(&positions, id, entity.groups(), near))
            }
        };
        let mut mine: Vec<TermMatch> = terms
            .iter()
            .filter(|(entity, _)| *entity == id)
            .map(|(_, term)| term.clone())
            .collect();
        if !fires || mine.is_empty() {
            continue;
        }
        mine.sort_by(|a, b| {
            (a.start, std::cmp::Reverse(a.end), a.generated).cmp(&(
                b.start,
                std::cmp::Reverse(b.end),
                b.generated,
            ))
        });
        let mut kept: Vec<TermMatch> = Vec::new();
        for term in mine {
            if kept.last().is_none_or(|last| term.start >= last.end) {
                kept.push(term);
            }
        }
        hits.push(entity.hit(kept));
    }
    hits
}

/// Texts of brand fragments (typed, folded, misspelt, generated typos), Turkish
/// suffixes and letters, glued or apart.
fn brand_fragment_texts() -> impl Strategy<Value = String> {
    let fragments = proptest::sample::select(vec![
        "Turkcell",
        "turkcell",
        "TURKCELL",
        "turkcel",
        "trkcell",
        "tukrcell",
        "turkcll",
        "Türkcell",
        "türk",
        "TÜRK",
        "turk",
        "Telekom",
        "telekom",
        "telekmo",
        "TürkTelekom",
        "THY",
        "thy",
        "Thy",
        "türk hava yolları",
        "yapı",
        "YAPI",
        "yapi",
        "kredi",
        "KREDİ",
        "coca",
        "Cola",
        "içecek",
        "uber",
        "über",
        "Visa",
        "kart",
        "uçuş",
        "rötar",
        "iptal",
        "çekmiyor",
        "kesinti",
        "kampanya",
        "süper",
        "lig",
        "superonline",
        "@TurkcellHizmet",
        "#turkcell",
        "turkcell.com.tr",
        "ş",
        "ğ",
        "İ",
        "ı",
        "ü",
        "ﬁ",
        "ß",
        "😡",
        // Case-exact terms, their evidence and the accent rules (`REFERENCE_BRANDS`).
        "BiP",
        "bip",
        "BIP",
        "#bip",
        "@bip",
        "mesaj",
        "uygulama",
        "Paycell",
        "paycel",
        "ING",
        "ing",
        "banka",
        "hesap",
        "#thy",
        "@thy",
        "Opet",
        "öpet",
        "Gratis",
        "grátis",
        "Ubér",
    ]);
    let suffixes = proptest::sample::select(vec![
        "", "", "", "'e", "’nin", "de", "den", "e", "'ya", "ler", "ı", "'",
    ]);
    let glue = proptest::sample::select(vec![" ", " ", " ", "", "-", ".", ", ", "\u{200B}"]);
    proptest::collection::vec((fragments, suffixes, glue), 0..10).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(fragment, suffix, glue)| [fragment, suffix, glue])
            .collect()
    })
}

/// Brands added to [`KEYWORDS`] for the reference: case-exact terms with context words
/// and with required context, an ASCII-strict term and an ASCII term under the default
/// accent guard.
const REFERENCE_BRANDS: &str = r##"
[[brand]]
name = "BiP"
terms = [{ term = "BiP", case = "exact" }, "Paycell"]
context = ["mesaj", "uygulama"]

[[brand]]
name = "ING"
terms = [{ term = "ING", case = "exact" }]
require_any = ["banka", "hesap"]

[[brand]]
name = "Opet"
terms = ["Opet"]
ascii_strict = true

[[brand]]
name = "Gratis"
terms = ["Gratis"]
"##;

fn reference_rules() -> KeywordRules {
    parse_keywords(
        Path::new("k.toml"),
        &format!("{KEYWORDS}{REFERENCE_BRANDS}"),
    )
    .unwrap()
}

static REFERENCE_MATCHER: std::sync::LazyLock<Matcher> =
    std::sync::LazyLock::new(|| Matcher::with_typos_in_automaton(&reference_rules()).unwrap());

proptest! {
    #[test]
    fn the_fast_path_equals_a_straightforward_reference(text in brand_fragment_texts()) {
        // Fresh matchers: a hit count of earlier cases could switch a typo off.
        let rules = reference_rules();
        let expected = reference_find(&REFERENCE_MATCHER, &text);
        prop_assert_eq!(Matcher::new(&rules).unwrap().find(&text), expected.clone(), "{:?}", text);
        prop_assert_eq!(
            Matcher::with_typos_looked_up(&rules).unwrap().find(&text),
            expected,
            "{:?}",
            text
        );
    }
}

#[test]
fn the_reference_finds_what_the_fast_path_finds_in_known_texts() {
    // Guards the reference itself: it must see hits, so the property above compares
    // more than two empty lists.
    let text = "Turkcell'e ulaşamıyorum, TÜRK TELEKOM da çekmiyor; THY'nin uçuşu rötar";
    let hits = reference_find(&REFERENCE_MATCHER, text);
    assert_eq!(
        names(&hits),
        [
            "Turkcell",
            "Türk Telekom",
            "THY",
            "Turkcell outage",
            "THY delay"
        ],
        "{hits:#?}"
    );
    assert_eq!(hits, matcher().find(text));
}

#[test]
fn the_reference_decides_case_exact_terms_as_the_fast_path_does() {
    // Guards the reference's own acceptance rules: evidence at the place (`#thy`), from
    // a context word later in the post (`bip` … `mesaj`), from required context (`ing`
    // … `hesap`), and none (`bip` alone stays out).
    let text = "bip ile yazdım, #thy uçuşu; ing hesap açtım ve mesaj attım";
    let hits = reference_find(&REFERENCE_MATCHER, text);
    let evidence: Vec<(&str, Vec<String>)> = hits
        .iter()
        .map(|hit| (&*hit.brand, hit.terms[0].evidence.clone()))
        .collect();
    assert_eq!(
        evidence,
        [
            ("THY", vec!["hashtag:#thy".to_string()]),
            ("BiP", vec!["context:mesaj".to_string()]),
            ("ING", vec!["context:hesap".to_string()]),
        ],
        "{hits:#?}"
    );
    assert_eq!(hits, Matcher::new(&reference_rules()).unwrap().find(text));
    assert!(reference_find(&REFERENCE_MATCHER, "bip ile yazdım").is_empty());
}

#[test]
fn fuzzed_text_matches_or_not_without_panicking_and_spans_stay_on_the_text() {
    let matcher = shipped_matcher();
    let seeds: &[&[u8]] = &[
        "Turkcell'e iki gündür ulaşamıyorum, TÜRK TELEKOM da aynı".as_bytes(),
        "THY'nin uçuşu rötar yaptı #thy @TK_HelpDesk thy.com".as_bytes(),
        "yapi kredi mobil açılmıyor İSTANBUL'da, turkcelden şikayetçiyim".as_bytes(),
        "<skyper> denizbnk - premium (spotfy) 😡 \u{202e}Vodafone".as_bytes(),
    ];
    crate::fuzz::run("matcher", seeds, |input| {
        let text = String::from_utf8_lossy(input);
        for hit in matcher.find(&text) {
            for term in &hit.terms {
                assert!(
                    term.start <= term.end
                        && term.end <= text.len()
                        && text.is_char_boundary(term.start)
                        && text.is_char_boundary(term.end),
                    "{term:?} in {text:?}"
                );
            }
        }
    });
}

/// Found by the fuzzer (`MENTIOND_FUZZ_SEED=4370967537663131333`, two million cases):
/// a glued word whose stem ended in a letter of another script (`ϟ`) was cut inside
/// that letter while the suffix engine undid Turkish stem changes.
#[test]
fn a_glued_word_ending_in_another_scripts_letter_is_read_without_panicking() {
    let matcher = shipped_matcher();
    for text in [
        "yap\u{FFFD}iBUL'da, turkcelden \u{FFFD}ϟim k",
        "turkcellϟim",
        "Turkcell'ϟe",
        "ϟϟiyor turkcel",
    ] {
        let _ = matcher.find(text);
    }
}
