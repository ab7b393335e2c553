#!/usr/bin/env bash
# The README's demo: the most complete job lens-fast runs offline, on files it makes.
set -euo pipefail
LF=".venv/bin/lens-fast"
OUT="demo-out"
mkdir -p "$OUT"
echo "== evaluate 3 random architectures (LTE, 2 and 20 Mbit/s, RTT 10 ms)" >&2
$LF evaluate --random 3 --seed 1 --tech lte --tu 2 --tu 20 --rtt-ms 10
echo "== sweep 200,000 architectures x 64 throughputs" >&2
$LF sweep --random 200000 --seed 2 --tu-grid 0.1:100:64 --log --out "$OUT/sweep.npz"
