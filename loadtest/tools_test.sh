#!/usr/bin/env bash
# End-to-end checks of what shixin-loadtest reports when a run goes wrong: every connection
# lost mid-run (kill -9 of the daemon); requests refused (a caller's rate); reloads refused;
# bad usage; an interrupted run; connections refused. Then shixin-latency-probe's judgement.
# Each against a private shixind on a loopback port and a small generated list.
# usage: tools_test.sh BIN_DIR
set -euo pipefail
bin=$1
# shellcheck source=loadtest/test_daemon.sh
source "$(dirname "$0")/test_daemon.sh"
fail() { echo "FAIL: $*"; exit 1; }
# json FILE EXPR: a value of the JSON summary.
json() { python3 -c 'import json,sys; print(eval(sys.argv[2], {"j": json.load(open(sys.argv[1]))}))' "$1" "$2"; }
# Prints and checks a Python condition on the JSON summary in FILE.
check() { json "$1" "$2" | grep -qx True || { cat "$1"; fail "$2"; }; }
lt() { "$bin/shixin-loadtest" --data "$dir/data" --quiet "$@"; }

"$bin/shixin" gen --subjects 3000 --seed 7 --out "$dir/data" >/dev/null

# 1. The daemon killed 2 s into an 8 s closed-loop run: the time measured is those 2 s (not a
# made-up second), and the per-second errors add up to the summary's.
start_daemon --data "$dir/data"
(sleep 2; kill -9 "$pid") &
rc=0; lt --server "$addr" --connections 4 --duration 8 --json "$dir/k.json" \
  --timeseries "$dir/k.ts" >"$dir/k.txt" || rc=$?
wait "$pid" 2>/dev/null || true; pid=
cat "$dir/k.txt"
[ "$rc" = 1 ] || fail "exit status $rc after every connection was lost"
check "$dir/k.json" '1.5 < j["seconds"] < 3'
check "$dir/k.json" 'j["errors"] > 0 and j["all_connections_lost_s"] > 1.5'
check "$dir/k.json" 'abs(j["throughput_rps"] * j["seconds"] / j["requests"] - 1) < 0.01'
[ "$(awk '!/^#/ {e += $7} END {print e}' "$dir/k.ts")" = "$(json "$dir/k.json" 'j["errors"]')" ] ||
  { cat "$dir/k.ts"; fail "time series errors differ from the summary's"; }
grep -q 'every connection lost' "$dir/k.txt" || fail "no word of the lost connections"
# Open loop: the requests due after the loss, until the planned end, are unsent.
start_daemon --data "$dir/data"
(sleep 1; kill -9 "$pid") &
lt --server "$addr" --connections 2 --rate 2000 --duration 4 --json "$dir/o.json" || true
wait "$pid" 2>/dev/null || true; pid=
check "$dir/o.json" 'j["unsent"] > 4000 and 0.5 < j["seconds"] < 2'

# 2. A caller limited to 200 requests/s: the refusals (RATE_LIMITED) are counted apart, by
# status, and neither the rate nor the latency includes them.
"$bin/shixin" caller add --file "$dir/callers.toml" --id slow --name Slow --sector other \
  --scopes check,measures --view full --rate 200 --burst 200 >"$dir/slow.token"
"$bin/shixin" caller add --file "$dir/callers.toml" --id noadm --name 'No admin' --sector other \
  --scopes check,measures --view full --rate 1e9 --burst 1000000000 >"$dir/noadm.token"
start_daemon --data "$dir/data" --callers-file "$dir/callers.toml"
rc=0; lt --server "$addr" --connections 2 --depth 4 --batch 10 --duration 2 --caller slow \
  --token-file "$dir/slow.token" --json "$dir/r.json" >"$dir/r.txt" || rc=$?
cat "$dir/r.txt"
[ "$rc" = 1 ] || fail "exit status $rc with refusals"
check "$dir/r.json" '0 < j["requests"] <= 1000 and j["ids"] == 10 * j["requests"]'
check "$dir/r.json" 'j["refused"] > 1000 and j["refused_by_status"] == {"RATE_LIMITED": j["refused"]}'
check "$dir/r.json" 'j["latency_us"]["count"] == j["requests"] and j["throughput_rps"] < 600'
grep -q 'refused (RATE_LIMITED' "$dir/r.txt" || fail "the summary does not name the refusals"

# 3. Every RELOAD refused (a caller without the admin scope): no swap happened, so the run
# fails and reports no figures "during swaps".
rc=0; lt --server "$addr" --connections 2 --depth 4 --duration 1 --reload-every 0.5 --reloads 1 \
  --caller noadm --token-file "$dir/noadm.token" --json "$dir/s.json" >"$dir/s.txt" || rc=$?
cat "$dir/s.txt"
[ "$rc" = 1 ] || fail "exit status $rc although the only RELOAD failed"
check "$dir/s.json" 'j["swap"]["done"] == 0 and j["swap"]["failed"] == 1'
check "$dir/s.json" 'j["swap"]["requests"] == 0 and j["errors"] == 0'
grep -q 'swaps (shixind RELOAD): 0 done, 1 FAILED' "$dir/s.txt" || fail "no failed swap said"
if grep -q 'during swaps' "$dir/s.txt"; then fail "figures during a swap that did not happen"; fi
stop_daemon

# 4. Bad usage is refused before the run (exit 2, saying why), not crashed on (--sample 0),
# run with nothing measured (--warmup >= --duration), run for an hour (--duration 0 alone),
# ignored (--reloads alone) or found after the run (an unwritable --json).
start_daemon --data "$dir/data"
usage() {
  local want=$1 rc=0
  shift
  timeout 20 "$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --quiet "$@" \
    >"$dir/u.out" 2>"$dir/u.err" || rc=$?
  [ "$rc" = 2 ] || fail "exit status $rc for $*"
  grep -q -- "$want" "$dir/u.err" || { cat "$dir/u.err"; fail "no '$want' for $*"; }
  [ ! -s "$dir/u.out" ] || { cat "$dir/u.out"; fail "a run for $*"; }
}
usage '--sample must be >= 1' --sample 0 --duration 1
usage 'must be shorter than --duration' --duration 1 --warmup 1
usage '--duration 0 needs --requests' --duration 0 --rate 100 --connections 1
usage 'must not all be 0' --hit 0 --miss 0 --related 0 --duration 1
usage '--measures is a share' --measures 1.5 --duration 1
usage '--reloads needs --reload-every' --reloads 3 --duration 1
usage 'cannot write /nonexistent/x.json' --json /nonexistent/x.json --duration 1
"$bin/shixin-loadtest" --help | grep -q 'HELLO offers, 1-4' || fail "--help's --protocol range"
# The mix is reported as used: normalised, touched 0 without --feed-deltas.
lt --server "$addr" --duration 0.5 --connections 1 --hit 1 --json "$dir/mix.json" >"$dir/mix.txt"
grep -q 'hit/miss/related 0.67/0.27/0.07' "$dir/mix.txt" || { cat "$dir/mix.txt"; fail "mix"; }
check "$dir/mix.json" 'j["mix"]["hit"] == 0.667 and j["mix"]["touched"] == 0'

# 5. SIGINT ends a run early with its summary and JSON (exit 128 + 2); the time series covers
# the warm-up too (its seconds marked in the last column).
"$bin/shixin-loadtest" --data "$dir/data" --quiet --server "$addr" --connections 2 \
  --duration 20 --warmup 1 --json "$dir/i.json" --timeseries "$dir/i.ts" >"$dir/i.txt" &
lt_pid=$!
sleep 2.5
kill -INT "$lt_pid"
rc=0; wait "$lt_pid" || rc=$?
cat "$dir/i.txt"
[ "$rc" = 130 ] || fail "exit status $rc after SIGINT"
check "$dir/i.json" 'j["interrupted"] == "SIGINT" and 0.5 < j["seconds"] < 3 and j["requests"] > 0'
grep -q 'interrupted by SIGINT' "$dir/i.txt" || fail "no word of the interruption"
awk '!/^#/ && $1 == 0 {exit !($2 > 0 && $11 == 1)}' "$dir/i.ts" ||
  { cat "$dir/i.ts"; fail "the warm-up second is missing from the time series"; }
awk '!/^#/ && $1 == 1 {exit !($2 > 0 && $11 == 0)}' "$dir/i.ts" ||
  { cat "$dir/i.ts"; fail "the second after the warm-up"; }
stop_daemon

# 6. A connection over the daemon's per-address limit: which one, and what the close may mean.
start_daemon --data "$dir/data" --max-connections-per-ip 3
rc=0; lt --server "$addr" --connections 5 --duration 1 2>"$dir/l.err" || rc=$?
cat "$dir/l.err"
[ "$rc" = 2 ] || fail "exit status $rc over the connection limit"
grep -q 'connection 4 of 5: HELLO: connection closed by the server before any answer' \
  "$dir/l.err" || fail "which connection"
grep -q 'max_connections_per_ip' "$dir/l.err" || fail "no hint of the limit"
stop_daemon

# 7. shixin-latency-probe judges the answers against --data (another list's IDs fail), takes
# credentials, and a run where every request failed exits 1 with no throughput.
"$bin/shixin" gen --subjects 2000 --seed 8 --out "$dir/other" >/dev/null
start_daemon --data "$dir/data"
"$bin/shixin-latency-probe" --server "$addr" --data "$dir/data" --requests 2000 --warmup 100
rc=0; "$bin/shixin-latency-probe" --server "$addr" --data "$dir/other" --requests 2000 \
  --warmup 100 >"$dir/p.out" 2>"$dir/p.err" || rc=$?
cat "$dir/p.out" "$dir/p.err"
[ "$rc" = 1 ] || fail "the probe passed another list's IDs (exit $rc)"
grep -q 'expected listed' "$dir/p.err" || fail "no wrong answer named"
stop_daemon
start_daemon --data "$dir/data" --callers-file "$dir/callers.toml"
"$bin/shixin-latency-probe" --server "$addr" --data "$dir/data" --requests 1000 --warmup 100 \
  --caller noadm --token-file "$dir/noadm.token" || fail "the probe with credentials"
rc=0; "$bin/shixin-latency-probe" --server "$addr" --requests 1000 --warmup 100 \
  >"$dir/q.out" 2>"$dir/q.err" || rc=$?
cat "$dir/q.out" "$dir/q.err"
[ "$rc" = 1 ] || fail "exit status $rc when every request failed"
grep -q 'every warm-up request failed (.*UNAUTHENTICATED' "$dir/q.err" || fail "no refusal said"
if grep -q 'requests/s' "$dir/q.out"; then fail "a throughput of failed requests"; fi
stop_daemon

echo "loadtest tools test: ok"
