//! Criterion benchmarks of the matcher on the shipped keywords: folding alone, whole
//! posts per second on a generated mix of posts with and without mentions (sparse), on
//! short Turkish complaints that all mention a brand (hit-dense, a search source's
//! feed) and on the same complaints with the brands taken out (no hits), and compiling
//! them and the longest term accepted. After criterion, the matcher's speed on each
//! set is printed next to the raw DFA's over the same posts (`mentiond bench`'s
//! measurement, `matcher::bench::run`).
//! For corpus-scale figures use `mentiond bench` (see BENCHMARKS.md).
//!
//! `MATCHER_BENCH_PASS=sparse|dense|none` runs one matching pass over that set and
//! nothing else, for counting instructions under `valgrind --tool=callgrind`
//! (`MATCHER_BENCH_ENGINE=raw`: the raw DFA's pass instead).

use std::hint::black_box;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{Criterion, Throughput, criterion_group};
use mentiond::keywords::{KeywordRules, MAX_TERM_CHARS, parse_keywords};
use mentiond::matcher::{Matcher, bench as corpus_bench, typos};
use mentiond::text::Folded;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SENTENCES: &[&str] = &[
    "Bugün internet yine çok yavaş, müşteri hizmetlerine ulaşamıyorum.",
    "The weather in İstanbul is lovely this week, going to the Bosphorus.",
    "Kargo hâlâ gelmedi, sipariş numarası ile sorguladım ama sonuç yok 😡",
    "Ich habe über das Wochenende nachgedacht und fahre morgen nach Berlin.",
    "Uçuş iki saat rötar yaptı ve bagaj kayboldu, kimse bilgi vermiyor!",
    "Kredi kartı ekstresi yanlış geldi, şubeye gitmem gerekiyor.",
    "Привет, как дела? Давно не виделись.",
    "just setting up my new phone, any app recommendations? #tech",
];

const MENTIONS: &[&str] = &[
    "Turkcell'e",
    "TÜRK TELEKOM",
    "THY'nin",
    "@DenizBank",
    "yapi kredi",
    "turkcel",
    "#turkcell",
];

fn posts(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let mut post = SENTENCES[i % SENTENCES.len()].to_string();
            if i % 50 == 0 {
                post.push(' ');
                post.push_str(MENTIONS[(i / 50) % MENTIONS.len()]);
            }
            if i % 3 == 0 {
                post.push(' ');
                post.push_str(SENTENCES[(i * 7 + 3) % SENTENCES.len()]);
            }
            post
        })
        .collect()
}

/// Posts in the hit-dense and no-hit sets (and the sparse set of the ratio figures).
const DENSE_POSTS: usize = 100_000;

/// Short Turkish complaints; `{}` is where the brand goes.
const COMPLAINTS: &[&str] = &[
    "{} yine çekmiyor, üç gündür internet yok",
    "{} müşteri hizmetlerine bir saattir ulaşamıyorum",
    "faturam {} tarafından yanlış kesilmiş, itiraz ettim",
    "{} uçağı iki saat rötar yaptı, bilgi veren yok",
    "kartımı {} bloke etti, şubeye gitmem lazım",
    "{} berbat, aboneliğimi iptal ediyorum",
    "{} ne zaman düzelecek artık?",
    "bugün {} ile konuştum sonuç yok 😡",
    "{} paket ücretleri çok pahalı",
    "evde {} arızası var, teknisyen gelmedi",
    "{} uygulaması açılmıyor!!",
    "bagajım kayboldu, {} cevap vermiyor",
    "{} kredi başvurum hâlâ sonuçlanmadı",
    "mobil şebeke {} yüzünden kesik",
    "{} harika bir kampanya yapmış 👏",
    "arkadaşlar {} sizde de mi yavaş?",
];

/// Mentions of the shipped keywords' brands as people type them: suffixes glued or
/// after an apostrophe, capitals, missing Turkish letters, joined forms, hashtags,
/// handles, domains and listed misspellings. Each is a hit on its own.
const BRAND_FORMS: &[&str] = &[
    "Turkcell",
    "turkcell",
    "TURKCELL",
    "Turkcell'e",
    "Turkcell'in",
    "turkcellden",
    "turkcelle",
    "Türkcell",
    "#turkcell",
    "@TurkcellHizmet",
    "turkcel",
    "trkcell",
    "Paycell",
    "fizy",
    "BiP",
    "Vodafone",
    "vodafone'a",
    "Vodafone'dan",
    "VODAFONE",
    "#vodafone",
    "@VodafoneTR",
    "Türk Telekom",
    "türk telekom'a",
    "TÜRK TELEKOM",
    "turk telekom",
    "TürkTelekom",
    "turktelekomdan",
    "#türktelekom",
    "@TTDestek",
    "turk telecom",
    "Superonline",
    "superonline'a",
    "Süperonline",
    "THY",
    "THY'nin",
    "THY'ye",
    "#thy",
    "@TK_HelpDesk",
    "Türk Hava Yolları",
    "turk hava yollari",
    "Turkish Airlines",
    "thy.com",
    "Pegasus Airlines",
    "flypgs",
    "@flypgs",
    "#pegasus",
    "DenizBank",
    "denizbank'a",
    "Denizbanktan",
    "@DenizDinliyor",
    "MobilDeniz",
    "denizbnk",
    "Garanti BBVA",
    "garanti bbva'ya",
    "@garantibbva",
    "Yapı Kredi",
    "yapi kredi",
    "Yapı Kredi'ye",
    "YAPI KREDİ",
    "yapıkredı",
    "#yapikredi",
    "@YapiKredi",
    "World Card",
    "Akbank",
    "Akbank'a",
    "akbanktan",
    "@AkbankDestek",
    "Akbank Direkt",
];

/// Terms whose generated typos some posts carry besides their mention.
const TYPO_TERMS: &[&str] = &["turkcell", "vodafone", "denizbank", "superonline", "akbank"];

/// `count` short Turkish complaints, each mentioning a brand of the shipped keywords
/// (some twice, some with a generated typo or a hashtag too), and the same posts with
/// every mention taken out: the hit-dense case of a search source, and its text
/// without hits. Seeded, so every run measures the same posts.
fn dense_posts(count: usize) -> (Vec<String>, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(16);
    let typos: Vec<String> = TYPO_TERMS
        .iter()
        .flat_map(|term| {
            typos::variants(term)
                .into_iter()
                .filter(|variant| !variant.real_word)
                .map(|variant| variant.text)
        })
        .collect();
    let mut with = Vec::with_capacity(count);
    let mut without = Vec::with_capacity(count);
    for _ in 0..count {
        let complaint = COMPLAINTS[rng.gen_range(0..COMPLAINTS.len())];
        let brand = BRAND_FORMS[rng.gen_range(0..BRAND_FORMS.len())];
        let mut post = complaint.replace("{}", brand);
        let mut bare = complaint.replace("{} ", "").replace(" {}", "");
        match rng.gen_range(0..10) {
            0..3 => {
                post.push(' ');
                post.push_str(BRAND_FORMS[rng.gen_range(0..BRAND_FORMS.len())]);
            }
            3..5 => {
                post.push(' ');
                post.push_str(&typos[rng.gen_range(0..typos.len())]);
            }
            5 => {
                let tail = " lütfen dönüş yapın";
                post.push_str(tail);
                bare.push_str(tail);
            }
            _ => {}
        }
        with.push(post);
        without.push(bare);
    }
    (with, without)
}

fn shipped_rules() -> KeywordRules {
    let keywords = include_str!("../keywords.toml");
    parse_keywords(Path::new("keywords.toml"), keywords).expect("shipped keywords")
}

fn bench(c: &mut Criterion) {
    let rules = shipped_rules();
    let matcher = Matcher::new(&rules).expect("compiles");
    let posts = posts(10_000);
    let bytes: usize = posts.iter().map(String::len).sum();

    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("fold", |b| {
        let mut folded = Folded::default();
        b.iter(|| {
            for post in &posts {
                folded.fold_into(black_box(post));
                black_box(folded.as_bytes());
            }
        })
    });
    group.bench_function("find", |b| {
        b.iter(|| {
            posts
                .iter()
                .map(|post| matcher.find(black_box(post)).len())
                .sum::<usize>()
        })
    });
    group.finish();

    let (dense, none) = dense_posts(DENSE_POSTS);
    let raw = raw_dfa(&matcher);
    let mut group = c.benchmark_group("dense");
    group.throughput(Throughput::Elements(DENSE_POSTS as u64));
    for (name, posts) in [("hits", &dense), ("no hits", &none)] {
        group.bench_function(format!("find, {name}"), |b| {
            b.iter(|| {
                posts
                    .iter()
                    .map(|post| matcher.find(black_box(post)).len())
                    .sum::<usize>()
            })
        });
        group.bench_function(format!("raw DFA, {name}"), |b| {
            b.iter(|| {
                posts
                    .iter()
                    .map(|post| raw.find_overlapping_iter(black_box(post)).count())
                    .sum::<usize>()
            })
        });
    }
    group.finish();

    c.bench_function("compile shipped keywords", |b| {
        b.iter(|| Matcher::new(black_box(&rules)).expect("compiles"))
    });

    // The longest term the keywords accept, typos on: the worst case per term.
    let letters = b"qwertyuiopasdfghjklzxcvbnm";
    let longest: String = (0..MAX_TERM_CHARS)
        .map(|at| char::from(letters[at * 7 % letters.len()]))
        .collect();
    let text = format!("[[brand]]\nname = \"Long\"\nterms = [\"{longest}\"]\n");
    let long = parse_keywords(Path::new("long.toml"), &text).expect("longest term accepted");
    c.bench_function("compile one longest term", |b| {
        b.iter(|| Matcher::new(black_box(&long)).expect("compiles"))
    });
}

/// The matcher next to the raw DFA on each set, as `mentiond bench` measures it.
fn ratios(rules: &KeywordRules) {
    let (dense, none) = dense_posts(DENSE_POSTS);
    for (name, posts) in [
        ("sparse", posts(DENSE_POSTS)),
        ("hit-dense", dense),
        ("no hits", none),
    ] {
        let report = corpus_bench::run(rules, &posts.join("\n")).expect("compiles");
        match name {
            "hit-dense" => assert_eq!(report.posts_with_hits, report.posts, "every post has a hit"),
            "no hits" => assert_eq!(report.posts_with_hits, 0, "no post has a hit"),
            _ => {}
        }
        println!(
            "{name:>9}: {} posts, {} with hits; matcher {:.0} posts/s ({:.1} MB/s), raw DFA {:.1} MB/s, pre-folded DFA {:.1} MB/s: {:.2}x the raw DFA",
            report.posts,
            report.posts_with_hits,
            report.matcher.posts_per_s,
            report.matcher.mb_per_s,
            report.raw_dfa.mb_per_s,
            report.prefolded_dfa.mb_per_s,
            report.ratio,
        );
    }
}

/// One matching pass over one set (`MATCHER_BENCH_PASS`), for instruction counts.
fn one_pass(rules: &KeywordRules, set: &str) {
    let matcher = Matcher::new(rules).expect("compiles");
    let (dense, none) = dense_posts(DENSE_POSTS);
    let posts = match set {
        "sparse" => posts(DENSE_POSTS),
        "dense" => dense,
        "none" => none,
        other => panic!("MATCHER_BENCH_PASS is sparse, dense or none, not {other:?}"),
    };
    let hits: usize = if std::env::var("MATCHER_BENCH_ENGINE").is_ok_and(|e| e == "raw") {
        let raw = raw_dfa(&matcher);
        posts.iter().map(|post| raw_count(&raw, post)).sum()
    } else {
        posts.iter().map(|post| matcher.find(post).len()).sum()
    };
    println!("{set}: {} posts, {hits} hits or raw matches", posts.len());
}

/// aho-corasick's own DFA over the matcher's folded patterns, as `bench::run` builds
/// it.
fn raw_dfa(matcher: &Matcher) -> AhoCorasick {
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .build(matcher.patterns())
        .expect("the DFA builds")
}

/// The raw DFA's overlapping matches in `post` (a function of its own, so callgrind
/// can count its instructions alone).
#[inline(never)]
fn raw_count(raw: &AhoCorasick, post: &str) -> usize {
    raw.find_overlapping_iter(post).count()
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(set) = std::env::var("MATCHER_BENCH_PASS") {
        one_pass(&shipped_rules(), &set);
        return;
    }
    benches();
    // Not in `cargo test --benches` (each benchmark once) nor when listing.
    if !std::env::args().any(|arg| arg == "--test" || arg == "--list") {
        ratios(&shipped_rules());
    }
    Criterion::default().configure_from_args().final_summary();
}
