#!/usr/bin/env python3
"""End-to-end load tool: how fast does a running mentiond ingest posts?

Writes N posts (about 10% mention a shipped brand) to a JSON-lines file, starts the
release binary with a `jsonl` source on it and a `file` receiver, and measures the
time until the source's committed cursor reaches the end of the file (every post
read, matched, and its hits, deliveries and cursor committed). Then it waits for the
alerts file, stops the daemon with SIGTERM and checks the exit code.

Usage: cargo build --release && python3 bench/load_jsonl.py [--posts 200000]
Only local files and the local binary are used; nothing touches the network.
"""

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FILLER = [
    "bugün hava çok güzel", "maç akşam sekizde başlıyor", "kargo hâlâ gelmedi",
    "the train was late again", "new phone who dis", "kahve içmeye gidiyoruz",
    "ich habe heute keine Zeit", "fatura ödeme günü yaklaştı", "şehirde trafik felç",
]
MENTIONS = [
    "Turkcell'e iki gündür ulaşamıyorum", "TÜRK TELEKOM internet yine kesildi",
    "THY'nin uçuşu rötar yaptı", "@DenizDinliyor kartım bloke oldu",
    "yapi kredi mobil açılmıyor", "#turkcell çekmiyor",
]


def write_posts(path, count, rng):
    expected = 0
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            words = " ".join(rng.choice(FILLER) for _ in range(3))
            if i % 10 == 0:
                words = f"{words} {rng.choice(MENTIONS)}"
                expected += 1
            post = {
                "source": "load",
                "id": f"p{i}",
                "author": {"handle": f"user{rng.randrange(5000)}", "followers": rng.randrange(100000)},
                "text": words,
                "lang": "tr",
            }
            out.write(json.dumps(post, ensure_ascii=False) + "\n")
    return expected


def committed_offset(db):
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT cursor FROM cursors WHERE source = 'tickets'").fetchone()
    except sqlite3.Error:
        return 0
    return json.loads(row[0])["offset"] if row else 0


def count(db, table):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/mentiond"))
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        posts = os.path.join(work, "posts.jsonl")
        db = os.path.join(work, "mentiond.db")
        alerts = os.path.join(work, "alerts.jsonl")
        expected = write_posts(posts, args.posts, random.Random(42))
        size = os.path.getsize(posts)
        config = os.path.join(work, "mentiond.toml")
        with open(config, "w", encoding="utf-8") as out:
            out.write(f"""keywords = "{os.path.join(ROOT, 'keywords.toml')}"
[storage]
path = "{db}"
[log]
level = "warn"
[[sources]]
kind = "jsonl"
name = "tickets"
path = "{posts}"
interval = "100ms"
max_batch_bytes = 4194304
[[receivers]]
kind = "file"
name = "alerts"
path = "{alerts}"
[[routes]]
receivers = ["alerts"]
""")
        daemon = subprocess.Popen([args.binary, "--config", config, "run"], stdin=subprocess.DEVNULL)
        started = time.monotonic()
        deadline = started + args.timeout
        while committed_offset(db) < size:
            if time.monotonic() > deadline or daemon.poll() is not None:
                daemon.kill()
                sys.exit("timed out or daemon died")
            time.sleep(0.05)
        ingested = time.monotonic() - started
        deliveries = count(db, "deliveries")
        while count(db, "deliveries WHERE status = 'delivered'") < deliveries:
            if time.monotonic() > deadline:
                daemon.kill()
                sys.exit("deliveries did not drain")
            time.sleep(0.05)
        drained = time.monotonic() - started
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        hits = count(db, "hits")
        print(json.dumps({
            "posts": args.posts,
            "mb": round(size / 1e6, 1),
            "ingest_seconds": round(ingested, 2),
            "posts_per_second": round(args.posts / ingested),
            "hits": hits,
            "expected_mentions": expected,
            "deliveries": deliveries,
            "all_delivered_seconds": round(drained, 2),
            "exit_code": code,
        }))
        if code != 0:
            sys.exit(f"daemon exited with {code}")


if __name__ == "__main__":
    main()
