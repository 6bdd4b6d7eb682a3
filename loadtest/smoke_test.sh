#!/usr/bin/env bash
# End-to-end check of shixin-loadtest: a small generated list, a private shixind on a loopback
# port, 2 s of mixed load (CHECK batches and MEASURES, pipelined) with one RELOAD in the middle,
# and the JSON report must show answers, no errors and no wrong answer. Then the same list as
# a snapshot file with 6 delta files fed during the load (--feed-deltas): every file applied,
# the answers about the IDs they touch judged per generation, none wrong. Then a daemon with a
# callers file: the tool authenticates (--caller, --token-file; version 3) on every connection
# and the reload's, at a rate that does not limit; a wrong token is a clear error.
# usage: smoke_test.sh BIN_DIR
set -euo pipefail
bin=$1
# shellcheck source=loadtest/test_daemon.sh
source "$(dirname "$0")/test_daemon.sh"

"$bin/shixin" gen --subjects 3000 --seed 7 --out "$dir/data" >/dev/null
start_daemon --data "$dir/data"
"$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --connections 4 --depth 4 --batch 8 \
  --measures 0.2 --duration 2 --reload-every 1 --reloads 1 --json "$dir/r.json" \
  --timeseries "$dir/ts.txt" --quiet
cat "$dir/r.json"
grep -q '"wrong":0,' "$dir/r.json"
grep -q '"errors":0,' "$dir/r.json"
grep -Eq '"requests":[1-9]' "$dir/r.json"
grep -q '"ok":true' "$dir/r.json"  # the reload happened and succeeded
[ "$(grep -vc '^#' "$dir/ts.txt")" -ge 2 ]
# A run of a fixed number of requests measures every one (none sent before the run's start).
"$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --connections 2 --requests 1000 \
  --duration 0 --json "$dir/n.json" --quiet
grep -q '"requests":1000,' "$dir/n.json" || { cat "$dir/n.json"; exit 1; }
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

"$bin/shixin" gen --subjects 3000 --seed 7 --out "$dir/data" --deltas 6 \
  --changes-per-delta 200 >/dev/null
"$bin/shixin" compile --data "$dir/data" -o "$dir/list.snap" >/dev/null
mkdir "$dir/live"
start_daemon --snapshot "$dir/list.snap" --deltas-dir "$dir/live"
"$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --connections 4 --depth 4 --batch 8 \
  --duration 1 --snapshot "$dir/list.snap" --deltas-dir "$dir/live" \
  --feed-deltas "$dir/data/deltas" --feed-every 0.2 --json "$dir/f.json" --quiet
cat "$dir/f.json"
grep -q '"wrong":0,' "$dir/f.json"
grep -q '"errors":0,' "$dir/f.json"
grep -q '"files":6,"applied":6,' "$dir/f.json"
grep -Eq '"judged":[1-9]' "$dir/f.json"
grep -q '"unjudged":0,' "$dir/f.json"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

"$bin/shixin" caller add --file "$dir/callers.toml" --id loadtest --name 'Load test' \
  --sector other --scopes check,measures,admin --view full --rate 1e9 --burst 1000000000 \
  >"$dir/token"
"$bin/shixin" caller add --file "$dir/callers.toml" --id masked --name 'Masked' \
  --sector hotel --scopes check,measures --view masked --rate 1e9 --burst 1000000000 \
  >"$dir/token.masked"
start_daemon --data "$dir/data" --callers-file "$dir/callers.toml"
"$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --connections 4 --depth 4 --batch 8 \
  --measures 0.2 --duration 1 --reload-every 0.5 --reloads 1 --caller loadtest \
  --token-file "$dir/token" --json "$dir/c.json" --quiet
cat "$dir/c.json"
grep -q '"wrong":0,' "$dir/c.json"
grep -q '"errors":0,' "$dir/c.json"
grep -Eq '"requests":[1-9]' "$dir/c.json"
grep -q '"ok":true' "$dir/c.json"  # the reload, by an admin caller
# The masked view answers the same verdicts; the token from the environment.
SHIXIN_TOKEN=$(head -n1 "$dir/token.masked") "$bin/shixin-loadtest" --server "$addr" \
  --data "$dir/data" --connections 2 --depth 4 --duration 0.5 --caller masked \
  --json "$dir/m.json" --quiet
grep -q '"wrong":0,' "$dir/m.json"
grep -q '"errors":0,' "$dir/m.json"
# A wrong token: HELLO refused, said so, exit status not 0; no credentials: refused too.
echo shx_wrong >"$dir/bad"
if "$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --duration 0.5 --caller loadtest \
  --token-file "$dir/bad" --quiet 2>"$dir/bad.err"; then
  echo "a wrong token was accepted"; exit 1
fi
cat "$dir/bad.err"
grep -q 'HELLO refused (caller loadtest): UNAUTHENTICATED' "$dir/bad.err"
if "$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --duration 0.5 --quiet \
  2>"$dir/none.err"; then
  echo "a connection without credentials was served"; exit 1
fi
cat "$dir/none.err"
echo "loadtest smoke test: ok"
