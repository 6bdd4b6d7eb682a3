#!/usr/bin/env bash
# Side by side: two shixind binaries (e.g. before and after a change) on the same snapshot, each
# pinned to the server core with one I/O thread, the load tool pinned to the other core and
# alternating between them (the order swapped each round), so that a noisy machine moves both.
# docs/performance.md reports its figures as new/old per round.
#
#   bench/ab-binaries.sh OLD_SHIXIND NEW_SHIXIND SNAPSHOT DATA_DIR
#
# Environment: DEPTHS (default "16 1"), ROUNDS (3), DURATION (6 s, of which 1 s warm-up),
# SERVER_CPU (1), CLIENT_CPU (0), LOADTEST (build/bin/shixin-loadtest), EXTRA (more load-tool
# flags, e.g. "--protocol 4 --measures 1"), A_FLAGS / B_FLAGS (more shixind flags for one side,
# e.g. B_FLAGS="--state-dir /tmp/state" with the same binary twice: audit off against on).
# Prints one line per run: round, side, depth, requests/s, the server's CPU microseconds per
# request (user + system from /proc/PID/stat, over the whole run's requests at the measured
# rate), the latency line, wrong answers.
set -euo pipefail
# shellcheck source=scripts/daemon-lib.sh
source "$(dirname "$0")/../scripts/daemon-lib.sh"
if [ $# -ne 4 ]; then
  echo "usage: $0 OLD_SHIXIND NEW_SHIXIND SNAPSHOT DATA_DIR" >&2
  exit 2
fi
old=$1 new=$2 snapshot=$3 data=$4
loadtest=${LOADTEST:-build/bin/shixin-loadtest}
server_cpu=${SERVER_CPU:-1} client_cpu=${CLIENT_CPU:-0}
tmp=$(mktemp -d)
pids=()
declare -A address pid  # by side
cleanup() {
  shixind_stop_all 30 "${pids[@]}"
  rm -rf "$tmp"
}
trap cleanup EXIT

# start SIDE BINARY FLAGS...: starts a pinned shixind on a free port; sets address[SIDE].
start() {
  local side=$1 bin=$2
  shift 2
  taskset -c "$server_cpu" "$bin" --snapshot "$snapshot" --listen 127.0.0.1:0 --http-listen "" \
    --threads 1 "$@" >"$tmp/$side.out" 2>"$tmp/$side.err" &
  pids+=($!)
  pid[$side]=$!
  address[$side]=$(shixind_wait_listening "$!" "$tmp/$side.out" 120) ||
    { echo "$bin did not start: $(tail -3 "$tmp/$side.err")" >&2; exit 1; }
}

# cpu PID: the process's user + system time in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)

# shellcheck disable=SC2086  # the flags are word lists
start A "$old" ${A_FLAGS:-}
# shellcheck disable=SC2086
start B "$new" ${B_FLAGS:-}
for round in $(seq 1 "${ROUNDS:-3}"); do
  order="A B"
  [ $((round % 2)) = 0 ] && order="B A"
  for depth in ${DEPTHS:-16 1}; do
    for side in $order; do
      before=$(cpu "${pid[$side]}")
      # shellcheck disable=SC2086
      out=$(taskset -c "$client_cpu" "$loadtest" --server "${address[$side]}" --data "$data" \
        --connections 50 --depth "$depth" --duration "${DURATION:-6}" --warmup 1 ${EXTRA:-} 2>&1)
      after=$(cpu "${pid[$side]}")
      rate=$(grep -o 'requests answered ([0-9]*/s)' <<<"$out" | tr -dc 0-9)
      # The CPU time spans the warm-up too: divided by the requests of the whole duration at
      # the measured rate.
      cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks" -v r="${rate:-0}" \
        -v d="${DURATION:-6}" 'BEGIN { printf "%.3f", (r > 0 ? t / hz * 1e6 / (r * d) : 0) }')
      echo "round=$round $side depth=$depth rate=$rate cpu_us_per_request=$cpu_us" \
        "$(grep latency <<<"$out" | tr -s ' ') $(grep -o 'wrong answers [0-9]*' <<<"$out" | head -1)"
    done
  done
done
