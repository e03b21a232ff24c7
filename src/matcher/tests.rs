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

fn names(hits: &[BrandHit]) -> Vec<&str> {
    hits.iter().map(|h| h.brand.as_str()).collect()
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
        ("TÜRKCELL", &[]),
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
    for (text, expected) in cases {
        assert_eq!(names(&matcher.find(text)), *expected, "{text}");
    }
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
                found.term.as_str(),
                found.kind,
                found.variant.as_str(),
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
    let turkcell = hits.iter().find(|h| h.brand == "Turkcell").unwrap();
    assert_eq!(
        turkcell.terms.len(),
        1,
        "the longer phrase wins: {turkcell:?}"
    );
    assert_eq!(turkcell.terms[0].matched, "Turkcell Superonline");
    assert_eq!(turkcell.terms[0].kind, TermKind::Suffix);
    assert_eq!(turkcell.team.as_deref(), Some("care"));
    let yapi = hits.iter().find(|h| h.brand == "Yapı Kredi").unwrap();
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
            .map(|h| h.brand)
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
        assert_eq!(names(&matcher.find("-- Telsa Gwynne")), ["Tesla"]);
    }
    assert!(matcher.find("-- Telsa Gwynne").is_empty());
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
                candidates.extend(candidate(bytes, &m.patterns[id as usize], id, start, end));
            }
        }
    }
    // Every accepted occurrence: entity, role and the number of words before it.
    let mut seen: Vec<(u32, Role, u32)> = Vec::new();
    let mut terms: Vec<(u32, TermMatch)> = Vec::new();
    for c in &candidates {
        let (start, end) = (map[c.start], map[c.end]);
        let original = &text[start..end];
        for &owner_id in &m.patterns[c.pattern as usize].owners {
            let owner = m.owner(owner_id);
            let accepted = (!c.glued || owner.accepts_suffix())
                && !(owner.source == Source::Typo && c.suffix_end > c.end)
                && (!owner.case_exact || same_case(original, owner.written))
                && (!owner.ascii_strict || !original.chars().any(is_accented));
            if !accepted {
                continue;
            }
            let words = folded[..c.start]
                .split(|c: char| !is_word_char(c))
                .filter(|word| !word.is_empty())
                .count();
            seen.push((owner.entity, owner.role, words as u32));
            if matches!(owner.role, Role::Find | Role::All(_) | Role::Any) {
                let term = TermMatch {
                    term: owner.written.to_string(),
                    matched: original.to_string(),
                    kind: owner.kind(c, original),
                    variant: owner.variant.to_string(),
                    generated: owner.source == Source::Typo,
                    start,
                    end,
                };
                terms.push((owner.entity, term));
            }
        }
    }
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

static REFERENCE_MATCHER: std::sync::LazyLock<Matcher> = std::sync::LazyLock::new(|| {
    let rules = parse_keywords(Path::new("k.toml"), KEYWORDS).unwrap();
    Matcher::with_typos_in_automaton(&rules).unwrap()
});

proptest! {
    #[test]
    fn the_fast_path_equals_a_straightforward_reference(text in brand_fragment_texts()) {
        // Fresh matchers: a hit count of earlier cases could switch a typo off.
        let rules = parse_keywords(Path::new("k.toml"), KEYWORDS).unwrap();
        let expected = reference_find(&REFERENCE_MATCHER, &text);
        prop_assert_eq!(Matcher::new(&rules).unwrap().find(&text), expected.clone(), "{:?}", text);
        prop_assert_eq!(
            Matcher::with_typos_looked_up(&rules).unwrap().find(&text),
            expected,
            "{:?}",
            text
        );
    }

    #[test]
    fn lower_case_comparison_equals_comparing_lowered_strings(
        a in "[a-zA-ZşŞıİσςΣé ]{0,6}",
        b in "[a-zA-ZşŞıİσςΣé ]{0,6}",
    ) {
        prop_assert_eq!(same_lower_case(&a, &b), a.to_lowercase() == b.to_lowercase());
        let upper = a.to_uppercase();
        prop_assert_eq!(same_lower_case(&upper, &a), upper.to_lowercase() == a.to_lowercase());
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
