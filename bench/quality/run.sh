#!/usr/bin/env bash
# The match-quality matrix: generates (cached) and evaluates every seed x size x brand
# list, then prints one table and the worst case per target (bench/quality/README.md).
#
#   bench/quality/run.sh [--seeds "42 11 101 314159 271828 8128"] [--sizes "20 200"]
#                        [--lists "default tuning tuning2 heldout"] [--out DIR] [--generate-only]
#
# Corpora are cached under $QUALITY_CORPORA (default /work/qc when it exists, else
# target/quality-corpora) as seed<SEED>-<MB>mb-<LIST>/, written to a temporary
# directory and renamed, and never written twice. The generator is ../shared/bench/
# gen_corpus.py beside the repository ($GEN_CORPUS overrides it). Each evaluation's
# JSON goes to --out (default target/quality-results). Held-out seeds and the held-out
# list are for this evaluation only: never tune on them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seeds="42 11 101 314159 271828 8128"
sizes="20 200"
lists="default tuning tuning2 heldout"
out="$root/target/quality-results"
generate_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) seeds="$2"; shift 2 ;;
        --sizes) sizes="$2"; shift 2 ;;
        --lists) lists="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --generate-only) generate_only=1; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
generator="${GEN_CORPUS:-$root/../shared/bench/gen_corpus.py}"
if [ -z "${QUALITY_CORPORA:-}" ]; then
    if [ -d /work/qc ] && [ -w /work/qc ]; then QUALITY_CORPORA=/work/qc; else QUALITY_CORPORA="$root/target/quality-corpora"; fi
fi
mkdir -p "$QUALITY_CORPORA" "$out"

brand_file() {
    case "$1" in
        default) echo "" ;;
        tuning) echo "$root/bench/quality/brands-tuning.txt" ;;
        tuning2) echo "$root/bench/quality/brands-tuning2.txt" ;;
        tuning3) echo "$root/bench/quality/brands-tuning3.txt" ;;
        heldout) echo "$root/bench/quality/brands-heldout.txt" ;;
        *) echo "unknown brand list $1" >&2; exit 2 ;;
    esac
}

# corpus SEED MB LIST: prints the cached corpus directory, generating it when missing.
corpus() {
    local dir="$QUALITY_CORPORA/seed$1-$2mb-$3" brands
    brands="$(brand_file "$3")"
    if [ ! -f "$dir/stats.json" ]; then
        local tmp
        tmp="$(mktemp -d "$QUALITY_CORPORA/.tmp-seed$1-$2mb-$3.XXXXXX")"
        python3 "$generator" --out "$tmp" --mb "$2" --seed "$1" ${brands:+--brands "$brands"} >&2
        chmod a+rx "$tmp"
        # Another run may have written it meanwhile: keep theirs.
        mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
    fi
    echo "$dir"
}

if [ "$generate_only" = 1 ]; then
    for size in $sizes; do for seed in $seeds; do for list in $lists; do corpus "$seed" "$size" "$list"; done; done; done
    exit 0
fi
cargo bench --bench quality --no-run >&2
for size in $sizes; do
    for seed in $seeds; do
        for list in $lists; do
            dir="$(corpus "$seed" "$size" "$list")"
            brands="$(brand_file "$list")"
            echo "evaluating seed $seed, $size MB, list $list" >&2
            cargo bench -q --bench quality -- --corpus "$dir" ${brands:+--brands "$brands"} --json \
                > "$out/seed$seed-${size}mb-$list.json"
        done
    done
done
python3 "$root/bench/quality/summarize.py" "$out"/*.json
