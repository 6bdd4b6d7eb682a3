#!/usr/bin/env bash
# A restart with the overlay checkpoint against one replaying the delta files (issue 10;
# docs/performance.md, "A restart from the overlay checkpoint"):
#
#   bench/checkpoint-restart.sh SHIXIND SNAPSHOT DELTAS_DIR
#
# First SHIXIND starts on SNAPSHOT with every file of DELTAS_DIR pending and a fresh state_dir,
# folds them, writes the checkpoint (checkpoint_seconds 1) and stops: the fold's "loaded in",
# the write's time and the file's size. Then ROUNDS rounds [3] of three restarts, in turn:
# replaying (the checkpoint moved aside), from the checkpoint in the page cache, and from the
# checkpoint dropped from the page cache first (its pages read from the disk). Each prints
# "loaded in" (seconds, until the first generation is published) and the peak RSS; the
# medians come last. Loopback only.
set -euo pipefail
shixind=${1:?usage: bench/checkpoint-restart.sh SHIXIND SNAPSHOT DELTAS_DIR}
snapshot=${2:?usage}
deltas=${3:?usage}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
state="$work/state"
checkpoint="$state/overlay.checkpoint"

# run [WAIT_FOR]: starts shixind until it listens (and, with WAIT_FOR, writes checkpoints each
# second until its log shows WAIT_FOR; without, writes none), stops it; prints "loaded_s
# peak_rss_gb".
run() {
  local log="$work/run.log"
  rm -f "$log"  # else the wait below may read the run before's "listening"
  "$shixind" --snapshot "$snapshot" --deltas-dir "$deltas" --state-dir "$state" \
    --checkpoint-seconds "$([ -n "${1:-}" ] && echo 1 || echo 0)" --listen 127.0.0.1:7497 \
    > "$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 6000); do
    grep -q -E "listening|error|bind" "$log" && break
    sleep 0.1
  done
  if [ -n "${1:-}" ]; then
    for _ in $(seq 1 6000); do
      grep -q -E "$1" "$log" && break
      sleep 0.1
    done
  fi
  local rss
  rss=$(awk '/VmHWM/ {print $2 / 1048576}' "/proc/$pid/status")
  kill -INT "$pid"
  wait "$pid" || true
  grep -E "overlay checkpoint" "$log" >&2 || true
  python3 - "$log" "$rss" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r'loaded in ([0-9.]+)(ms|s)', text)
print(float(m.group(1)) / (1000 if m.group(2) == 'ms' else 1) if m else 'nan', sys.argv[2])
PY
}

drop() {  # drops FILE from the page cache
  python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); \
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)" "$1"
}

echo "fold and write: $(run 'checkpoint .* written')"
ls -l "$checkpoint"
for r in $(seq 1 "$rounds"); do
  mv "$checkpoint" "$work/aside"
  echo "round $r replay: $(run)" | tee -a "$work/results"
  mv "$work/aside" "$checkpoint"
  echo "round $r checkpoint cached: $(run)" | tee -a "$work/results"
  drop "$checkpoint"
  echo "round $r checkpoint from disk: $(run)" | tee -a "$work/results"
done
python3 - "$work/results" <<'PY'
import statistics, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    head, values = line.split(': ')
    runs[head.split(' ', 2)[2]].append([float(v) for v in values.split()])
for kind, rows in runs.items():
    print(f"median {kind}: loaded in {statistics.median(r[0] for r in rows):.1f} s, "
          f"peak RSS {statistics.median(r[1] for r in rows):.2f} GB")
PY
