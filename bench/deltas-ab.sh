#!/usr/bin/env bash
# Delta application by two shixind binaries side by side (issue 10; docs/performance.md):
#
#   bench/deltas-ab.sh OLD NEW SNAPSHOT DELTAS_DIR
#
# 1. Restart: each binary starts on SNAPSHOT with every file of DELTAS_DIR pending, until it
#    listens: "loaded in", minor page faults, the process's CPU, and the per-file phases' CPU
#    summed from its log (read, prepare, apply).
# 2. Online, idle: each binary serves SNAPSHOT with an empty deltas_dir; the first FILES files
#    are renamed in one every EVERY seconds, and each file's visibility (rename to
#    shixin_list_delta_sequence showing it on /metrics, polled every POLL_MS milliseconds,
#    default 1: each poll takes CPU from the daemon's idle core) is timed.
#
# ROUNDS rounds of each [2] (PARTS=online or PARTS=restart: only that one), the binaries
# alternating (even rounds NEW first) so that a drift of the machine's speed favours neither;
# the medians of the rounds come last. Loopback only.
set -euo pipefail
old=${1:?usage: bench/deltas-ab.sh OLD NEW SNAPSHOT DELTAS_DIR}
new=${2:?usage}
snapshot=${3:?usage}
deltas=${4:?usage}
rounds=${ROUNDS:-2}
files=${FILES:-20}
every=${EVERY:-2}
parts=${PARTS:-restart online}  # which of the two runs
poll_ms=${POLL_MS:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# restart BINARY: prints "loaded_s minflt cpu_s read_s prepare_s apply_s".
restart() {
  local log="$work/restart.log"
  rm -f "$log"  # else the wait below may read the run before's "listening"
  "$1" --snapshot "$snapshot" --deltas-dir "$deltas" --listen 127.0.0.1:7496 > "$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 6000); do
    grep -q -E "listening|error|bind" "$log" && break
    sleep 0.1
  done
  local minflt ticks
  minflt=$(awk '{print $10}' "/proc/$pid/stat")
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill -INT "$pid"
  wait "$pid" || true
  python3 - "$log" "$minflt" "$ticks" "$(getconf CLK_TCK)" <<'EOF'
import re, sys
log, minflt, ticks, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
text = open(log).read()
loaded = re.search(r'loaded in ([0-9.]+)(ms|s)', text)
sums = [0, 0, 0]
for m in re.finditer(r'read \d+ ms \(cpu (\d+)\), prepare \d+ ms \(cpu (\d+)\), '
                     r'apply \d+ ms \(cpu (\d+)\)', text):
    sums = [s + int(v) for s, v in zip(sums, m.groups())]
seconds = float(loaded.group(1)) / (1000 if loaded.group(2) == 'ms' else 1) if loaded else 'nan'
print(seconds, minflt, ticks / hz, *(s / 1000 for s in sums))
EOF
}

# online BINARY: prints "p50_ms max_ms apply_ms prepare_ms read_ms apply_wall_ms" (the medians of
# the files' apply CPU and the phases' wall times).
online() {
  local live="$work/live" log="$work/online.log"
  rm -rf "$live"
  mkdir "$live"
  "$1" --snapshot "$snapshot" --deltas-dir "$live" --listen 127.0.0.1:7496 \
    --http-listen 127.0.0.1:7495 > "$log" 2>&1 &
  local pid=$!
  python3 - "$deltas" "$live" "$files" "$every" "$poll_ms" <<'EOF' || true
import http.client, os, shutil, statistics, sys, time
deltas, live, files, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
poll = float(sys.argv[5]) / 1000
conn = None
for _ in range(6000):
    try:
        conn = http.client.HTTPConnection('127.0.0.1', 7495, timeout=5)
        conn.request('GET', '/metrics'); conn.getresponse().read(); break
    except OSError:
        conn = None; time.sleep(0.1)
def sequence():
    conn.request('GET', '/metrics')
    for line in conn.getresponse().read().decode().splitlines():
        if line.startswith('shixin_list_delta_sequence'): return int(float(line.split()[-1]))
    return 0
names = sorted(n for n in os.listdir(deltas) if n.endswith('.ndjson'))[:files]
took = []
for i, name in enumerate(names, 1):
    shutil.copy(os.path.join(deltas, name), os.path.join(live, '.' + name))
    start = time.monotonic()
    os.rename(os.path.join(live, '.' + name), os.path.join(live, name))
    while sequence() < int(name.split('.')[0]) and time.monotonic() - start < 60:
        time.sleep(poll)
    took.append((time.monotonic() - start) * 1000)
    time.sleep(every)
print(round(statistics.median(took)), round(max(took)), end=' ')
EOF
  kill -INT "$pid"
  wait "$pid" || true
  python3 - "$log" <<'EOF'
import re, statistics, sys
text = open(sys.argv[1]).read()
def median(pattern):
    values = [int(m) for m in re.findall(pattern, text)]
    return statistics.median(values) if values else 'nan'
print(median(r'apply \d+ ms \(cpu (\d+)\)'), median(r'prepare (\d+) ms'), median(r'read (\d+) ms'),
      median(r'apply (\d+) ms'))
EOF
}

echo "restart: loaded_s minflt cpu_s read_cpu_s prepare_cpu_s apply_cpu_s"
echo "online:  visibility_p50_ms visibility_max_ms apply_cpu_ms prepare_ms read_ms apply_ms (medians)"
for r in $(seq 1 "$rounds"); do
  if ((r % 2 == 1)); then order="old new"; else order="new old"; fi
  for side in $order; do
    [[ $parts == *restart* ]] || break
    if [[ $side == old ]]; then binary=$old; else binary=$new; fi
    echo "round $r $side restart: $(restart "$binary")" | tee -a "$work/results"
  done
  for side in $order; do
    [[ $parts == *online* ]] || break
    if [[ $side == old ]]; then binary=$old; else binary=$new; fi
    echo "round $r $side online: $(online "$binary")" | tee -a "$work/results"
  done
done
python3 - "$work/results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    head, values = line.split(': ', 1)
    _, _, side, kind = head.split()
    rows.setdefault((side, kind), []).append([float(v) for v in values.split()])
for (side, kind), runs in sorted(rows.items()):
    medians = [statistics.median(column) for column in zip(*runs)]
    print('median %s %s: %s' % (side, kind, ' '.join('%g' % m for m in medians)))
EOF
