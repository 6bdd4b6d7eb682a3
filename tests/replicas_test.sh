#!/usr/bin/env bash
# Replicas behind HAProxy (docs/replicas.md, "The kill test"): three shixind replicas on free
# loopback ports and haproxy in front (scripts/replicas.sh), open-loop load through HAProxy
# from shixin-loadtest --reconnect (which retries a request lost with its connection once, as
# the C++ client does); one replica SIGKILLed under load, then a rolling refresh of the other
# two. Asserts 0 failed requests and 0 wrong answers at the application, that the kill did cut
# connections (they were opened again), that the CLI with --no-going-back is answered through
# HAProxy afterwards, and that a refresh onto a broken list is refused with the reason; prints
# the latency blip (p99 and max per second).
#
# usage: replicas_test.sh BIN_DIR [SECONDS]
# Exit status 77 (skipped) without haproxy. The ports come from DIR/ports, sourced.
# shellcheck disable=SC2154
set -euo pipefail
bin=$1
seconds=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
if [[ ! -x "$haproxy" ]]; then
  echo "SKIP: haproxy is not installed (apt-get install haproxy)"
  exit 77
fi
export SHIXIND=$bin/shixind SHIXIN=$bin/shixin SHIXIN_REPLICA_PORTS=auto
dir=$(mktemp -d)
cleanup() {
  "$root/scripts/replicas.sh" stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
# On a failure: HAProxy's view (server state changes, and sessions that did not end normally:
# their termination state is not "--" or "----") and the end of each replica's log.
dump_logs() {
  echo "--- haproxy.log (state changes and abnormal sessions):"
  grep -v ' -- \| ---- ' "$dir/haproxy.log" | tail -40 || true
  for r in r1 r2 r3; do
    echo "--- $r/shixind.log:"
    tail -15 "$dir/$r/shixind.log" || true
  done
}

# The replicas' list is a copy, so that the end can break it.
cp -r "$root/data/sample" "$dir/list"
export SHIXIN_DATA=$dir/list
"$root/scripts/replicas.sh" start "$dir"
# shellcheck disable=SC1091
source "$dir/ports"
front=127.0.0.1:$front_binary

# status names each replica's list: the snapshot version and the deltas applied.
"$root/scripts/replicas.sh" status "$dir" >"$dir/status.txt"
[[ $(grep -c 'snapshot [0-9a-f]* generation 1, deltas applied up to 0 (0 pending)$' \
  "$dir/status.txt") -eq 3 ]] || {
  echo "FAIL: status does not show each replica's list"
  cat "$dir/status.txt"
  exit 1
}

# Open loop, so that latency is measured from when each request was due (a stall shows).
timeout $((seconds + 60)) "$bin/shixin-loadtest" --server "$front" --data "$root/data/sample" \
  --duration "$seconds" --rate 4000 --connections 12 --reconnect --quiet \
  --timeseries "$dir/seconds.txt" --json "$dir/run.json" >"$dir/load.txt" 2>&1 &
load=$!
kill_at=3
sleep "$kill_at"
kill -KILL "$(cat "$dir/r1/pid")"
echo "r1 killed (SIGKILL) at ${kill_at} s"
sleep 2
"$root/scripts/replicas.sh" refresh "$dir"
status=0
wait "$load" || status=$?
cat "$dir/load.txt"
echo "latency per second (second requests ids p50_us p99_us max_us errors wrong in_swap refused warmup):"
grep -v '^#' "$dir/seconds.txt"

if ! python3 - "$dir/run.json" "$dir/seconds.txt" "$kill_at" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
kill = int(sys.argv[3])
rows = [l.split() for l in open(sys.argv[2]) if not l.startswith("#")]
def worst(secs):
    sel = [r for r in rows if int(r[0]) in secs]
    return (max(float(r[4]) for r in sel), max(float(r[5]) for r in sel)) if sel else (0, 0)
before = worst(range(1, kill))
around = worst(range(kill, kill + 2))
print("blip: p99 %.0f us / max %.0f us before the kill, p99 %.0f us / max %.0f us around it"
      % (before + around))
print("requests %d, errors %d, wrong %d, reconnects %d, retried %d"
      % (run["requests"], run["errors"], run["wrong"], run["reconnects"], run["retried"]))
ok = run["errors"] == 0 and run["wrong"] == 0 and run["requests"] > 0
if not ok:
    print("FAIL: failed requests or wrong answers at the application:", run.get("samples"))
if run["reconnects"] < 1:
    print("FAIL: the kill cut no connection (nothing was retried)")
    ok = False
sys.exit(0 if ok else 1)
EOF
then
  dump_logs
  exit 1
fi
if [[ $status -ne 0 ]]; then
  echo "FAIL: shixin-loadtest exited $status"
  dump_logs
  exit 1
fi

# After the kill and the refresh, the CLI is answered through HAProxy, by a newer list only.
"$bin/shixin" check --server "$front" --no-going-back 11010519491231002X >"$dir/check.txt" || {
  echo "FAIL: shixin check through HAProxy"
  cat "$dir/check.txt"
  exit 1
}
# The JSON API through HAProxy's HTTP frontend: answered by a live replica.
curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
  -d '{"ids":["11010519491231002X"]}' "http://127.0.0.1:$front_http/v1/check" >"$dir/http.json"
grep -q '"listed":true' "$dir/http.json" || {
  echo "FAIL: POST /v1/check through HAProxy"
  cat "$dir/http.json"
  exit 1
}
# 800 client connections through HAProxy, to the two replicas left: HAProxy's per-server
# maxconn, not the replicas' per-address limit (all of HAProxy's connections come from one
# address), bounds them.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 4000 ]]; then
  echo "800 connections: skipped (ulimit -n $(ulimit -n))"
elif ! timeout 60 "$bin/shixin-loadtest" --server "$front" --data "$root/data/sample" \
  --duration 2 --rate 1000 --connections 800 --quiet >"$dir/load800.txt" 2>&1 ||
  ! grep -q 'errors 0, wrong answers 0' "$dir/load800.txt"; then
  echo "FAIL: 800 connections through HAProxy"
  cat "$dir/load800.txt"
  grep -h refusing "$dir"/r?/shixind.log | tail -3
  exit 1
else
  grep 'errors' "$dir/load800.txt"
fi

# A refresh onto a list the replicas refuse stops at the first, says why and fails with 1; the
# old list keeps serving.
echo '{"broken' >>"$dir/list/debtors.ndjson"
refresh_status=0
"$root/scripts/replicas.sh" refresh "$dir" >"$dir/refresh.txt" 2>&1 || refresh_status=$?
if [[ $refresh_status -ne 1 ]]; then
  echo "FAIL: a refresh onto a broken list exited $refresh_status, not 1"
  cat "$dir/refresh.txt"
  exit 1
fi
grep -q "reload refused, the old generation keeps serving: .*RELOAD_FAILED: .*debtors.ndjson" \
  "$dir/refresh.txt" || {
  echo "FAIL: the refused refresh does not say why"
  cat "$dir/refresh.txt"
  exit 1
}
"$bin/shixin" check --server "$front" 11010519491231002X >"$dir/check.txt" || {
  echo "FAIL: no answer after a refused refresh"
  cat "$dir/check.txt"
  exit 1
}
echo "PASS"
