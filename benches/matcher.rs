//! Criterion benchmarks of the matcher on the shipped keywords: folding alone, and
//! whole posts per second on a generated mix of posts with and without mentions, and
//! compiling them and the longest term accepted.
//! For corpus-scale figures use `mentiond bench` (see BENCHMARKS.md).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mentiond::keywords::{MAX_TERM_CHARS, parse_keywords};
use mentiond::matcher::Matcher;
use mentiond::text::Folded;

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

fn bench(c: &mut Criterion) {
    let keywords = include_str!("../keywords.toml");
    let rules = parse_keywords(Path::new("keywords.toml"), keywords).expect("shipped keywords");
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

criterion_group!(benches, bench);
criterion_main!(benches);
