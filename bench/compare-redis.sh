#!/usr/bin/env bash
# Measures shixind against Redis per core: each server pinned to its own core(s), the load tool
# (shixin-loadtest) to the others, the same settings for both, on a generated list; then the
# same runs with everything sharing all cores (docs/performance.md explains the figures).
#
#   bench/compare-redis.sh [--subjects N] [--duration S] [--redis-refresh swapdb|flushall]
#                          [--server-cpus LIST] [--client-cpus LIST] [--no-shared]
#                          [--bin DIR] [--work DIR] [--shixind-flag FLAG]...
#
# --subjects N       listed subjects (default 10000000; the files take ~1.1 KB per subject)
# --duration S       seconds per run (default 10), of which the first 2 s are an unmeasured warm-up
# --redis-refresh    how Redis replaces its whole data set in the swap run: swapdb (default: load
#                    into db 1, SWAPDB 0 1, FLUSHDB ASYNC the old data; the fastest way without
#                    wrong answers) or flushall (FLUSHALL ASYNC, then load: wrong answers)
# --server-cpus LIST cores of the server under test in the pinned table (taskset list, default 1)
# --client-cpus LIST cores of the load tool in the pinned table (default 0); one load thread each
# --no-shared        skip the second table (both servers and the load tool on all cores)
# --bin DIR          the built binaries (default build/bin)
# --shixind-flag F   one more shixind flag in both tables (repeatable), e.g. --reload-sched-idle
# --work DIR         data sets and results (default /tmp/shixin-bench); a data set of the same
#                    size is reused
#
# It compiles the list into a snapshot file (`shixin compile`, reused while newer than the
# list), installs redis-server with apt-get if it is missing, starts a private redis-server (no
# persistence, single-threaded: no io-threads) and shixind (`--snapshot`) on loopback ports, and
# stops both (by PID) on exit. shixind's refresh reloads the snapshot file: a full swap of the
# list.
#
# Pinned table: redis-server and shixind (`--threads 1`: as many I/O threads as Redis) run under
# `taskset -c SERVER_CPUS`, the load tool under `taskset -c CLIENT_CPUS`. Shared table: Redis's
# affinity widened to all the script's cores, shixind restarted with its default threads (one
# per core), the load tool unpinned with one thread. The runs of each table, each against both
# servers at 50 connections: single-ID CHECK at depth 1 and depth 16; CHECK batches of 64 IDs
# (IDs/s); an open loop at half of Redis's depth-16 throughput in that table, the same rate for
# both; an open loop at a quarter of the lower depth-16 throughput with one full refresh of the
# list in the middle (p99.9 inside the swap window and outside it; wrong answers).
#
# CPU: each server's utime+stime (/proc/PID/stat fields 14 and 15, in clock ticks of
# `getconf CLK_TCK`, all its threads) is read just before the load tool starts and just after it
# exits, so it covers the whole run: the warm-up, the drain and (swap run) the refresh. It is
# divided by the requests answered over that same whole run, warm-up included (`whole_run` in the
# load tool's JSON), not by the measured requests: "CPU us/req", and the stime part of it alone:
# "of it sys", the kernel's (the sockets'), which a server's own code does not shorten.
# Throughput and latency are those of the measured part (after the warm-up).
#
# The last line is machine-readable; ratios are shixind over Redis, from the pinned table
# (cpu/request from the open loop at the common rate: the same work for both; memory: resident
# after load; lower is better for both), and swap p99.9 in/out is each server's p99.9 inside its
# swap window over its own p99.9 outside it:
#   shixin/redis per core: depth16 X.XXx, depth1 X.XXx, batch64 X.XXx, cpu/request X.XXx,
#   memory X.XXx, swap p99.9 in/out X.XXx (redis X.XXx), wrong answers during swap A (redis B)
set -euo pipefail

subjects=10000000
duration=10
refresh=swapdb
bin=build/bin
work=/tmp/shixin-bench
server_cpus=1
client_cpus=0
shared=1
shixind_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --subjects) subjects=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --redis-refresh) refresh=$2; shift 2 ;;
    --server-cpus) server_cpus=$2; shift 2 ;;
    --client-cpus) client_cpus=$2; shift 2 ;;
    --no-shared) shared=0; shift ;;
    --bin) bin=$2; shift 2 ;;
    --shixind-flag) shixind_flags+=("$2"); shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "compare-redis: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$refresh" in swapdb|flushall) ;; *) echo "compare-redis: bad --redis-refresh" >&2; exit 2 ;; esac
for b in shixin shixind shixin-loadtest; do
  [ -x "$bin/$b" ] || { echo "compare-redis: $bin/$b missing (build first)" >&2; exit 2; }
done
# nproc counts the cores a process may run on: it checks each list and sizes the load tool.
client_threads=$(taskset -c "$client_cpus" nproc) ||
  { echo "compare-redis: bad --client-cpus $client_cpus" >&2; exit 2; }
taskset -c "$server_cpus" true ||
  { echo "compare-redis: bad --server-cpus $server_cpus" >&2; exit 2; }
all_cpus=$(taskset -c -p $$ | sed 's/.*: //')
clk_tck=$(getconf CLK_TCK)

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
mkdir -p "$work" "$out/pinned" "$out/shared"
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
stop_pid() {  # TERM, up to 10 s, then KILL
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
cleanup() {
  for p in $shixind_pid $redis_pid; do stop_pid "$p"; done
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
# utime and stime of all the process's threads, in clock ticks (the fields after "(comm) ").
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12, $13}'; }

# --- Redis (pinned; the shared table widens its affinity) ---
redis_port=$(free_port)
taskset -c "$server_cpus" redis-server --bind 127.0.0.1 --port "$redis_port" --save '' \
  --appendonly no --protected-mode no --daemonize no --io-threads 1 \
  --logfile "$out/redis.log" &
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

# start_shixind [PREFIX...] -- ARGS...: starts shixind (PREFIX: taskset) and sets shixind_pid,
# addr and shixind_start.
start_shixind() {
  local prefix=()
  while [ "$1" != -- ]; do prefix+=("$1"); shift; done
  shift
  local t0
  t0=$(now)
  : >"$out/shixind.out"
  "${prefix[@]}" "$bin/shixind" --snapshot "$snap" --listen 127.0.0.1:0 "$@" "${shixind_flags[@]}" \
    >"$out/shixind.out" 2>"$out/shixind.err" &
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
  log "shixind ready on $addr in $shixind_start s ($* ${shixind_flags[*]})"
}

# run DIR NAME SERVER_PID TARGET_FLAG ADDRESS ARGS...: one run; the server's user and system CPU
# time over it (microseconds) go to DIR/NAME.cpu. Uses client_prefix and threads.
run() {
  local dir=$1 name=$2 pid=$3 flag=$4 address=$5 before after
  shift 5
  log "run $(basename "$dir")/$name"
  before=$(cpu_ticks "$pid")
  "${client_prefix[@]}" "$bin/shixin-loadtest" "$flag" "$address" --data "$data" --warmup 2 \
    --duration "$duration" --connections 50 --threads "$threads" --quiet --label "$name" \
    --json "$dir/$name.json" "$@" >&2 || true
  after=$(cpu_ticks "$pid")
  echo "$before $after" | awk -v hz="$clk_tck" '{printf "%d %d\n", ($3 - $1) * 1e6 / hz, ($4 - $2) * 1e6 / hz}' \
    >"$dir/$name.cpu"
}
rps() { jq -r '.throughput_rps' "$1"; }

# table DIR: the runs of one table against the running servers; peaks go to DIR/hwm.
table() {
  local dir=$1 t f a p half swap_rate
  for t in redis shixin; do
    if [ $t = shixin ]; then f=--server; a=$addr; p=$shixind_pid
    else f=--redis; a=127.0.0.1:$redis_port; p=$redis_pid; fi
    run "$dir" "$t-d1" "$p" $f "$a" --depth 1
    run "$dir" "$t-d16" "$p" $f "$a" --depth 16
    run "$dir" "$t-b64" "$p" $f "$a" --depth 1 --batch 64
  done
  half=$(jq -r '.throughput_rps / 2 | floor' "$dir/redis-d16.json")
  run "$dir" redis-half "$redis_pid" --redis "127.0.0.1:$redis_port" --depth 16 --rate "$half"
  run "$dir" shixin-half "$shixind_pid" --server "$addr" --depth 16 --rate "$half"
  swap_rate=$(jq -rn --argjson a "$(rps "$dir/shixin-d16.json")" \
    --argjson b "$(rps "$dir/redis-d16.json")" '[$a, $b] | min / 4 | floor')
  run "$dir" shixin-swap "$shixind_pid" --server "$addr" --depth 16 --rate "$swap_rate" \
    --reload-every 5 --reloads 1 --timeseries "$dir/shixin-swap.txt" --plot "$dir/shixin-swap.png"
  run "$dir" redis-swap "$redis_pid" --redis "127.0.0.1:$redis_port" --depth 16 \
    --rate "$swap_rate" --reload-every 5 --reloads 1 --redis-refresh "$refresh" \
    --timeseries "$dir/redis-swap.txt" --plot "$dir/redis-swap.png"
  echo "$(hwm_kb "$shixind_pid") $(hwm_kb "$redis_pid") $shixind_start" >"$dir/meta"
}

# --- pinned: one core (list) each side ---
start_shixind taskset -c "$server_cpus" -- --threads 1
shixind_rss=$(rss_kb "$shixind_pid")
client_prefix=(taskset -c "$client_cpus")
threads=$client_threads
table "$out/pinned"

# --- shared: everything on all cores, shixind with its default threads ---
if [ "$shared" = 1 ]; then
  stop_pid "$shixind_pid"
  taskset -a -c -p "$all_cpus" "$redis_pid" >/dev/null
  start_shixind --
  client_prefix=()
  threads=1
  table "$out/shared"
fi

python3 - "$out" "$subjects" "$shixind_rss" "$redis_rss" "$redis_rss_empty" "$refresh" \
  "$compile_seconds" "$shared" "$server_cpus" "$client_cpus" "$client_threads" "$all_cpus" \
  "$duration" <<'PY'
import json, os, sys
out, subjects = sys.argv[1], int(sys.argv[2])
s_rss, r_rss, r_empty = (int(x) for x in sys.argv[3:6])
refresh, compile_s, shared = sys.argv[6], float(sys.argv[7]), sys.argv[8] == "1"
server_cpus, client_cpus, client_threads, all_cpus = sys.argv[9:13]
duration = float(sys.argv[13])
load = json.load(open(f"{out}/redis-load.json"))
def ratio(a, b): return a / b if b else float("inf")
rows = [("single ID, depth 1", "d1"), ("single ID, depth 16", "d16"), ("batch 64, depth 1", "b64"),
        ("open loop, half redis peak,", "half"), ("one full refresh, open loop", "swap")]

# Whether the run's refresh happened: a failed RELOAD (or none made) is no swap, and its
# "during swap" figures are not reported as a swap's.
def swapped(r): return r["swap"].get("done", 0) > 0 and r["swap"].get("failed", 0) == 0

def table(name, title):
  d = f"{out}/{name}"
  def j(run):
    r = json.load(open(f"{d}/{run}.json"))
    user_us, sys_us = (float(x) for x in open(f"{d}/{run}.cpu").read().split())
    whole = r.get("whole_run", {}).get("requests", 0)
    r["cpu_per_req"] = (user_us + sys_us) / whole if whole else float("inf")
    r["sys_per_req"] = sys_us / whole if whole else float("inf")
    return r
  print(title)
  print(f"{'run':36} {'server':7} {'req/s':>10} {'IDs/s':>11} {'p50 us':>9} {'p99 us':>9} "
        f"{'p99.9 us':>9} {'max us':>9} {'CPU us/req':>10} {'of it sys':>9} {'wrong':>6}")
  runs = {}
  for label, key in rows:
    for t in ("shixin", "redis"):
      r = runs[f"{t}-{key}"] = j(f"{t}-{key}")
      l = r["latency_us"]
      if label and key in ("half", "swap"): label = f"{label} {r['rate']:,}/s"
      print(f"{label:36} {t:7} {r['throughput_rps']:10.0f} {r['throughput_ids']:11.0f} "
            f"{l['p50']:9.1f} {l['p99']:9.1f} {l['p999']:9.1f} {l['max']:9.1f} "
            f"{r['cpu_per_req']:10.2f} {r['sys_per_req']:9.2f} {r['wrong']:6d}")
      if key == "swap" and not swapped(r):
        print(f"{'  no swap made':36} {t:7}  {[x['message'] for x in r['swap']['windows']]}")
      elif key == "swap":
        w, o = r["swap"], r["outside_swap"]["latency_us"]
        sl = w["latency_us"]
        win = sum(x["end_s"] - x["begin_s"] for x in w["windows"])
        print(f"{'  inside the swap window':36} {t:7} {'':10} {'':11} {sl['p50']:9.1f} "
              f"{sl['p99']:9.1f} {sl['p999']:9.1f} {sl['max']:9.1f} {'':10} {'':9} "
              f"{w['wrong']:6d}  ({win:.1f} s, {w['refresh']})")
        print(f"{'  outside it':36} {t:7} {'':10} {'':11} {o['p50']:9.1f} "
              f"{o['p99']:9.1f} {o['p999']:9.1f} {o['max']:9.1f}")
      label = ""
  s_hwm, r_hwm, s_start = open(f"{d}/meta").read().split()
  print(f"peak resident memory during the runs: shixind {int(s_hwm)/1024:.0f} MiB, "
        f"redis {int(r_hwm)/1024:.0f} MiB; shixind start to listening {float(s_start):.1f} s")
  return runs

print(f"subjects {subjects:,}; 50 connections; {duration:g} s per run of which 2 s warm-up; "
      f"CPU us/req: the server's CPU time over the whole run / requests answered over it; of it "
      f"sys: the part in the kernel (system time)")
p = table("pinned", f"pinned: servers on cores {server_cpus} (shixind --threads 1, redis "
          f"single-threaded), load tool on cores {client_cpus} ({client_threads} thread(s))")
print()
print(f"resident memory after load: shixind {s_rss/1024:.0f} MiB "
      f"({s_rss*1024/subjects:.0f} B/subject), redis {r_rss/1024:.0f} MiB "
      f"({(r_rss-r_empty)*1024/subjects:.0f} B/subject)")
print(f"load: shixind from the snapshot file (compiling the file from the list: "
      f"{compile_s:.0f} s, once per list); redis pipelined SET of {load['keys']:,} keys "
      f"{load['load_seconds']:.1f} s")
if shared:
  print()
  s = table("shared", f"shared: servers and load tool (1 thread) on cores {all_cpus}, "
            f"shixind with its default threads")
  print(f"shared cores shixin/redis: depth16 "
        f"{ratio(s['shixin-d16']['throughput_rps'], s['redis-d16']['throughput_rps']):.2f}x, "
        f"depth1 {ratio(s['shixin-d1']['throughput_rps'], s['redis-d1']['throughput_rps']):.2f}x, "
        f"batch64 {ratio(s['shixin-b64']['throughput_ids'], s['redis-b64']['throughput_ids']):.2f}x")
print()
def in_out(r):
  if not swapped(r): return "no swap"
  return f'{ratio(r["swap"]["latency_us"]["p999"], r["outside_swap"]["latency_us"]["p999"]):.2f}x'
def swap_wrong(r): return r["swap"]["wrong"] if swapped(r) else "none: no swap made"
print(f"open loop at {p['redis-half']['rate']:,}/s: p99 shixin {p['shixin-half']['latency_us']['p99']:.0f} us, "
      f"redis {p['redis-half']['latency_us']['p99']:.0f} us "
      f"({ratio(p['shixin-half']['latency_us']['p99'], p['redis-half']['latency_us']['p99']):.2f}x)")
def split(r): return f"{r['cpu_per_req'] - r['sys_per_req']:.2f} user + {r['sys_per_req']:.2f} sys"
print(f"CPU us/request at {p['redis-half']['rate']:,}/s: shixin {split(p['shixin-half'])}, "
      f"redis {split(p['redis-half'])}")
print(f"shixin/redis per core: "
      f"depth16 {ratio(p['shixin-d16']['throughput_rps'], p['redis-d16']['throughput_rps']):.2f}x, "
      f"depth1 {ratio(p['shixin-d1']['throughput_rps'], p['redis-d1']['throughput_rps']):.2f}x, "
      f"batch64 {ratio(p['shixin-b64']['throughput_ids'], p['redis-b64']['throughput_ids']):.2f}x, "
      f"cpu/request {ratio(p['shixin-half']['cpu_per_req'], p['redis-half']['cpu_per_req']):.2f}x, "
      f"memory {ratio(s_rss, r_rss):.2f}x, "
      f"swap p99.9 in/out {in_out(p['shixin-swap'])} (redis {in_out(p['redis-swap'])}), "
      f"wrong answers during swap {swap_wrong(p['shixin-swap'])} "
      f"(redis {swap_wrong(p['redis-swap'])})")
PY
