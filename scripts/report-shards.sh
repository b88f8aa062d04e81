#!/usr/bin/env bash
# Runs `sift report` as N shards on this machine, then merges them into one report.
#
#   scripts/report-shards.sh N OUT [sift report options...]
#
# e.g.  scripts/report-shards.sh 4 reports/full-sharded --full
#
# Shard i writes OUT/shard-i-of-N/ (a complete report folder of its own points plus the
# dense baselines they need), then `sift report --merge` writes OUT/merged/. A shard that
# fails leaves no folder, so re-running the script redoes only the shards that are
# missing (delete OUT/merged first if it exists).
#
# Timing honesty on one machine: shards that run at the same time share its cores and
# memory bandwidth. Every ratio in the report is still measured within one shard (each
# shard measures the dense baselines of its own points), but the absolute numbers are
# those of a loaded machine. JOBS (default: 1, one shard after another) sets how many
# run at once; with JOBS > 1 each shard gets cores/JOBS threads (SIFT_THREADS) and, if
# `taskset` exists, its own cores.
#
# Uses GNU parallel when installed, else xargs -P. SIFT (default .build/release/sift)
# names the binary; build it first with `make release`.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
shards=$1; out=$2; shift 2
case $shards in ''|*[!0-9]*) echo "error: N must be a whole number, got '$shards'" >&2; exit 2;; esac
[ "$shards" -ge 1 ] || { echo "error: N must be at least 1" >&2; exit 2; }
sift=${SIFT:-.build/release/sift}
[ -x "$sift" ] || { echo "error: $sift not found; run 'make release' or set SIFT" >&2; exit 2; }
jobs=${JOBS:-1}
cores=$(nproc)
threads=$(( cores / jobs )); [ "$threads" -ge 1 ] || threads=1
mkdir -p "$out"

# One shard: skipped when its folder already exists (a finished earlier run).
run_shard() {
  local index=$1 folder="$out/shard-$1-of-$shards"
  shift
  if [ -d "$folder" ]; then echo "shard $index/$shards: $folder exists, skipped" >&2; return 0; fi
  local pin=()
  if [ "$jobs" -gt 1 ] && command -v taskset >/dev/null; then
    local first=$(( ((index - 1) % jobs) * threads ))
    pin=(taskset -c "$first-$(( first + threads - 1 ))")
  fi
  SIFT_THREADS=$threads "${pin[@]}" "$sift" report --shard "$index/$shards" --out "$folder" "$@" \
    > "$out/shard-$index-of-$shards.log" 2>&1 \
    && echo "shard $index/$shards: done" >&2 \
    || { echo "shard $index/$shards: FAILED, see $out/shard-$index-of-$shards.log" >&2; return 1; }
}
export -f run_shard
export out shards sift jobs threads

if command -v parallel >/dev/null; then
  seq 1 "$shards" | parallel --will-cite -j "$jobs" --halt never run_shard {} "$@"
else
  seq 1 "$shards" | xargs -P "$jobs" -I{} bash -c 'run_shard "$@"' _ {} "$@"
fi

folders=()
for index in $(seq 1 "$shards"); do folders+=("$out/shard-$index-of-$shards"); done
"$sift" report --merge "${folders[@]}" --out "$out/merged"
