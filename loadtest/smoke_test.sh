#!/usr/bin/env bash
# End-to-end check of shixin-loadtest: a small generated list, a private shixind on a loopback
# port, 2 s of mixed load (CHECK batches and MEASURES, pipelined) with one RELOAD in the middle,
# and the JSON report must show answers, no errors and no wrong answer.
# usage: smoke_test.sh BIN_DIR
set -euo pipefail
bin=$1
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
"$bin/shixin" gen --subjects 3000 --seed 7 --out "$dir/data" >/dev/null
"$bin/shixind" --data "$dir/data" --listen 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$dir/out" && break
  sleep 0.05
done
addr=$(sed -n 's/^listening on //p' "$dir/out")
[ -n "$addr" ] || { echo "shixind did not start"; cat "$dir/err"; exit 1; }
"$bin/shixin-loadtest" --server "$addr" --data "$dir/data" --connections 4 --depth 4 --batch 8 \
  --measures 0.2 --duration 2 --reload-every 1 --reloads 1 --json "$dir/r.json" \
  --timeseries "$dir/ts.txt" --quiet
cat "$dir/r.json"
grep -q '"wrong":0,' "$dir/r.json"
grep -q '"errors":0,' "$dir/r.json"
grep -Eq '"requests":[1-9]' "$dir/r.json"
grep -q '"ok":true' "$dir/r.json"  # the reload happened and succeeded
[ "$(grep -vc '^#' "$dir/ts.txt")" -ge 2 ]
echo "loadtest smoke test: ok"
