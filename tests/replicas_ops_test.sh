#!/usr/bin/env bash
# scripts/replicas.sh and deploy/haproxy/haproxy.cfg as an operator runs them (docs/replicas.md),
# on free loopback ports:
#   - start: a HAProxy configuration that is refused (haproxy -c, a missing file, open mode
#     behind a frontend that is not loopback) starts nothing and says why;
#   - callers mode (SHIXIN_CALLERS_FILE): status and refresh fail, saying why, without an admin's
#     credentials and work with SHIXIN_CALLER / SHIXIN_TOKEN_FILE; status shows each replica's
#     snapshot version and delta sequence;
#   - a caller's FEEDBACK through the HTTP frontend reaches the replica that issued the receipt;
#   - a JSON request held by hung replicas gets HAProxy's 504 as the API's JSON error;
#   - refresh tells a replica that did not answer the RELOAD from one that refused the list, and
#     gives up on one that hangs during its reload (its /healthz silent);
#   - a delta gap or a missing deltas_dir: status names it and fails; refresh reloads every
#     replica and exits 5;
#   - all replicas stale together: CHECK is still answered through HAProxy, flagged STALE, by
#     the replicas that serve (one in its first load is left out);
#   - a replica stopped (SIGTERM) under keep-alive JSON load drains: no request fails.
#
# usage: replicas_ops_test.sh BIN_DIR
# Exit status 77 (skipped) without haproxy. The ports come from DIR/ports, sourced.
# shellcheck disable=SC2154
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
if [[ ! -x "$haproxy" ]]; then
  echo "SKIP: haproxy is not installed (apt-get install haproxy)"
  exit 77
fi
replicas=$root/scripts/replicas.sh
export SHIXIND=$bin/shixind SHIXIN=$bin/shixin SHIXIN_REPLICA_PORTS=auto
export SHIXIN_DATA=$root/data/sample
tmp=$(mktemp -d)
cleanup() {
  for d in "$tmp"/run*; do
    [[ -d "$d" ]] && { "$replicas" stop "$d" || true; }
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1"
  [[ -f "${2:-}" ]] && cat "$2"
  exit 1
}
# Fails unless nothing of run directory $1 runs.
nothing_runs() {
  local f
  for f in "$1"/r?/pid "$1/haproxy.pid"; do
    if [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; then
      fail "$f still runs after a failed start"
    fi
  done
}
# Runs replicas.sh with arguments $2...; fails unless it exits $1. Output in $tmp/out.
expect_exit() {
  local want=$1 got=0
  shift
  "$replicas" "$@" >"$tmp/out" 2>&1 || got=$?
  [[ $got -eq $want ]] || fail "replicas.sh $* exited $got, not $want" "$tmp/out"
}

# A HAProxy configuration that is refused: nothing starts, and the reason is printed.
HAPROXY=/bin/false expect_exit 1 start "$tmp/run-bad"
grep -q 'refused .*haproxy.cfg' "$tmp/out" || fail "no reason for the refused config" "$tmp/out"
nothing_runs "$tmp/run-bad"
SHIXIN_HAPROXY_CFG=$tmp/missing.cfg expect_exit 1 start "$tmp/run-bad"
grep -q "cannot write .*missing.cfg" "$tmp/out" || fail "no reason for the missing file" "$tmp/out"
nothing_runs "$tmp/run-bad"
# Open mode behind a frontend other hosts reach: every client would be a loopback admin.
sed 's/bind 127.0.0.1:7512/bind 0.0.0.0:7512/' "$root/deploy/haproxy/haproxy.cfg" >"$tmp/wide.cfg"
SHIXIN_HAPROXY_CFG=$tmp/wide.cfg expect_exit 1 start "$tmp/run-bad"
grep -q 'SHIXIN_CALLERS_FILE' "$tmp/out" || fail "open mode behind 0.0.0.0 not refused" "$tmp/out"
nothing_runs "$tmp/run-bad"
echo "ok: refused configurations start nothing"

# Callers mode: an admin (ops) and a bank.
"$bin/shixin" caller add --file "$tmp/callers.toml" --id ops --name Ops --sector admin \
  --scopes check,admin --view full --rate 1000 --burst 1000 >"$tmp/ops.token"
"$bin/shixin" caller add --file "$tmp/callers.toml" --id bank --name Bank --sector bank \
  --scopes check,measures,feedback --view full --rate 1000 --burst 1000 >"$tmp/bank.token"
export SHIXIN_CALLERS_FILE=$tmp/callers.toml
run=$tmp/run-callers
"$replicas" start "$run" >/dev/null
# shellcheck disable=SC1091
source "$run/ports"

expect_exit 1 status "$run"
[[ $(grep -c 'INFO failed: .*UNAUTHENTICATED' "$tmp/out") -eq 3 ]] ||
  fail "status without credentials does not say why" "$tmp/out"
expect_exit 4 refresh "$run"
grep -q '^r1 refused the INFO (credentials' "$tmp/out" ||
  fail "refresh without credentials does not say why" "$tmp/out"
export SHIXIN_CALLER=ops SHIXIN_TOKEN_FILE=$tmp/ops.token
expect_exit 0 status "$run"
version=$("$bin/shixin" info --server "127.0.0.1:$r1_port" --caller ops \
  --token-file "$tmp/ops.token" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
[[ $(grep -c "snapshot $version generation 1, deltas applied up to 0 (0 pending)$" \
  "$tmp/out") -eq 3 ]] || fail "status does not show each replica's list" "$tmp/out"
expect_exit 0 refresh "$run"
[[ $(grep -c '^r[123]: reloaded generation 2' "$tmp/out") -eq 3 ]] ||
  fail "refresh with credentials" "$tmp/out"
echo "ok: status and refresh with and without an admin's credentials"

# FEEDBACK through the HTTP frontend, three times: each reaches the issuing replica.
token=$(head -1 "$tmp/bank.token")
post() {
  curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" -d "$2" "http://127.0.0.1:$front_http/v1/$1"
}
receipt=$(post measures '{"id":"11010519491231002X"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"])')
for _ in 1 2 3; do
  post feedback "{\"receipt\":\"$receipt\",\"applied\":[1]}" >"$tmp/feedback.json"
  grep -q '"recorded":1' "$tmp/feedback.json" ||
    fail "FEEDBACK through HAProxy did not reach the issuing replica" "$tmp/feedback.json"
done
echo "ok: FEEDBACK through HAProxy reaches the replica that issued the receipt"
# /metrics stays open to operators on the host (the frontend denies it to other sources only).
curl -sSf --max-time 5 -o /dev/null "http://127.0.0.1:$front_http/metrics" ||
  fail "GET /metrics through HAProxy from loopback"

# A JSON request in flight on a hung replica (every one hung, so whichever it went to): after
# `timeout server` (10 s) the caller gets HAProxy's 504 as JSON in the API's error shape, not an
# HTML page.
for r in r1 r2 r3; do kill -STOP "$(cat "$run/$r/pid")"; done
code=$(curl -sS --max-time 30 -o "$tmp/hung.json" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
  -d '{"ids":["11010519491231002X"]}' "http://127.0.0.1:$front_http/v1/check" || true)
for r in r1 r2 r3; do kill -CONT "$(cat "$run/$r/pid")"; done
# (503 if every replica was already out when it arrived.)
[[ $code == 504 || $code == 503 ]] ||
  fail "a request lost with hung replicas answered $code, not 504 or 503" "$tmp/hung.json"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["code"]=="unavailable"' \
  "$tmp/hung.json" || fail "HAProxy's $code is not the API's JSON error" "$tmp/hung.json"
echo "ok: a request lost with hung replicas gets HAProxy's $code as JSON"

# A hung replica: its INFO times out; the replicas before it were reloaded.
kill -STOP "$(cat "$run/r2/pid")"
expect_exit 3 refresh "$run"
kill -CONT "$(cat "$run/r2/pid")"
grep -q '^r1: reloaded generation 3' "$tmp/out" || fail "r1 not reloaded" "$tmp/out"
grep -q '^r2 did not answer the INFO: .*is it running?' "$tmp/out" ||
  fail "a hung replica is not reported" "$tmp/out"
grep -q '^r3' "$tmp/out" && fail "refresh went on past a replica that did not answer" "$tmp/out"
# A replica that hangs during its reload (stopped just before its RELOAD): refresh gives up on
# it once its /healthz has been silent for SHIXIN_RELOAD_LIVENESS seconds, not after the
# RELOAD's 10-minute timeout.
cat >"$tmp/shixin-hang" <<EOF
#!/usr/bin/env bash
if [[ \$1 == reload && \$* == *":$r2_port"* ]]; then kill -STOP \$(cat "$run/r2/pid"); fi
exec "$bin/shixin" "\$@"
EOF
chmod +x "$tmp/shixin-hang"
started=$SECONDS
code=0
SHIXIN=$tmp/shixin-hang SHIXIN_RELOAD_LIVENESS=2 timeout 60 "$replicas" refresh "$run" \
  >"$tmp/out" 2>&1 || code=$?
kill -CONT "$(cat "$run/r2/pid")"
[[ $code -eq 3 ]] || fail "refresh with a replica hung in its reload exited $code" "$tmp/out"
((SECONDS - started < 30)) || fail "refresh waited $((SECONDS - started)) s on a hung replica" "$tmp/out"
grep -q '^r2 did not answer the reload: its /healthz did not answer' "$tmp/out" ||
  fail "a replica hung in its reload is not reported" "$tmp/out"
echo "ok: refresh gives up on a replica that hangs during its reload"
# A replica that dies before its RELOAD is answered: "did not answer", not "refused". The
# wrapper kills the replica the reload is for, then runs the reload.
cat >"$tmp/shixin-kill" <<EOF
#!/usr/bin/env bash
if [[ \$1 == reload ]]; then kill -KILL \$(cat "$run/r1/pid"); sleep 0.2; fi
exec "$bin/shixin" "\$@"
EOF
chmod +x "$tmp/shixin-kill"
SHIXIN=$tmp/shixin-kill expect_exit 3 refresh "$run"
grep -q '^r1 did not answer the reload: .*is it running?' "$tmp/out" ||
  fail "a replica dead during its reload is not reported as such" "$tmp/out"
grep -q 'keeps serving' "$tmp/out" && fail "a dead replica reported as serving" "$tmp/out"
echo "ok: a replica that does not answer is told from one that refuses"
"$replicas" stop "$run"
unset SHIXIN_CALLERS_FILE SHIXIN_CALLER SHIXIN_TOKEN_FILE

# A delta gap (2 missing, 3 present): status names it on every replica and fails; refresh
# reloads all three (the gap is the feed's, not the new list's) and exits 5.
"$bin/shixin" gen --subjects 2000 --seed 7 --deltas 3 --changes-per-delta 20 \
  --today "$(date -d '10 days ago' +%Y%m%d)" --out "$tmp/gen" >/dev/null
mkdir "$tmp/deltas"
cp "$tmp/gen/deltas/00000000000000000001.ndjson" "$tmp/deltas/"
run=$tmp/run-gap
SHIXIN_DATA=$tmp/gen SHIXIN_DELTAS=$tmp/deltas "$replicas" start "$run" >/dev/null
expect_exit 0 status "$run"
cp "$tmp/gen/deltas/00000000000000000003.ndjson" "$tmp/deltas/"
for _ in $(seq 1 50); do
  "$replicas" status "$run" >"$tmp/out" 2>&1 || break
  sleep 0.2
done
expect_exit 1 status "$run"
[[ $(grep -c 'DELTA GAP: 00000000000000000002.ndjson is missing' "$tmp/out") -eq 3 ]] ||
  fail "status does not name the delta gap" "$tmp/out"
expect_exit 5 refresh "$run"
[[ $(grep -c '^r[123]: reloaded, but its list does not advance' "$tmp/out") -eq 3 ]] ||
  fail "refresh did not reload every replica past a delta gap" "$tmp/out"
grep -q 'delta feed has a gap' "$tmp/out" || fail "refresh does not report the gap" "$tmp/out"
# Its deltas_dir gone (an unmounted share): the error is named.
mv "$tmp/deltas" "$tmp/deltas.gone"
for _ in $(seq 1 50); do
  "$replicas" status "$run" >"$tmp/out" 2>&1 || true
  grep -q 'DELTA ERROR: ' "$tmp/out" && break
  sleep 0.2
done
expect_exit 1 status "$run"
grep -q 'DELTA ERROR: ' "$tmp/out" || fail "status does not name a delta error" "$tmp/out"
echo "ok: status and refresh report a delta gap and a missing deltas_dir"
"$replicas" stop "$run"

# Every replica stale (data files 3 days old, max_age_seconds 1 day): once HAProxy has taken
# them all out of the ready pool, CHECK is still answered through it, flagged STALE.
mkdir "$tmp/old"
cp "$root"/data/sample/*.ndjson "$tmp/old/"
touch -d '3 days ago' "$tmp"/old/*.ndjson
run=$tmp/run-stale
SHIXIN_DATA=$tmp/old SHIXIND_FLAGS="--max-age-seconds 86400" "$replicas" start "$run" >/dev/null
# shellcheck disable=SC1091
source "$run/ports"
for _ in $(seq 1 100); do
  grep -q "backend shixind_http has no server available" "$run/haproxy.log" &&
    grep -q "backend shixind_binary has no server available" "$run/haproxy.log" && break
  sleep 0.1
done
grep -q "backend shixind_binary has no server available" "$run/haproxy.log" ||
  fail "HAProxy did not take the stale replicas out of the ready pool" "$run/haproxy.log"
"$bin/shixin" check --server "127.0.0.1:$front_binary" 11010519491231002X >"$tmp/out" 2>&1 ||
  fail "CHECK through HAProxy refused while the list is stale" "$tmp/out"
grep -q "older than its max_age_seconds" "$tmp/out" ||
  fail "the stale answer is not flagged" "$tmp/out"
curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
  -d '{"ids":["11010519491231002X"]}' "http://127.0.0.1:$front_http/v1/check" >"$tmp/out"
grep -q '"stale":true' "$tmp/out" || fail "POST /v1/check while stale" "$tmp/out"
echo "ok: a stale pool still answers CHECK through HAProxy, flagged STALE"
# r2 restarted into a long first load (a delta file still settling holds it 15 s) stays out of
# that fallback: every CHECK is answered by r1 or r3, none UNAVAILABLE (checked with /healthz,
# which a loading replica passes, about one in three went to r2).
r2_pid=$(cat "$run/r2/pid")
kill -TERM "$r2_pid"
for _ in $(seq 1 100); do kill -0 "$r2_pid" 2>/dev/null || break; sleep 0.1; done
mkdir "$tmp/settling"
echo '{"op":"remove","caseCode":"（2017）黑04执31号","cardNum":"230407199103150045","reason":"performed","at":"2026-06-09T15:30:00+08:00"}' \
  >"$tmp/settling/00000000000000000001.ndjson"
SHIXIN_DATA=$tmp/old SHIXIND_FLAGS="--max-age-seconds 86400 --deltas-dir $tmp/settling --delta-settle-ms 15000" \
  "$replicas" start "$run" >"$tmp/restart.out" 2>&1 &
restart=$!
for _ in $(seq 1 100); do
  grep -q "while the list loads" "$run/r2/shixind.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "while the list loads" "$run/r2/shixind.log" || fail "r2 did not restart" "$run/r2/shixind.log"
sleep 3  # past the two checks that brought a loading r2 back with /healthz
for i in $(seq 1 12); do
  "$bin/shixin" check --server "127.0.0.1:$front_binary" 11010519491231002X >"$tmp/out" 2>&1 ||
    fail "CHECK $i through HAProxy failed while r2 loads" "$tmp/out"
done
grep -q "^listening on" "$run/r2/shixind.log" &&
  fail "r2's first load ended before the CHECKs (the test proves nothing)" "$run/r2/shixind.log"
wait "$restart" || fail "r2 did not start after its load" "$tmp/restart.out"
echo "ok: a replica in its first load is left out of the stale fallback"
"$replicas" stop "$run"

# A planned stop under load (x28 finding 4): eight keep-alive JSON clients through HAProxy while
# r2 gets SIGTERM. It drains (its pooled connections answered with Connection: close, /readyz
# "stopping", new connections refused and redispatched), so no request fails, and it exits
# within drain_seconds (5). (With shutdown-sessions on the HTTP backend, one run in five lost a
# request HAProxy had redispatched from r2 to another replica.)
run=$tmp/run-drain
"$replicas" start "$run" >/dev/null
# shellcheck disable=SC1091
source "$run/ports"
cat >"$tmp/hload.py" <<'PY'
import collections, http.client, sys, threading, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
results, lock = collections.Counter(), threading.Lock()
def run():
    end = time.time() + seconds
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.time() < end:
        try:
            c.request("POST", "/v1/check", '{"ids":["11010519491231002X"]}',
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            key = r.status
        except Exception as e:  # RemoteDisconnected: a request lost
            key = type(e).__name__
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with lock:
            results[key] += 1
threads = [threading.Thread(target=run) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(dict(results))
sys.exit(0 if set(results) == {200} else 1)
PY
python3 "$tmp/hload.py" "$front_http" 5 >"$tmp/load.out" 2>&1 &
load=$!
sleep 2
r2_pid=$(cat "$run/r2/pid")
kill -TERM "$r2_pid"
stopped=$SECONDS
while kill -0 "$r2_pid" 2>/dev/null && ((SECONDS - stopped < 15)); do sleep 0.1; done
kill -0 "$r2_pid" 2>/dev/null && fail "r2 still runs 15 s after SIGTERM" "$run/r2/shixind.log"
wait "$load" || fail "requests failed while r2 stopped under load" "$tmp/load.out"
((SECONDS - stopped <= 7)) || fail "r2 took $((SECONDS - stopped)) s to drain" "$run/r2/shixind.log"
echo "ok: a replica stopped under load drains: $(cat "$tmp/load.out")"
"$replicas" stop "$run"
echo "PASS"
