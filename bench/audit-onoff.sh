#!/usr/bin/env bash
# The audit's cost (issue 12): one shixind without the audit and one or more with it (each with
# its own --state-dir; e.g. the binary before a change and after), on the same snapshot, not
# pinned (the default deployment: I/O threads on both cores), the load tool running against
# each in turn, ROUNDS rounds. Per run: requests/s, its ratio to the round's audit-off run, the
# daemon's CPU time per answered request (utime + stime from /proc/PID/stat over the run) and
# the 99th percentile latency (CONNECTIONS=1 DEPTH=1 for issue 12's depth-1 target); odd rounds
# run the daemons in order, even rounds in reverse; last, each daemon's medians over the rounds.
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
  # Odd rounds run the daemons in order, even rounds in reverse: a drift of the machine's speed
  # within a round favours none of them.
  order=("${!names[@]}")
  if ((round % 2 == 0)); then
    order=()
    for ((k = ${#names[@]} - 1; k >= 0; k--)); do order+=("$k"); done
  fi
  declare -A rates=() cpus=() counts=() p99s=() wrongs=()
  for k in "${order[@]}"; do
    before=$(cpu "${pids[$k]}")
    out=$("$loadtest" --server "${addresses[$k]}" --protocol 4 --data "$data" --quiet \
      --connections "${CONNECTIONS:-50}" --depth "${DEPTH:-16}" --measures "${MEASURES:-0}" \
      --duration "${DURATION:-5}" --warmup 0 2>&1)
    after=$(cpu "${pids[$k]}")
    counts[$k]=$(grep -o '[0-9]* requests' <<<"$out" | head -1 | tr -dc 0-9)
    rates[$k]=$(grep -o 'requests answered ([0-9]*/s)' <<<"$out" | tr -dc 0-9)
    cpus[$k]=$((after - before))
    p99s[$k]=$(grep -o 'p99 [0-9.]*' <<<"$out" | head -1 | cut -d' ' -f2)
    wrongs[$k]=$(grep -o 'wrong answers [0-9]*' <<<"$out" | head -1)
  done
  for k in "${!names[@]}"; do
    awk -v r="$round" -v n="${names[$k]}" -v rate="${rates[$k]}" -v off="${rates[0]}" \
      -v t="$ticks" -v cpu="${cpus[$k]}" -v req="${counts[$k]}" -v p99="${p99s[$k]}" \
      -v wrong="${wrongs[$k]}" 'BEGIN {
        printf "round=%s %s rate=%s on/off=%.3f cpu_us_per_request=%.3f p99_us=%s %s\n",
               r, n, rate, rate / off, cpu * 1e6 / t / req, p99, wrong }' | tee -a "$tmp/runs"
  done
done
# Medians over the rounds, per daemon.
for name in "${names[@]}"; do
  awk -v n="$name" '$2 == n {
      for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = v[kv[1]] " " kv[2] }
    }
    function median(list,   a, m, i, j, x) {
      m = split(list, a, " ")
      for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
      printf "median %s rate=%s on/off=%s cpu_us_per_request=%s p99_us=%s\n", n,
             median(v["rate"]), median(v["on/off"]), median(v["cpu_us_per_request"]), median(v["p99_us"])
    }' "$tmp/runs"
done
