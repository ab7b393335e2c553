#!/usr/bin/env bash
# The README's demo: the paper's experiment in miniature, offline, on files it makes.
# LENS and the Traditional baseline search with real training (scikit-learn's digits,
# which ship inside a dependency), then compare, report, thresholds and a per-layer
# analysis. A rerun continues the runs in demo-out/ (--resume) instead of redoing them.
set -euo pipefail
LF=".venv/bin/lens-fast"
OUT="demo-out"
mkdir -p "$OUT"
# Two short epochs on 600 digits per candidate: errors that differ between
# architectures, in minutes on two CPU cores. The cache is shared by both searches,
# so the initial random candidates (the same seed) are trained once.
SEARCH=(--tech lte --tu 8 --budget 20 --init 8 --batch 4 --seed 0
        --error train --data digits --epochs 2 --subset 600 --cache-dir "$OUT/eval-cache")
resume() { [ -f "$1/manifest.json" ] && echo --resume || true; }

echo "== evaluate 3 random architectures (LTE, 2 and 20 Mbit/s, RTT 10 ms)" >&2
$LF evaluate --random 3 --seed 1 --tech lte --tu 2 --tu 20 --rtt-ms 10
echo "== sweep 200,000 architectures x 64 throughputs" >&2
$LF sweep --random 200000 --seed 2 --tu-grid 0.1:100:64 --log --out "$OUT/sweep.npz"
echo "== LENS search: 20 candidates trained on digits, LTE at 8 Mbit/s" >&2
$LF search --run "$OUT/lens" $(resume "$OUT/lens") "${SEARCH[@]}" --format csv \
    > "$OUT/lens_front.csv"
cat "$OUT/lens_front.csv"
echo "== Traditional baseline: all-edge search, its front re-scored with the best split" >&2
$LF traditional --run "$OUT/traditional" $(resume "$OUT/traditional") "${SEARCH[@]}"
echo "== compare the two runs (the paper's dominance figures)" >&2
$LF compare "$OUT/lens" "$OUT/traditional"
echo "== report: Pareto plots, hypervolume per evaluation, threshold counts" >&2
$LF report "$OUT/lens" "$OUT/traditional" --out "$OUT/report"
echo "== thresholds of the first member of the LENS front" >&2
$LF thresholds --arch-file "$OUT/lens_front.csv" --row 0 --tech lte
echo "== AlexNet (torchvision, builtin TX2 board): per-layer analysis" >&2
$LF analyze --torchvision alexnet --tech wifi --plot "$OUT/alexnet_analyze.png" > /dev/null
echo "demo outputs in $OUT/" >&2
