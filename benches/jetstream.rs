//! Criterion benchmark of the `bluesky_jetstream` source's CPU per event: decoding a
//! Jetstream frame, mapping it to a post (facets expanded) and matching the post with
//! the shipped keywords, on a generated stream in the shape of the fixtures (mostly
//! post creates in several languages, replies, links, a few brand mentions, deletes,
//! identity and account events). BENCHMARKS.md turns the figure into the CPU share
//! the whole Bluesky firehose costs.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mentiond::keywords::parse_keywords;
use mentiond::matcher::Matcher;
use mentiond::sources::jetstream::{Frame, parse_frame};
use serde_json::json;

const SENTENCES: &[(&str, &str)] = &[
    (
        "tr",
        "Bugün internet yine çok yavaş, müşteri hizmetlerine ulaşamıyorum.",
    ),
    (
        "en",
        "The weather in İstanbul is lovely this week, going to the Bosphorus.",
    ),
    (
        "tr",
        "Kargo hâlâ gelmedi, sipariş numarası ile sorguladım ama sonuç yok 😡",
    ),
    (
        "de",
        "Ich habe über das Wochenende nachgedacht und fahre morgen nach Berlin.",
    ),
    (
        "ja",
        "今日は雨なので家でゆっくり映画を観ます☔ 明日は晴れるといいな",
    ),
    (
        "en",
        "just setting up my new phone, any app recommendations? #tech",
    ),
    (
        "pt",
        "Alguém sabe se o show de sábado foi adiado? Não achei nada no site.",
    ),
    (
        "en",
        "Read the whole thread, it is worth it. The last part made me laugh out loud.",
    ),
];

const MENTIONS: &[&str] = &[
    "Turkcell'e",
    "TÜRK TELEKOM",
    "THY'nin",
    "yapi kredi",
    "#turkcell",
];

/// `count` frames: 90% post creates (one in 100 mentioning a brand, every fifth a
/// reply, every seventh with a shortened link), 8% deletes, 2% identity and account.
fn frames(count: usize) -> Vec<String> {
    let time = 1_795_400_000_000_000u64;
    (0..count)
        .map(|i| {
            let did = format!("did:plc:{:024x}", i * 7919);
            let time_us = time + i as u64 * 25_000;
            let event = match i % 50 {
                0 => json!({"did": did, "time_us": time_us, "kind": "identity",
                    "identity": {"did": did, "handle": "someone.bsky.social", "seq": i, "time": "2026-11-23T02:13:19.100Z"}}),
                1..=4 => json!({"did": did, "time_us": time_us, "kind": "commit",
                    "commit": {"rev": "3mzq0000000k2a", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": format!("3mzq{i:09}")}}),
                _ => {
                    let (lang, sentence) = SENTENCES[i % SENTENCES.len()];
                    let mut text = sentence.to_string();
                    if i % 100 == 7 {
                        text.push(' ');
                        text.push_str(MENTIONS[(i / 100) % MENTIONS.len()]);
                    }
                    let mut record = json!({"$type": "app.bsky.feed.post",
                        "createdAt": "2026-11-23T02:13:19.100Z", "langs": [lang], "text": text});
                    if i % 7 == 0 {
                        let shown = " example.com/articles/2026/11...";
                        let start = text.len() + 1;
                        text.push_str(shown);
                        record["text"] = json!(text);
                        record["facets"] = json!([{"features": [{"$type": "app.bsky.richtext.facet#link",
                            "uri": format!("https://example.com/articles/2026/11/story-{i}")}],
                            "index": {"byteStart": start, "byteEnd": text.len()}}]);
                    }
                    if i % 5 == 0 {
                        let parent = format!("at://did:plc:{:024x}/app.bsky.feed.post/3mzqparent", i);
                        record["reply"] = json!({"parent": {"cid": "bafyreig0", "uri": parent},
                            "root": {"cid": "bafyreig0", "uri": parent}});
                    }
                    json!({"did": did, "time_us": time_us, "kind": "commit",
                        "commit": {"rev": "3mzq0000000k2a", "operation": "create",
                            "collection": "app.bsky.feed.post", "rkey": format!("3mzq{i:09}"),
                            "record": record, "cid": "bafyreig0000000000000000000000000000000000000000000000000004"}})
                }
            };
            event.to_string()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let keywords = include_str!("../keywords.toml");
    let rules = parse_keywords(Path::new("keywords.toml"), keywords).expect("shipped keywords");
    let matcher = Matcher::new(&rules).expect("compiles");
    let frames = frames(10_000);
    let handles = HashMap::new();
    let source = "bluesky".into();
    let bytes: usize = frames.iter().map(String::len).sum();

    let mut group = c.benchmark_group("jetstream");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("decode and map", |b| {
        b.iter(|| {
            frames
                .iter()
                .filter(|frame| {
                    matches!(
                        parse_frame(&source, black_box(frame), &handles),
                        Ok(Frame::Post(..))
                    )
                })
                .count()
        })
    });
    group.bench_function("decode, map and match", |b| {
        b.iter(|| {
            frames
                .iter()
                .map(
                    |frame| match parse_frame(&source, black_box(frame), &handles) {
                        Ok(Frame::Post(post, _)) => matcher.match_post(&post).len(),
                        _ => 0,
                    },
                )
                .sum::<usize>()
        })
    });
    group.finish();
    eprintln!("jetstream bench: {} frames, {bytes} bytes", frames.len());
}

criterion_group!(benches, bench);
criterion_main!(benches);
