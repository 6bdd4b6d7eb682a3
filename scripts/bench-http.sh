#!/usr/bin/env bash
# The HTTP listener against the binary protocol, on one machine, in one run (issue 13's
# targets; docs/performance.md, "HTTP, metrics and replicas", explains the figures):
#   (a) single-ID CHECK at 50 keep-alive connections, closed loop, one request in flight per
#       connection: shixin-loadtest over the binary protocol, then wrk POSTing {"ids":[ID]} to
#       /v1/check (scripts/bench-http.lua), the same hit/miss/related mix;
#   (b) the binary load again while curl scrapes GET /metrics every 100 ms: scrape times and
#       the binary throughput with and without the scraper;
#   (c) unless --no-replicas: scripts/replicas.sh on the same list, the binary and the HTTP
#       load direct to one replica and through HAProxy's frontends.
#
#   scripts/bench-http.sh [--data DIR | --snapshot FILE] [--subjects N] [--duration S]
#                         [--connections N] [--wrk-threads N] [--work DIR] [--no-replicas]
#                         [BIN_DIR]
#
# --data DIR      the list (debtors.ndjson, relations.ndjson); default: generated with
#                 `shixin gen --subjects N --seed 1` into WORK/list-N, and compiled into
#                 WORK/list-N.snap (both reused, the layout of bench/compare-redis.sh)
# --snapshot FILE serve this snapshot file (--data still names the list the IDs come from)
# --subjects N    size of the generated list (default 1000000)
# --duration S    seconds per measured phase (default 8; each preceded by a 1 s warm-up)
# --connections N keep-alive connections of every load (default 50)
# --wrk-threads N wrk's threads (default 2)
# --work DIR      data sets and results (default /tmp/shixin-bench); results in
#                 WORK/http-results-N
# BIN_DIR         the built binaries (default build/bin)
#
# Needs wrk, curl, jq, python3; (c) also haproxy. Every process it starts is stopped by PID.
# The replicas' ports (r1_port, front_http, ...) come from their DIR/ports, sourced.
# shellcheck disable=SC2154
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/daemon-lib.sh
source "$root/scripts/daemon-lib.sh"

subjects=1000000
duration=8
connections=50
wrk_threads=2
work=/tmp/shixin-bench
data=
snap=
replicas=1
bin=$root/build/bin
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --snapshot) snap=$2; shift 2 ;;
    --subjects) subjects=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --no-replicas) replicas=0; shift ;;
    -*) echo "bench-http: unknown argument $1" >&2; exit 2 ;;
    *) bin=$1; shift ;;
  esac
done
bin=$(cd "$bin" && pwd)
for b in shixin shixind shixin-loadtest; do
  [ -x "$bin/$b" ] || { echo "bench-http: $bin/$b missing (build first)" >&2; exit 2; }
done
for t in wrk curl jq python3; do
  command -v "$t" >/dev/null || { echo "bench-http: $t missing (scripts/install-deps.sh)" >&2; exit 2; }
done

log() { echo "bench-http: $*" >&2; }
mkdir -p "$work"
if [ -z "$data" ]; then
  data=$work/list-$subjects
  if [ ! -s "$data/debtors.ndjson" ] || [ ! -s "$data/relations.ndjson" ]; then
    log "generating $subjects subjects in $data"
    "$bin/shixin" gen --subjects "$subjects" --seed 1 --out "$data" >&2
  fi
  if [ -z "$snap" ]; then
    snap=$work/list-$subjects.snap
    if [ ! -s "$snap" ] || [ "$snap" -ot "$data/debtors.ndjson" ]; then
      log "compiling $data into $snap"
      "$bin/shixin" compile --data "$data" -o "$snap" >&2
    fi
  fi
fi
out=$work/http-results-$(basename "$data")
mkdir -p "$out"
if [ -n "$snap" ]; then source_flags=(--snapshot "$snap"); else source_flags=(--data "$data"); fi

# The IDs wrk asks about, in loadtest's default mix: 50 % listed, 40 % valid unlisted resident
# IDs, 10 % related persons (not listed themselves); 100 000, reused while newer than the list.
ids=$out/ids.txt
if [ ! -s "$ids" ] || [ "$ids" -ot "$data/debtors.ndjson" ]; then
  log "drawing the ID mix from $data"
  python3 - "$data" "$ids" <<'PY'
import random, re, sys
data, path = sys.argv[1], sys.argv[2]
rng = random.Random(1)
card = re.compile(rb'"cardNum":"([^"]+)"')
person = re.compile(rb'"personId":"([^"]+)"')
def scan(name, pattern):
  with open(f"{data}/{name}", "rb") as f:
    return [m.group(1).decode() for m in map(pattern.search, f) if m]
listed = set(scan("debtors.ndjson", card))
related = set(scan("relations.ndjson", person)) - listed
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def resident(area):
  body = f"{area}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" \
         f"{rng.randint(0, 999):03d}"
  return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
areas = sorted({i[:6] for i in listed if i[:6].isdigit() and len(i) == 18})
misses = []
while len(misses) < 40000:
  i = resident(rng.choice(areas))
  if i not in listed and i not in related:
    misses.append(i)
# Drawn with repetition: a small list (data/sample) has fewer subjects than the mix.
mix = rng.choices(sorted(listed), k=50000) + misses
mix += rng.choices(sorted(related), k=10000) if related else []
rng.shuffle(mix)
open(path, "w").write("\n".join(mix) + "\n")
PY
fi

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$replicas" = 1 ] && [ -f "$out/replicas/ports" ]; then
    SHIXIND=$bin/shixind SHIXIN=$bin/shixin "$root/scripts/replicas.sh" stop "$out/replicas" \
      >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# loadtest NAME ADDRESS: single-ID CHECK, depth 1, closed loop; the summary in OUT/NAME.json.
loadtest() {
  log "loadtest $1 ($2)"
  "$bin/shixin-loadtest" --server "$2" --data "$data" --connections "$connections" --depth 1 \
    --warmup 1 --duration $((duration + 1)) --quiet --label "$1" --json "$out/$1.json" >&2
}
# wrk_run NAME HOST:PORT: POST /v1/check; wrk's output in OUT/NAME.txt. A 1 s run first warms up.
wrk_run() {
  local script=$root/scripts/bench-http.lua
  log "wrk $1 ($2)"
  wrk -t "$wrk_threads" -c "$connections" -d 1s -s "$script" "http://$2/v1/check" -- "$ids" \
    >/dev/null
  wrk -t "$wrk_threads" -c "$connections" -d "${duration}s" --latency -s "$script" \
    "http://$2/v1/check" -- "$ids" >"$out/$1.txt"
}
# check_http HOST:PORT: ready, and the list's first subject answered listed, or the run stops.
check_http() {
  local id answer code
  id=$(head -c 4096 "$data/debtors.ndjson" | grep -o -m1 '"cardNum":"[^"]*"' | cut -d'"' -f4)
  code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://$1/readyz")
  [ "$code" = 200 ] || { log "GET /readyz on $1 answered $code"; exit 1; }
  answer=$(curl -sS --max-time 5 -H 'Content-Type: application/json' -d "{\"ids\":[\"$id\"]}" \
    "http://$1/v1/check")
  grep -q '"listed":true' <<<"$answer" || { log "POST /v1/check $id answered: $answer"; exit 1; }
}

# --- one shixind, both listeners on free loopback ports ---
"$bin/shixind" "${source_flags[@]}" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  >"$out/shixind.out" 2>"$out/shixind.err" &
shixind_pid=$!
pids+=("$shixind_pid")
if ! shixind_wait_http "$shixind_pid" "$out/shixind.out" 600 >/dev/null; then
  log "shixind did not start; its log:"
  tail -5 "$out/shixind.err" >&2
  exit 1
fi
addr=$(sed -n 's/^listening on //p' "$out/shixind.out" | head -n1)
http=$(shixind_wait_http "$shixind_pid" "$out/shixind.out" 1)
log "shixind on $addr, http $http (${source_flags[*]})"
check_http "$http"

# (a) binary against HTTP
loadtest binary "$addr"
wrk_run http "$http"

# (b) the binary load again, with and without a scraper of /metrics every 100 ms
for _ in $(seq 10); do
  curl -sS --max-time 5 -o /dev/null -w '%{time_total}\n' "http://$http/metrics"
done >"$out/scrape-idle.txt"
: >"$out/scrape-load.txt"
(
  end=$((SECONDS + duration + 1))
  while [ "$SECONDS" -lt "$end" ]; do
    curl -sS --max-time 5 -o /dev/null -w '%{time_total}\n' "http://$http/metrics" \
      >>"$out/scrape-load.txt" || echo fail >>"$out/scrape-load.txt"
    sleep 0.1
  done
) &
scraper=$!
pids+=("$scraper")
loadtest binary-scraped "$addr"
wait "$scraper"
loadtest binary-again "$addr"
metrics_bytes=$(curl -sS --max-time 5 "http://$http/metrics" | wc -c)
shixind_stop "$shixind_pid" 30 || true

# (c) three replicas behind HAProxy
if [ "$replicas" = 1 ]; then
  rdir=$out/replicas
  rm -rf "$rdir"
  replica_env=(SHIXIND="$bin/shixind" SHIXIN="$bin/shixin" SHIXIN_REPLICA_PORTS=auto)
  if [ -n "$snap" ]; then replica_env+=(SHIXIN_SNAPSHOT="$snap"); else replica_env+=(SHIXIN_DATA="$data"); fi
  env "${replica_env[@]}" "$root/scripts/replicas.sh" start "$rdir" >&2
  # shellcheck disable=SC1091
  source "$rdir/ports"
  # HAProxy marks the replicas up after its first /readyz checks.
  for _ in $(seq 100); do
    curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$front_http/readyz" && break
    sleep 0.1
  done
  check_http "127.0.0.1:$front_http"
  loadtest replica-direct "127.0.0.1:$r1_port"
  loadtest replica-haproxy "127.0.0.1:$front_binary"
  wrk_run http-replica-direct "127.0.0.1:$r1_http"
  wrk_run http-replica-haproxy "127.0.0.1:$front_http"
  "$root/scripts/replicas.sh" stop "$rdir" >&2
fi

python3 - "$out" "$replicas" "$connections" "$(basename "$data")" "$metrics_bytes" <<'PY'
import json, os, re, statistics, sys
out, replicas, connections, data, metrics_bytes = sys.argv[1:6]
def binary(name):
  r = json.load(open(f"{out}/{name}.json"))
  l = r["latency_us"]
  return r["throughput_rps"], l["p50"], l["p99"], l["max"], r["errors"] + r["wrong"]
def http(name):
  text = open(f"{out}/{name}.txt").read()
  m = re.search(r"wrk-result rps=(\S+) p50=(\d+) p99=(\d+) max=(\d+) requests=\d+ errors=(\d+)", text)
  return float(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5])
rows = [("(a) binary CHECK", binary("binary")), ("(a) HTTP POST /v1/check", http("http")),
        ("(b) binary, no scraper", binary("binary-again")),
        ("(b) binary, /metrics every 100 ms", binary("binary-scraped"))]
if replicas == "1":
  rows += [("(c) binary, one replica direct", binary("replica-direct")),
           ("(c) binary, through HAProxy", binary("replica-haproxy")),
           ("(c) HTTP, one replica direct", http("http-replica-direct")),
           ("(c) HTTP, through HAProxy", http("http-replica-haproxy"))]
print(f"list {data}; {connections} keep-alive connections, one request in flight each, "
      "single-ID CHECK; client and server share the machine's cores")
print(f"| {'run':34} | {'req/s':>8} | {'p50 us':>7} | {'p99 us':>7} | {'max us':>7} | {'errors':>6} |")
print(f"|{'-' * 36}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 7}:|")
for title, (rps, p50, p99, mx, err) in rows:
  print(f"| {title:34} | {rps:8.0f} | {p50:7.0f} | {p99:7.0f} | {mx:7.0f} | {err:6d} |")
def ms(name):
  vals = open(f"{out}/{name}").read().split()
  times = [float(v) * 1000 for v in vals if v != "fail"]
  return statistics.median(times), max(times), len(times), len(vals) - len(times)
ip50, imax, _, _ = ms("scrape-idle.txt")
lp50, lmax, n, fails = ms("scrape-load.txt")
d = dict(rows)
print()
print(f"HTTP/binary: throughput {d['(a) HTTP POST /v1/check'][0] / d['(a) binary CHECK'][0]:.2f}x, "
      f"p99 {d['(a) HTTP POST /v1/check'][2] / d['(a) binary CHECK'][2]:.2f}x")
print(f"/metrics ({int(metrics_bytes):,} bytes): idle p50 {ip50:.2f} ms max {imax:.2f} ms; under load "
      f"p50 {lp50:.2f} ms max {lmax:.2f} ms ({n} scrapes, {fails} failed); binary throughput "
      f"with/without the scraper {d['(b) binary, /metrics every 100 ms'][0] / d['(b) binary, no scraper'][0]:.2f}x")
if replicas == "1":
  b, h = d["(c) binary, through HAProxy"], d["(c) HTTP, through HAProxy"]
  bd, hd = d["(c) binary, one replica direct"], d["(c) HTTP, one replica direct"]
  print(f"HAProxy/direct: binary throughput {b[0] / bd[0]:.2f}x p99 {b[2] / bd[2]:.2f}x; "
        f"HTTP throughput {h[0] / hd[0]:.2f}x p99 {h[2] / hd[2]:.2f}x")
PY
