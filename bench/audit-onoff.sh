#!/usr/bin/env bash
# The audit's cost (issue 12): one shixind without the audit and one or more with it (each with
# its own --state-dir; e.g. the binary before a change and after), on the same snapshot, not
# pinned (the default deployment: I/O threads on both cores), the load tool running against
# each in turn, ROUNDS rounds. Per run: requests/s, its ratio to the round's audit-off run, the
# daemon's CPU time per answered request (utime + stime from /proc/PID/stat over the run) and
# the 99th percentile latency (CONNECTIONS=1 DEPTH=1 for issue 12's depth-1 target).
# docs/performance.md ("The audit") reports its figures.
#
#   bench/audit-onoff.sh SNAPSHOT DATA_DIR OFF_SHIXIND ON_SHIXIND...
#
# Environment: ROUNDS (5), DURATION (5 s), THREADS (2 I/O threads), CONNECTIONS (50), DEPTH (16),
# MEASURES (0: CHECK, 1: MEASURES), LOADTEST (build/bin/shixin-loadtest).
set -euo pipefail
# shellcheck source=scripts/daemon-lib.sh
source "$(dirname "$0")/../scripts/daemon-lib.sh"
if [ $# -lt 4 ]; then
  echo "usage: $0 SNAPSHOT DATA_DIR OFF_SHIXIND ON_SHIXIND..." >&2
  exit 2
fi
snapshot=$1 data=$2
shift 2
loadtest=${LOADTEST:-build/bin/shixin-loadtest}
tmp=$(mktemp -d)
pids=() names=() addresses=()
cleanup() {
  shixind_stop_all 30 "${pids[@]}"
  rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME BINARY FLAGS...: a shixind on a free port.
start() {
  local name=$1 bin=$2
  shift 2
  "$bin" --snapshot "$snapshot" --listen 127.0.0.1:0 --http-listen "" --threads "${THREADS:-2}" \
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  names+=("$name")
  addresses+=("$(shixind_wait_listening "$!" "$tmp/$name.out" 120)") ||
    { echo "$bin did not start: $(tail -3 "$tmp/$name.err")" >&2; exit 1; }
}

# cpu PID: the process's user + system time in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start off "$1"
shift
i=0
for bin in "$@"; do
  i=$((i + 1))
  mkdir "$tmp/state$i"
  start "on$i" "$bin" --state-dir "$tmp/state$i"
done
ticks=$(getconf CLK_TCK)
for round in $(seq 1 "${ROUNDS:-5}"); do
  off_rate=
  for k in "${!names[@]}"; do
    before=$(cpu "${pids[$k]}")
    out=$("$loadtest" --server "${addresses[$k]}" --protocol 4 --data "$data" --quiet \
      --connections "${CONNECTIONS:-50}" --depth "${DEPTH:-16}" --measures "${MEASURES:-0}" \
      --duration "${DURATION:-5}" --warmup 0 2>&1)
    after=$(cpu "${pids[$k]}")
    requests=$(grep -o '[0-9]* requests' <<<"$out" | head -1 | tr -dc 0-9)
    rate=$(grep -o 'requests ([0-9]*/s)' <<<"$out" | tr -dc 0-9)
    [ "${names[$k]}" = off ] && off_rate=$rate
    p99=$(grep -o 'p99 [0-9.]*' <<<"$out" | head -1 | cut -d' ' -f2)
    wrong=$(grep -o 'wrong answers [0-9]*' <<<"$out" | head -1)
    awk -v r="$round" -v n="${names[$k]}" -v rate="$rate" -v off="$off_rate" -v t="$ticks" \
      -v cpu=$((after - before)) -v req="$requests" -v p99="$p99" -v wrong="$wrong" 'BEGIN {
        printf "round=%s %s rate=%s on/off=%.3f cpu_us_per_request=%.3f p99_us=%s %s\n",
               r, n, rate, rate / off, cpu * 1e6 / t / req, p99, wrong }'
  done
done
