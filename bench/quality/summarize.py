#!/usr/bin/env python3
"""Summarizes the match-quality matrix (the JSON of `cargo bench --bench quality -- --json`,
one file per corpus named seed<SEED>-<MB>mb-<LIST>.json, as bench/quality/run.sh writes them):
the worst case per target, then one Markdown row per corpus; with --findings, the misses and
false hits of every corpus grouped by kind.

Brands of the held-out list are never named: rows and findings of `heldout` corpora say
"held-out brand" and describe kinds only, so the output can go into BENCHMARKS.md and
FINDINGS.md.

Usage: summarize.py [--findings] RESULT.json...
"""
import collections, json, os, re, sys

HELD_OUT_SEEDS = {"314159", "271828", "8128"}
RECALL, TYPO_PER_100K, PRECISION, MIN_HITS = 0.995, 3.0, 0.95, 20

args = sys.argv[1:]
findings = "--findings" in args
files = [a for a in args if a != "--findings"]
runs = []
for path in files:
    m = re.match(r"seed(\d+)-(\d+)mb-(\w+)\.json$", os.path.basename(path))
    if not m:
        sys.exit(f"unexpected result name {path}")
    with open(path, encoding="utf-8") as fh:
        runs.append((m.group(1), int(m.group(2)), m.group(3), json.load(fh)))
runs.sort(key=lambda r: (r[1], r[0] in HELD_OUT_SEEDS, int(r[0]), r[2]))


def name(run, brand):
    return "held-out brand" if run[2] == "heldout" else brand


def held(score):
    return score["true_hits"] + score["false_hits"] >= MIN_HITS


def precision(score):
    hits = score["true_hits"] + score["false_hits"]
    return score["true_hits"] / hits if hits else 1.0


def strict(score):
    hits = score["true_hits"] + score["false_hits"] + score["background_hits"]
    return score["true_hits"] / hits if hits else 1.0


def recall(score):
    return score["found"] / score["labels"] if score["labels"] else 1.0


def label(run):
    seed, mb, lst, _ = run
    return f"seed {seed} ({'held out' if seed in HELD_OUT_SEEDS else 'tuning'}), {mb} MB, list {lst}"


def worst_brand(run):
    scored = [b for b in run[3]["per_brand"] if held(b)]
    if not scored:
        return None
    return min(scored, key=precision)


if not findings:
    print("Worst case per target:\n")
    r = min(runs, key=lambda run: recall(run[3]["total"]))
    print(f"- recall: {recall(r[3]['total']) * 100:.2f}% ({r[3]['total']['found']} / {r[3]['total']['labels']}) on {label(r)} (target >= 99.5%)")
    r = max(runs, key=lambda run: run[3]["typo_false_hits_per_100k"])
    print(f"- generated-typo false hits: {r[3]['typo_false_hits_per_100k']:.1f} per 100k posts ({r[3]['typo_false_hits']} in {r[3]['posts']}) on {label(r)} (target <= 3)")
    worst = [(run, worst_brand(run)) for run in runs if worst_brand(run)]
    if worst:
        run, b = min(worst, key=lambda w: precision(w[1]))
        below = sum(1 for run2 in runs for b2 in run2[3]["per_brand"] if held(b2) and precision(b2) < PRECISION)
        print(f"- precision per brand: {precision(b) * 100:.1f}% ({name(run, b['name'])}, {b['true_hits']} true, {b['false_hits']} false hits) on {label(run)}; {below} (corpus, brand) pairs below 95% (target >= 95%)")
    print()
    print("| seed | MB | list | posts | labels | recall | typo false hits (per 100k) | false hits | worst brand precision (≥ 20 hits) | brands < 95% | strict precision (all) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        seed, mb, lst, rep = run
        t = rep["total"]
        b = worst_brand(run)
        below = [x for x in rep["per_brand"] if held(x) and precision(x) < PRECISION]
        worst_text = f"{precision(b) * 100:.1f}% ({name(run, b['name'])})" if b else "—"
        print(f"| {seed}{'*' if seed in HELD_OUT_SEEDS else ''} | {mb} | {lst} | {rep['posts']:,} | {t['labels']:,} | "
              f"{recall(t) * 100:.2f}% | {rep['typo_false_hits']} ({rep['typo_false_hits_per_100k']:.1f}) | {t['false_hits']} | "
              f"{worst_text} | {len(below)} | {strict(t) * 100:.1f}% |")
    print("\n`*` held-out seed.")
    sys.exit(0)

# --findings: misses and false hits grouped by kind, over every run
misses = collections.Counter()
miss_examples = collections.defaultdict(list)
false = collections.Counter()
false_examples = collections.defaultdict(list)
for run in runs:
    rep = run[3]
    for m in rep["misses"]:
        joined = re.sub(r"[^0-9a-z]", "", m["surface"].lower())
        brand_has_gap = bool(re.search(r"[ '\-.&]", m["brand"]))
        if m["kind"] != "typo":
            kind = f"{m['kind']} form missed"
        elif len(joined) <= 4:
            kind = "typo: one letter left out of a five-letter brand, four letters remain"
        elif brand_has_gap:
            kind = "typo: slip in a brand with an apostrophe, space or punctuation (joined form plus a slip)"
        elif not m["surface"].isascii():
            kind = "typo: accented or Turkish-letter spelling"
        else:
            kind = f"typo: other one-slip spelling ({m['reason']})"
        misses[kind] += 1
        if run[2] != "heldout" and len(miss_examples[kind]) < 6:
            miss_examples[kind].append(f"`{m['surface']}` for {m['brand']}")
    for f in rep["false_hits"]:
        word = f.get("word") or f["matched"]
        if f["generated"]:
            kind = f"generated typo that is a word or name in {f['language']} text"
        elif f["kind"] == "suffix":
            glued = not word[len(f["matched"]):].startswith(("'", "’"))
            kind = f"brand plus a {'glued' if glued else 'apostrophe'} suffix reading a longer word ({f['language']} text)"
        else:
            kind = f"{f['kind']} match without a label ({f['language']} text)"
        false[kind] += 1
        if run[2] != "heldout" and len(false_examples[kind]) < 6:
            example = f"`{word}` → {f['brand']}"
            if example not in false_examples[kind]:
                false_examples[kind].append(example)

print(f"Over {len(runs)} corpora:\n")
print("Misses by kind:\n")
for kind, n in misses.most_common():
    ex = "; ".join(miss_examples[kind])
    print(f"- {n} {kind}" + (f" (examples from the tuning and generator lists: {ex})" if ex else ""))
print("\nFalse hits by kind:\n")
for kind, n in false.most_common():
    ex = "; ".join(false_examples[kind])
    print(f"- {n} {kind}" + (f" (examples from the tuning and generator lists: {ex})" if ex else ""))
