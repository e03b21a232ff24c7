#!/usr/bin/env python3
"""Recall and typo false hits of `mentiond match --json` output against the labels of the
shared benchmark generator.

Usage: mentiond match --keywords K.toml --json < corpus.txt > hits.jsonl
       quality.py hits.jsonl labels.tsv

Recall: labelled (post, brand) pairs the matcher reported. Typo false hits: brand hits on
posts without any label whose terms are all generated typo variants, per 100,000 posts.
Unlabelled hits: brand hits (any variant) on posts without a label for that brand; many are
real mentions in the source text (fortunes quote Microsoft, Apple, Intel), the rest are
brand names used as ordinary words (`steam`, `visa`, `gratis`).
"""
import collections, json, sys

hits_path, labels_path = sys.argv[1], sys.argv[2]
labels = collections.defaultdict(set)
for line in open(labels_path, encoding="utf-8"):
    post, _, brand, _ = line.rstrip("\n").split("\t")
    labels[int(post)].add(brand)

posts = found = 0
typo_false = unlabelled = 0
typo_variants = collections.Counter()
missed = collections.Counter()
for line in open(hits_path, encoding="utf-8"):
    record = json.loads(line)
    post = record["line"] - 1
    posts += 1
    brands = {hit["brand"] for hit in record["hits"] if hit["kind"] == "brand"}
    unlabelled += len(brands - labels.get(post, set()))
    for brand in labels.get(post, ()):
        if brand in brands:
            found += 1
        else:
            missed[brand] += 1
    if post not in labels:
        for hit in record["hits"]:
            if hit["terms"] and all(term["generated"] for term in hit["terms"]):
                typo_false += 1
                typo_variants[hit["terms"][0]["variant"]] += 1

total = sum(len(b) for b in labels.values())
print(json.dumps({
    "posts": posts,
    "labels": total,
    "recall": found / total,
    "typo_false_hits": typo_false,
    "typo_false_hits_per_100k_posts": typo_false * 100000 / posts,
    "unlabelled_brand_hits": unlabelled,
    "most_missed_brands": missed.most_common(12),
    "noisiest_typo_variants": typo_variants.most_common(15),
}, ensure_ascii=False, indent=1))
