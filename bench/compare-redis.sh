#!/usr/bin/env bash
# Measures shixind against Redis with one tool (shixin-loadtest) and one set of settings, on a
# generated list, and prints one table (docs/performance.md explains the figures).
#
#   bench/compare-redis.sh [--subjects N] [--duration S] [--redis-refresh swapdb|flushall]
#                          [--bin DIR] [--work DIR]
#
# --subjects N    listed subjects (default 10000000; the files take ~1.1 KB per subject)
# --duration S    seconds per run (default 10), of which the first 2 s are an unmeasured warm-up
# --redis-refresh how Redis replaces its whole data set in the swap run: swapdb (default: load
#                 into db 1, SWAPDB 0 1, FLUSHDB ASYNC the old data; the fastest way without
#                 wrong answers) or flushall (FLUSHALL ASYNC, then load: wrong answers)
# --bin DIR       the built binaries (default build/bin)
# --work DIR      data sets and results (default /tmp/shixin-bench); a data set of the same
#                 size is reused
#
# It compiles the list into a snapshot file (`shixin compile`, reused while newer than the
# list), installs redis-server with apt-get if it is missing, starts a private redis-server (no
# persistence) and shixind (`--snapshot`) on loopback ports, and stops both (by PID) on exit.
# shixind's refresh reloads the snapshot file: a full swap of the list. The runs, each
# against both servers: single-ID CHECK at 50 connections with pipeline depth 1 and 16, CHECK
# batches of 64 IDs, an open loop at half of each server's own peak (depth-16) throughput,
# and an open loop at a common rate with one full refresh of the list in the middle. The last
# line is machine-readable:
#   shixin/redis: throughput X.XXx, memory Y.YYx, swap p99.9 Z ms (redis W ms),
#   wrong answers during swap A (redis B)
set -euo pipefail

subjects=10000000
duration=10
refresh=swapdb
bin=build/bin
work=/tmp/shixin-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --subjects) subjects=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --redis-refresh) refresh=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "compare-redis: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$refresh" in swapdb|flushall) ;; *) echo "compare-redis: bad --redis-refresh" >&2; exit 2 ;; esac
for b in shixin shixind shixin-loadtest; do
  [ -x "$bin/$b" ] || { echo "compare-redis: $bin/$b missing (build first)" >&2; exit 2; }
done

if ! command -v redis-server >/dev/null 2>&1; then
  echo "compare-redis: installing redis-server" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
# The Debian package starts a system instance; ours is private and on its own port.

data=$work/list-$subjects
out=$work/results-$subjects
mkdir -p "$work" "$out"
log() { echo "compare-redis: $*" >&2; }
now() { date +%s.%N; }

if [ ! -s "$data/debtors.ndjson" ] || [ ! -s "$data/relations.ndjson" ]; then
  log "generating $subjects subjects in $data"
  t0=$(now)
  "$bin/shixin" gen --subjects "$subjects" --seed 1 --out "$data" >&2
  log "generated in $(echo "$(now) - $t0" | bc) s"
fi

snap=$work/list-$subjects.snap
if [ ! -s "$snap" ] || [ "$snap" -ot "$data/debtors.ndjson" ]; then
  log "compiling $data into $snap"
  t0=$(now)
  "$bin/shixin" compile --data "$data" -o "$snap" >&2
  echo "$(now) - $t0" | bc >"$snap.seconds"
  log "compiled in $(cat "$snap.seconds") s"
fi
compile_seconds=$(cat "$snap.seconds" 2>/dev/null || echo 0)

redis_pid=
shixind_pid=
cleanup() {
  for p in $shixind_pid $redis_pid; do
    kill "$p" 2>/dev/null || true
  done
  for p in $shixind_pid $redis_pid; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  return 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# --- Redis ---
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
  --protected-mode no --daemonize no --logfile "$out/redis.log" &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || { log "redis-server did not start"; exit 1; }
redis_rss_empty=$(rss_kb "$redis_pid")
log "loading Redis (127.0.0.1:$redis_port)"
"$bin/shixin-loadtest" --redis "127.0.0.1:$redis_port" --load --data "$data" \
  --json "$out/redis-load.json" >&2
redis_rss=$(rss_kb "$redis_pid")

# --- shixind ---
t0=$(now)
"$bin/shixind" --snapshot "$snap" --listen 127.0.0.1:0 >"$out/shixind.out" 2>"$out/shixind.err" &
shixind_pid=$!
addr=
for _ in $(seq 6000); do  # up to 10 minutes
  addr=$(sed -n 's/^listening on //p' "$out/shixind.out")
  [ -n "$addr" ] && break
  kill -0 "$shixind_pid" 2>/dev/null || { log "shixind exited"; cat "$out/shixind.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { log "shixind did not start in 10 minutes"; exit 1; }
shixind_start=$(echo "$(now) - $t0" | bc)
shixind_rss=$(rss_kb "$shixind_pid")
log "shixind ready on $addr in $shixind_start s"

run() {  # run NAME TARGET_FLAG ADDRESS ARGS...
  local name=$1 flag=$2 address=$3
  shift 3
  log "run $name"
  "$bin/shixin-loadtest" "$flag" "$address" --data "$data" --warmup 2 --duration "$duration" \
    --connections 50 --quiet --label "$name" --json "$out/$name.json" "$@" >&2 || true
}
rps() { jq -r '.throughput_rps' "$1"; }

for t in shixin redis; do
  if [ $t = shixin ]; then f=--server; a=$addr; else f=--redis; a=127.0.0.1:$redis_port; fi
  run "$t-d1" $f "$a" --depth 1
  run "$t-d16" $f "$a" --depth 16
  run "$t-b64" $f "$a" --depth 1 --batch 64
  half=$(jq -r '.throughput_rps / 2 | floor' "$out/$t-d16.json")
  run "$t-half" $f "$a" --depth 16 --rate "$half"
done
swap_rate=$(jq -rn --argjson a "$(rps "$out/shixin-d16.json")" \
  --argjson b "$(rps "$out/redis-d16.json")" '[$a, $b] | min / 4 | floor')
run shixin-swap --server "$addr" --depth 16 --rate "$swap_rate" --reload-every 5 --reloads 1 \
  --timeseries "$out/shixin-swap.txt" --plot "$out/shixin-swap.png"
shixind_hwm=$(hwm_kb "$shixind_pid")
run redis-swap --redis "127.0.0.1:$redis_port" --depth 16 --rate "$swap_rate" --reload-every 5 \
  --reloads 1 --redis-refresh "$refresh" --timeseries "$out/redis-swap.txt" \
  --plot "$out/redis-swap.png"
redis_hwm=$(hwm_kb "$redis_pid")

python3 - "$out" "$subjects" "$shixind_rss" "$redis_rss" "$redis_rss_empty" "$shixind_hwm" \
  "$redis_hwm" "$shixind_start" "$refresh" "$compile_seconds" <<'PY'
import json, sys
out, subjects = sys.argv[1], int(sys.argv[2])
s_rss, r_rss, r_empty, s_hwm, r_hwm = (int(x) for x in sys.argv[3:8])
s_start, refresh, compile_s = float(sys.argv[8]), sys.argv[9], float(sys.argv[10])
load = json.load(open(f"{out}/redis-load.json"))
def j(name): return json.load(open(f"{out}/{name}.json"))
def lat(r, key="latency_us"): return r[key] if key in r else r["swap"]["latency_us"]
rows = [("single ID, depth 1", "d1"), ("single ID, depth 16", "d16"), ("batch 64, depth 1", "b64"),
        ("half peak, open loop", "half"), ("full refresh, open loop", "swap")]
print(f"subjects {subjects:,}; 50 connections; client and servers share the machine's cores")
print(f"{'run':26} {'server':7} {'req/s':>10} {'IDs/s':>11} {'p50 us':>9} {'p99 us':>9} "
      f"{'p99.9 us':>9} {'max us':>9} {'errors':>6} {'wrong':>6}")
for title, key in rows:
  for t in ("shixin", "redis"):
    r = j(f"{t}-{key}")
    l = r["latency_us"]
    print(f"{title:26} {t:7} {r['throughput_rps']:10.0f} {r['throughput_ids']:11.0f} "
          f"{l['p50']:9.1f} {l['p99']:9.1f} {l['p999']:9.1f} {l['max']:9.1f} "
          f"{r['errors']:6d} {r['wrong']:6d}")
    if key == "swap":
      w = r["swap"]
      sl = w["latency_us"]
      win = sum(x["end_s"] - x["begin_s"] for x in w["windows"])
      print(f"{'  inside the swap window':26} {t:7} {'':10} {'':11} {sl['p50']:9.1f} "
            f"{sl['p99']:9.1f} {sl['p999']:9.1f} {sl['max']:9.1f} {w['errors']:6d} "
            f"{w['wrong']:6d}  ({win:.1f} s, {w['refresh']})")
print()
print(f"resident memory after load: shixind {s_rss/1024:.0f} MiB ({s_rss*1024/subjects:.0f} B/subject), "
      f"redis {r_rss/1024:.0f} MiB ({(r_rss-r_empty)*1024/subjects:.0f} B/subject); "
      f"peak during the runs: shixind {s_hwm/1024:.0f} MiB, redis {r_hwm/1024:.0f} MiB")
print(f"load/start: shixind start from the snapshot file to listening {s_start:.1f} s "
      f"(compiling the file from the list: {compile_s:.0f} s, once per list); redis "
      f"pipelined SET of {load['keys']:,} keys {load['load_seconds']:.1f} s")
def ratio(a, b): return a / b if b else float("inf")
sd, rd = j("shixin-d16"), j("redis-d16")
sb, rb = j("shixin-b64"), j("redis-b64")
print(f"ratios shixin/redis: depth 1 {ratio(j('shixin-d1')['throughput_rps'], j('redis-d1')['throughput_rps']):.2f}x, "
      f"depth 16 {ratio(sd['throughput_rps'], rd['throughput_rps']):.2f}x, "
      f"batch 64 {ratio(sb['throughput_ids'], rb['throughput_ids']):.2f}x (IDs/s), "
      f"memory {ratio(s_rss, r_rss):.2f}x")
ss, rs = j("shixin-swap")["swap"], j("redis-swap")["swap"]
print(f"shixin/redis: throughput {ratio(sd['throughput_rps'], rd['throughput_rps']):.2f}x, "
      f"memory {ratio(s_rss, r_rss):.2f}x, swap p99.9 {ss['latency_us']['p999']/1000:.2f} ms "
      f"(redis {rs['latency_us']['p999']/1000:.2f} ms), wrong answers during swap "
      f"{ss['wrong']} (redis {rs['wrong']})")
PY
