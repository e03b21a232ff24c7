#!/usr/bin/env python3
"""Baseline for `mentiond bench pipeline`: the same posts through a short Python script,
pyahocorasick for matching and sqlite3 for storing, as a team would write in an afternoon.

It reads the JSON-lines files a kept bench run left (`mentiond bench pipeline --keep`),
compiles the keywords file's brand terms, handles and hashtags (lower case, no typos, no
Turkish folding) into one automaton, matches each post's lower-cased text with a
word-boundary check, and stores each matching post and its hits in SQLite (WAL,
`synchronous = FULL`, one transaction per 5,000 posts read, like the daemon's 1 MiB
pages), then prints posts/s. It does less than the daemon (no typos, folding, sentiment,
routing, outbox or full-text index), so it bounds from above what such a script reaches.

Usage: python3 bench/pipeline_baseline.py --keywords KEYWORDS.toml DIR
Needs `pip install pyahocorasick` (not a dependency of the project or of CI).
"""

import argparse
import glob
import json
import os
import sqlite3
import sys
import time
import tomllib

import ahocorasick

BATCH = 5000


def patterns(keywords_path):
    with open(keywords_path, "rb") as f:
        keywords = tomllib.load(f)
    automaton = ahocorasick.Automaton()
    for brand in keywords.get("brand", []):
        for term in brand.get("terms", []) + brand.get("handles", []) + brand.get("hashtags", []):
            text = term.lower()
            automaton.add_word(text, (brand["name"], text))
    automaton.make_automaton()
    return automaton


def hits_of(automaton, text):
    lower = text.lower()
    found = set()
    for end, (brand, term) in automaton.iter(lower):
        start = end - len(term) + 1
        before = lower[start - 1] if start > 0 else " "
        after = lower[end + 1] if end + 1 < len(lower) else " "
        if not before.isalnum() and not after.isalnum():
            found.add(brand)
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keywords", required=True)
    ap.add_argument("dir")
    args = ap.parse_args()
    automaton = patterns(args.keywords)
    database = os.path.join(args.dir, "baseline.db")
    if os.path.exists(database):
        os.remove(database)
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, source TEXT, post_id TEXT, author TEXT,"
        " text TEXT, created_at TEXT, UNIQUE (source, post_id))"
    )
    db.execute(
        "CREATE TABLE hits (id INTEGER PRIMARY KEY, post INTEGER, brand TEXT, detected_at TEXT,"
        " UNIQUE (post, brand))"
    )
    files = sorted(glob.glob(os.path.join(args.dir, "posts-*.jsonl")))
    if not files:
        sys.exit(f"no posts-*.jsonl in {args.dir}: run `mentiond bench pipeline --keep` first")
    started = time.perf_counter()
    posts = hits = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            db.execute("BEGIN")
            for n, line in enumerate(f, 1):
                post = json.loads(line)
                posts += 1
                found = hits_of(automaton, post["text"])
                if found:
                    cursor = db.execute(
                        "INSERT OR IGNORE INTO posts (source, post_id, author, text, created_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (post["source"], post["id"], post.get("author", {}).get("handle"),
                         post["text"], post.get("created_at")),
                    )
                    for brand in found:
                        db.execute(
                            "INSERT OR IGNORE INTO hits (post, brand, detected_at)"
                            " VALUES (?, ?, datetime('now'))",
                            (cursor.lastrowid, brand),
                        )
                        hits += 1
                if n % BATCH == 0:
                    db.execute("COMMIT")
                    db.execute("BEGIN")
            db.execute("COMMIT")
    seconds = time.perf_counter() - started
    print(json.dumps({"posts": posts, "hits": hits, "seconds": round(seconds, 3),
                      "posts_per_s": round(posts / seconds)}))


if __name__ == "__main__":
    main()
